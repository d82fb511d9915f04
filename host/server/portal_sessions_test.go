package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// newKey creates an API key of tenantID with scopes and returns it in clear.
func newKey(t testing.TB, p *servertest.Portal, tenantID string, scopes ...model.Scope) string {
	t.Helper()
	key := "pk_" + auth.NewToken()
	sc := model.StringList{}
	for _, s := range scopes {
		sc = append(sc, string(s))
	}
	k := &model.APIKey{Name: "site " + strings.Join(sc, ","), Prefix: key[:9], Hash: auth.HashToken(key), Scopes: sc}
	testdb.Must(t, p.Store.CreateAPIKey(context.Background(), tenantID, k, model.SystemActor("test")), "create key")
	return key
}

// portalSession is the API's answer.
type portalSession struct {
	ID        string    `json:"id"`
	Object    string    `json:"object"`
	AuthURL   *string   `json:"auth_url"`
	ExpiresAt time.Time `json:"expires_at"`
	ReturnURL *string   `json:"return_url"`
	Forward   *string   `json:"forward"`
	Locale    *string   `json:"locale"`
	Status    string    `json:"status"`
	Customer  struct {
		ID      string `json:"id"`
		Created bool   `json:"created"`
	} `json:"customer"`
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

func basic(key string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))}
}

// pathOf returns the path and query of an absolute URL.
func pathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u.RequestURI()
}

