package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testbrowser"
)

// TestFormControlsBrowser checks the portal's form controls as Chromium
// draws them, on the login page, a wasm plugin's form and the account
// forms, before and after a refused submit: every border stands out from
// the background at 3:1 (WCAG 1.4.11), and every field marked invalid
// shows the error border, the phone field and the UF select included. A
// refused account form puts the focus on its error summary and says
// "Erro:" in the title.
func TestFormControlsBrowser(t *testing.T) {
	t.Parallel() // browser tests run side by side: see TestBrowser
	p := startWasmPortal(t, "sqlite")
	br := testbrowser.Start(t, p.URL, 90*time.Second)
	b := br.NewTab(t)
	b.Run("desktop viewport", chromedp.EmulateViewport(1280, 900))
	// set gives a field a value from a script (chromedp.SetValue cannot
	// empty one).
	set := func(sel, value string) chromedp.Action {
		return chromedp.Evaluate(`document.querySelector(`+testbrowser.JS(sel)+`).value = `+testbrowser.JS(value), nil)
	}
	check := func(what string, atLeast int) {
		t.Helper()
		if n := b.Count(`input:not([type=hidden]), select, textarea`); n < atLeast {
			t.Fatalf("%s: %d form controls, want %d or more: the page is not the one meant", what, n, atLeast)
		}
		for _, v := range b.FormControls() {
			t.Errorf("%s: %s", what, v)
		}
	}
	b.Navigate("/login")
	b.WaitVisible(`#email`)
	check("login", 2)
	b.Login("cliente@demo.portico.test", demo.Password, menuSel)
	b.Navigate("/p/" + demo.HelloSlug)
	b.WaitVisible(`form[data-testid=wasm-form]`)
	check("wasm form", 3)

	b.Navigate("/account/profile")
	b.WaitVisible(`[data-testid=profile-form]`)
	check("profile", 4)
	b.Run("refused profile",
		set(`#f-name`, ""),
		set(`#f-phone`, "abc"),
		chromedp.Click(`[data-testid=profile-save]`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.WaitVisible(`[data-testid=account-problem]`, chromedp.ByQuery),
	)
	if n := b.Count(`#f-name[aria-invalid=true], #f-phone[aria-invalid=true]`); n != 2 {
		t.Fatalf("refused profile: %d of name and phone marked invalid, want 2", n)
	}
	// The error summary has the focus and the title says there is an
	// error: what a screen reader reads first after the submit.
	var focus, title string
	b.Run("read the focus and the title", chromedp.Evaluate(`document.activeElement.id`, &focus), chromedp.Title(&title))
	if focus != "account-problem" || !strings.HasPrefix(title, "Erro: ") {
		t.Errorf("refused profile: the focus is on %q and the title is %q; want the error summary and Erro: …", focus, title)
	}
	check("refused profile", 4)

	b.Navigate("/account/address")
	b.WaitVisible(`[data-testid=address-form]`)
	check("address", 7)
	b.Run("refused address",
		set(`#f-cep`, ""),
		set(`#f-street`, "Av. Paulista"),
		set(`#f-number`, ""),
		set(`#f-city`, ""),
		set(`#f-state`, ""),
		chromedp.Click(`[data-testid=address-save]`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.WaitVisible(`[data-testid=account-problem]`, chromedp.ByQuery),
	)
	if n := b.Count(`#f-state[aria-invalid=true], #f-cep[aria-invalid=true]`); n != 2 {
		t.Fatalf("refused address: %d of CEP and UF marked invalid, want 2", n)
	}
	check("refused address", 7)

	// The admin's forms are held to the same contrast.
	g := br.NewTab(t)
	g.Run("desktop viewport", chromedp.EmulateViewport(1280, 900))
	g.Login("gestor@demo.portico.test", demo.Password, `[data-testid=panel]`)
	for _, tc := range []struct {
		path    string
		atLeast int
	}{{"/admin/users/new", 3}, {"/admin/settings", 4}} {
		g.Navigate(tc.path)
		g.WaitVisible(`main form`)
		if n := g.Count(`main input:not([type=hidden]), main select, main textarea`); n < tc.atLeast {
			t.Fatalf("%s: %d form controls, want %d or more", tc.path, n, tc.atLeast)
		}
		for _, v := range g.FormControls() {
			t.Errorf("%s: %s", tc.path, v)
		}
	}
}
