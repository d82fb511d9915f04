package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAccessibility runs axe-core's WCAG 2.0/2.1 A and AA rules in
// headless Chromium over every kind of portal and admin page, at a
// desktop's and at a phone's width: no serious or critical violation. At
// the desktop's width it also focuses each page's first 16 focusable
// elements in keyboard mode: every one shows a ring that stands out from
// what is behind it (axe-core does not check focus indicators).
func TestAccessibility(t *testing.T) {
	t.Parallel() // browser tests run side by side: see TestBrowser
	p := startWasmPortal(t, "sqlite")
	// 48 pages, each loaded and audited by axe-core: 120-150 s under -race
	// with the rest of the suite on a two-core machine.
	br := testbrowser.Start(t, p.URL, 240*time.Second)
	// A greeting the plugin finds wrong, so that its admin page shows the
	// declared settings with the problems list and a field's problem.
	hello, err := p.Store.PluginBySlug(context.Background(), p.Demo.ID, demo.HelloSlug)
	testdb.Must(t, err, "load hello")
	testdb.Must(t, p.Store.ReplacePluginConfig(context.Background(), p.Demo.ID, demo.HelloSlug, hello.Version,
		[]model.ConfigValue{{Key: "greeting", Type: model.ConfigString, Value: "Olá\nde novo"}}, model.SystemActor("test")), "configure hello")
	// Another customer's portal session link, which a logged-in cliente is
	// asked about (and which the question does not use up).
	var ps portalSession
	p.NewClient(t, "").Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "sindico@demo.portico.test"},
		bearer(newKey(t, p, p.Demo.ID, model.ScopePortalSessions))...).JSON(t, &ps)
	if ps.AuthURL == nil {
		t.Fatal("no portal session link")
	}
	for _, width := range []int64{1280, 390} {
		newTab := func() *testbrowser.Tab {
			tab := br.NewTab(t)
			if width < 500 {
				tab.Run("phone viewport", chromedp.EmulateViewport(width, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
			} else {
				tab.Run("desktop viewport", chromedp.EmulateViewport(width, 900))
			}
			return tab
		}
		checked := 0
		check := func(tab *testbrowser.Tab, path, ready string) {
			t.Helper()
			tab.Navigate(path)
			tab.WaitVisible(ready)
			for _, v := range tab.Axe() {
				t.Errorf("%s at %d px: %s", path, width, v)
			}
			if width > 500 { // the same styles at both widths
				for _, v := range tab.FocusRings(16) {
					t.Errorf("%s: keyboard focus: %s", path, v)
				}
			}
			checked++
		}
		cliente := newTab()
		check(cliente, "/login", "#email")
		cliente.Login("cliente@demo.portico.test", demo.Password, `nav[data-testid=menu]`)
		check(cliente, "/", `nav[data-testid=menu]`)
		check(cliente, "/p/financeiro", `iframe[data-testid=plugin-frame]`)
		check(cliente, "/p/"+demo.HelloSlug, `[data-testid=wasm-view]`)
		check(cliente, "/account/password", `[data-testid=password-form]`)
		check(cliente, pathOf(t, *ps.AuthURL), `[data-testid=portal-switch-page]`)
		check(cliente, "/nada-aqui", `#error-title`)
		check(cliente, "/admin/plugins", `#error-title`) // a cliente in the admin: 403
		gestor := newTab()
		gestor.Login("gestor@demo.portico.test", demo.Password, `[data-testid=panel]`)
		for _, path := range []string{"/gestor", "/admin/plugins", "/admin/plugins/new", "/admin/plugins/financeiro", "/admin/plugins/" + demo.HelloSlug,
			"/admin/plugins/financeiro/access", "/admin/plugins/" + demo.HelloSlug + "/versions", "/admin/plugins/" + demo.HelloSlug + "/access",
			"/admin/plugins/" + demo.HelloSlug + "/data", "/admin/plugins/" + demo.HelloSlug + "/data/clear",
			"/admin/settings", "/admin/users", "/admin/users/new", "/admin/users/import", "/admin/api-keys", "/admin/audit"} {
			ready := "main"
			switch path {
			case "/admin/plugins/" + demo.HelloSlug:
				ready = `[data-testid=settings-problems]` // the declared settings, with a problem
			case "/admin/plugins/" + demo.HelloSlug + "/data":
				ready = `[data-testid=data-table]` // the visit the cliente's page above counted
			}
			check(gestor, path, ready)
		}
		if checked != 24 {
			t.Errorf("checked %d pages at %d px, want 24", checked, width)
		}
	}
}
