package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// TestAuth: every route but the document needs a live store token; any
// other Authorization is a 401 with a Bearer challenge, on every route.
func TestAuth(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.createCustomer(t, map[string]any{"name": "Ana"})
		revoked, shop := e.newShop(t, "Loja Fechada")
		testdb.Must(t, e.st.RevokeShop(ctx, shop.ID), "revoke")
		unknown, _ := store.NewShopToken()

		routes := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/customers", map[string]any{"name": "Bia"}},
			{"GET", "/api/v1/customers?q=ana", nil},
			{"GET", "/api/v1/customers/" + c.ID, nil},
			{"POST", pointsPath(c.ID), map[string]any{"points": 5}},
			{"POST", redemptionsPath(c.ID), map[string]any{"points": 5}},
		}
		cases := []struct {
			name, authorization, code string
		}{
			{"no header", "", "missing_token"},
			{"revoked token", "Bearer " + revoked, "invalid_token"},
			{"unknown token", "Bearer " + unknown, "invalid_token"},
			{"Basic scheme", "Basic " + e.token, "invalid_token"},
			{"token without scheme", e.token, "invalid_token"},
			{"empty bearer", "Bearer ", "invalid_token"},
			{"another prefix", "Bearer pk_" + strings.TrimPrefix(e.token, "lyt_"), "invalid_token"},
			{"truncated", "Bearer " + e.token[:12], "invalid_token"},
			{"bad characters", "Bearer " + e.token[:20] + "$%" + e.token[22:], "invalid_token"},
			{"too long", "Bearer " + e.token + strings.Repeat("a", 100), "invalid_token"},
		}
		for _, tc := range cases {
			for _, r := range routes {
				x := e.expect(t, http.StatusUnauthorized, tc.code, false, r.method, r.path, r.body,
					"Authorization", tc.authorization, "Idempotency-Key", key("auth", 0))
				want := `Bearer realm="loyalty"`
				if tc.code == "invalid_token" {
					want += `, error="invalid_token"`
				}
				if got := x.ResHeader.Get("WWW-Authenticate"); got != want {
					t.Errorf("%s, %s %s: WWW-Authenticate %q, want %q", tc.name, r.method, r.path, got, want)
				}
			}
		}
		// Two Authorization headers are refused even if one is good.
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/customers?q=ana", nil)
		req.Header.Add("Authorization", "Bearer "+e.token)
		req.Header.Add("Authorization", "Bearer "+unknown)
		res, err := e.client.Do(req)
		testdb.Must(t, err, "two headers")
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("two Authorization headers: %d", res.StatusCode)
		}
		// The scheme is case-insensitive; the live token works everywhere.
		e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers?q=ana", nil, "Authorization", "bearer "+e.token)
		// Nothing the refused requests sent was applied.
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != 0 || sum != 0 {
			t.Errorf("refused requests moved points: balance %d, ledger %d", bal, sum)
		}
		if got, _ := e.st.SearchCustomers(ctx, "Bia", 10); len(got) != 0 {
			t.Errorf("a refused request created a customer: %v", got)
		}
		// The document needs no token.
		e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/openapi.json", nil, "Authorization", "")
	})
}

