package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminAPIAuthentication calls every admin route (from the app's route
// table, so a new one is covered) with each kind of missing or
// insufficient credential: each is refused with the right status, code
// and a non-empty message, and nothing changes.
func TestAdminAPIAuthentication(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			ctx := context.Background()
			p := f.p
			portalKey, _ := f.newKey(t, p.Demo.ID, model.ScopePortalSessions)
			revokedKey, revoked := f.newKey(t, p.Demo.ID, model.ScopeAdmin, model.ScopePortalSessions)
			testdb.Must(t, p.Store.RevokeAPIKey(ctx, p.Demo.ID, revoked.ID, model.Actor{Type: "system", Label: "test"}), "revoke")
			otherKey, _ := f.newKey(t, p.Other.ID, model.ScopeAdmin)
			cliente, clienteCSRF := f.session(t, "cliente@demo.portico.test")
			cliente.Header.Set("X-CSRF-Token", clienteCSRF)
			sindico, sindicoCSRF := f.session(t, "sindico@demo.portico.test")
			sindico.Header.Set("X-CSRF-Token", sindicoCSRF)
			gestorNoCSRF, _ := f.session(t, "gestor@demo.portico.test")
			gestorBadCSRF, _ := f.session(t, "gestor@demo.portico.test")
			gestorBadCSRF.Header.Set("X-CSRF-Token", f.csrf) // another session's token

			header := func(v string) *servertest.Client {
				c := p.NewClient(t, "")
				c.Header.Set("Authorization", v)
				return c
			}
			callers := []struct {
				name       string
				c          *servertest.Client
				unsafeOnly bool // only non-GET requests are refused
				status     int
				code       string
			}{
				{"anonymous", p.NewClient(t, ""), false, 401, "unauthenticated"},
				{"cliente session", cliente, false, 403, "gestor_only"},
				{"síndico session", sindico, false, 403, "gestor_only"},
				{"key without admin scope", f.keyClient(t, "", portalKey), false, 403, "missing_scope"},
				{"revoked key", f.keyClient(t, "", revokedKey), false, 401, "invalid_api_key"},
				{"other tenant's key", f.keyClient(t, "", otherKey), false, 401, "invalid_api_key"},
				{"unknown key", f.keyClient(t, "", "pk_"+strings.Repeat("A", 43)), false, 401, "invalid_api_key"},
				{"basic auth", header("Basic Z2VzdG9yOnBvcnRpY28tZGVtbw=="), false, 401, "invalid_api_key"},
				{"bearer without key", header("Bearer"), false, 401, "invalid_api_key"},
				{"bare key", header(f.key), false, 401, "invalid_api_key"},
				{"oversized key", header("Bearer " + f.key + strings.Repeat("x", 300)), false, 401, "invalid_api_key"},
				{"gestor session without CSRF header", gestorNoCSRF, true, 403, "csrf"},
				{"gestor session with another session's CSRF", gestorBadCSRF, true, 403, "csrf"},
			}
			demoPlugin := "documentos"
			gestor, err := p.Store.UserByEmail(ctx, p.Demo.ID, "gestor@demo.portico.test")
			testdb.Must(t, err, "gestor")
			values := map[string][]string{"slug": {demoPlugin}, "id": {gestor.ID, revoked.ID}, "name": {"token"}, "key": {"visitas%3A1"}, "*": {"nada"}}
			before := admintest.State(t, p, p.Demo.ID)
			requests := 0
			for _, rt := range adminRoutes(t, p) {
				method, pattern := rt[0], rt[1]
				for _, params := range fill(t, pattern, values) {
					path := expandRoute(pattern, params)
					var body any
					if method != "GET" {
						// A body that would do something if it got through.
						body = map[string]any{"version": 1, "active": false, "value": "x", "name": "x", "scopes": []string{"admin"}, "slugs": []string{}}
					}
					for _, cl := range callers {
						if cl.unsafeOnly && method == "GET" {
							continue
						}
						r := cl.c.Do(method, path, body)
						requests++
						code, msg, _ := errorOf(t, r)
						if r.Status != cl.status || code != cl.code || msg == "" {
							t.Errorf("%s %s as %s: %d %q %q, want %d %q", method, path, cl.name, r.Status, code, msg, cl.status, cl.code)
						}
						if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
							t.Errorf("%s %s as %s: Cache-Control %q", method, path, cl.name, cc)
						}
					}
				}
			}
			if after := admintest.State(t, p, p.Demo.ID); after != before {
				t.Fatalf("refused requests changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// The same sessions are fine where they belong: the refusals
			// above are about the credential, not a broken client.
			if r := gestorNoCSRF.Do("GET", adminPrefix+"/plugins", nil); r.Status != 200 {
				t.Errorf("gestor session GET: %d %s", r.Status, r.Body)
			}
			if r := f.gestor.Do("PUT", adminPrefix+"/plugins/"+demoPlugin+"/secrets/token", map[string]any{"value": "x"}); r.Status != 204 {
				t.Errorf("gestor session with CSRF header: %d %s", r.Status, r.Body)
			}
			if requests < 200 {
				t.Fatalf("only %d requests: the table proves little", requests)
			}
			t.Logf("%d refused requests", requests)
		})
	}
}
