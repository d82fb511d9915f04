package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminUIVersionsBrowser uploads modules through the versions page's
// file input in headless Chromium: a module of ABI version 99 is refused
// with the reason next to the field and the field marked invalid; a valid
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
	bad, good := filepath.Join(dir, "abi99.wasm"), filepath.Join(dir, "plugin.wasm")
	testdb.Must(t, os.WriteFile(bad, admintest.HandABI(99), 0o600), "write module")
	testdb.Must(t, os.WriteFile(good, admintest.HandABI(1), 0o600), "write module")

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
	b.Run("choose the valid module", chromedp.SetUploadFiles(`#f-module`, []string{good}, chromedp.ByQuery))
	b.Click(`#f-activate`)
	b.Click(`[data-testid=upload-submit]`)
	b.WaitVisible(`[data-testid=flash]`)
	b.WaitVisible(`[data-testid=active-1]`)
}