// TestCustomers: creating (with CPF/CNPJ check digits, e-mail and phone
// normalised), the conflicts, the body rules, and the search.
func TestCustomers(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		const path = "/api/v1/customers"
		carla := e.createCustomer(t, map[string]any{"name": "  Carla Cliente ", "email": " Carla@Example.COM ",
			"phone": "+55 (11) 98765-4321", "document": "529.982.247-25"})
		if carla.Object != "customer" || carla.Name != "Carla Cliente" || *carla.Email != "carla@example.com" ||
			*carla.Phone != "5511987654321" || *carla.Document != "52998224725" || !strings.HasPrefix(carla.Code, "PT-") {
			t.Fatalf("created %+v", carla)
		}
		company := e.createCustomer(t, map[string]any{"name": "Padaria Pão Quente Ltda", "document": "11.222.333/0001-81", "email": nil})
		if *company.Document != "11222333000181" || company.Email != nil || company.Phone != nil {
			t.Errorf("a CNPJ customer: %+v", company)
		}
		walkIn := e.createCustomer(t, map[string]any{"name": "Cliente Balcão"})
		if walkIn.Email != nil || walkIn.Document != nil {
			t.Errorf("name only: %+v", walkIn)
		}

		// Conflicts.
		e.expect(t, http.StatusConflict, "customer_exists", true, "POST", path, map[string]any{"name": "Outra", "email": "CARLA@example.com"})
		e.expect(t, http.StatusConflict, "customer_exists", true, "POST", path, map[string]any{"name": "Outra", "document": "52998224725"})

		// Validation: every failing field at once, in the request's language.
		x := e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", path,
			map[string]any{"name": " ", "email": "not-an-email", "phone": "12", "document": "529.982.247-26"})
		var verr struct {
			Error struct {
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		x.decode(t, &verr)
		for _, f := range []string{"name", "email", "phone", "document"} {
			if verr.Error.Fields[f] == "" {
				t.Errorf("no reason for %s: %s", f, x)
			}
		}
		if !contains(x.errorMessage(), "dígitos verificadores") {
			t.Errorf("pt-BR message: %s", x)
		}
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", path, map[string]any{"name": strings.Repeat("a", 201)})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", path, map[string]any{"name": "a\u0000b"})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", path, map[string]any{"name": "Ana", "document": "111.111.111-11"})
		x = e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", path, map[string]any{"email": "a@b.test"}, "Accept-Language", "es-AR,es;q=0.9")
		if !contains(x.errorMessage(), "obligatorio") {
			t.Errorf("es message: %s", x)
		}
		x = e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", path, map[string]any{"email": "a@b.test"}, "Accept-Language", "en-GB")
		if !contains(x.errorMessage(), "required") {
			t.Errorf("en message: %s", x)
		}

		// Body rules.
		e.expect(t, http.StatusBadRequest, "unknown_field", false, "POST", path, map[string]any{"name": "Ana", "nome": "Ana"})
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", path, `{"name":`)
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", path, `{"name":"Ana"} {"name":"Bia"}`)
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", path, `[{"name":"Ana"}]`)
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", path, `null`)
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", path, ``)
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", path, map[string]any{"name": 42})
		e.expect(t, http.StatusUnsupportedMediaType, "unsupported_media_type", false, "POST", path, "name=Ana", "Content-Type", "application/x-www-form-urlencoded")
		e.expect(t, http.StatusUnsupportedMediaType, "unsupported_media_type", false, "POST", path, `{"name":"Ana"}`, "Content-Type", "")
		e.expect(t, http.StatusCreated, "", true, "POST", path, `{"name":"Ana Charset"}`, "Content-Type", "application/json; charset=utf-8")
		e.expect(t, http.StatusRequestEntityTooLarge, "body_too_large", false, "POST", path, `{"name":"`+strings.Repeat("a", 17<<10)+`"}`)

		// Search: by name, e-mail, CPF (any punctuation), phone and code.
		for _, q := range []string{"carla", "CARLA@EXAMPLE", "529.982.247-25", "52998224725", "11987654321", carla.Code, strings.ToLower(carla.Code)} {
			x := e.expect(t, http.StatusOK, "", true, "GET", path+"?q="+url.QueryEscape(q), nil)
			var list struct {
				Object string
				Data   []customerOut
			}
			x.decode(t, &list)
			if list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != carla.ID || list.Data[0].Code != carla.Code {
				t.Errorf("search %q: %s", q, x)
			}
		}
		x = e.expect(t, http.StatusOK, "", true, "GET", path+"?q=ninguem", nil)
		if strings.TrimSpace(string(x.ResBody)) != `{"object":"list","data":[]}` {
			t.Errorf("no match: %s", x)
		}
		for range 3 {
			e.createCustomer(t, map[string]any{"name": "Cliente Repetido"})
		}
		x = e.expect(t, http.StatusOK, "", true, "GET", path+"?q=repetido&limit=2", nil)
		if strings.Count(string(x.ResBody), `"object":"customer"`) != 2 {
			t.Errorf("limit 2: %s", x)
		}
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", path, nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", path+"?q=+", nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", path+"?q=ana&limit=0", nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", path+"?q=ana&limit=51", nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", path+"?q=ana&limit=x", nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", path+"?q="+strings.Repeat("a", 201), nil)
	})
}

