package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
	"github.com/portico-dev/portico/plugins/loyalty/web"
)

// TestLaunchFindsTheCustomer: a launch finds the customer by the portal
// subject, else by e-mail or CPF (a customer the API or a CSV created,
// whose record then gets the subject), else creates one; a record that
// belongs to another portal user is never taken over; a gestor gets the
// staff pages and no customer record.
func TestLaunchFindsTheCustomer(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		byAPI := &store.Customer{Name: "Carla (PDV)", Email: "carla@x.test", Document: "52998224725"}
		testdb.Must(t, h.st.CreateCustomer(ctx, byAPI), "create by the API")
		_, err := h.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: byAPI.ID, Points: 40, Store: "Loja Centro", Actor: "pdv"})
		testdb.Must(t, err, "earn")

		// By e-mail (any case): linked, with the portal's name.
		base := h.launch(cliente("sub-carla", "Carla Cliente", "Carla@X.test", "529.982.247-25"))
		page := h.get(base + "/")
		mustContain(t, "customer page", page, 200, "Meus pontos", "40 pontos", byAPI.Code, `<svg`, "Loja Centro")
		c, err := h.st.CustomerBy(ctx, "subject", "sub-carla")
		testdb.Must(t, err, "linked customer")
		if c.ID != byAPI.ID || c.Name != "Carla Cliente" {
			t.Errorf("linked %+v, want the API's customer renamed", c)
		}
		// Again: found by subject, nothing new.
		if base2 := h.launch(cliente("sub-carla", "Carla Cliente", "carla@x.test", "")); base2 == base {
			t.Error("a second launch reused the session")
		}
		if n, _ := h.st.CountCustomers(ctx); n != 1 {
			t.Errorf("%d customers after two launches of one person", n)
		}

		// By CPF only (no e-mail granted).
		byDoc := &store.Customer{Name: "Daniel", Document: "11144477735"}
		testdb.Must(t, h.st.CreateCustomer(ctx, byDoc), "create by document")
		u := cliente("sub-daniel", "Daniel Dias", "", "111.444.777-35")
		u.Email = nil
		h.launch(u)
		if c, err := h.st.CustomerBy(ctx, "subject", "sub-daniel"); err != nil || c.ID != byDoc.ID {
			t.Errorf("by document: %+v %v", c, err)
		}

		// Nobody: a new customer with the portal's data.
		h.launch(cliente("sub-new", "Nina Nova", "nina@x.test", "39053344705"))
		nc, err := h.st.CustomerBy(ctx, "subject", "sub-new")
		if err != nil || nc.Email != "nina@x.test" || nc.Document != "39053344705" || !strings.HasPrefix(nc.Code, "PT-") {
			t.Errorf("new customer %+v %v", nc, err)
		}

		// Someone else's record (same e-mail, another subject): refused.
		r := h.launchRaw(cliente("sub-intruder", "Intruso", "carla@x.test", ""))
		mustContain(t, "another user's record", r, http.StatusConflict, `data-code="conflict"`)

		// A gestor: the staff search, no customer.
		staff := h.launch(gestor())
		mustContain(t, "staff home", h.get(staff+"/"), 200, "Atendimento", `id="q"`, `aria-current="page"`)
		if _, err := h.st.CustomerBy(ctx, "subject", "sub-gestor"); err == nil {
			t.Error("a gestor's launch created a customer")
		}

		// Refused tokens.
		mustContain(t, "no token", h.post("/launch", url.Values{}), http.StatusBadRequest, `data-code="token_missing"`)
		mustContain(t, "garbage", h.post("/launch", url.Values{"portico_token": {"abc"}}), http.StatusUnauthorized, `data-code="token_invalid"`)
		tok := h.portal.token(t, gestor())
		h.post("/launch", url.Values{"portico_token": {tok}})
		mustContain(t, "replay", h.post("/launch", url.Values{"portico_token": {tok}}), http.StatusUnauthorized, `data-code="token_used"`)
		mustContain(t, "unknown session", h.get("/s/nope/"), http.StatusUnauthorized, `data-code="session_ended"`)
	})
}

