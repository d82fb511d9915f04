package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminUIVersionsBrowser uploads modules through the versions page's
// file input in headless Chromium: a module of ABI version 99 is refused
// with the reason next to the field and the field marked invalid; one over
// the size limit is refused in the page, without being sent; a valid
// one, with "activate" ticked, becomes the active version 1. (Hand-written
// modules keep it quick; TestAdminUIVersions uploads a Go guest.)
func TestAdminUIVersionsBrowser(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	form := pluginFormValues()
	form.Set("slug", "modulo")
	form.Set("type", "wasm")
	form.Del("url")
	if r := g.post("/admin/plugins", "en", form); r.Status != 303 {
		t.Fatalf("create wasm plugin: %d %.300s", r.Status, r.Body)
	}
	dir := t.TempDir()
	bad, good, huge := filepath.Join(dir, "abi99.wasm"), filepath.Join(dir, "plugin.wasm"), filepath.Join(dir, "big.wasm")
	testdb.Must(t, os.WriteFile(bad, admintest.HandABI(99), 0o600), "write module")
	testdb.Must(t, os.WriteFile(good, admintest.HandABI(1), 0o600), "write module")
	testdb.Must(t, os.WriteFile(huge, admintest.HandABI(1), 0o600), "write module")

	br := testbrowser.Start(t, p.URL, 90*time.Second)
	b := br.NewTab(t)
	b.Login("gestor@demo.portico.test", demo.Password, `[data-testid=panel]`)
	b.Navigate("/admin/plugins")
	b.Click(`[data-testid=versions-modulo]`)
	b.WaitVisible(`[data-testid=upload-form]`)
	if got := b.Path(); got != "/admin/plugins/modulo/versions" {
		t.Fatalf("the list's versions link went to %s", got)
	}
	b.Run("choose the ABI 99 module", chromedp.SetUploadFiles(`#f-module`, []string{bad}, chromedp.ByQuery))
	b.Click(`[data-testid=upload-submit]`)
	b.WaitVisible(`#err-module`)
	if msg := b.Text(`#err-module`); !strings.Contains(msg, "99") || !strings.Contains(msg, "1") {
		t.Errorf("the field's message does not name both versions: %q", msg)
	}
	if b.Attr(`#f-module`, "aria-invalid") != "true" {
		t.Errorf("the file field is not marked invalid")
	}

	// A file over the limit is refused in the page, before 16 MiB are
	// sent: the message names the limit and the form stays where it is.
	testdb.Must(t, os.Truncate(huge, sandbox.MaxModuleBytes+1), "grow the module")
	b.Run("choose a module over the limit", chromedp.SetUploadFiles(`#f-module`, []string{huge}, chromedp.ByQuery))
	b.WaitJS("the size message", `document.getElementById("err-module").textContent.indexOf("16 MiB") >= 0`)
	b.Run("mark the page", chromedp.Evaluate(`window.stayed = true`, nil))
	b.Click(`[data-testid=upload-submit]`)
	b.WaitJS("the field focused", `document.activeElement && document.activeElement.id === "f-module"`)
	if b.Count(`[data-testid=flash]`) != 0 || b.Attr(`#f-module`, "aria-invalid") != "true" {
		t.Errorf("a module over the limit was sent, or the field is not marked invalid")
	}
	var stayed bool
	b.Run("read the mark", chromedp.Evaluate(`window.stayed === true`, &stayed))
	if !stayed {
		t.Errorf("the form was sent with a module over the limit")
	}
	if got := b.Attr(`#f-module`, "aria-describedby"); got != "hint-module err-module" {
		t.Errorf("aria-describedby = %q, want the hint and the message", got)
	}

	b.Run("choose the valid module", chromedp.SetUploadFiles(`#f-module`, []string{good}, chromedp.ByQuery))
	if b.Count(`#err-module`) != 0 || b.Count(`#f-module[aria-invalid]`) != 0 || b.Attr(`#f-module`, "aria-describedby") != "hint-module" {
		t.Errorf("the size message stayed once a module that fits was chosen")
	}
	b.Click(`#f-activate`)
	b.Click(`[data-testid=upload-submit]`)
	b.WaitVisible(`[data-testid=flash]`)
	b.WaitVisible(`[data-testid=active-1]`)
}
