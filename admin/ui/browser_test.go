package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminUIBrowser is the scenario in headless Chromium, with the
// admin's script running: the gestor creates an iframe plugin visible to
// síndicos (checking the live size preview on the way), moves it to the top
// with ▲ (the first press clicked, the rest with Enter on the button that
// keeps focus), and a síndico's menu shows it first while a cliente's does
// not show it; the gestor deactivates it and the síndico's menu loses it.
// Finally a row is dragged to the top, which the script saves as a form.
func TestAdminUIBrowser(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	br := testbrowser.Start(t, p.URL, 90*time.Second)
	newTab := br.NewTab

	const slug = "avisos"
	frameURL := p.URL + "/demo/frame/novo"
	g := newTab(t)
	g.Login("gestor@demo.portico.test", demo.Password, `[data-testid=panel]`)
	g.Click(`[data-testid=admin-link]`)
	g.WaitVisible(`[data-testid=plugin-table]`)
	g.Click(`[data-testid=plugin-new]`)
	g.WaitVisible(`#plugin-form`)

	// Fill in the form as a person would.
	g.Run("fill in the plugin form",
		chromedp.SendKeys(`#f-name`, "Avisos do condomínio", chromedp.ByQuery),
		chromedp.SendKeys(`#f-slug`, slug, chromedp.ByQuery),
		chromedp.SendKeys(`#f-title`, "Avisos", chromedp.ByQuery),
		chromedp.SendKeys(`#f-url`, frameURL, chromedp.ByQuery),
		chromedp.Click(`#icon-alerta`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.Click(`#visible-sindico`, chromedp.ByQuery, chromedp.NodeVisible),
	)
	// The wasm fields show only for wasm plugins, the URL only for iframes.
	shown := func(sel string) string {
		return `(() => { const e = document.querySelector(` + testbrowser.JS(sel) + `); return !!e && e.offsetParent !== null; })()`
	}
	g.WaitJS("iframe type: URL shown, wasm fields hidden", shown(`#f-url`)+` && !`+shown(`#wasm-fields`))
	g.Click(`#type-wasm`)
	g.WaitJS("wasm type: wasm fields shown, URL hidden", shown(`#wasm-fields`)+` && !`+shown(`#f-url`))
	g.Click(`#type-iframe`)
	g.WaitJS("back to iframe", shown(`#f-url`)+` && !`+shown(`#wasm-fields`))
	// The preview follows the chosen size, custom sizes as they are typed.
	viewBox := func(want string) string {
		return `document.querySelector('[data-testid=size-preview]').getAttribute('viewBox') === ` + testbrowser.JS(want)
	}
	g.WaitJS("preview for médio", viewBox("0 0 960 640")+` && !`+shown(`#f-width`))
	g.Click(`#size-grande`)
	g.WaitJS("preview for grande", viewBox("0 0 1280 800"))
	g.Click(`#size-custom`)
	g.WaitJS("custom size inputs shown", shown(`#f-width`))
	g.Run("type a custom size",
		chromedp.SetValue(`#f-width`, "", chromedp.ByQuery),
		chromedp.SendKeys(`#f-width`, "400", chromedp.ByQuery),
		chromedp.SetValue(`#f-height`, "", chromedp.ByQuery),
		chromedp.SendKeys(`#f-height`, "800", chromedp.ByQuery),
	)
	g.WaitJS("preview for 400×800", viewBox("0 0 400 800")+` && document.getElementById('preview-caption').textContent.includes('400 × 800')`)
	g.Click(`#size-tela_cheia`)
	g.WaitJS("preview for tela cheia", viewBox("0 0 1600 900"))
	g.Click(`#size-medio`)
	g.Click(`[data-testid=plugin-save]`)
	g.WaitVisible(`[data-testid=flash]`)
	if got := g.Path(); got != "/admin/plugins/"+slug {
		t.Fatalf("after creating: path %q", got)
	}
	pl, err := p.Store.PluginBySlug(context.Background(), p.Demo.ID, slug)
	testdb.Must(t, err, "load the new plugin")
	if pl.URL != frameURL || pl.VisibleTo != model.VisibleSindico || pl.Icon != "alerta" || pl.Size != model.SizeMedio || !pl.Active {
		t.Errorf("stored %s %s %s %s active=%v", pl.URL, pl.VisibleTo, pl.Icon, pl.Size, pl.Active)
	}

	// Move it to the top: the first ▲ by mouse, then Enter on the ▲ that
	// keeps focus after each reload.
	g.Navigate("/admin/plugins")
	rows := rowSlugs(g)
	at := slices.Index(rows, slug)
	if at != len(rows)-1 {
		t.Fatalf("a new plugin should be last: %q", rows)
	}
	// The moves happen without a reload: a mark set on this page survives.
	g.Run("mark the page", chromedp.Evaluate(`window.porticoNoReload = true`, nil))
	g.Click(`[data-testid=up-` + slug + `]`)
	for at--; ; at-- {
		g.WaitVisible(fmt.Sprintf(`#plugin-rows > tr:nth-child(%d)[data-slug=%s]`, at+1, slug))
		if at == 0 {
			break
		}
		waitFocus(g, `up-`+slug)
		g.Run("press Enter on ▲", chromedp.KeyEvent(kb.Enter))
	}
	if rows := rowSlugs(g); rows[0] != slug {
		t.Fatalf("after moving: %q", rows)
	}
	// Every move has reached the server when the list no longer says
	// it is saving.
	g.WaitJS("the moves saved", `!document.querySelector('#plugin-rows[data-saving]')`)
	var kept bool
	g.Run("read the mark", chromedp.Evaluate(`window.porticoNoReload === true`, &kept))
	if !kept {
		t.Error("▲ reloaded the page")
	}
	var firstUp bool
	g.Run("read ▲ of the first row", chromedp.Evaluate(`document.querySelector('[data-testid=up-`+slug+`]').disabled`, &firstUp))
	if !firstUp {
		t.Error("▲ of the first row is not disabled")
	}
	// The order is saved: it survives a reload.
	g.Navigate("/admin/plugins")
	if rows := rowSlugs(g); rows[0] != slug {
		t.Fatalf("after moving and reloading: %q", rows)
	}

	s := newTab(t)
	s.Login("sindico@demo.portico.test", demo.Password, `nav[data-testid=menu]`)
	if menu := menuOf(s); len(menu) == 0 || menu[0] != slug {
		t.Errorf("síndico's menu %q, want %s first", menu, slug)
	}
	c := newTab(t)
	c.Login("cliente@demo.portico.test", demo.Password, `nav[data-testid=menu]`)
	if menu := menuOf(c); len(menu) == 0 || slices.Contains(menu, slug) {
		t.Errorf("cliente's menu %q must not show %s", menu, slug)
	}

	// Deactivate it from the list.
	g.Click(`[data-testid=toggle-` + slug + `]`)
	g.WaitVisible(`tr.inactive#row-` + slug) // only on the page that answers the toggle
	waitFocus(g, `toggle-`+slug)             // a keyboard user stays on the button
	if st := g.Text(`[data-testid=status-` + slug + `]`); st != "Inativo" {
		t.Errorf("status after deactivating: %q", st)
	}
	s.Navigate("/")
	s.WaitVisible(`nav[data-testid=menu]`)
	if menu := menuOf(s); len(menu) == 0 || slices.Contains(menu, slug) {
		t.Errorf("síndico's menu after deactivation %q still shows %s (or is empty)", menu, slug)
	}

	// Drag-and-drop: drag the last row above the first; the script posts
	// the new order as a form.
	rows = rowSlugs(g)
	last := rows[len(rows)-1]
	g.Run("drag the last row to the top", chromedp.Evaluate(`(() => {
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
	g.WaitVisible(`#plugin-rows > tr:first-child[data-slug=` + last + `]`)
	ps, err := p.Store.Plugins(context.Background(), p.Demo.ID)
	testdb.Must(t, err, "load plugins")
	if ps[0].Slug != last || ps[1].Slug != rows[0] {
		t.Errorf("stored order after the drag starts %s, %s; want %s, %s", ps[0].Slug, ps[1].Slug, last, rows[0])
	}
}

// waitFocus waits until the focused element has data-testid id.
func waitFocus(b *testbrowser.Tab, id string) {
	b.T.Helper()
	b.WaitJS("focus on "+id, `document.activeElement && document.activeElement.dataset.testid === `+testbrowser.JS(id))
}

// rowSlugs returns the admin list's plugins in page order.
func rowSlugs(b *testbrowser.Tab) []string {
	b.T.Helper()
	return b.Strings("read the plugin list", `Array.from(document.querySelectorAll('#plugin-rows tr')).map(r => r.dataset.slug)`)
}

// menuOf returns the portal menu's plugins in page order.
func menuOf(b *testbrowser.Tab) []string {
	b.T.Helper()
	return b.Slugs(`nav[data-testid=menu]`)
}

// TestAdminUIPhone opens the plugin list at a phone's width (390 CSS
// pixels): every link of the admin navigation is on screen (the links
// wrap: a line scrolled sideways hid half of them), and every plugin's
// switch, edit link and health are on screen, each value under its
// column's name, without scrolling sideways.
func TestAdminUIPhone(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	br := testbrowser.Start(t, p.URL, 90*time.Second)
	g := br.NewTab(t)
	g.Run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	g.Login("gestor@demo.portico.test", demo.Password, `[data-testid=panel]`)
	g.Navigate("/admin/plugins")
	g.WaitVisible(`[data-testid=plugin-table]`)
	var got struct {
		Width  float64
		Off    []string
		Labels int
		Rows   int
	}
	var raw string
	g.Run("measure the page", chromedp.Evaluate(`(() => {
		const w = document.documentElement.clientWidth;
		const off = [];
		for (const sel of ['[data-testid=admin-nav] a', '[data-testid^=toggle-]', '[data-testid^=edit-]', '[data-testid^=status-]', 'td.actions-cell a']) {
			for (const e of document.querySelectorAll(sel)) {
				const r = e.getBoundingClientRect();
				if (r.left < 0 || r.right > w + 0.5) off.push(sel + ' ' + (e.dataset.testid || e.textContent.trim()));
			}
		}
		const labels = [...document.querySelectorAll('.plugin-table td[data-label]')]
			.filter(td => getComputedStyle(td, '::before').content.includes(td.dataset.label)).length;
		return JSON.stringify({width: w, off: off, labels: labels, rows: document.querySelectorAll('#plugin-rows tr').length});
	})()`, &raw))
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("measurements %q: %v", raw, err)
	}
	if got.Width > 400 || got.Rows == 0 {
		t.Fatalf("not a phone page: %+v", got)
	}
	if len(got.Off) > 0 {
		t.Errorf("off screen at %.0f px: %v", got.Width, got.Off)
	}
	if got.Labels < got.Rows*5 {
		t.Errorf("%d cells show their column's name for %d rows, want 5 a row", got.Labels, got.Rows)
	}

	// The API keys: a new key's page has a working copy button, and in
	// the list every key's columns and revoke button are on screen.
	g.Navigate("/admin/api-keys")
	g.Run("create a key", chromedp.SendKeys(`#f-name`, "ERP"), chromedp.Click(`#scope-admin`), chromedp.Click(`[data-testid=key-create]`))
	g.WaitVisible(`[data-testid=key-created]`)
	if g.Count(`button[data-copy=key-value]`) != 1 || g.Count(`button[data-copy=key-value][hidden]`) != 0 {
		t.Error("the new key's copy button is missing or stays hidden with the script on")
	}
	g.Navigate("/admin/api-keys")
	g.WaitVisible(`[data-testid=key-table]`)
	var keys string
	g.Run("measure the keys", chromedp.Evaluate(`(() => {
		const w = document.documentElement.clientWidth;
		const off = [...document.querySelectorAll('[data-testid=key-table] td, [data-testid=key-table] button')]
			.filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > w + 0.5; }).map(e => e.textContent.trim());
		return JSON.stringify(off);
	})()`, &keys))
	if keys != "[]" {
		t.Errorf("API key cells off screen at a phone's width: %s", keys)
	}
}