// TestCustomerPage: the balance, points about to expire, the history with
// reason and store, an empty state, paging, the QR; and a customer's
// session opens no staff page.
func TestCustomerPage(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		base := h.launch(cliente("sub-e", "Eva Empty", "eva@x.test", ""))
		page := h.get(base + "/")
		mustContain(t, "empty", page, 200, "0 pontos", `id="history-empty"`, "Nenhuma movimentação ainda", "Nenhum ponto vence")
		if strings.Contains(page.Body, `id="history"`) {
			t.Error("an empty history shows a table")
		}
		c, err := h.st.CustomerBy(ctx, "subject", "sub-e")
		testdb.Must(t, err, "customer")
		soon := time.Now().Add(10 * 24 * time.Hour)
		_, err = h.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 30, AmountCents: 30000, Receipt: "NF 9", Store: "Loja Sul", ExpiresAt: &soon})
		testdb.Must(t, err, "earn")
		_, err = h.st.Spend(ctx, store.KindAdjust, store.Movement{CustomerID: c.ID, Points: 5, Reason: "correção de cupom", Actor: "Gabriela"})
		testdb.Must(t, err, "adjust")
		page = h.get(base + "/")
		mustContain(t, "with movements", page, 200, "25 pontos", "25 pontos vencem nos próximos 30 dias", "Pontos ganhos", "Ajuste",
			"Compra de R$ 300,00", "Cupom NF 9", "Loja: Loja Sul", "Motivo: correção de cupom", "+30", "-5", `aria-label="Código QR do cartão fidelidade `+c.Code+`"`)
		if idOf(page.Body, "card-code") != c.Code {
			t.Errorf("card code %q, want %q", idOf(page.Body, "card-code"), c.Code)
		}
		if strings.Contains(page.Body, "Gabriela") {
			t.Error("the customer's page shows who did a movement (staff only)")
		}
		// Paging: 25 more movements, 20 a page.
		for i := range 25 {
			_, err := h.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: int64(i + 1)})
			testdb.Must(t, err, "earn %d", i)
		}
		page = h.get(base + "/")
		older := regexp.MustCompile(`href="([^"]+\?antes=[^"]+)" id="history-older"`).FindStringSubmatch(page.Body)
		if older == nil || strings.Count(page.Body, "<tr data-kind") != 20 {
			t.Fatalf("first page: %d rows, older link %v", strings.Count(page.Body, "<tr data-kind"), older)
		}
		page2 := h.get(older[1])
		if n := strings.Count(page2.Body, "<tr data-kind"); n != 7 || strings.Contains(page2.Body, `id="history-older"`) || !strings.Contains(page2.Body, "Voltar às mais recentes") {
			t.Errorf("second page: %d rows", n)
		}

		// The customer's session is not staff.
		for _, p := range []string{"/clientes/" + c.ID, "/regras", "/lojas", "/importacoes", "/escanear"} {
			mustContain(t, "staff page "+p, h.get(base+p), http.StatusForbidden, `data-code="forbidden"`)
		}
		mustContain(t, "staff post", h.post(base+"/clientes/"+c.ID+"/pontos", url.Values{"mode": {"points"}, "points": {"1000"}}), http.StatusForbidden)
		if bal, _ := h.st.Balance(ctx, c.ID); bal != 25+325 {
			t.Errorf("balance %d after a refused post", bal)
		}
	})
}