// TestPortalSessionsAPI is the API's scenario table on both databases:
// keys and scopes, Bearer and Basic, every body rule, forward values,
// create_customer, a single-use auth_url that lands on the forward page in
// the requested language, the status through the session's life, the
// API's logout, expiry, and the audit trail.
func TestPortalSessionsAPI(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			p := servertest.Start(t, driver)
			ctx := context.Background()
			key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
			adminOnly := newKey(t, p, p.Demo.ID, model.ScopeAdmin)
			otherTenant := newKey(t, p, p.Other.ID, model.ScopePortalSessions)
			api := p.NewClient(t, "")
			const path = "/api/v1/portal/sessions"
			// A gestor who is also a síndico: a portal session must never
			// hand a key holder a manager's login.
			testdb.Must(t, p.Store.CreateUser(ctx, p.Demo.ID, &model.User{Email: "sindica-gestora@demo.portico.test", Name: "Sí Gestora",
				Roles: model.Roles{model.RoleSindico, model.RoleGestor}, Active: true}), "create a gestor-síndica")
			body := map[string]any{"customer_email": "cliente@demo.portico.test"}

			for _, tc := range []struct {
				name   string
				header []string
				status int
				code   string
			}{
				{"no key", nil, http.StatusUnauthorized, "invalid_api_key"},
				{"unknown key", bearer("pk_nao-existe"), http.StatusUnauthorized, "invalid_api_key"},
				{"another tenant's key", bearer(otherTenant), http.StatusUnauthorized, "invalid_api_key"},
				{"admin scope only", bearer(adminOnly), http.StatusForbidden, "missing_scope"},
				{"bearer", bearer(key), http.StatusCreated, ""},
				{"basic", basic(key), http.StatusCreated, ""},
			} {
				r := api.Do("POST", path, body, tc.header...)
				if r.Status != tc.status || r.ErrorCode() != tc.code {
					t.Errorf("%s: %d %s, want %d %q: %s", tc.name, r.Status, r.ErrorCode(), tc.status, tc.code, r.Body)
				}
				if tc.status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: a 401 without WWW-Authenticate", tc.name)
				}
			}

			for _, tc := range []struct {
				name   string
				body   map[string]any
				status int
				code   string
				field  string
			}{
				{"no e-mail", map[string]any{}, 422, "validation_failed", "customer_email"},
				{"bad e-mail", map[string]any{"customer_email": "não é e-mail"}, 422, "validation_failed", "customer_email"},
				{"unknown customer", map[string]any{"customer_email": "novo@demo.portico.test"}, 404, "customer_not_found", ""},
				{"a gestor only", map[string]any{"customer_email": "gestor@demo.portico.test"}, 422, "customer_not_allowed", ""},
				{"a gestor who is also a síndico", map[string]any{"customer_email": "sindica-gestora@demo.portico.test"}, 422, "customer_not_allowed", ""},
				{"unknown forward", map[string]any{"customer_email": "cliente@demo.portico.test", "forward": "customer_payment_methods"}, 422, "validation_failed", "forward"},
				{"a plugin the customer cannot see", map[string]any{"customer_email": "cliente@demo.portico.test", "forward": "plugin:assembleias"}, 422, "validation_failed", "forward"},
				{"a plugin that does not exist", map[string]any{"customer_email": "cliente@demo.portico.test", "forward": "plugin:nao-existe"}, 422, "validation_failed", "forward"},
				{"unsupported locale", map[string]any{"customer_email": "cliente@demo.portico.test", "locale": "fr"}, 422, "validation_failed", "locale"},
				{"return_url on another site", map[string]any{"customer_email": "cliente@demo.portico.test", "return_url": "https://evil.example/"}, 422, "validation_failed", "return_url"},
				{"return_url look-alike", map[string]any{"customer_email": "cliente@demo.portico.test", "return_url": "http://localhost:30000/"}, 422, "validation_failed", "return_url"},
				{"return_url with userinfo", map[string]any{"customer_email": "cliente@demo.portico.test", "return_url": "http://localhost:3000@evil.example/"}, 422, "validation_failed", "return_url"},
				{"return_url javascript", map[string]any{"customer_email": "cliente@demo.portico.test", "return_url": "javascript:alert(1)"}, 422, "validation_failed", "return_url"},
				{"create_customer with a bad CPF", map[string]any{"customer_email": "novo@demo.portico.test", "create_customer": map[string]any{"name": "Nova", "document": "123"}}, 422, "validation_failed", "create_customer.document"},
				{"create_customer without a name", map[string]any{"customer_email": "novo@demo.portico.test", "create_customer": map[string]any{}}, 422, "validation_failed", "create_customer.name"},
				// Carla's CPF: a second user holding it would see her contracts.
				{"create_customer with a CPF another user holds", map[string]any{"customer_email": "novo@demo.portico.test", "create_customer": map[string]any{"name": "Nova", "document": "529.982.247-25"}}, 422, "validation_failed", "create_customer.document"},
				{"unknown field", map[string]any{"customer_email": "cliente@demo.portico.test", "foward": "customer_profile"}, 400, "", ""},
			} {
				r := api.Do("POST", path, tc.body, bearer(key)...)
				var e struct {
					Error struct {
						Code    string            `json:"code"`
						Message string            `json:"message"`
						Fields  map[string]string `json:"fields"`
					} `json:"error"`
				}
				r.JSON(t, &e)
				if r.Status != tc.status || (tc.code != "" && e.Error.Code != tc.code) || e.Error.Message == "" {
					t.Errorf("%s: %d %s, want %d %s: %s", tc.name, r.Status, e.Error.Code, tc.status, tc.code, r.Body)
				}
				if tc.field != "" && e.Error.Fields[tc.field] == "" {
					t.Errorf("%s: no message for field %s: %s", tc.name, tc.field, r.Body)
				}
			}

			// create_customer makes a cliente who can then be sent in.
			r := api.Do("POST", path, map[string]any{"customer_email": "Nova.Cliente@demo.portico.test",
				"create_customer": map[string]any{"name": "Nova Cliente", "document": "123.456.789-09"}}, bearer(key)...)
			var created portalSession
			r.JSON(t, &created)
			if r.Status != http.StatusCreated || !created.Customer.Created {
				t.Fatalf("create_customer: %d %s", r.Status, r.Body)
			}
			nu, err := p.Store.UserByEmail(ctx, p.Demo.ID, "nova.cliente@demo.portico.test")
			if err != nil || !nu.HasRole(model.RoleCliente) || nu.Document != "12345678909" || nu.ID != created.Customer.ID {
				t.Fatalf("the created customer: %+v %v", nu, err)
			}

			// Each forward lands on its page, in the session's language.
			for _, tc := range []struct {
				forward, landing, marker string
			}{
				{"", "/", `data-testid="menu"`},
				{"customer_profile", "/account/profile", `data-testid="profile-form"`},
				{"customer_update_address", "/account/address", `data-testid="address-form"`},
				{"plugin:documentos", "/p/documentos", `data-testid="plugin-frame"`},
			} {
				r := api.Do("POST", path, map[string]any{"customer_email": "cliente@demo.portico.test", "forward": tc.forward,
					"locale": "es", "return_url": "http://localhost:3000/minha-conta"}, bearer(key)...)
				var ps portalSession
				r.JSON(t, &ps)
				if r.Status != http.StatusCreated || ps.Object != "portal_session" || ps.AuthURL == nil || ps.Status != "created" ||
					!strings.HasPrefix(ps.ID, "ps_") || ps.ReturnURL == nil || *ps.ReturnURL != "http://localhost:3000/minha-conta" {
					t.Fatalf("forward %q: %d %s", tc.forward, r.Status, r.Body)
				}
				if d := time.Until(ps.ExpiresAt); d < 29*time.Minute || d > 31*time.Minute {
					t.Errorf("auth_url valid for %v, want the default 30 minutes", d)
				}
				browser := p.NewClient(t, "")
				open := browser.Do("GET", pathOf(t, *ps.AuthURL), nil, "Accept-Language", "en")
				if open.Status != http.StatusSeeOther || open.Header.Get("Location") != tc.landing {
					t.Fatalf("forward %q: open: %d → %q, want %s", tc.forward, open.Status, open.Header.Get("Location"), tc.landing)
				}
				page := browser.Follow(open)
				if page.Status != http.StatusOK || !strings.Contains(string(page.Body), tc.marker) || !strings.Contains(string(page.Body), `<html lang="es">`) {
					t.Fatalf("forward %q: landing page %d, want %s in Spanish: %.400s", tc.forward, page.Status, tc.marker, page.Body)
				}
				if !strings.Contains(string(page.Body), "Volver al sitio") {
					t.Errorf("forward %q: the page offers no way back to the site", tc.forward)
				}
			}

			// One session through its whole life.
			r = api.Do("POST", path, map[string]any{"customer_email": "cliente@demo.portico.test", "return_url": "http://localhost:3000/"}, basic(key)...)
			var ps portalSession
			r.JSON(t, &ps)
			status := func(want string) {
				t.Helper()
				r := api.Do("GET", path+"/"+ps.ID, nil, bearer(key)...)
				var got portalSession
				r.JSON(t, &got)
				if r.Status != http.StatusOK || got.Status != want || got.AuthURL != nil {
					t.Fatalf("status: %d %s, want %s (and no auth_url)", r.Status, r.Body, want)
				}
			}
			status("created")
			if r := p.NewClient(t, servertest.OtherHost).Do("GET", path+"/"+ps.ID, nil, bearer(otherTenant)...); r.Status != http.StatusNotFound {
				t.Errorf("another tenant read the session: %d", r.Status)
			}
			if r := api.Do("GET", path+"/ps_nao-existe", nil, bearer(key)...); r.Status != http.StatusNotFound || r.ErrorCode() != "portal_session_not_found" {
				t.Errorf("unknown id: %d %s", r.Status, r.Body)
			}
			browser := p.NewClient(t, "")
			open := browser.Do("GET", pathOf(t, *ps.AuthURL), nil)
			if open.Status != http.StatusSeeOther {
				t.Fatalf("open: %d %s", open.Status, open.Body)
			}
			status("logged_in")
			again := p.NewClient(t, "").Do("GET", pathOf(t, *ps.AuthURL), nil, "Accept-Language", "pt-BR")
			if again.Status != http.StatusGone || !strings.Contains(string(again.Body), `data-reason="used"`) ||
				!strings.Contains(string(again.Body), `href="http://localhost:3000/"`) {
				t.Fatalf("second open: %d %.500s", again.Status, again.Body)
			}
			if home := browser.Do("GET", "/", nil); home.Status != http.StatusOK {
				t.Fatalf("the login works: %d", home.Status)
			}
			lo := api.Do("POST", path+"/"+ps.ID+"/logout", nil, bearer(key)...)
			var after portalSession
			lo.JSON(t, &after)
			if lo.Status != http.StatusOK || after.Status != "logged_out" {
				t.Fatalf("logout: %d %s", lo.Status, lo.Body)
			}
			if home := browser.Do("GET", "/", nil); home.Status != http.StatusSeeOther || !strings.HasPrefix(home.Header.Get("Location"), "/login") {
				t.Fatalf("the login survived the API's logout: %d %s", home.Status, home.Header.Get("Location"))
			}
			status("logged_out")

			// An auth_url not opened in time is expired, and says so.
			r = api.Do("POST", path, map[string]any{"customer_email": "cliente@demo.portico.test"}, bearer(key)...)
			var late portalSession
			r.JSON(t, &late)
			p.Clock.Advance(31 * time.Minute)
			status2 := api.Do("GET", path+"/"+late.ID, nil, bearer(key)...)
			if !strings.Contains(string(status2.Body), `"status":"expired"`) {
				t.Errorf("late session: %s", status2.Body)
			}
			exp := p.NewClient(t, "").Do("GET", pathOf(t, *late.AuthURL), nil, "Accept-Language", "en")
			if exp.Status != http.StatusGone || !strings.Contains(string(exp.Body), `data-reason="expired"`) || !strings.Contains(string(exp.Body), "This link has expired") {
				t.Fatalf("expired open: %d %.400s", exp.Status, exp.Body)
			}
			if bad := p.NewClient(t, "").Do("GET", "/portal-session/nao-existe", nil); bad.Status != http.StatusNotFound {
				t.Errorf("unknown token: %d", bad.Status)
			}

			// Every creation and open is audited with the key and the address.
			entries, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditPortalSessionOpen, Limit: 50})
			testdb.Must(t, err, "audit")
			if len(entries) != 5 || entries[0].IP == "" || !strings.Contains(entries[0].AfterJSON, "api_key_id") {
				t.Errorf("open audit entries: %d %+v", len(entries), entries)
			}
			entries, err = p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditPortalSessionCreate, Limit: 50})
			testdb.Must(t, err, "audit")
			if len(entries) != 9 || entries[0].ActorType != "api_key" {
				t.Errorf("create audit entries: %d", len(entries))
			}
		})
	}
}