// TestEarn: points directly or from an amount with the programme's ratio
// (R$ 123,45 at the default 1 point per R$ 10,00 → 12), the minimum
// purchase, expiry, the customer by id or by code, and the errors.
func TestEarn(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.createCustomer(t, map[string]any{"name": "Carla", "document": "52998224725"})

		x := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 12345, "receipt": "NFC-e 123"}, "Idempotency-Key", key("earn", 1))
		var r resultOut
		x.decode(t, &r)
		m := r.Movement
		if m.Points != 12 || r.Balance != 12 || m.Kind != "earn" || m.AmountCents == nil || *m.AmountCents != 12345 ||
			*m.Receipt != "NFC-e 123" || m.Reason != nil || *m.Store != "Loja Centro" || m.Actor != "api:Loja Centro" ||
			m.ExpiresAt != nil || m.CustomerID != c.ID {
			t.Fatalf("earn from R$ 123,45: %s", x)
		}
		x = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 50, "reason": "Aniversário"})
		x.decode(t, &r)
		if r.Movement.Points != 50 || r.Balance != 62 || r.Movement.AmountCents != nil || *r.Movement.Reason != "Aniversário" {
			t.Fatalf("earn 50: %s", x)
		}
		// By loyalty code, as typed from under the QR code.
		x = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(strings.ToLower(c.Code)), map[string]any{"points": 1})
		x.decode(t, &r)
		if r.Balance != 63 || r.Movement.CustomerID != c.ID {
			t.Fatalf("earn by code: %s", x)
		}

		// The programme's rules: rounding, minimum purchase, expiry.
		testdb.Must(t, e.st.SaveSettings(ctx, points.Settings{CentsPerPoint: 1000, Rounding: points.RoundNearest,
			MinPurchaseCents: 2000, ExpiryDays: 10}, "gestor"), "settings")
		x = e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 12500})
		x.decode(t, &r)
		if r.Movement.Points != 13 || r.Movement.ExpiresAt == nil {
			t.Fatalf("R$ 125,00 rounding to nearest, with expiry: %s", x)
		}
		exp, err := time.Parse(time.RFC3339, *r.Movement.ExpiresAt)
		testdb.Must(t, err, "expires_at")
		if d := exp.Sub(e.clk.now().AddDate(0, 0, 10)); d < -time.Minute || d > time.Minute {
			t.Errorf("expires at %v, want 10 days from now", exp)
		}
		x = e.expect(t, http.StatusUnprocessableEntity, "below_minimum_purchase", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 1999})
		if !contains(x.errorMessage(), "R$ 20,00") {
			t.Errorf("the minimum is not in the message: %s", x)
		}
		testdb.Must(t, e.st.SaveSettings(ctx, points.Settings{CentsPerPoint: 1000, Rounding: points.RoundDown}, "gestor"), "settings")
		x = e.expect(t, http.StatusUnprocessableEntity, "no_points_earned", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 999}, "Accept-Language", "en")
		if !contains(x.errorMessage(), "earns no points") {
			t.Errorf("en message: %s", x)
		}

		// Errors.
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"points": 5, "amount_cents": 500})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"reason": "nada"})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"points": 0})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"points": points.MaxPoints + 1})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"amount_cents": -1})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", pointsPath(c.ID), map[string]any{"points": 1, "receipt": strings.Repeat("9", 201)})
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", pointsPath(c.ID), map[string]any{"points": 1.5})
		e.expect(t, http.StatusBadRequest, "invalid_json", false, "POST", pointsPath(c.ID), map[string]any{"points": "10"})
		e.expect(t, http.StatusBadRequest, "unknown_field", false, "POST", pointsPath(c.ID), map[string]any{"pontos": 10})
		e.expect(t, http.StatusNotFound, "customer_not_found", true, "POST", pointsPath("0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d"), map[string]any{"points": 1})
		e.expect(t, http.StatusNotFound, "customer_not_found", true, "POST", pointsPath("PT-00000000"), map[string]any{"points": 1})
		for _, bad := range []string{"1", "nao-existe", "0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4", "0197a3c2_5e1f_7b4a_9c2d_8e6f1a2b3c4d", "PT-0000000U", "'%20OR%201=1"} {
			e.expect(t, http.StatusNotFound, "customer_not_found", true, "POST", pointsPath(bad), map[string]any{"points": 1})
		}
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != 76 || sum != 76 {
			t.Errorf("balance %d, ledger %d; want 76", bal, sum)
		}
	})
}