// TestStaffGivesAndRedeems: the gestor finds a customer by CPF, by code
// (straight to the customer), gives points from a purchase typed in reais
// (R$ 123,45 at the default 1 ponto a cada R$ 10,00, rounding down: 12),
// directly, redeems, is refused "saldo insuficiente", and sees who did
// what.
func TestStaffGivesAndRedeems(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		c := &store.Customer{Name: "Carla Cliente", Email: "cliente@demo.portico.test", Document: "52998224725", Phone: "5511987654321"}
		testdb.Must(t, h.st.CreateCustomer(ctx, c), "customer")
		base := h.launch(gestor())

		r := h.get(base + "/?q=" + url.QueryEscape("529.982.247-25"))
		mustContain(t, "search by CPF", r, 200, "Clientes encontrados", "Carla Cliente", "529.982.247-25", c.Code)
		mustContain(t, "search by phone", h.get(base+"/?q=11987654321"), 200, "Carla Cliente")
		mustContain(t, "search by name", h.get(base+"/?q=carla"), 200, "Carla Cliente")
		mustContain(t, "search by e-mail", h.get(base+"/?q=cliente%40demo"), 200, "Carla Cliente")
		mustContain(t, "nothing", h.get(base+"/?q=zzz"), 200, "Nenhum cliente encontrado para “zzz”")
		mustContain(t, "scanner page", h.get(base+"/escanear"), 200, "Ler o cartão fidelidade", `id="scanner"`, `id="scan-video"`, `id="q"`)
		r = h.get(base + "/?q=" + url.QueryEscape(strings.ToLower(c.Code)))
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != base+"/clientes/"+c.ID {
			t.Fatalf("search by code: %d %q, want a redirect to the customer", r.Status, r.Header.Get("Location"))
		}
		detail := base + "/clientes/" + c.ID
		mustContain(t, "detail", h.get(detail), 200, "Carla Cliente", "0 pontos", "Dar pontos", "1 ponto a cada R$ 10,00, arredondando para baixo", "Nenhuma movimentação ainda.")

		r = h.post(detail+"/pontos", url.Values{"mode": {"purchase"}, "amount": {"123,45"}, "receipt": {"NF 123"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != detail {
			t.Fatalf("earn from a purchase: %d %.400s", r.Status, text(r.Body))
		}
		page := h.get(detail)
		mustContain(t, "after the purchase", page, 200, "Compra de R$ 123,45: 12 pontos creditados. Novo saldo: 12 pontos.",
			`data-points="12"`, "Cupom NF 123", "Gabriela Gestora <gestor@demo.portico.test>")
		// The notice is shown once.
		if strings.Contains(h.get(detail).Body, `id="flash"`) {
			t.Error("the notice showed twice")
		}
		r = h.post(detail+"/pontos", url.Values{"mode": {"points"}, "points": {"100"}, "reason": {"Bônus de aniversário"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("earn points: %d %.400s", r.Status, text(r.Body))
		}
		for _, tc := range []struct {
			name, path string
			form       url.Values
			want       string
		}{
			{"amount missing", "/pontos", url.Values{"mode": {"purchase"}}, "Informe o valor da compra."},
			{"amount with a decimal dot", "/pontos", url.Values{"mode": {"purchase"}, "amount": {"123.45"}}, "Valor inválido"},
			{"amount with three decimals", "/pontos", url.Values{"mode": {"purchase"}, "amount": {"12,345"}}, "Valor inválido"},
			{"earns nothing", "/pontos", url.Values{"mode": {"purchase"}, "amount": {"9,99"}}, "Esta compra não gera pontos"},
			{"points zero", "/pontos", url.Values{"mode": {"points"}, "points": {"0"}}, "Informe um número inteiro de pontos"},
			{"unknown store", "/pontos", url.Values{"mode": {"points"}, "points": {"1"}, "shop": {"nope"}}, "Escolha uma loja da lista."},
			{"control characters", "/pontos", url.Values{"mode": {"points"}, "points": {"1"}, "reason": {"a\u202eb"}}, "caracteres não permitidos"},
			{"overdraw", "/resgates", url.Values{"kind": {"redeem"}, "points": {"500"}}, "Saldo insuficiente: o cliente tem 112 pontos."},
			{"adjust without reason", "/resgates", url.Values{"kind": {"adjust"}, "points": {"5"}}, "Informe o motivo do ajuste."},
		} {
			r := h.post(detail+tc.path, tc.form)
			mustContain(t, tc.name, r, http.StatusUnprocessableEntity, tc.want, `role="alert"`)
		}
		// A double click posts the form twice with its one token: the
		// second finds the movement done.
		redeem := url.Values{"kind": {"redeem"}, "points": {"50"}, "reason": {"Troca por brinde"}, "once": {freshOnce()}}
		if r = h.post(detail+"/resgates", redeem); r.Status != http.StatusSeeOther {
			t.Fatalf("redeem: %d %.400s", r.Status, text(r.Body))
		}
		page = h.get(detail)
		mustContain(t, "after the redemption", page, 200, "50 pontos descontados. Novo saldo: 62 pontos.", "Resgate", "Motivo: Troca por brinde", "-50")
		if r = h.post(detail+"/resgates", redeem); r.Status != http.StatusSeeOther {
			t.Fatalf("redeem again: %d %.400s", r.Status, text(r.Body))
		}
		mustContain(t, "the second post of a form", h.get(detail), 200, "Esta operação já foi registrada")
		// A second post of a redemption the balance no longer covers is
		// still the movement done, not a shortage.
		all := url.Values{"kind": {"redeem"}, "points": {"62"}, "once": {freshOnce()}}
		for range 2 {
			if r = h.post(detail+"/resgates", all); r.Status != http.StatusSeeOther {
				t.Fatalf("redeem the whole balance: %d %.400s", r.Status, text(r.Body))
			}
		}
		mustContain(t, "the second post of the whole balance", h.get(detail), 200, "Esta operação já foi registrada")
		h.post(detail+"/pontos", url.Values{"mode": {"points"}, "points": {"62"}}) // back to 62 for what follows
		earn := url.Values{"mode": {"purchase"}, "amount": {"123,45"}, "once": {freshOnce()}}
		for range 2 {
			h.post(detail+"/pontos", earn)
		}
		redeem.Set("once", freshOnce())
		redeem.Set("points", "12")
		h.post(detail+"/resgates", redeem) // the purchase's 12 points back, to keep the sums below
		for _, once := range []string{"", "x", strings.Repeat("G", 32)} {
			r := h.post(detail+"/pontos", url.Values{"mode": {"points"}, "points": {"1"}, "once": {once}})
			mustContain(t, "one-time token "+strconv.Quote(once), r, http.StatusUnprocessableEntity, "Não foi possível confirmar este formulário", `name="once" value="`)
		}
		if bal, _ := h.st.Balance(ctx, c.ID); bal != 62 {
			t.Errorf("balance %d, want 62", bal)
		}
		if sum, _ := h.st.LedgerSum(ctx, c.ID); sum != 62 {
			t.Errorf("ledger %d, want 62", sum)
		}
		// Who did what: a cash register through the API, an import.
		_, err := h.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 7, Store: "Loja Sul", Actor: "api:Loja Sul"})
		testdb.Must(t, err, "earn by the API")
		_, err = h.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 3, Actor: "import:gestor@x.test"})
		testdb.Must(t, err, "earn by an import")
		mustContain(t, "actors", h.get(detail), 200, "Caixa (API): Loja Sul", "Importação de arquivo por gestor@x.test")
		mustContain(t, "unknown customer", h.get(base+"/clientes/nope"), http.StatusNotFound, `data-code="not_found"`)
	})
}