// TestPortalSessionRateLimit: one key's creations are bounded per minute
// (PORTICO_PORTAL_SESSION_RATE); past the burst it gets 429 with
// Retry-After, and another key is not affected.
func TestPortalSessionRateLimit(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.PortalSessionRate = 60 })
	k1, k2 := newKey(t, p, p.Demo.ID, model.ScopePortalSessions), newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	api := p.NewClient(t, "")
	body := map[string]any{"customer_email": "cliente@demo.portico.test"}
	ok := 0
	var limited *servertest.Response
	for range 30 {
		r := api.Do("POST", "/api/v1/portal/sessions", body, bearer(k1)...)
		if r.Status == http.StatusCreated {
			ok++
			continue
		}
		limited = r
		break
	}
	if ok != 10 || limited == nil || limited.Status != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d creations: %+v", ok, limited)
	}
	if r := api.Do("POST", "/api/v1/portal/sessions", body, bearer(k2)...); r.Status != http.StatusCreated {
		t.Fatalf("another key was limited too: %d", r.Status)
	}
}

// TestEmbeddedLoginHeaders: an auth_url opened for a frame starts a login
// that lives only in its path: its pages may be framed by the tenant's
// allowed origins alone (frame-ancestors lists them exactly, and no
// X-Frame-Options contradicts it), every other page stays unframeable, the
// token never works as a cookie, and a cookie never works under /e/.
func TestEmbeddedLoginHeaders(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	api := p.NewClient(t, "")
	r := api.Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "cliente@demo.portico.test", "forward": "plugin:documentos"}, bearer(key)...)
	var ps portalSession
	r.JSON(t, &ps)
	frame := p.NewClient(t, "")
	open := frame.Do("GET", pathOf(t, *ps.AuthURL), nil, "Sec-Fetch-Dest", "iframe")
	loc := open.Header.Get("Location")
	if open.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/e/") || !strings.HasSuffix(loc, "/p/documentos") {
		t.Fatalf("open in a frame: %d → %q", open.Status, loc)
	}
	for _, c := range open.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "portico_session=") && !strings.Contains(c, "Max-Age=0") && !strings.Contains(c, "portico_session=;") {
			t.Errorf("an embedded login set a cookie: %s", c)
		}
	}
	page := frame.Do("GET", loc, nil)
	csp := page.Header.Get("Content-Security-Policy")
	if page.Status != http.StatusOK || !strings.Contains(csp, "frame-ancestors http://localhost:3000;") || page.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("embedded page: %d, CSP %q, XFO %q", page.Status, csp, page.Header.Get("X-Frame-Options"))
	}
	if strings.Contains(csp, "*") {
		t.Errorf("a wildcard in the CSP: %s", csp)
	}
	base := strings.TrimSuffix(loc, "/p/documentos")
	if !strings.Contains(string(page.Body), `href="`+base+`/"`) {
		t.Errorf("the embedded page's links leave the login: %.600s", page.Body)
	}
	// A redirect inside the embedded login keeps its prefix.
	if r := frame.Do("GET", base+"/gestor", nil); r.Status != http.StatusForbidden {
		t.Errorf("a cliente's /gestor inside the frame: %d", r.Status)
	}
	if r := frame.Do("POST", base+"/role", url.Values{"_csrf": {csrfOf(t, page)}, "role": {"cliente"}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != base+"/" {
		t.Errorf("a redirect inside the frame went to %q (%d)", r.Header.Get("Location"), r.Status)
	}
	// Ordinary pages stay unframeable.
	normal := p.NewClient(t, "")
	normal.Login("cliente@demo.portico.test", "portico-demo")
	home := normal.Do("GET", "/", nil)
	if !strings.Contains(home.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || home.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("an ordinary page may be framed: %q %q", home.Header.Get("Content-Security-Policy"), home.Header.Get("X-Frame-Options"))
	}
	// The embedded token is no cookie, and a cookie is no embedded token.
	token := strings.TrimPrefix(base, "/e/")
	stolen := p.NewClient(t, "")
	if r := stolen.Do("GET", "/", nil, "Cookie", "portico_session="+token); r.Status != http.StatusSeeOther {
		t.Errorf("the embedded token worked as a cookie: %d", r.Status)
	}
	// Opened as a page of its own (a link someone was sent), the embedded
	// login is refused: it would put whoever opens it inside its owner's
	// account. A browser logged in as someone else stays who it was.
	victim := p.NewClient(t, "")
	victim.Login("sindico@demo.portico.test", demo.Password)
	top := victim.Do("GET", loc, nil, "Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "cross-site", "Accept-Language", "pt-BR")
	if top.Status != http.StatusForbidden || !strings.Contains(string(top.Body), "não funciona numa aba própria") || strings.Contains(string(top.Body), "Carla") {
		t.Errorf("the embedded login opened as a page of its own: %d %.400s", top.Status, top.Body)
	}
	if r := victim.Do("GET", "/", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Sérgio") {
		t.Errorf("the síndico's own login after the refused link: %d", r.Status)
	}
	ended := normal.Do("GET", "/e/nao-existe/", nil)
	if ended.Status != http.StatusUnauthorized || !strings.Contains(string(ended.Body), `data-reason="embed_ended"`) {
		t.Errorf("a cookie login under an unknown embedded path: %d %.300s", ended.Status, ended.Body)
	}
	// The page that says so is shown in the company's frame; but a made-up
	// token lets no page be framed, and the login forms are not served
	// under the prefix at all (a framed password form is clickjacking).
	if csp := ended.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors http://localhost:3000;") {
		t.Errorf("the embedded login's end cannot be framed: CSP %q", csp)
	}
	for _, path := range []string{"/e/nao-existe/login", "/e/nao-existe/forgot", "/e/nao-existe/reset/x"} {
		r := p.NewClient(t, "").Do("GET", path, nil)
		if r.Status != http.StatusNotFound || strings.Contains(r.Header.Get("Content-Security-Policy"), "localhost:3000") {
			t.Errorf("%s: %d, CSP %q; want 404, not framable", path, r.Status, r.Header.Get("Content-Security-Policy"))
		}
	}
	if r := p.NewClient(t, "").Do("GET", "/e/nao-existe/account/profile", nil); strings.Contains(r.Header.Get("Content-Security-Policy"), "localhost:3000") && r.Status != http.StatusUnauthorized {
		t.Errorf("a made-up embedded path lets a page be framed: %d %q", r.Status, r.Header.Get("Content-Security-Policy"))
	}
}

// TestSignedLinksAPI: Portico signs a link to the company's own page
// (only on an allowed origin) carrying a forward value; the API verifies
// it, and refuses a tampered or expired one; each tenant gets its own
// key for checking links itself (TestPortalSessionDocExamples checks one
// with it, as the documentation shows).
func TestSignedLinksAPI(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	api := p.NewClient(t, "")
	r := api.Do("POST", "/api/v1/portal/links", map[string]any{"page_url": "http://localhost:3000/minha-conta", "forward": "customer_invoices",
		"expires_in_days": 7}, bearer(key)...)
	var link struct {
		URL       string    `json:"url"`
		Forward   string    `json:"forward"`
		ExpiresAt time.Time `json:"expires_at"`
		Valid     *bool     `json:"valid"`
	}
	r.JSON(t, &link)
	if r.Status != http.StatusCreated || !strings.HasPrefix(link.URL, "http://localhost:3000/minha-conta?") || link.Forward != "customer_invoices" {
		t.Fatalf("create link: %d %s", r.Status, r.Body)
	}
	if d := time.Until(link.ExpiresAt); d < 6*24*time.Hour || d > 7*24*time.Hour {
		t.Errorf("expires in %v", d)
	}
	for _, tc := range []struct {
		name string
		url  string
		code string
	}{
		{"as signed", link.URL, ""},
		{"another forward", strings.Replace(link.URL, "customer_invoices", "customer_profile", 1), "link_invalid"},
		{"no signature", regexp.MustCompile(`&?portico_sig=[^&]*`).ReplaceAllString(link.URL, ""), "link_invalid"},
	} {
		r := api.Do("POST", "/api/v1/portal/links/verify", map[string]any{"url": tc.url}, bearer(key)...)
		if tc.code == "" {
			var v struct {
				Valid   bool   `json:"valid"`
				Forward string `json:"forward"`
			}
			r.JSON(t, &v)
			if r.Status != http.StatusOK || !v.Valid || v.Forward != "customer_invoices" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			}
			continue
		}
		if r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != tc.code {
			t.Errorf("%s: %d %s, want %s", tc.name, r.Status, r.Body, tc.code)
		}
	}
	for _, bad := range []map[string]any{
		{"page_url": "https://evil.example/", "forward": "customer_invoices"},
		{"page_url": "http://localhost:3000/", "forward": "https://evil.example"},
		{"page_url": "http://localhost:3000/", "forward": "customer_invoices", "expires_in_days": 0},
		{"forward": "customer_invoices"},
	} {
		if r := api.Do("POST", "/api/v1/portal/links", bad, bearer(key)...); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%v: %d %s", bad, r.Status, r.Body)
		}
	}
	p.Clock.Advance(8 * 24 * time.Hour)
	if r := api.Do("POST", "/api/v1/portal/links/verify", map[string]any{"url": link.URL}, bearer(key)...); r.ErrorCode() != "link_expired" {
		t.Errorf("an expired link: %d %s", r.Status, r.Body)
	}
	// The key another tenant gets does not verify this tenant's links.
	otherKey := newKey(t, p, p.Other.ID, model.ScopePortalSessions)
	var k1, k2 struct {
		Key string `json:"key"`
	}
	api.Do("GET", "/api/v1/portal/link-key", nil, bearer(key)...).JSON(t, &k1)
	p.NewClient(t, servertest.OtherHost).Do("GET", "/api/v1/portal/link-key", nil, bearer(otherKey)...).JSON(t, &k2)
	if len(k1.Key) != 43 || k1.Key == k2.Key {
		t.Errorf("link keys %q and %q", k1.Key, k2.Key)
	}
}

