package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

const (
	menuSel  = `nav[data-testid=menu]`
	panelSel = `nav[data-testid=panel]`
)

// TestBrowser drives the portal in headless Chromium: log in as each demo
// account, read the menu the page really shows, switch roles, open a plugin
// the user may and one the user may not see, log out, and switch language.
// Every scenario runs in its own browser context (fresh cookies).
//
// The browser tests (this one, TestAccessibility, TestLoyaltyBrowser,
// TestFinanceBrowser, TestWasmBrowser, TestFormControlsBrowser,
// TestEmbeddedPortalInBrowser, TestExampleAppBrowser,
// TestExampleAppPhone) each start their own
// server, database and Chromium, touch no global state and spend much of
// their time waiting on the browser, so they run in parallel with each
// other, after the package's other tests: the package is the longest of
// the suite, and this keeps both cores busy at its end. Some tests without
// a browser that also start their own server and touch no global state
// (no login flood, no package-level setting) join them.
func TestBrowser(t *testing.T) {
	t.Parallel()
	cat, err := i18n.New(nil)
	testdb.Must(t, err, "load i18n catalogue")
	notFoundMsg := cat.Localizer("pt-BR").T("error.plugin_not_found")
	if notFoundMsg == "error.plugin_not_found" {
		t.Fatal("pt-BR catalogue has no error.plugin_not_found")
	}

	p := servertest.Start(t, "sqlite")

	br := testbrowser.Start(t, p.URL, 60*time.Second)
	newTab := br.NewTab

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
			b.Login(tc.email, demo.Password, tc.nav)
			if got := b.Path(); got != tc.path {
				t.Errorf("after login: path %q, want %q", got, tc.path)
			}
			if got, want := b.Text(`[data-testid=user-name]`), accountName(t, tc.email); got != want {
				t.Errorf("user name %q, want %q", got, want)
			}
			if got := b.Slugs(tc.nav); !slices.Equal(got, tc.want) {
				t.Errorf("%s slugs %q, want %q", tc.nav, got, tc.want)
			}
			if n := b.Count(`form.role-switch button`); n != 0 {
				t.Errorf("single-role user sees %d role switch buttons, want none", n)
			}
		})
	}

	t.Run("role-switch", func(t *testing.T) {
		b := newTab(t)
		b.Login("ambos@demo.portico.test", demo.Password, menuSel)
		b.WaitVisible(`[data-testid=role-cliente][aria-pressed=true]`)
		if got := b.Slugs(menuSel); !slices.Equal(got, cliente) {
			t.Fatalf("as cliente: menu %q, want %q", got, cliente)
		}
		b.Click(`[data-testid=role-sindico]`)
		b.WaitVisible(`[data-testid=role-sindico][aria-pressed=true]`)
		if got := b.Slugs(menuSel); !slices.Equal(got, sindico) {
			t.Errorf("after switching to síndico: menu %q, want %q", got, sindico)
		}
		b.Click(`[data-testid=role-cliente]`)
		b.WaitVisible(`[data-testid=role-cliente][aria-pressed=true]`)
		if got := b.Slugs(menuSel); !slices.Equal(got, cliente) {
			t.Errorf("after switching back to cliente: menu %q, want %q", got, cliente)
		}
	})

	t.Run("plugins-and-logout", func(t *testing.T) {
		b := newTab(t)
		b.Login("cliente@demo.portico.test", demo.Password, menuSel)

		// A plugin the cliente may open: framed, and the frame renders.
		b.Navigate("/p/financeiro")
		const frame = `iframe[data-testid=plugin-frame]`
		b.WaitVisible(frame)
		if src := b.Attr(frame, "src"); !strings.HasSuffix(src, "/demo/frame/financeiro") {
			t.Errorf("plugin frame src %q, want it to end with /demo/frame/financeiro", src)
		}
		// The demo frame is on the portal's own origin, so it is sandboxed
		// into an opaque origin (web.FrameSandbox): the portal page cannot
		// read its document, nor it the portal's. The browser's frame tree
		// shows that it loaded.
		loaded := false
		for deadline := time.Now().Add(10 * time.Second); !loaded && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			loaded = slices.ContainsFunc(b.ChildFrameURLs(), func(u string) bool { return strings.HasSuffix(u, "/demo/frame/financeiro") })
		}
		if !loaded {
			t.Errorf("the plugin frame never loaded /demo/frame/financeiro: frames %q", b.ChildFrameURLs())
		}
		var reachable bool
		b.Run("read the frame's document", chromedp.Evaluate(`document.querySelector(`+testbrowser.JS(frame)+`).contentDocument !== null`, &reachable))
		if reachable {
			t.Errorf("the portal page can read a same-origin plugin's document: the frame is not sandboxed into an opaque origin")
		}

		// A síndico-only plugin answers as if it did not exist.
		b.Navigate("/p/assembleias")
		b.WaitVisible(`#error-title`)
		if b.Count(frame) != 0 {
			t.Errorf("/p/assembleias as cliente shows a plugin frame")
		}
		if got := b.Text(`main`); !strings.Contains(got, notFoundMsg) {
			t.Errorf("/p/assembleias as cliente: page text %q does not contain %q", got, notFoundMsg)
		}

		b.Click(`[data-testid=logout]`)
		b.WaitVisible(`#email`)
		if got := b.Path(); got != "/login" {
			t.Errorf("after logout: path %q, want /login", got)
		}
		// The session is gone: home sends us back to the login form.
		b.Navigate("/")
		b.WaitVisible(`#email`)
		if got := b.Path(); got != "/login" {
			t.Errorf("home after logout: path %q, want /login", got)
		}
	})

	t.Run("language-switch", func(t *testing.T) {
		b := newTab(t)
		b.Navigate("/login")
		b.WaitVisible(`[data-testid=login-submit]`)
		if got := b.Text(`[data-testid=login-submit]`); got != "Entrar" {
			t.Fatalf("login button before the switch %q, want %q (pt-BR)", got, "Entrar")
		}
		b.Click(`.lang-switch button[value=en]`)
		b.WaitVisible(`.lang-switch button[value=en][aria-current=true]`)
		if got := b.Text(`[data-testid=login-submit]`); got != "Log in" {
			t.Errorf("login button after switching to EN %q, want %q", got, "Log in")
		}
		if got := b.Path(); got != "/login" {
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