// TestRedeem: a redemption deducts only what the balance covers, and says
// "saldo insuficiente" (in the request's language) otherwise.
func TestRedeem(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		c := e.createCustomer(t, map[string]any{"name": "Carla"})
		e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": 100})
		x := e.expect(t, http.StatusCreated, "", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 30, "reason": "Troca por café", "receipt": "42"},
			"Idempotency-Key", key("redeem", 1))
		var r resultOut
		x.decode(t, &r)
		if r.Balance != 70 || r.Movement.Points != -30 || r.Movement.Kind != "redeem" || *r.Movement.Reason != "Troca por café" ||
			*r.Movement.Receipt != "42" || r.Movement.Actor != "api:Loja Centro" {
			t.Fatalf("redeem: %s", x)
		}
		for lang, want := range map[string]string{"": "Saldo insuficiente", "pt-BR": "Saldo insuficiente", "es-ES": "Saldo insuficiente", "en-US,en;q=0.8": "Insufficient balance", "fr": "Saldo insuficiente"} {
			x = e.expect(t, http.StatusUnprocessableEntity, "insufficient_balance", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 71}, "Accept-Language", lang)
			if !strings.Contains(x.errorMessage(), want) {
				t.Errorf("Accept-Language %q: %s", lang, x)
			}
		}
		e.expect(t, http.StatusCreated, "", true, "POST", redemptionsPath(c.Code), map[string]any{"points": 70})
		e.expect(t, http.StatusUnprocessableEntity, "insufficient_balance", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 1})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", redemptionsPath(c.ID), map[string]any{"reason": "x"})
		e.expect(t, http.StatusUnprocessableEntity, "validation_failed", false, "POST", redemptionsPath(c.ID), map[string]any{"points": -5})
		e.expect(t, http.StatusBadRequest, "unknown_field", false, "POST", redemptionsPath(c.ID), map[string]any{"points": 5, "amount_cents": 500})
		e.expect(t, http.StatusNotFound, "customer_not_found", true, "POST", redemptionsPath("0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d"), map[string]any{"points": 1})
		e.expect(t, http.StatusNotFound, "customer_not_found", true, "POST", redemptionsPath("x"), map[string]any{"points": 1})
		if bal, sum := e.balanceAndLedger(t, c.ID); bal != 0 || sum != 0 {
			t.Errorf("balance %d, ledger %d", bal, sum)
		}
	})
}

