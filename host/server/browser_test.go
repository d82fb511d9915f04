package server_test

import (
	"bytes"
	"context"
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

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/testdb"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

const (
	menuSel  = `nav[data-testid=menu]`
	panelSel = `nav[data-testid=panel]`
)

// TestBrowser drives the portal in headless Chromium: log in as each demo
// account, read the menu the page really shows, switch roles, open a plugin
// the user may and one the user may not see, log out, and switch language.
// Every scenario runs in its own browser context (fresh cookies).
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		testdb.Unavailable(t, "Chromium", err)
	}
	cat, err := i18n.New(nil)
	testdb.Must(t, err, "load i18n catalogue")
	notFoundMsg := cat.Localizer("pt-BR").T("error.plugin_not_found")
	if notFoundMsg == "error.plugin_not_found" {
		t.Fatal("pt-BR catalogue has no error.plugin_not_found")
	}

	p := servertest.Start(t, "sqlite")

	// Everything, browser start-up included, must finish within a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var chromeOut lockedBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the suite runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The portal picks its language from Accept-Language before the
		// tenant default, and headless Chromium sends en-US: pin pt-BR.
		chromedp.Flag("accept-lang", "pt-BR"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&chromeOut),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	start := time.Now()
	if err := chromedp.Run(browserCtx); err != nil {
		t.Fatalf("start %s: %v\nchromium output:\n%s", chromiumPath, err, chromeOut.String())
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	defer func() {
		if t.Failed() {
			if out := chromeOut.String(); out != "" {
				t.Logf("chromium output:\n%s", out)
			}
		}
	}()

	// newTab opens a tab in a fresh browser context: no cookies, no session.
	// chromedp's WithNewBrowserContext cannot be used: it creates the first
	// tab of the new context without newWindow, which Chromium 156 headless
	// refuses ("Failed to open new tab - no browser is open"). So create the
	// context and its window here and attach to the tab.
	browser := chromedp.FromContext(browserCtx).Browser
	newTab := func(t *testing.T) *tab {
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
		t.Cleanup(cancel) // runs before the context is disposed
		return &tab{t: t, ctx: tctx, base: p.URL}
	}

	cliente := []string{"financeiro", "documentos", "chamados"}
	sindico := []string{"documentos", "assembleias", "chamados"}

	for _, tc := range []struct {
		name  string
		email string
		path  string // where login lands
		nav   string // the navigation that lists the plugins
		want  []string
	}{
		{"cliente", "cliente@demo.portico.test", "/", menuSel, cliente},
		{"sindico", "sindico@demo.portico.test", "/", menuSel, sindico},
		{"gestor", "gestor@demo.portico.test", "/gestor", panelSel, []string{"chamados", "relatorios"}},
	} {
		t.Run("menu/"+tc.name, func(t *testing.T) {
			b := newTab(t)
			b.login(tc.email, tc.nav)
			if got := b.path(); got != tc.path {
				t.Errorf("after login: path %q, want %q", got, tc.path)
			}
			if got, want := b.text(`[data-testid=user-name]`), accountName(t, tc.email); got != want {
				t.Errorf("user name %q, want %q", got, want)
			}
			if got := b.slugs(tc.nav); !slices.Equal(got, tc.want) {
				t.Errorf("%s slugs %q, want %q", tc.nav, got, tc.want)
			}
			if n := b.count(`form.role-switch button`); n != 0 {
				t.Errorf("single-role user sees %d role switch buttons, want none", n)
			}
		})
	}

	t.Run("role-switch", func(t *testing.T) {
		b := newTab(t)
		b.login("ambos@demo.portico.test", menuSel)
		b.waitVisible(`[data-testid=role-cliente][aria-pressed=true]`)
		if got := b.slugs(menuSel); !slices.Equal(got, cliente) {
			t.Fatalf("as cliente: menu %q, want %q", got, cliente)
		}
		b.click(`[data-testid=role-sindico]`)
		b.waitVisible(`[data-testid=role-sindico][aria-pressed=true]`)
		if got := b.slugs(menuSel); !slices.Equal(got, sindico) {
			t.Errorf("after switching to síndico: menu %q, want %q", got, sindico)
		}
		b.click(`[data-testid=role-cliente]`)
		b.waitVisible(`[data-testid=role-cliente][aria-pressed=true]`)
		if got := b.slugs(menuSel); !slices.Equal(got, cliente) {
			t.Errorf("after switching back to cliente: menu %q, want %q", got, cliente)
		}
	})

	t.Run("plugins-and-logout", func(t *testing.T) {
		b := newTab(t)
		b.login("cliente@demo.portico.test", menuSel)

		// A plugin the cliente may open: framed, and the frame renders.
		b.navigate("/p/financeiro")
		const frame = `iframe[data-testid=plugin-frame]`
		b.waitVisible(frame)
		if src := b.attr(frame, "src"); !strings.HasSuffix(src, "/demo/frame/financeiro") {
			t.Errorf("plugin frame src %q, want it to end with /demo/frame/financeiro", src)
		}
		var heading string
		b.run("wait for the framed page to render",
			chromedp.Poll(`(() => { const d = document.querySelector(`+jsString(frame)+`).contentDocument; `+
				`const h = d && d.querySelector('h1'); return h ? h.textContent.trim() : ''; })()`,
				&heading, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
		if !strings.Contains(heading, "financeiro") {
			t.Errorf("framed page heading %q, want it to name financeiro", heading)
		}

		// A síndico-only plugin answers as if it did not exist.
		b.navigate("/p/assembleias")
		b.waitVisible(`#error-title`)
		if b.count(frame) != 0 {
			t.Errorf("/p/assembleias as cliente shows a plugin frame")
		}
		if got := b.text(`main`); !strings.Contains(got, notFoundMsg) {
			t.Errorf("/p/assembleias as cliente: page text %q does not contain %q", got, notFoundMsg)
		}

		b.click(`[data-testid=logout]`)
		b.waitVisible(`#email`)
		if got := b.path(); got != "/login" {
			t.Errorf("after logout: path %q, want /login", got)
		}
		// The session is gone: home sends us back to the login form.
		b.navigate("/")
		b.waitVisible(`#email`)
		if got := b.path(); got != "/login" {
			t.Errorf("home after logout: path %q, want /login", got)
		}
	})

	t.Run("language-switch", func(t *testing.T) {
		b := newTab(t)
		b.navigate("/login")
		b.waitVisible(`[data-testid=login-submit]`)
		if got := b.text(`[data-testid=login-submit]`); got != "Entrar" {
			t.Fatalf("login button before the switch %q, want %q (pt-BR)", got, "Entrar")
		}
		b.click(`.lang-switch button[value=en]`)
		b.waitVisible(`.lang-switch button[value=en][aria-current=true]`)
		if got := b.text(`[data-testid=login-submit]`); got != "Log in" {
			t.Errorf("login button after switching to EN %q, want %q", got, "Log in")
		}
		if got := b.path(); got != "/login" {
			t.Errorf("after the language switch: path %q, want /login", got)
		}
	})
}

func accountName(t *testing.T, email string) string {
	t.Helper()
	for _, a := range demo.Accounts {
		if a.Email == email {
			return a.Name
		}
	}
	t.Fatalf("no demo account %s", email)
	return ""
}

// tab is one browser tab; its helpers fail the test on any error.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (b *tab) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) navigate(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path))
}

func (b *tab) waitVisible(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(sel, chromedp.ByQuery))
}

func (b *tab) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("read text of "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	var v string
	var ok bool
	b.run("read "+name+" of "+sel, chromedp.AttributeValue(sel, name, &v, &ok, chromedp.ByQuery))
	if !ok {
		b.t.Fatalf("%s has no %s attribute", sel, name)
	}
	return v
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	var n int
	b.run("count "+sel, chromedp.Evaluate(`document.querySelectorAll(`+jsString(sel)+`).length`, &n))
	return n
}

// slugs returns the data-slug of each menu item inside nav, in page order.
func (b *tab) slugs(nav string) []string {
	b.t.Helper()
	var s []string
	b.run("read menu "+nav, chromedp.Evaluate(
		`Array.from(document.querySelectorAll(`+jsString(nav+" a.menu-item")+`)).map(a => a.dataset.slug)`, &s))
	return s
}

// path returns the path of the page the tab shows.
func (b *tab) path() string {
	b.t.Helper()
	var loc string
	b.run("read location", chromedp.Location(&loc))
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("parse location %q: %v", loc, err)
	}
	return u.Path
}

// login fills in the login form and waits for the page that lists the
// user's plugins (ready, a selector absent from the login page).
func (b *tab) login(email, ready string) {
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

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// lockedBuffer collects Chromium's output, written from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
