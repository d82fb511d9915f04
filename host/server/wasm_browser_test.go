package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestWasmBrowser opens the hello plugin in headless Chromium as the demo
// cliente, fills in its form (text, select, checkbox), presses the button
// and reads the view the action returned; it also checks that the copy
// button's script runs under the page's Content-Security-Policy.
func TestWasmBrowser(t *testing.T) {
	t.Parallel() // browser tests run side by side: see TestBrowser
	p := startWasmPortal(t, "sqlite")
	br := testbrowser.Start(t, p.URL, 60*time.Second)
	b := br.NewTab(t)
	b.Login("cliente@demo.portico.test", demo.Password, `nav[data-testid=menu]`)
	b.Click(`a.menu-item[data-slug=` + demo.HelloSlug + `]`)
	b.WaitVisible(`[data-testid=wasm-view]`)
	if got := b.Text(`.wasm-heading`); got != "Olá, Carla Cliente!" {
		t.Errorf("heading = %q", got)
	}
	// The copy button is hidden without script; wasm.js (script-src 'self')
	// reveals it.
	b.WaitJS("copy button revealed", `(() => { const x = document.querySelector("button.copy-button"); return !!x && !x.hidden; })()`)

	b.Run("fill in the form",
		chromedp.SetValue(`form[data-testid=wasm-form] input[name=name]`, "Bruna", chromedp.ByQuery),
		chromedp.SetValue(`form[data-testid=wasm-form] select[name=color]`, "orange", chromedp.ByQuery),
		chromedp.Click(`form[data-testid=wasm-form] input[name=news]`, chromedp.ByQuery, chromedp.NodeVisible),
	)
	b.Click(`form[data-testid=wasm-form] button[data-action=greet]`)
	b.WaitVisible(`.alert-success`)
	// Post/redirect/get: the address is the result's, not the action's.
	var href string
	b.Run("read the address", chromedp.Location(&href))
	if got := b.Path(); got != "/p/ola" || !strings.Contains(href, "?r=") {
		t.Errorf("after the action: %q, want /p/ola?r=…", href)
	}
	if got := b.Text(`.alert-success`); got != "Olá, Bruna!" {
		t.Errorf("success alert = %q", got)
	}
	// Reloading shows the same result (no resubmission, no second call).
	pl, err := p.Store.PluginBySlug(context.Background(), p.Demo.ID, demo.HelloSlug)
	testdb.Must(t, err, "load hello")
	calls := p.Server.Sandbox.Health(p.Demo.ID, pl.ID).Calls
	b.Run("reload the result", chromedp.Reload())
	b.WaitVisible(`.alert-success`)
	if got := b.Text(`.alert-success`); got != "Olá, Bruna!" {
		t.Errorf("after a reload: success alert = %q", got)
	}
	if now := p.Server.Sandbox.Health(p.Demo.ID, pl.ID).Calls; now != calls {
		t.Errorf("reloading the result called the plugin %d more times", now-calls)
	}
	kv := b.Text(`.wasm-kv`)
	for _, want := range []string{"Bruna", "Laranja", "Sim"} {
		if !strings.Contains(kv, want) {
			t.Errorf("result list %q lacks %q", kv, want)
		}
	}
	// The form comes back filled in; sending it with the required name
	// empty shows the plugin's own message, in the portal's language: the
	// form is novalidate, so the browser's bubble (in the browser's
	// language) does not stop it.
	var noValidate bool
	b.Run("read novalidate", chromedp.Evaluate(`document.querySelector("form[data-testid=wasm-form]").noValidate`, &noValidate))
	if !noValidate {
		t.Fatal("the wasm form is validated by the browser, whose messages are not the portal's")
	}
	b.Run("empty the name", chromedp.Evaluate(`document.querySelector("form[data-testid=wasm-form] input[name=name]").value = ""`, nil))
	b.Click(`form[data-testid=wasm-form] button[data-action=greet]`)
	b.WaitVisible(`.alert-error`)
	if got := b.Text(`.alert-error`); got != "Informe o seu nome." {
		t.Errorf("error alert = %q", got)
	}
	// The plugin's error is the page's: its title says so.
	var title string
	b.Run("read the title", chromedp.Title(&title))
	if !strings.HasPrefix(title, "Erro: ") {
		t.Errorf("the title of a page showing the plugin's error is %q, want Erro: …", title)
	}
}
