package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// uiChromium is where Debian's chromium package installs the browser.
const uiChromium = "/usr/bin/chromium"

// TestAdminUIBrowser is the scenario in headless Chromium, with the
// admin's script running: the gestor creates an iframe plugin visible to
// síndicos (checking the live size preview on the way), moves it to the top
// with ▲ (the first press clicked, the rest with Enter on the button that
// keeps focus), and a síndico's menu shows it first while a cliente's does
// not show it; the gestor deactivates it and the síndico's menu loses it.
// Finally a row is dragged to the top, which the script saves as a form.
func TestAdminUIBrowser(t *testing.T) {
	if _, err := os.Stat(uiChromium); err != nil {
		testdb.Unavailable(t, "Chromium", err)
	}
	p := servertest.Start(t, "sqlite")
	// Everything must finish within 90 seconds. Cleanups, not defers, end
	// the browser: they run after the tabs' own cleanups (LIFO), so each
	// tab is closed while the browser still answers.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	var chromeOut uiLockedBuffer
	// Chromium's helper processes may still write into their profile for a
	// moment after the browser exits; t.TempDir's strict removal would then
	// fail the test, so remove the profile with a few retries.
	profile, err := os.MkdirTemp("", "portico-admin-chromium-")
	testdb.Must(t, err, "profile dir")
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove %s", profile)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(uiChromium),
		chromedp.Headless,
		chromedp.NoSandbox, // the suite runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "pt-BR"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(&chromeOut),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Run(browserCtx); err != nil {
		t.Fatalf("start %s: %v\nchromium output:\n%s", uiChromium, err, chromeOut.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			if out := chromeOut.String(); out != "" {
				t.Logf("chromium output:\n%s", out)
			}
		}
	})
	// Each person gets a fresh browser context (own cookies). As in
	// host/server's browser test, the context and its window are created
	// here because chromedp's WithNewBrowserContext fails on this Chromium.
	browser := chromedp.FromContext(browserCtx).Browser
	newTab := func(t *testing.T) *uiTab {
		t.Helper()
		bex := cdp.WithExecutor(browserCtx, browser)
		bcID, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(bex)
		testdb.Must(t, err, "create browser context")
		t.Cleanup(func() {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := target.DisposeBrowserContext(bcID).Do(cdp.WithExecutor(dctx, browser)); err != nil {
				t.Logf("dispose browser context: %v", err)
			}
		})
		tid, err := target.CreateTarget("about:blank").WithBrowserContextID(bcID).WithNewWindow(true).Do(bex)
		testdb.Must(t, err, "create tab")
		tctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithTargetID(tid))
		t.Cleanup(cancel)
		// Attach now, with the tab's own context: the context of a tab's
		// first Run owns the tab, and run's per-step timeouts must not.
		testdb.Must(t, chromedp.Run(tctx), "attach to the tab")
		return &uiTab{t: t, ctx: tctx, base: p.URL}
	}

	const slug = "avisos"
	frameURL := p.URL + "/demo/frame/novo"
	g := newTab(t)
	g.login("gestor@demo.portico.test", `[data-testid=panel]`)
	g.click(`[data-testid=admin-link]`)
	g.waitVisible(`[data-testid=plugin-table]`)
	g.click(`[data-testid=plugin-new]`)
	g.waitVisible(`#plugin-form`)

	// Fill in the form as a person would.
	g.run("fill in the plugin form",
		chromedp.SendKeys(`#f-name`, "Avisos do condomínio", chromedp.ByQuery),
		chromedp.SendKeys(`#f-slug`, slug, chromedp.ByQuery),
		chromedp.SendKeys(`#f-title`, "Avisos", chromedp.ByQuery),
		chromedp.SendKeys(`#f-url`, frameURL, chromedp.ByQuery),
		chromedp.Click(`label[title=alerta]`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.Click(`#visible-sindico`, chromedp.ByQuery, chromedp.NodeVisible),
	)
	// The wasm fields show only for wasm plugins, the URL only for iframes.
	shown := func(sel string) string {
		return `(() => { const e = document.querySelector(` + uiJS(sel) + `); return !!e && e.offsetParent !== null; })()`
	}
	g.waitJS("iframe type: URL shown, wasm fields hidden", shown(`#f-url`)+` && !`+shown(`#wasm-fields`))
	g.click(`#type-wasm`)
	g.waitJS("wasm type: wasm fields shown, URL hidden", shown(`#wasm-fields`)+` && !`+shown(`#f-url`))
	g.click(`#type-iframe`)
	g.waitJS("back to iframe", shown(`#f-url`)+` && !`+shown(`#wasm-fields`))
	// The preview follows the chosen size, custom sizes as they are typed.
	viewBox := func(want string) string {
		return `document.querySelector('[data-testid=size-preview]').getAttribute('viewBox') === ` + uiJS(want)
	}
	g.waitJS("preview for médio", viewBox("0 0 960 640")+` && !`+shown(`#f-width`))
	g.click(`#size-grande`)
	g.waitJS("preview for grande", viewBox("0 0 1280 800"))
	g.click(`#size-custom`)
	g.waitJS("custom size inputs shown", shown(`#f-width`))
	g.run("type a custom size",
		chromedp.SetValue(`#f-width`, "", chromedp.ByQuery),
		chromedp.SendKeys(`#f-width`, "400", chromedp.ByQuery),
		chromedp.SetValue(`#f-height`, "", chromedp.ByQuery),
		chromedp.SendKeys(`#f-height`, "800", chromedp.ByQuery),
	)
	g.waitJS("preview for 400×800", viewBox("0 0 400 800")+` && document.getElementById('preview-caption').textContent.includes('400 × 800')`)
	g.click(`#size-tela_cheia`)
	g.waitJS("preview for tela cheia", viewBox("0 0 1600 900"))
	g.click(`#size-medio`)
	g.click(`[data-testid=plugin-save]`)
	g.waitVisible(`[data-testid=flash]`)
	if got := g.path(); got != "/admin/plugins/"+slug {
		t.Fatalf("after creating: path %q", got)
	}
	pl, err := p.Store.PluginBySlug(context.Background(), p.Demo.ID, slug)
	testdb.Must(t, err, "load the new plugin")
	if pl.URL != frameURL || pl.VisibleTo != model.VisibleSindico || pl.Icon != "alerta" || pl.Size != model.SizeMedio || !pl.Active {
		t.Errorf("stored %s %s %s %s active=%v", pl.URL, pl.VisibleTo, pl.Icon, pl.Size, pl.Active)
	}

	// Move it to the top: the first ▲ by mouse, then Enter on the ▲ that
	// keeps focus after each reload.
	g.navigate("/admin/plugins")
	rows := g.rowSlugs()
	at := slices.Index(rows, slug)
	if at != len(rows)-1 {
		t.Fatalf("a new plugin should be last: %q", rows)
	}
	g.click(`[data-testid=up-` + slug + `]`)
	for at--; ; at-- {
		g.waitVisible(fmt.Sprintf(`#plugin-rows > tr:nth-child(%d)[data-slug=%s]`, at+1, slug))
		if at == 0 {
			break
		}
		g.waitFocus(`up-` + slug)
		g.run("press Enter on ▲", chromedp.KeyEvent(kb.Enter))
	}
	if rows := g.rowSlugs(); rows[0] != slug {
		t.Fatalf("after moving: %q", rows)
	}

	s := newTab(t)
	s.login("sindico@demo.portico.test", `nav[data-testid=menu]`)
	if menu := s.menu(); len(menu) == 0 || menu[0] != slug {
		t.Errorf("síndico's menu %q, want %s first", menu, slug)
	}
	c := newTab(t)
	c.login("cliente@demo.portico.test", `nav[data-testid=menu]`)
	if menu := c.menu(); len(menu) == 0 || slices.Contains(menu, slug) {
		t.Errorf("cliente's menu %q must not show %s", menu, slug)
	}

	// Deactivate it from the list.
	g.click(`[data-testid=toggle-` + slug + `]`)
	g.waitVisible(`tr.inactive#row-` + slug) // only on the page that answers the toggle
	g.waitFocus(`toggle-` + slug)            // a keyboard user stays on the button
	if st := g.text(`[data-testid=status-` + slug + `]`); st != "Inativo" {
		t.Errorf("status after deactivating: %q", st)
	}
	s.navigate("/")
	s.waitVisible(`nav[data-testid=menu]`)
	if menu := s.menu(); len(menu) == 0 || slices.Contains(menu, slug) {
		t.Errorf("síndico's menu after deactivation %q still shows %s (or is empty)", menu, slug)
	}

	// Drag-and-drop: drag the last row above the first; the script posts
	// the new order as a form.
	rows = g.rowSlugs()
	last := rows[len(rows)-1]
	g.run("drag the last row to the top", chromedp.Evaluate(`(() => {
		const rows = document.querySelectorAll('#plugin-rows tr');
		const from = rows[rows.length - 1], to = rows[0];
		const dt = new DataTransfer();
		const r = to.getBoundingClientRect();
		const at = {bubbles: true, cancelable: true, dataTransfer: dt, clientX: r.left + 5, clientY: r.top + 2};
		from.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		to.dispatchEvent(new DragEvent('dragover', at));
		to.dispatchEvent(new DragEvent('drop', at));
		return true;
	})()`, nil))
	g.waitVisible(`#plugin-rows > tr:first-child[data-slug=` + last + `]`)
	ps, err := p.Store.Plugins(context.Background(), p.Demo.ID)
	testdb.Must(t, err, "load plugins")
	if ps[0].Slug != last || ps[1].Slug != rows[0] {
		t.Errorf("stored order after the drag starts %s, %s; want %s, %s", ps[0].Slug, ps[1].Slug, last, rows[0])
	}
}