// TestShowCustomer: balance, the points expiring within 30 days, and the
// history in pages, newest first, with the cursor.
func TestShowCustomer(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := e.createCustomer(t, map[string]any{"name": "Carla", "email": "carla@x.test"})
		soon := e.clk.now().Add(5 * 24 * time.Hour)
		later := e.clk.now().Add(60 * 24 * time.Hour)
		_, err := e.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 30, ExpiresAt: &soon, Actor: "test"})
		testdb.Must(t, err, "earn soon")
		_, err = e.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 40, ExpiresAt: &later, Actor: "test"})
		testdb.Must(t, err, "earn later")
		for i := range 23 {
			e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"points": i + 1})
		}
		// 25 movements, balance 30 + 40 + 276 = 346; 30 expire within 30 days.
		x := e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers/"+c.ID, nil)
		var a accountOut
		x.decode(t, &a)
		if a.Customer.ID != c.ID || a.Balance != 346 || a.Expiring.Points != 30 || a.Expiring.FirstAt == nil ||
			len(a.History.Data) != 20 || !a.History.HasMore || a.History.NextBefore == nil || a.History.Data[0].Points != 23 {
			t.Fatalf("account: %s", x)
		}
		// Pages of 10 cover the 25 movements once, newest first.
		seen := map[string]bool{}
		var pages []int
		cursor := ""
		for {
			path := "/api/v1/customers/" + c.Code + "?limit=10"
			if cursor != "" {
				path += "&before=" + cursor
			}
			x := e.expect(t, http.StatusOK, "", true, "GET", path, nil)
			var p accountOut
			x.decode(t, &p)
			pages = append(pages, len(p.History.Data))
			for _, m := range p.History.Data {
				if seen[m.ID] {
					t.Fatalf("movement %s on two pages", m.ID)
				}
				seen[m.ID] = true
			}
			if !p.History.HasMore {
				if p.History.NextBefore != nil {
					t.Errorf("a last page with a cursor: %s", x)
				}
				break
			}
			cursor = *p.History.NextBefore
		}
		if len(seen) != 25 || len(pages) != 3 || pages[2] != 5 {
			t.Errorf("pages %v, %d movements", pages, len(seen))
		}
		// A full last page at the maximum limit says there is no more.
		x = e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers/"+c.ID+"?limit=25", nil)
		x.decode(t, &a)
		if len(a.History.Data) != 25 || a.History.HasMore {
			t.Errorf("limit 25 of 25: %d, has_more %v", len(a.History.Data), a.History.HasMore)
		}
		x = e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers/"+c.ID+"?limit=100", nil)
		x.decode(t, &a)
		if len(a.History.Data) != 25 || a.History.HasMore {
			t.Errorf("limit 100: %d, has_more %v", len(a.History.Data), a.History.HasMore)
		}
		// A customer with nothing.
		empty := e.createCustomer(t, map[string]any{"name": "Nova"})
		x = e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers/"+empty.ID, nil)
		x.decode(t, &a)
		if a.Balance != 0 || a.Expiring.Points != 0 || a.Expiring.FirstAt != nil || len(a.History.Data) != 0 || a.History.HasMore {
			t.Errorf("empty account: %s", x)
		}

		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", "/api/v1/customers/"+c.ID+"?before=abc", nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", "/api/v1/customers/"+c.ID+"?limit=0", nil)
		e.expect(t, http.StatusBadRequest, "invalid_parameter", false, "GET", "/api/v1/customers/"+c.ID+"?limit=101", nil)
		e.expect(t, http.StatusNotFound, "customer_not_found", true, "GET", "/api/v1/customers/0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d", nil)
		e.expect(t, http.StatusNotFound, "customer_not_found", true, "GET", "/api/v1/customers/PT-ZZZZZZZZ", nil)
		e.expect(t, http.StatusNotFound, "customer_not_found", false, "GET", "/api/v1/customers/"+strings.Repeat("a", 300), nil)
	})
}

// TestRoutes: an unknown route is a JSON 404, another method a JSON 405
// with Allow.
func TestRoutes(t *testing.T) {
	e := start(t, "sqlite")
	x := e.expect(t, http.StatusNotFound, "not_found", false, "GET", "/api/v1/nada", nil)
	if x.ResHeader.Get("Content-Type") != "application/json" {
		t.Errorf("404: %v", x.ResHeader)
	}
	e.expect(t, http.StatusNotFound, "not_found", false, "GET", "/api/v2/customers", nil)
	for path, allow := range map[string]string{
		"/api/v1/customers": "GET, HEAD, POST",
		"/api/v1/customers/0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d":             "GET, HEAD",
		"/api/v1/customers/0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d/points":      "POST",
		"/api/v1/customers/0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d/redemptions": "POST",
		"/api/v1/openapi.json": "GET, HEAD",
	} {
		x := e.expect(t, http.StatusMethodNotAllowed, "method_not_allowed", false, "DELETE", path, nil)
		if x.ResHeader.Get("Allow") != allow {
			t.Errorf("DELETE %s: Allow %q", path, x.ResHeader.Get("Allow"))
		}
	}
	e.expect(t, http.StatusMethodNotAllowed, "method_not_allowed", false, "GET", "/api/v1/customers/0197a3c2-5e1f-7b4a-9c2d-8e6f1a2b3c4d/points", nil)
}
