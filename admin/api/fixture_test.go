package api_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/testdb"
)

const adminPrefix = "/api/v1/admin"

// fixture is a running portal with the demo tenant's admin API reachable
// two ways: an API key with the admin scope, and a gestor's session with
// its CSRF token.
type fixture struct {
	p      *servertest.Portal
	svc    *service.Service
	key    string             // the demo tenant's admin key
	byKey  *servertest.Client // sends Authorization: Bearer key
	gestor *servertest.Client // the demo gestor's session, X-CSRF-Token set
	csrf   string
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func start(t *testing.T, driver string) *fixture {
	t.Helper()
	p := servertest.Start(t, driver)
	box, err := secret.New([]byte(auth.NewToken()[:secret.KeySize]))
	testdb.Must(t, err, "secret box")
	f := &fixture{p: p, svc: service.New(service.Deps{Store: p.Store, Box: box, Demo: true})}
	f.key, _ = f.newKey(t, p.Demo.ID, model.ScopeAdmin)
	f.byKey = f.keyClient(t, "", f.key)
	f.gestor, f.csrf = f.session(t, "gestor@demo.portico.test")
	f.gestor.Header.Set("X-CSRF-Token", f.csrf)
	return f
}

// newKey creates an API key of tenantID directly through the service.
func (f *fixture) newKey(t *testing.T, tenantID string, scopes ...model.Scope) (string, *model.APIKey) {
	t.Helper()
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	k, key, err := f.svc.NewAPIKey(context.Background(), tenantID, "test "+strings.Join(names, "+"), names,
		model.Actor{Type: "system", Label: "test"})
	testdb.Must(t, err, "new api key")
	return key, k
}

// keyClient returns a client for host that authenticates with key.
func (f *fixture) keyClient(t *testing.T, host, key string) *servertest.Client {
	c := f.p.NewClient(t, host)
	c.Header.Set("Authorization", "Bearer "+key)
	return c
}

// session logs a demo account in and returns the client and its session's
// CSRF token (read from a page's forms, as the UI would).
func (f *fixture) session(t *testing.T, email string) (*servertest.Client, string) {
	t.Helper()
	c := f.p.NewClient(t, "")
	c.Login(email, demo.Password)
	r := c.Do("GET", "/", nil)
	m := csrfRe.FindSubmatch(r.Body)
	if m == nil {
		r = c.Do("GET", "/gestor", nil)
		m = csrfRe.FindSubmatch(r.Body)
	}
	if m == nil {
		t.Fatalf("no CSRF token on the pages of %s: %d %.300s", email, r.Status, r.Body)
	}
	return c, string(m[1])
}

// decode unmarshals a response body into a generic map.
func decode(t *testing.T, r *servertest.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %d %.300s: %v", r.Status, r.Body, err)
	}
	return m
}

// errorOf returns error.code, error.message and error.fields.
func errorOf(t *testing.T, r *servertest.Response) (string, string, map[string]string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("not a JSON error: %d %.300s", r.Status, r.Body)
	}
	return e.Error.Code, e.Error.Message, e.Error.Fields
}

// adminRoutes lists every route registered under /api/v1/admin/ (HEAD,
// CONNECT and TRACE aside, and the OpenAPI document, the one route open to
// anyone: TestAdminOpenAPI reads it without a credential), so a route
// added later is covered by the tables that walk them.
func adminRoutes(t *testing.T, p *servertest.Portal) [][2]string {
	t.Helper()
	var out [][2]string
	seen := map[[2]string]bool{}
	for _, rt := range p.Server.App.GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, adminPrefix+"/") || rt.Path == adminPrefix+"/openapi.json" {
			continue
		}
		switch rt.Method {
		case "HEAD", "CONNECT", "TRACE":
			continue
		}
		k := [2]string{rt.Method, rt.Path}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	// The API's own routes must all be there.
	for _, want := range [][2]string{{"GET", adminPrefix + "/plugins"}, {"PUT", adminPrefix + "/plugins/order"},
		{"PATCH", adminPrefix + "/plugins/:slug"}, {"PUT", adminPrefix + "/plugins/:slug/secrets/:name"},
		{"PATCH", adminPrefix + "/users/:id"}, {"DELETE", adminPrefix + "/api-keys/:id"}, {"GET", adminPrefix + "/audit"}} {
		if !slices.Contains(out, want) {
			t.Fatalf("route %s %s is not registered; routes: %v", want[0], want[1], out)
		}
	}
	return out
}
