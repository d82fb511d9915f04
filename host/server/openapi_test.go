package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/openapicheck"
	"github.com/portico-dev/portico/internal/testdb"
)

// exchange is one real request to the server and its answer.
type exchange = openapicheck.Exchange

// loadOpenAPI fetches the document from the server and validates it as an
// OpenAPI 3.1 document (examples included: each must match its schema).
func loadOpenAPI(t *testing.T, p *servertest.Portal) (*openapicheck.Spec, *exchange) {
	t.Helper()
	ex := p.NewClient(t, "").Exchange("GET", "/api/v1/openapi.json", nil)
	if ex.Status != http.StatusOK || ex.ResHeader.Get("Content-Type") != "application/json" {
		t.Fatalf("the document: %d, Content-Type %q", ex.Status, ex.ResHeader.Get("Content-Type"))
	}
	spec, err := openapicheck.Load(ex.ResBody)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Doc.Servers) != 1 || spec.Doc.Servers[0].URL != "/" {
		t.Errorf("servers = %+v, want the one relative URL /", spec.Doc.Servers)
	}
	return spec, ex
}

// isPublicRoute reports whether a mounted path belongs to the public API:
// package host/api's, and host/launch's exchange and key set (not the
// admin API's).
func isPublicRoute(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") && !strings.HasPrefix(path, "/api/v1/admin") || path == "/.well-known/jwks.json"
}