// TestFormsRefuseCrossSite: the session id in the path is the CSRF
// defence, and a post from another site is refused besides.
func TestFormsRefuseCrossSite(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	ctx := context.Background()
	c := &store.Customer{Name: "Carla", Email: "c@x.test"}
	testdb.Must(t, h.st.CreateCustomer(ctx, c), "customer")
	base := h.launch(gestor())
	form := url.Values{"mode": {"points"}, "points": {"10"}}
	for _, hd := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "null", "Sec-Fetch-Site", ""},
		{"Origin", "http://127.0.0.1:1", "Sec-Fetch-Site", ""},
	} {
		r := h.post(base+"/clientes/"+c.ID+"/pontos", form, hd...)
		mustContain(t, strings.Join(hd, ": "), r, http.StatusForbidden, `data-code="bad_origin"`)
	}
	// Our own page under an opaque origin, vouched for by Sec-Fetch-Site.
	if r := h.post(base+"/clientes/"+c.ID+"/pontos", form, "Origin", "null"); r.Status != http.StatusSeeOther {
		t.Errorf("Origin null with Sec-Fetch-Site same-origin: %d", r.Status)
	}
	// No Origin nor Sec-Fetch-Site (an old browser): the session id suffices.
	r := h.post(base+"/clientes/"+c.ID+"/pontos", form, "Origin", "", "Sec-Fetch-Site", "")
	if r.Status != http.StatusSeeOther {
		t.Errorf("a same-site post without the headers: %d", r.Status)
	}
	if bal, _ := h.st.Balance(ctx, c.ID); bal != 20 {
		t.Errorf("balance %d, want only the two accepted posts' 20", bal)
	}
	// A form that is too big.
	big := url.Values{"mode": {"points"}, "points": {"1"}, "reason": {strings.Repeat("x", 70<<10)}}
	if r := h.post(base+"/clientes/"+c.ID+"/pontos", big); r.Status == http.StatusSeeOther {
		t.Error("a 70 KiB form was accepted")
	}
}

