package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
	loyalty "github.com/portico-dev/portico/plugins/loyalty/app"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// loyaltyApp is the loyalty app (plugins/loyalty) running in this process
// on 127.0.0.1 with its own database, registered in the demo tenant as
// `portico serve` does with the demo (demo.EnsureLoyaltyApp: the "pontos"
// placeholder becomes a token iframe plugin for clientes, shown in the
// manager panel, its credentials handed over in a 0600 file).
type loyaltyApp struct {
	URL string
	App *loyalty.App
}

func startLoyaltyApp(t *testing.T, p *servertest.Portal, driver string) *loyaltyApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen for the loyalty app")
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	credFile := filepath.Join(t.TempDir(), demo.LoyaltyAppCredentialsFile)
	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, p.Store, p.URL, base+"/launch", credFile), "register the loyalty app")
	a, err := loyalty.New(ctx, loyalty.Config{Addr: ln.Addr().String(), DatabaseURL: testdb.URL(t, driver), PortalOrigin: p.URL,
		CredentialsFile: credFile, Demo: true, TimeZone: loyalty.DefaultTimeZone, Logger: testdb.Logger(t)})
	testdb.Must(t, err, "start the loyalty app")
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("loyalty app: %v", err)
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		a.RunJobs(ctx)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
		<-done
		testdb.Must(t, a.Close(sctx), "close the loyalty app")
	})
	return &loyaltyApp{URL: base, App: a}
}