// TestOpenAPI checks the OpenAPI 3.1 document of the public API against
// a real server: it is served and valid, it describes exactly the routes
// package host/api mounts, and real answers of each kind (successes and
// errors of the portal sessions, the cookie session, the menu and the
// wasm plugins' views) match it in status, declared headers, body and
// error code. It also proves that the check fails on a wrong answer: an
// undocumented field, status or error code, a missing header or field.
func TestOpenAPI(t *testing.T) {
	t.Parallel() // beside the browser tests, after the sequential ones: see TestBrowser
	p := servertest.Start(t, "sqlite")
	// The demo's wasm plugin, for the plugin views (as `serve` installs it);
	// before any request, so no menu was cached without it.
	installHello(t, p)

	spec, docEx := loadOpenAPI(t, p)
	var all []*exchange
	// expect sends a request, checks the status (and the error code, if
	// any) the scenario wants, and validates the exchange.
	expect := func(t *testing.T, c *servertest.Client, status int, code string, validRequest bool, method, path string, body any, header ...string) *exchange {
		t.Helper()
		e := c.Exchange(method, path, body, header...)
		if e.Status != status || e.ErrorCode() != code {
			t.Fatalf("%s: want %d %q", e, status, code)
		}
		if err := spec.Check(e, validRequest); err != nil {
			t.Errorf("%s: %v", e, err)
		}
		all = append(all, e)
		return e
	}

	t.Run("document", func(t *testing.T) {
		if got := docEx.ResHeader.Get("Cache-Control"); got != "public, max-age=300" {
			t.Errorf("Cache-Control = %q", got)
		}
		if err := spec.Check(docEx, true); err != nil {
			t.Errorf("the document's own answer: %v", err)
		}
		if got, want := spec.Operations(), p.Routes(isPublicRoute); !slices.Equal(got, want) {
			t.Errorf("the document describes\n%s\nbut host/api mounts\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, name := range []string{"bearerAuth", "basicAuth", "sessionCookie"} {
			if spec.Doc.Components.SecuritySchemes[name] == nil {
				t.Errorf("no security scheme %s", name)
			}
		}
		if s := spec.Doc.Components.SecuritySchemes["sessionCookie"].Value; s.Type != "apiKey" || s.In != "cookie" || s.Name != "portico_session" {
			t.Errorf("sessionCookie = %+v", s)
		}
	})

	const sessions = "/api/v1/portal/sessions"
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	adminKey := newKey(t, p, p.Demo.ID, model.ScopeAdmin)
	backend := p.NewClient(t, "")
	var created, unknownID, missingKey, invalid *exchange

	t.Run("portal sessions", func(t *testing.T) {
		created = expect(t, backend, http.StatusCreated, "", true, "POST", sessions, map[string]any{
			"customer_email": "cliente@demo.portico.test", "return_url": "http://localhost:3000/minha-conta",
			"forward": "customer_profile", "locale": "es"}, bearer(key)...)
		expect(t, backend, http.StatusCreated, "", true, "POST", sessions, map[string]any{"customer_email": "sindico@demo.portico.test"}, basic(key)...)
		newCustomer := expect(t, backend, http.StatusCreated, "", true, "POST", sessions, map[string]any{
			"customer_email": "nova.cliente@demo.portico.test", "forward": "plugin:documentos",
			"create_customer": map[string]any{"name": "Nova Cliente", "document": "123.456.789-09"}}, bearer(key)...)
		if !strings.Contains(string(newCustomer.ResBody), `"created":true`) {
			t.Errorf("create_customer: %s", newCustomer)
		}

		// Errors: the request is well-formed where the server's own rules
		// refuse it, malformed on purpose elsewhere.
		invalid = expect(t, backend, http.StatusUnprocessableEntity, "validation_failed", true, "POST", sessions, map[string]any{
			"customer_email": "cliente@demo.portico.test", "return_url": "https://evilexample.com/"}, bearer(key)...)
		if !strings.Contains(string(invalid.ResBody), `"return_url"`) {
			t.Errorf("validation_failed without the field: %s", invalid)
		}
		expect(t, backend, http.StatusUnprocessableEntity, "validation_failed", false, "POST", sessions, map[string]any{}, bearer(key)...)
		expect(t, backend, http.StatusUnprocessableEntity, "customer_not_allowed", true, "POST", sessions,
			map[string]any{"customer_email": "gestor@demo.portico.test"}, bearer(key)...)
		expect(t, backend, http.StatusNotFound, "customer_not_found", true, "POST", sessions,
			map[string]any{"customer_email": "ninguem@demo.portico.test"}, bearer(key)...)
		missingKey = expect(t, backend, http.StatusUnauthorized, "invalid_api_key", true, "POST", sessions,
			map[string]any{"customer_email": "cliente@demo.portico.test"})
		expect(t, backend, http.StatusUnauthorized, "invalid_api_key", true, "POST", sessions,
			map[string]any{"customer_email": "cliente@demo.portico.test"}, bearer("pk_revogada")...)
		expect(t, backend, http.StatusForbidden, "missing_scope", true, "POST", sessions,
			map[string]any{"customer_email": "cliente@demo.portico.test"}, bearer(adminKey)...)
		expect(t, backend, http.StatusForbidden, "cross_origin", true, "POST", sessions,
			map[string]any{"customer_email": "cliente@demo.portico.test"}, append(bearer(key), "Origin", "https://www.construtora.example")...)
		expect(t, backend, http.StatusBadRequest, "unknown_field", false, "POST", sessions,
			map[string]any{"customer_email": "cliente@demo.portico.test", "foward": "customer_profile"}, bearer(key)...)
		expect(t, backend, http.StatusBadRequest, "invalid_json", false, "POST", sessions, `{"customer_email":`,
			append(bearer(key), "Content-Type", "application/json")...)
		expect(t, backend, http.StatusUnsupportedMediaType, "unsupported_media_type", false, "POST", sessions,
			"customer_email=cliente@demo.portico.test", append(bearer(key), "Content-Type", "application/x-www-form-urlencoded")...)

		// The status through the session's life.
		var ps portalSession
		testdb.Must(t, json.Unmarshal(created.ResBody, &ps), "decode")
		status := func(want string) {
			t.Helper()
			e := expect(t, backend, http.StatusOK, "", true, "GET", sessions+"/"+ps.ID, nil, bearer(key)...)
			if !strings.Contains(string(e.ResBody), `"status":"`+want+`"`) {
				t.Errorf("status: %s, want %s", e, want)
			}
		}
		status("created")
		if open := p.NewClient(t, "").Do("GET", pathOf(t, *ps.AuthURL), nil); open.Status != http.StatusSeeOther {
			t.Fatalf("open the auth_url: %d", open.Status)
		}
		status("logged_in")
		out := expect(t, backend, http.StatusOK, "", true, "POST", sessions+"/"+ps.ID+"/logout", nil, basic(key)...)
		if !strings.Contains(string(out.ResBody), `"status":"logged_out"`) {
			t.Errorf("logout: %s", out)
		}
		status("logged_out")
		unknownID = expect(t, backend, http.StatusNotFound, "portal_session_not_found", true, "GET", sessions+"/ps_aaaaaaaaaaaaaaaaaaaaaaaaaa", nil, bearer(key)...)
		expect(t, backend, http.StatusNotFound, "portal_session_not_found", false, "POST", sessions+"/nao-existe/logout", nil, bearer(key)...)
		expect(t, backend, http.StatusForbidden, "missing_scope", true, "GET", sessions+"/"+ps.ID, nil, bearer(adminKey)...)
		expect(t, p.NewClient(t, "portal.desconhecido.test"), http.StatusNotFound, "unknown_host", true, "GET", sessions+"/"+ps.ID, nil, bearer(key)...)
	})

	t.Run("signed links", func(t *testing.T) {
		const links = "/api/v1/portal/links"
		signed := expect(t, backend, http.StatusCreated, "", true, "POST", links, map[string]any{
			"page_url": "http://localhost:3000/minha-conta", "forward": "customer_invoices", "expires_in_days": 7}, bearer(key)...)
		var link struct {
			URL string `json:"url"`
		}
		testdb.Must(t, json.Unmarshal(signed.ResBody, &link), "decode")
		expect(t, backend, http.StatusOK, "", true, "POST", links+"/verify", map[string]any{"url": link.URL}, basic(key)...)
		expect(t, backend, http.StatusUnprocessableEntity, "link_invalid", true, "POST", links+"/verify",
			map[string]any{"url": strings.Replace(link.URL, "customer_invoices", "customer_profile", 1)}, bearer(key)...)
		expect(t, backend, http.StatusUnprocessableEntity, "validation_failed", true, "POST", links,
			map[string]any{"page_url": "https://evilexample.com/minha-conta"}, bearer(key)...)
		expect(t, backend, http.StatusOK, "", true, "GET", "/api/v1/portal/link-key", nil, bearer(key)...)
		expect(t, backend, http.StatusForbidden, "missing_scope", true, "GET", "/api/v1/portal/link-key", nil, bearer(adminKey)...)
	})

	t.Run("portal session rate", func(t *testing.T) {
		// A server whose keys may create 6 a minute: a burst of one.
		q := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.PortalSessionRate = 6 })
		k := newKey(t, q, q.Demo.ID, model.ScopePortalSessions)
		c := q.NewClient(t, "")
		body := map[string]any{"customer_email": "cliente@demo.portico.test"}
		if e := c.Exchange("POST", sessions, body, bearer(k)...); e.Status != http.StatusCreated {
			t.Fatalf("first: %s", e)
		}
		e := c.Exchange("POST", sessions, body, bearer(k)...)
		if e.Status != http.StatusTooManyRequests || e.ErrorCode() != "portal_session_rate" || e.ResHeader.Get("Retry-After") == "" {
			t.Fatalf("second: %s %v", e, e.ResHeader)
		}
		if err := spec.Check(e, true); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	})

	cliente := p.NewClient(t, "")
	var me, menu *exchange
	t.Run("session and me", func(t *testing.T) {
		anonymous := p.NewClient(t, "")
		expect(t, anonymous, http.StatusUnauthorized, "unauthenticated", true, "GET", "/api/v1/me", nil)
		expect(t, anonymous, http.StatusUnauthorized, "invalid_credentials", true, "POST", "/api/v1/session",
			map[string]string{"email": "cliente@demo.portico.test", "password": "errada-errada"})
		expect(t, anonymous, http.StatusUnprocessableEntity, "validation_failed", false, "POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test"})
		login := expect(t, cliente, http.StatusOK, "", true, "POST", "/api/v1/session",
			map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password})
		if !slices.ContainsFunc(login.ResHeader.Values("Set-Cookie"), func(v string) bool { return strings.HasPrefix(v, "portico_session=") }) {
			t.Errorf("login set no session cookie: %v", login.ResHeader)
		}
		me = expect(t, cliente, http.StatusOK, "", true, "GET", "/api/v1/me", nil)
		menu = expect(t, cliente, http.StatusOK, "", true, "GET", "/api/v1/me/menu", nil)
		expect(t, cliente, http.StatusOK, "", true, "GET", "/api/v1/me/menu?role=cliente", nil)
		expect(t, cliente, http.StatusForbidden, "role_not_held", true, "GET", "/api/v1/me/menu?panel=gestor", nil)
		expect(t, cliente, http.StatusBadRequest, "invalid_parameter", true, "GET", "/api/v1/me/menu?role=cliente&panel=gestor", nil)

		gestor := p.NewClient(t, "")
		expect(t, gestor, http.StatusOK, "", true, "POST", "/api/v1/session",
			map[string]string{"email": "gestor@demo.portico.test", "password": demo.Password})
		expect(t, gestor, http.StatusOK, "", true, "GET", "/api/v1/me", nil)
		expect(t, gestor, http.StatusOK, "", true, "GET", "/api/v1/me/menu?panel=gestor", nil)
		expect(t, gestor, http.StatusForbidden, "role_not_held", true, "GET", "/api/v1/me/menu", nil)
		expect(t, gestor, http.StatusNoContent, "", true, "DELETE", "/api/v1/session", nil)
		expect(t, gestor, http.StatusUnauthorized, "unauthenticated", true, "GET", "/api/v1/me/menu", nil)
		expect(t, gestor, http.StatusNoContent, "", true, "DELETE", "/api/v1/session", nil)
	})

	t.Run("plugin views", func(t *testing.T) {
		view := expect(t, cliente, http.StatusOK, "", true, "GET", "/api/v1/me/plugins/"+demo.HelloSlug+"/view", nil)
		if !strings.Contains(string(view.ResBody), `"blocks":[`) {
			t.Errorf("no blocks: %s", view)
		}
		expect(t, cliente, http.StatusOK, "", true, "POST", "/api/v1/me/plugins/"+demo.HelloSlug+"/actions/greet",
			map[string]any{"form": map[string][]string{"name": {"Ana"}, "color": {"orange"}}})
		expect(t, cliente, http.StatusBadRequest, "plugin_invalid_input", false, "POST", "/api/v1/me/plugins/"+demo.HelloSlug+"/actions/greet",
			map[string]any{"form": map[string][]string{"_x": {"1"}}})
		expect(t, cliente, http.StatusConflict, "plugin_no_view", true, "GET", "/api/v1/me/plugins/documentos/view", nil)
		expect(t, cliente, http.StatusNotFound, "plugin_not_found", true, "GET", "/api/v1/me/plugins/nao-existe/view", nil)
		expect(t, cliente, http.StatusUnsupportedMediaType, "unsupported_media_type", false, "POST", "/api/v1/me/plugins/"+demo.HelloSlug+"/actions/greet",
			"form=x", "Content-Type", "text/plain")
	})

	t.Run("launch tokens", func(t *testing.T) {
		ctx := context.Background()
		cur, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
		testdb.Must(t, err, "plugin financeiro")
		id, sec := "pc_"+strings.ToLower(auth.NewToken()[:20]), "pcs_"+auth.NewToken()
		_, err = p.Store.UpdatePlugin(ctx, p.Demo.ID, "financeiro", cur.Version, model.SystemActor("test"), "plugin.update",
			func(pl *model.Plugin) error {
				pl.ClientID, pl.ClientSecretHash, pl.UserFields = id, auth.HashToken(sec), model.StringList{"name", "email"}
				return nil
			})
		testdb.Must(t, err, "give financeiro credentials")
		customer := p.NewClient(t, "")
		customer.Login("cliente@demo.portico.test", demo.Password)
		token := launchToken(t, customer, "financeiro")
		client := []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+sec))}
		plugin := p.NewClient(t, "")
		const exch = "/api/v1/launch/exchange"
		user := expect(t, plugin, http.StatusOK, "", true, "POST", exch, map[string]string{"token": token}, client...)
		if !strings.Contains(string(user.ResBody), `"name":"Carla Cliente"`) {
			t.Errorf("the exchanged user: %s", user)
		}
		expect(t, plugin, http.StatusUnauthorized, "token_used", true, "POST", exch, map[string]string{"token": token}, client...)
		expect(t, plugin, http.StatusUnauthorized, "token_invalid", true, "POST", exch, map[string]string{"token": "a.b.c"}, client...)
		wrong := expect(t, plugin, http.StatusUnauthorized, "invalid_client", true, "POST", exch, map[string]string{"token": launchToken(t, customer, "financeiro")},
			"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":pcs_errado")))
		if wrong.ResHeader.Get("WWW-Authenticate") == "" {
			t.Errorf("invalid_client without WWW-Authenticate: %s", wrong)
		}
		expect(t, plugin, http.StatusBadRequest, "validation_failed", false, "POST", exch, map[string]string{}, client...)
		expect(t, plugin, http.StatusBadRequest, "unknown_field", false, "POST", exch, map[string]string{"token": "x", "jti": "y"}, client...)
		expect(t, plugin, http.StatusUnsupportedMediaType, "unsupported_media_type", false, "POST", exch, "token=x",
			append(client, "Content-Type", "application/x-www-form-urlencoded")...)
		keys := expect(t, plugin, http.StatusOK, "", true, "GET", "/.well-known/jwks.json", nil)
		if !strings.Contains(string(keys.ResBody), `"crv":"Ed25519"`) {
			t.Errorf("the key set: %s", keys)
		}
		expect(t, p.NewClient(t, "portal.desconhecido.test"), http.StatusNotFound, "unknown_host", true, "GET", "/.well-known/jwks.json", nil)
	})

	// The check is not a formality: each of these wrong answers fails it.
	t.Run("wrong answers fail", func(t *testing.T) {
		if created == nil || invalid == nil || missingKey == nil || unknownID == nil || me == nil || menu == nil {
			t.Skip("an earlier subtest failed")
		}
		spec.RequireRefused(t, map[string]*exchange{
			"an undocumented field":          created.WithBody(t, func(b map[string]any) { b["token"] = "segredo" }),
			"an undocumented nested field":   menu.WithBody(t, func(b map[string]any) { b["entries"].([]any)[0].(map[string]any)["url"] = "https://x.example" }),
			"a status outside the enum":      created.WithBody(t, func(b map[string]any) { b["status"] = "opened" }),
			"a missing field":                me.WithBody(t, func(b map[string]any) { delete(b, "tenant") }),
			"a wrong type":                   created.WithBody(t, func(b map[string]any) { b["customer"].(map[string]any)["created"] = "no" }),
			"a malformed id":                 created.WithBody(t, func(b map[string]any) { b["id"] = "ps_123" }),
			"a field in the error":           invalid.WithBody(t, func(b map[string]any) { b["error"].(map[string]any)["detail"] = "x" }),
			"an error code of another route": invalid.WithBody(t, func(b map[string]any) { b["error"].(map[string]any)["code"] = "invalid_credentials" }),
			"an undocumented status":         created.WithStatus(http.StatusOK),
			"a status the operation lacks":   unknownID.WithStatus(http.StatusTeapot),
			"a 401 without WWW-Authenticate": missingKey.WithHeader("WWW-Authenticate", ""),
			"a cacheable personal answer":    me.WithHeader("Cache-Control", "max-age=60"),
		})
	})

	// Every status of the document's operations that the scenarios above
	// reached, to see the coverage in a failure's log.
	if t.Failed() {
		spec.LogCoverage(t, all)
	}
}