// TestPortalSessionDocExamples runs docs/portal-sessions.md's examples
// against a real server: the curl creation (Bearer and Basic), and the
// Python check of a signed link with the key the API hands out, which must
// accept the link Portico signed and refuse it altered or under another
// portal's key. The documentation cannot drift from the API.
func TestPortalSessionDocExamples(t *testing.T) {
	for _, tool := range []string{"curl", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			testdb.Unavailable(t, tool, err)
		}
	}
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	_, err := p.Store.UpdateTenant(ctx, p.Demo.ID, p.Demo.Version, model.SystemActor("test"), func(tn *model.Tenant) error {
		tn.AllowedOrigins = model.StringList{"https://www.construtora.example", "http://localhost:3000"}
		return tn.Validate(true)
	})
	testdb.Must(t, err, "allow the docs' site")
	p.Server.Env.Registry.Invalidate(p.Demo.ID)
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)

	t.Run("curl", func(t *testing.T) {
		block := docBlockIn(t, "portal-sessions.md", "sh", "# Create (Bearer)")
		create, _, _ := strings.Cut(block, "\n# Status")
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", create)
		cmd.Env = append(os.Environ(), "PORTICO_URL="+p.URL, "PORTICO_KEY="+key)
		out, err := cmd.CombinedOutput()
		testdb.Must(t, err, "run the curl examples: %s", out)
		if n := strings.Count(string(out), `"object":"portal_session"`); n != 2 || !strings.Contains(string(out), `"created":true`) {
			t.Fatalf("the curl examples did not create two portal sessions, one with a new customer:\n%s", out)
		}
	})

	t.Run("python signed link", func(t *testing.T) {
		api := p.NewClient(t, "")
		var link struct {
			URL string `json:"url"`
		}
		api.Do("POST", "/api/v1/portal/links", map[string]any{"page_url": "https://www.construtora.example/minha-conta?aba=boletos",
			"forward": "customer_invoices"}, bearer(key)...).JSON(t, &link)
		var k struct {
			Key string `json:"key"`
		}
		api.Do("GET", "/api/v1/portal/link-key", nil, bearer(key)...).JSON(t, &k)
		otherKey := newKey(t, p, p.Other.ID, model.ScopePortalSessions)
		var ok2 struct {
			Key string `json:"key"`
		}
		p.NewClient(t, servertest.OtherHost).Do("GET", "/api/v1/portal/link-key", nil, bearer(otherKey)...).JSON(t, &ok2)
		script := docBlockIn(t, "portal-sessions.md", "python", "def portico_forward") + `
import sys
print(portico_forward(sys.argv[1], sys.argv[2]))
`
		run := func(url, key string) string {
			out, err := exec.Command("python3", "-c", script, url, key).CombinedOutput()
			testdb.Must(t, err, "run the python check: %s", out)
			return strings.TrimSpace(string(out))
		}
		if got := run(link.URL, k.Key); got != "customer_invoices" {
			t.Errorf("the documented check refused Portico's link: %q", got)
		}
		if got := run(strings.Replace(link.URL, "customer_invoices", "customer_profile", 1), k.Key); got != "None" {
			t.Errorf("the documented check accepted an altered link: %q", got)
		}
		if got := run(link.URL, ok2.Key); got != "None" {
			t.Errorf("the documented check accepted the link under another portal's key: %q", got)
		}
	})
}