// TestSettingsAndShops: the programme's rules (ratio as "1 ponto a cada
// R$ X", rounding, minimum, expiry) with clear errors, and the stores'
// tokens (shown once, then revoked).
func TestSettingsAndShops(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		base := h.launch(gestor())
		mustContain(t, "settings", h.get(base+"/regras"), 200, "Regra atual: 1 ponto a cada R$ 10,00, arredondando para baixo.",
			`value="10,00"`, `id="rounding-down" checked`, "Por padrão a fração é descartada")
		r := h.post(base+"/regras", url.Values{"ratio": {"0"}, "rounding": {"sideways"}, "min": {"abc"}, "expiry": {"-1"}})
		mustContain(t, "bad settings", r, http.StatusUnprocessableEntity, "Confira o formulário", "Informe um valor entre R$ 0,01",
			"Escolha uma das regras de arredondamento.", "Informe um valor entre R$ 0,00", "Informe um número inteiro de dias", `aria-invalid="true"`)
		r = h.post(base+"/regras", url.Values{"ratio": {"5,00"}, "rounding": {"up"}, "min": {"20,00"}, "expiry": {"30"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("save settings: %d %.500s", r.Status, text(r.Body))
		}
		mustContain(t, "saved", h.get(base+"/regras"), 200, "Regras salvas.", "1 ponto a cada R$ 5,00, arredondando para cima")
		got, err := h.st.Settings(ctx)
		testdb.Must(t, err, "settings")
		if want := (points.Settings{CentsPerPoint: 500, Rounding: points.RoundUp, MinPurchaseCents: 2000, ExpiryDays: 30}); got != want {
			t.Fatalf("settings %+v, want %+v", got, want)
		}
		// The new rules apply: R$ 21,01 → 5 points rounding up, valid 30 days.
		c := &store.Customer{Name: "Carla", Email: "c@x.test"}
		testdb.Must(t, h.st.CreateCustomer(ctx, c), "customer")
		detail := base + "/clientes/" + c.ID
		mustContain(t, "below the minimum", h.post(detail+"/pontos", url.Values{"mode": {"purchase"}, "amount": {"19,99"}}),
			http.StatusUnprocessableEntity, "menor que o mínimo do programa (R$ 20,00)")
		if r := h.post(detail+"/pontos", url.Values{"mode": {"purchase"}, "amount": {"21,01"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("earn: %d %.300s", r.Status, text(r.Body))
		}
		n, first, err := h.st.Expiring(ctx, c.ID, time.Now().Add(31*24*time.Hour))
		testdb.Must(t, err, "expiring")
		if n != 5 || first.Before(time.Now().Add(29*24*time.Hour)) {
			t.Errorf("expiring %d at %v, want 5 in 30 days", n, first)
		}
		mustContain(t, "expiry shown", h.get(detail), 200, "5 pontos vencem nos próximos 30 dias", "Vencem em")

		// Stores.
		mustContain(t, "no stores", h.get(base+"/lojas"), 200, "Nenhuma loja cadastrada.")
		mustContain(t, "no name", h.post(base+"/lojas", url.Values{"name": {" "}}), http.StatusUnprocessableEntity, "Informe o nome da loja")
		r = h.post(base+"/lojas", url.Values{"name": {"Loja Norte"}})
		mustContain(t, "created", r, http.StatusCreated, "Copie agora", "Loja Norte", "Ativa")
		token := regexp.MustCompile(`id="shop-token" readonly value="(lyt_[^"]+)"`).FindStringSubmatch(r.Body)
		if token == nil {
			t.Fatalf("no token shown: %.600s", r.Body)
		}
		shop, err := h.st.ShopByToken(ctx, store.HashShopToken(token[1]))
		testdb.Must(t, err, "the shown token works")
		if strings.Contains(h.get(base+"/lojas").Body, token[1]) {
			t.Error("the token was shown twice")
		}
		// The store appears in the staff's forms and on the movement.
		mustContain(t, "store choice", h.get(detail), 200, `<option value="`+shop.ID+`">Loja Norte</option>`)
		if r := h.post(detail+"/pontos", url.Values{"mode": {"points"}, "points": {"3"}, "shop": {shop.ID}}); r.Status != http.StatusSeeOther {
			t.Fatalf("earn at a store: %d", r.Status)
		}
		mustContain(t, "store on the movement", h.get(detail), 200, "Loja: Loja Norte")
		r = h.post(base+"/lojas/"+shop.ID+"/revogar", url.Values{})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.Status)
		}
		mustContain(t, "revoked", h.get(base+"/lojas"), 200, "Token da loja “Loja Norte” revogado.", "Revogada em")
		if _, err := h.st.ShopByToken(ctx, store.HashShopToken(token[1])); err == nil {
			t.Error("a revoked token still works")
		}
		if strings.Contains(h.get(detail).Body, `<option value="`+shop.ID+`"`) {
			t.Error("a revoked store is still offered")
		}
	})
}