// uiTab is one browser tab; its helpers fail the test on any error.
type uiTab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// run runs actions, allowing each call 20 seconds so a broken step fails
// quickly with its own name.
func (b *uiTab) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *uiTab) navigate(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path))
}

func (b *uiTab) waitVisible(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(sel, chromedp.ByQuery))
}

func (b *uiTab) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

func (b *uiTab) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("read text of "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

func (b *uiTab) attr(sel, name string) string {
	b.t.Helper()
	var v string
	var ok bool
	b.run("read "+name+" of "+sel, chromedp.AttributeValue(sel, name, &v, &ok, chromedp.ByQuery))
	if !ok {
		b.t.Fatalf("%s has no %s attribute", sel, name)
	}
	return v
}

// waitJS waits up to 5 seconds for a JavaScript expression to be true;
// the script reacts to events after they are dispatched.
func (b *uiTab) waitJS(what, expr string) {
	b.t.Helper()
	var ok bool
	b.run(what, chromedp.Poll(expr, &ok, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
}

// waitFocus waits until the focused element has data-testid id.
func (b *uiTab) waitFocus(id string) {
	b.t.Helper()
	b.waitJS("focus on "+id, `document.activeElement && document.activeElement.dataset.testid === `+uiJS(id))
}

func (b *uiTab) strings(what, expr string) []string {
	b.t.Helper()
	var s []string
	b.run(what, chromedp.Evaluate(expr, &s))
	return s
}

// rowSlugs returns the admin list's plugins in page order.
func (b *uiTab) rowSlugs() []string {
	b.t.Helper()
	return b.strings("read the plugin list", `Array.from(document.querySelectorAll('#plugin-rows tr')).map(r => r.dataset.slug)`)
}

// menu returns the portal menu's plugins in page order.
func (b *uiTab) menu() []string {
	b.t.Helper()
	return b.strings("read the menu", `Array.from(document.querySelectorAll('nav[data-testid=menu] a.menu-item')).map(a => a.dataset.slug)`)
}

func (b *uiTab) path() string {
	b.t.Helper()
	var loc string
	b.run("read location", chromedp.Location(&loc))
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("parse location %q: %v", loc, err)
	}
	return u.Path
}

// login fills in the login form and waits for ready, a selector of the
// page the account lands on.
func (b *uiTab) login(email, ready string) {
	b.t.Helper()
	b.navigate("/login")
	b.run("log in as "+email,
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, demo.Password, chromedp.ByQuery),
		chromedp.Click(`[data-testid=login-submit]`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.WaitVisible(ready, chromedp.ByQuery),
	)
}

// uiJS quotes s as a JavaScript string literal.
func uiJS(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// uiLockedBuffer collects Chromium's output, written from another goroutine.
type uiLockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *uiLockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *uiLockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