// TestPortalSessionOfAnotherAccount opens a customer's auth_url in a
// browser logged in as someone else (what a customer who sends their own
// link to another would have happen: a login CSRF). The browser is asked
// first and the link is not used, even with "?embed=1" added; staying
// keeps the login; confirming (with the login's CSRF token) uses the link
// as a first open would. A browser logged in as the link's own customer,
// or none, is not asked, nor is a frame (its embedded login leaves the
// browser's own alone).
func TestPortalSessionOfAnotherAccount(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	api := p.NewClient(t, "")
	link := func(email string) (string, string) {
		r := api.Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": email, "forward": "customer_profile"}, bearer(key)...)
		var ps portalSession
		r.JSON(t, &ps)
		if r.Status != http.StatusCreated || ps.AuthURL == nil {
			t.Fatalf("portal session for %s: %d %s", email, r.Status, r.Body)
		}
		return ps.ID, pathOf(t, *ps.AuthURL)
	}
	status := func(id string) string {
		var ps struct {
			Status string `json:"status"`
		}
		api.Do("GET", "/api/v1/portal/sessions/"+id, nil, bearer(key)...).JSON(t, &ps)
		return ps.Status
	}
	whoAmI := func(c *servertest.Client) string {
		var me struct {
			Email string `json:"email"`
		}
		c.Do("GET", "/api/v1/me", nil).JSON(t, &me)
		return me.Email
	}

	// Logged in as the síndico, a link of the cliente's: asked, not used.
	browser := p.NewClient(t, "")
	browser.Login("sindico@demo.portico.test", demo.Password)
	id, path := link("cliente@demo.portico.test")
	page := browser.Do("GET", path, nil)
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.Contains(body, `data-testid="portal-switch-page"`) || !strings.Contains(body, "Sérgio Síndico") ||
		!strings.Contains(body, "c••••••@demo.portico.test") || strings.Contains(body, "cliente@demo.portico.test") {
		t.Fatalf("another account's link: %d %.1500s", page.Status, body)
	}
	if got := status(id); got != "created" {
		t.Errorf("the link was used by the question: status %s", got)
	}
	if got := whoAmI(browser); got != "sindico@demo.portico.test" {
		t.Errorf("after the question the browser is %q", got)
	}
	// Nor can the question be skipped by putting the link under an
	// embedded login's path prefix (where the browser's cookie is not
	// read): the link is not served there, and no cookie is set.
	for _, under := range []string{"/e/x", "/e/" + strings.Repeat("a", 43)} {
		r := browser.Do("GET", under+path, nil, "Sec-Fetch-Dest", "document", "Sec-Fetch-Site", "cross-site")
		cookies := strings.Join(r.Header.Values("Set-Cookie"), "\n")
		if r.Status != http.StatusNotFound || strings.Contains(cookies, "portico_session=") {
			t.Errorf("the link under %s: %d, Set-Cookie %q; want 404 and no login cookie", under, r.Status, cookies)
		}
	}
	if got := status(id); got != "created" {
		t.Errorf("the link was used under an embed prefix: status %s", got)
	}
	if got := whoAmI(browser); got != "sindico@demo.portico.test" {
		t.Errorf("after the link under an embed prefix the browser is %q", got)
	}
	// Without the login's CSRF token the answer is refused.
	if r := browser.Do("POST", path, url.Values{}); r.Status != http.StatusForbidden {
		t.Errorf("confirm without a CSRF token: %d", r.Status)
	}
	confirm := browser.Do("POST", path, url.Values{"_csrf": {csrfOf(t, page)}})
	if confirm.Status != http.StatusSeeOther || confirm.Header.Get("Location") != "/account/profile" {
		t.Fatalf("confirm: %d %s", confirm.Status, confirm.Header.Get("Location"))
	}
	if got := whoAmI(browser); got != "cliente@demo.portico.test" {
		t.Errorf("after confirming the browser is %q", got)
	}
	if got := status(id); got != "logged_in" {
		t.Errorf("after confirming: status %s", got)
	}

	// "?embed=1" is the link sender's to add: a top-level tab is still
	// asked; a frame (as the browser says) starts an embedded login that
	// leaves the browser's own alone.
	_, path = link("ambos@demo.portico.test")
	if r := browser.Do("GET", path+"?embed=1", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `data-testid="portal-switch-page"`) {
		t.Errorf("another account's link with ?embed=1 in a tab: %d, want the question", r.Status)
	}
	if r := browser.Do("GET", path, nil, "Sec-Fetch-Dest", "iframe"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/e/") {
		t.Errorf("another account's link in a frame: %d %s, want an embedded login", r.Status, r.Header.Get("Location"))
	}
	if got := whoAmI(browser); got != "cliente@demo.portico.test" {
		t.Errorf("after the framed open the browser is %q", got)
	}

	// The link's own customer, and a browser with no login: no question.
	_, path = link("cliente@demo.portico.test")
	if r := browser.Do("GET", path, nil); r.Status != http.StatusSeeOther {
		t.Errorf("the customer's own link: %d, want a redirect", r.Status)
	}
	_, path = link("sindico@demo.portico.test")
	if r := p.NewClient(t, "").Do("GET", path, nil); r.Status != http.StatusSeeOther {
		t.Errorf("a link in a browser with no login: %d, want a redirect", r.Status)
	}
}