// TestPagesHeadersAndLanguages: the strict CSP (framing by the portal
// only, the app's own stylesheet and script), no-referrer, no-store; the
// assets are served and cacheable; pages follow the user's locale.
func TestPagesHeadersAndLanguages(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	u := cliente("sub-es", "Elena", "elena@x.test", "")
	u.Locale = "es"
	page := h.get(h.launch(u) + "/")
	mustContain(t, "es", page, 200, `lang="es"`, "Mis puntos", "Todavía no hay movimientos", "0 puntos")
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors " + h.portal.srv.URL, "default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || page.Header.Get("Referrer-Policy") != "same-origin" || page.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", page.Header)
	}
	if strings.Contains(page.Body, "<script>") || strings.Contains(page.Body, "style=") || strings.Contains(page.Body, " on") && regexp.MustCompile(` on[a-z]+=`).MatchString(page.Body) {
		t.Error("a page has inline script or style")
	}
	for _, re := range []string{`href="(/static/[0-9a-f]+/app\.css)"`, `src="(/static/[0-9a-f]+/app\.js)"`} {
		m := regexp.MustCompile(re).FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("no %s in the page", re)
		}
		a := h.get(m[1])
		if a.Status != 200 || !strings.Contains(a.Header.Get("Cache-Control"), "immutable") || len(a.Body) < 100 {
			t.Errorf("asset %s: %d %v", m[1], a.Status, a.Header)
		}
	}
	en := gestor()
	en.Locale = "en"
	staff := h.launch(en)
	mustContain(t, "en staff", h.get(staff+"/"), 200, `lang="en"`, "Find a customer", "Customers", "Rules", "Stores and POS", "Import CSV")
	mustContain(t, "en settings", h.get(staff+"/regras"), 200, "Current rule: 1 point for every R$ 10,00, rounding down.")

	// Before a launch, the browser's language.
	req, _ := http.NewRequest("GET", h.srv.URL+"/s/x/", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	mustContain(t, "ended in en", h.do(req), http.StatusUnauthorized, "Your session ended")
}

// TestMessagesComplete: every message exists in the three languages with
// the same number of arguments.
func TestMessagesComplete(t *testing.T) {
	for _, key := range web.MessageKeys() {
		var counts []int
		for _, lang := range []string{"pt-BR", "es", "en"} {
			m, ok := web.Message(lang, key)
			if !ok {
				t.Errorf("%s has no %q", lang, key)
				continue
			}
			counts = append(counts, strings.Count(m, "%s"))
		}
		if len(counts) == 3 && (counts[0] != counts[1] || counts[1] != counts[2]) {
			t.Errorf("%q takes %v arguments in pt-BR, es, en", key, counts)
		}
	}
	if len(web.MessageKeys()) < 100 {
		t.Errorf("only %d messages", len(web.MessageKeys()))
	}
}