// frameNumber polls a number out of the plugin frame (e.g. the balance's
// data-points) until it differs from not, and returns it (-1 on timeout).
func frameNumber(tab *testbrowser.Tab, expr string, not int64) int64 {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := frameEval(tab, expr); err == nil && got != "" {
			if n, err := strconv.ParseInt(got, 10, 64); err == nil && n != not {
				return n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1
}

// frameDo runs a script in the plugin frame (setting a field, clicking a
// button), retrying while the frame navigates.
func frameDo(t *testing.T, tab *testbrowser.Tab, what, script string) {
	t.Helper()
	if got := frameWait(tab, `(() => { `+script+`; return 'ok' })()`); got != "ok" {
		t.Fatalf("%s: the frame did not run it", what)
	}
}

// TestLoyaltyBrowser is the loyalty programme end to end in headless
// Chromium, against a real Portico and the loyalty app with real
// databases: the gestor opens "Pontos" from the manager panel (the staff
// view), finds the demo cliente by CPF, gives points from a purchase of
// R$ 123,45 (the default 1 ponto a cada R$ 10,00, rounding down: 12), and
// the cliente's "Pontos" then shows the new balance. axe-core checks the
// staff and customer pages (WCAG 2.0/2.1 A and AA), the customer page at a
// phone's width too.
//
// It runs on PostgreSQL, the production database, only: the walk took
// 45-65 s per database under -race on the suite's critical path, and what
// differs between the databases is covered by the store tests, Portico's
// (internal/storage) and the app's (plugins/loyalty/store, api, imports),
// each on both.
func TestLoyaltyBrowser(t *testing.T) {
	t.Parallel() // browser tests run side by side: see TestBrowser
	for _, driver := range []string{"postgres"} {
		t.Run(driver, func(t *testing.T) {
			p := servertest.Start(t, driver)
			ly := startLoyaltyApp(t, p, driver)
			ctx := context.Background()
			pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, demo.LoyaltyAppSlug)
			testdb.Must(t, err, "pontos plugin")
			if !pl.Active || !pl.ShowInManager || pl.AuthType != model.AuthToken || pl.URL != ly.URL+"/launch" {
				t.Fatalf("pontos is not registered as the loyalty app: %+v", pl)
			}
			carla, err := ly.App.Store.CustomerBy(ctx, "email", "cliente@demo.portico.test")
			testdb.Must(t, err, "the demo seed's cliente")
			before, err := ly.App.Store.Balance(ctx, carla.ID)
			testdb.Must(t, err, "balance")
			if before == 0 {
				t.Fatal("the demo seed gave the cliente no points")
			}

			br := testbrowser.Start(t, p.URL, 120*time.Second)

			// The gestor: the manager panel lists Pontos; opened from there,
			// the frame shows the staff search.
			staff := br.NewTab(t)
			staff.Login("gestor@demo.portico.test", demo.Password, panelSel)
			if slugs := staff.Slugs(panelSel); !slices.Contains(slugs, demo.LoyaltyAppSlug) {
				t.Fatalf("manager panel %q lacks %s", slugs, demo.LoyaltyAppSlug)
			}
			staff.Click(panelSel + ` a.menu-item[data-slug=` + demo.LoyaltyAppSlug + `]`)
			staff.WaitVisible(`iframe[data-testid=plugin-frame]`)
			if got := frameWait(staff, `document.querySelector('#q') ? document.querySelector('h1').textContent : ''`); got != "Atendimento" {
				t.Fatalf("the gestor's frame shows %q, want the staff search", got)
			}
			// Buttons the scanner script has not shown stay hidden (the
			// stylesheet's display once overrode the hidden attribute).
			if got := frameWait(staff, `[...document.querySelectorAll('#scan-start, #scan-stop')].filter(b => b.offsetParent !== null).length + ' visible'`); got != "0 visible" {
				t.Errorf("scanner buttons shown before the script chose one: %s", got)
			}
			frameDo(t, staff, "search by CPF", `document.querySelector('#q').value = '529.982.247-25'; document.querySelector('#search').click()`)
			name := frameWait(staff, `(() => { const a = document.querySelector('#results a'); return a ? a.querySelector('.name').textContent : '' })()`)
			if name != "Carla Cliente" {
				t.Fatalf("search by CPF found %q", name)
			}
			frameDo(t, staff, "open the customer", `document.querySelector('#results a').click()`)
			if got := frameNumber(staff, `(document.querySelector('#earn-form') && document.querySelector('#balance')) ? document.querySelector('#balance').dataset.points : ''`, -1); got != before {
				t.Fatalf("the staff page shows a balance of %d, the database %d", got, before)
			}
			frameDo(t, staff, "give points from a purchase", `document.querySelector('#mode-purchase').checked = true;
				document.querySelector('#amount').value = '123,45'; document.querySelector('#receipt').value = 'NF 4242';
				document.querySelector('#earn-submit').click()`)
			flash := frameWait(staff, `(document.querySelector('#flash') || {}).textContent || ''`)
			if want := "Compra de R$ 123,45: 12 pontos creditados. Novo saldo: " + strconv.FormatInt(before+12, 10) + " pontos."; flash != want {
				t.Fatalf("after giving points: %q, want %q", flash, want)
			}
			if got := frameNumber(staff, `(document.querySelector('#balance') || {dataset: {}}).dataset.points || ''`, -1); got != before+12 {
				t.Errorf("staff balance %d, want %d", got, before+12)
			}
			who := frameWait(staff, `(document.querySelector('#history tbody tr td:last-child') || {}).textContent || ''`)
			if !strings.Contains(who, "Gabriela Gestora") {
				t.Errorf("who did it: %q", who)
			}
			staffURL := frameWait(staff, `location.href`)

			// The cliente: Pontos shows the new balance and the purchase.
			cli := br.NewTab(t)
			cli.Login("cliente@demo.portico.test", demo.Password, menuSel)
			if slugs := cli.Slugs(menuSel); !slices.Contains(slugs, demo.LoyaltyAppSlug) {
				t.Fatalf("cliente menu %q lacks %s", slugs, demo.LoyaltyAppSlug)
			}
			cli.Navigate("/p/" + demo.LoyaltyAppSlug)
			cli.WaitVisible(`iframe[data-testid=plugin-frame]`)
			if got := frameNumber(cli, `(document.querySelector('#card-code') && document.querySelector('#balance')) ? document.querySelector('#balance').dataset.points : ''`, -1); got != before+12 {
				t.Fatalf("the cliente's Pontos shows %d, want %d", got, before+12)
			}
			hist := frameWait(cli, `(document.querySelector('#history') || {}).textContent || ''`)
			for _, want := range []string{"Compra de R$ 123,45", "Cupom NF 4242", "+12"} {
				if !strings.Contains(hist, want) {
					t.Errorf("the cliente's history lacks %q: %s", want, hist)
				}
			}
			if code := frameWait(cli, `(document.querySelector('#card-code') || {}).textContent || ''`); code != carla.Code {
				t.Errorf("card code %q, want %q", code, carla.Code)
			}
			if qr := frameWait(cli, `document.querySelector('svg.qr[role=img]') ? 'qr' : ''`); qr != "qr" {
				t.Error("no QR code on the cliente's page")
			}
			linked, err := ly.App.Store.Customer(ctx, carla.ID)
			testdb.Must(t, err, "customer")
			if linked.Subject == nil {
				t.Error("the cliente's launch did not link the portal subject to the seeded customer")
			}
			customerURL := frameWait(cli, `location.href`)

			// Accessibility of the app's pages, opened on their own (the
			// session id is in the URL).
			axe := func(name, url, ready string, width int64) {
				tab := br.NewTab(t)
				if width < 500 {
					tab.Run("phone viewport", chromedp.EmulateViewport(width, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
				}
				tab.Run("open "+name, chromedp.Navigate(url))
				tab.WaitVisible(ready)
				for _, v := range tab.Axe() {
					t.Errorf("%s at %d px: %s", name, width, v)
				}
				if width < 500 {
					var fit string
					tab.Run("layout", chromedp.Evaluate(`JSON.stringify({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})`, &fit))
					var got struct{ Scroll, Client int }
					testdb.Must(t, json.Unmarshal([]byte(fit), &got), "layout %s", fit)
					if got.Scroll > got.Client {
						t.Errorf("%s at %d px: content %d px wider than the page %d px", name, width, got.Scroll, got.Client)
					}
				}
			}
			axe("staff customer page", staffURL, "#earn-form", 1280)
			staffBase, _, _ := strings.Cut(staffURL, "/clientes/")
			axe("staff search page", staffBase+"/?q=carla", "#results", 1280)
			axe("staff rules page", staffBase+"/regras", "#settings-form", 1280)
			axe("staff stores page", staffBase+"/lojas", "#shop-form", 1280)
			axe("staff imports page", staffBase+"/importacoes", "#import-form", 1280)
			axe("customer page", customerURL, "#card-code", 1280)
			axe("customer page", customerURL, "#card-code", 390)

			if bal, _ := ly.App.Store.Balance(ctx, carla.ID); bal != before+12 {
				t.Errorf("database balance %d, want %d", bal, before+12)
			}
			if sum, _ := ly.App.Store.LedgerSum(ctx, carla.ID); sum != before+12 {
				t.Errorf("ledger %d, want %d", sum, before+12)
			}
			entries, err := ly.App.Store.History(ctx, carla.ID, "", 1)
			testdb.Must(t, err, "history")
			if len(entries) != 1 || entries[0].Kind != store.KindEarn || entries[0].AmountCents != 12345 || entries[0].Points != 12 || entries[0].Receipt != "NF 4242" {
				t.Errorf("last movement %+v", entries)
			}
		})
	}
}