// TestStaffPagesNeedAPasswordLogin: a login a portal session started was
// made for a customer's pages; when that customer is made a gestor, it
// does not open the admin, the manager panel or the admin API (the
// gestor logs in with their password for those), while a password login
// of the same user does.
func TestStaffPagesNeedAPasswordLogin(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	r := p.NewClient(t, "").Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "cliente@demo.portico.test"}, bearer(key)...)
	var ps portalSession
	r.JSON(t, &ps)
	linked := p.NewClient(t, "")
	if r := linked.Do("GET", pathOf(t, *ps.AuthURL), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("open the link: %d", r.Status)
	}
	u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(t, err, "load the customer")
	_, err = p.Store.UpdateUser(ctx, p.Demo.ID, u.ID, u.Version, model.SystemActor("test"), func(u *model.User) error {
		u.Roles = append(u.Roles, model.RoleGestor)
		return nil
	})
	testdb.Must(t, err, "make the customer a gestor")
	for _, path := range []string{"/admin/plugins", "/gestor", "/api/v1/admin/plugins"} {
		r := linked.Do("GET", path, nil, "Accept-Language", "pt-BR")
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "staff_password_login") && !strings.Contains(string(r.Body), "exigem entrar com e-mail e senha") {
			t.Errorf("%s with the portal session's login: %d %.300s", path, r.Status, r.Body)
		}
	}
	// Nor the panel's plugins, which are opened as gestor: to this login
	// they are not there (404), and the panel's menu is not its (403).
	for _, path := range []string{"/p/relatorios", "/api/v1/me/menu?panel=gestor"} {
		if r := linked.Do("GET", path, nil); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
			t.Errorf("%s with the portal session's login: %d %.300s", path, r.Status, r.Body)
		}
	}
	if r := linked.Do("GET", "/", nil); r.Status != http.StatusOK {
		t.Errorf("the customer's own pages with that login: %d", r.Status)
	}
	password := p.NewClient(t, "")
	password.Login("cliente@demo.portico.test", demo.Password)
	for _, path := range []string{"/admin/plugins", "/gestor", "/api/v1/admin/plugins", "/p/relatorios", "/api/v1/me/menu?panel=gestor"} {
		if r := password.Do("GET", path, nil); r.Status != http.StatusOK {
			t.Errorf("%s with a password login: %d", path, r.Status)
		}
	}
}
