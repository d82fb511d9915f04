package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminAPIAccess walks the access routes: settings with their bounds,
// client-secret rotation with its overlap, signing keys, audit, and that
// bad input changes nothing.
func TestAdminAPIAccess(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			ctx := context.Background()
			tid := f.p.Demo.ID
			v := vars{}
			var firstSecret string
			f.run(t, []step{
				{name: "read access", path: "/plugins/financeiro/access", status: 200,
					has:  []string{`"launch_method":"post"`, `"token_ttl_seconds":60`, `"user_fields":[]`, `"min_token_ttl_seconds":10`, `"max_token_ttl_seconds":300`},
					save: map[string]string{"v": "version"}},
				{name: "plugin JSON shows access fields", path: "/plugins/financeiro", status: 200,
					has: []string{`"user_fields":[]`, `"grants":[]`, `"token_ttl_seconds":60`, `"launch_method":"post"`}},
				{name: "grant fields, GET launch, TTL at the upper bound", method: "PATCH", path: "/plugins/financeiro/access",
					body: func(v vars) any {
						return map[string]any{"version": v["v"], "user_fields": []string{"email", "name", "name"}, "token_ttl_seconds": 300, "launch_method": "get"}
					},
					status: 200, has: []string{`"user_fields":["name","email"]`, `"launch_method":"get"`, `"token_ttl_seconds":300`,
						`"changed":["user_fields","token_ttl_seconds","launch_method"]`},
					save: map[string]string{"v": "version"}},
				{name: "TTL at the lower bound by gestor session", by: "gestor", method: "PATCH", path: "/plugins/financeiro/access",
					body:   func(v vars) any { return map[string]any{"version": v["v"], "token_ttl_seconds": 10} },
					status: 200, has: []string{`"token_ttl_seconds":10`, `"changed":["token_ttl_seconds"]`, `"launch_method":"get"`},
					save: map[string]string{"v": "version"}},
				{name: "the same values again are a no-op", method: "PATCH", path: "/plugins/financeiro/access",
					body: func(v vars) any {
						return map[string]any{"version": v["v"], "token_ttl_seconds": 10, "launch_method": "get"}
					},
					status: 200, has: []string{`"changed":[]`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var got struct{ Version float64 }
						r.JSON(t, &got)
						es, err := f.p.Store.AuditLog(ctx, tid, model.AuditFilter{Action: "plugin.access"})
						testdb.Must(t, err, "audit")
						if fmt.Sprint(got.Version) != fmt.Sprint(v["v"]) || len(es) != 2 {
							t.Errorf("a no-op PATCH moved the version %v -> %v or wrote an audit entry (%d plugin.access entries, want 2)", v["v"], got.Version, len(es))
						}
					}},
				{name: "stale version", method: "PATCH", path: "/plugins/financeiro/access",
					body: map[string]any{"version": 1, "token_ttl_seconds": 30}, status: 409, code: "stale_version"},
				{name: "plugin PATCH takes access fields too", method: "PATCH", path: "/plugins/financeiro",
					body: func(v vars) any {
						return map[string]any{"version": v["v"], "launch_method": "post", "user_fields": []string{"name"}}
					},
					// The demo's token plugins were seeded without credentials;
					// the first update of one issues them (shown once).
					status: 200, has: []string{`"launch_method":"post"`, `"changed":["client_id","user_fields","launch_method"]`, `"client_secret":"pcs_`},
					save: map[string]string{"v": "version"}},
				{name: "a token plugin without credentials gets its first ones", method: "POST", path: "/plugins/chamados/client-secret", status: 200,
					has: []string{`"client_id":"pc_`, `"client_secret":"pcs_`, `"previous_secret_valid_until":null`}},
				{name: "wasm grants stored", method: "PATCH", path: "/plugins/documentos/access",
					body: map[string]any{"version": 1, "grants": []string{"log", "kv"}}, status: 200, has: []string{`"grants":["kv","log"]`}},
				{name: "rotate the client secret (default overlap)", method: "POST", path: "/plugins/financeiro/client-secret", status: 200,
					has:   []string{`"client_id":"pc_`, `"client_secret":"pcs_`},
					lacks: []string{`"previous_secret_valid_until":null`},
					save:  map[string]string{"secret1": "client_secret", "cid": "client_id"}},
				{name: "rotate again keeps the old secret for 24 h", method: "POST", path: "/plugins/financeiro/client-secret", status: 200,
					has: []string{`"client_id":"{cid}"`}, lacks: []string{`"client_secret":"{secret1}"`, `"previous_secret_valid_until":null`},
					save: map[string]string{"secret2": "client_secret"},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						p, err := f.p.Store.PluginBySlug(ctx, tid, "financeiro")
						testdb.Must(t, err, "reload")
						now := f.p.Store.Now()
						s1, s2 := v["secret1"].(string), v["secret2"].(string)
						firstSecret = s1
						if !p.ClientSecretMatches(auth.HashToken(s2), now) || !p.ClientSecretMatches(auth.HashToken(s1), now.Add(23*time.Hour)) {
							t.Errorf("new and old secret must both work inside the overlap")
						}
						if p.ClientSecretMatches(auth.HashToken(s1), now.Add(25*time.Hour)) {
							t.Errorf("old secret still works after 24 h")
						}
					}},
				{name: "access shows the running overlap", path: "/plugins/financeiro/access", status: 200,
					lacks: []string{`"previous_secret_valid_until":null`, "pcs_", "hash"}},
				{name: "rotate with a 1 h overlap by gestor", by: "gestor", method: "POST", path: "/plugins/financeiro/client-secret",
					body: map[string]any{"overlap_hours": 1}, status: 200},
				{name: "rotate stopping the old one at once", method: "POST", path: "/plugins/financeiro/client-secret",
					body: map[string]any{"overlap_hours": 0}, status: 200, has: []string{`"previous_secret_valid_until":null`}},
				{name: "no credentials without token auth", method: "POST", path: "/plugins/documentos/client-secret", status: 409, code: "not_token_plugin"},
				{name: "signing keys start empty", path: "/signing-keys", status: 200, has: []string{`"keys":[]`}},
				{name: "rotation must be confirmed", method: "POST", path: "/signing-keys", body: map[string]any{}, status: 422, code: "validation_failed", field: "confirm"},
				{name: "first key signs at once", method: "POST", path: "/signing-keys", body: map[string]any{"confirm": true}, status: 201,
					has: []string{`"status":"current"`, `"alg":"EdDSA"`}, lacks: []string{"private", `"d":`}, save: map[string]string{"kid1": "kid"}},
				{name: "second key is published ahead", method: "POST", path: "/signing-keys", body: map[string]any{"confirm": true}, status: 201,
					has: []string{`"status":"next"`}, save: map[string]string{"kid2": "kid"}},
				{name: "key list newest first", path: "/signing-keys", status: 200,
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var m struct {
							Keys []struct{ KID, Status string }
						}
						r.JSON(t, &m)
						if len(m.Keys) != 2 || m.Keys[0].KID != v["kid2"] || m.Keys[0].Status != "next" || m.Keys[1].Status != "current" {
							t.Errorf("keys = %+v", m.Keys)
						}
					}},
				{name: "rotation takes no input", method: "POST", path: "/signing-keys", body: map[string]any{"kid": "x"}, status: 400, code: "unknown_field"},
			}, v)
			if firstSecret == "" {
				t.Fatal("scenario did not record the first secret")
			}

			// Every change is audited, and no audit entry holds a secret.
			for _, action := range []string{"plugin.access", "plugin.client_secret.rotate"} {
				es, err := f.p.Store.AuditLog(ctx, tid, model.AuditFilter{Action: action})
				testdb.Must(t, err, "audit")
				if len(es) == 0 {
					t.Errorf("no %s audit entry", action)
				}
				for _, e := range es {
					if strings.Contains(e.BeforeJSON+e.AfterJSON, "pcs_") || strings.Contains(e.BeforeJSON+e.AfterJSON, auth.HashToken(firstSecret)) {
						t.Errorf("%s audit entry holds a secret: %s %s", action, e.BeforeJSON, e.AfterJSON)
					}
				}
			}
		})
	}
}

// TestAdminAPIAccessBadInput sends values at and beyond every bound; none
// may change anything.
func TestAdminAPIAccessBadInput(t *testing.T) {
	f := start(t, "sqlite")
	const acc = "/plugins/financeiro/access"
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		field  string
	}{
		{"TTL below the minimum", "PATCH", acc, map[string]any{"version": 1, "token_ttl_seconds": 9}, 422, "validation_failed", "token_ttl_seconds"},
		{"TTL above the maximum", "PATCH", acc, map[string]any{"version": 1, "token_ttl_seconds": 301}, 422, "validation_failed", "token_ttl_seconds"},
		{"TTL negative", "PATCH", acc, map[string]any{"version": 1, "token_ttl_seconds": -60}, 422, "validation_failed", "token_ttl_seconds"},
		{"TTL as text", "PATCH", acc, map[string]any{"version": 1, "token_ttl_seconds": "60"}, 400, "invalid_json", "token_ttl_seconds"},
		{"unknown launch method", "PATCH", acc, map[string]any{"version": 1, "launch_method": "fragment"}, 422, "validation_failed", "launch_method"},
		{"unknown user field", "PATCH", acc, map[string]any{"version": 1, "user_fields": []string{"name", "password_hash"}}, 422, "validation_failed", "user_fields"},
		{"unknown grant", "PATCH", acc, map[string]any{"version": 1, "grants": []string{"fs"}}, 422, "validation_failed", "grants"},
		{"grants as a string", "PATCH", acc, map[string]any{"version": 1, "grants": "kv"}, 400, "invalid_json", "grants"},
		{"without version", "PATCH", acc, map[string]any{"token_ttl_seconds": 30}, 422, "version_required", "version"},
		{"unknown field", "PATCH", acc, map[string]any{"version": 1, "client_secret_hash": "x"}, 400, "unknown_field", "client_secret_hash"},
		{"plugin PATCH bad TTL", "PATCH", "/plugins/financeiro", map[string]any{"version": 1, "token_ttl_seconds": 301}, 422, "validation_failed", "token_ttl_seconds"},
		{"plugin PATCH bad method", "PATCH", "/plugins/financeiro", map[string]any{"version": 1, "launch_method": "GET"}, 422, "validation_failed", "launch_method"},
		{"overlap negative", "POST", "/plugins/financeiro/client-secret", map[string]any{"overlap_hours": -1}, 422, "validation_failed", "overlap_hours"},
		{"overlap above a week", "POST", "/plugins/financeiro/client-secret", map[string]any{"overlap_hours": 169}, 422, "validation_failed", "overlap_hours"},
		{"overlap as text", "POST", "/plugins/financeiro/client-secret", map[string]any{"overlap_hours": "24"}, 400, "invalid_json", "overlap_hours"},
		{"hostile slug", "GET", "/plugins/%2e%2e/access", nil, 404, "plugin_not_found", ""},
		{"unknown plugin", "POST", "/plugins/nenhum/client-secret", nil, 404, "plugin_not_found", ""},
		{"other tenant's plugin", "PATCH", "/plugins/segredo-outra/access", map[string]any{"version": 1, "token_ttl_seconds": 30}, 404, "plugin_not_found", ""},
	}
	before := admintest.State(t, f.p, f.p.Demo.ID)
	for _, tc := range cases {
		r := f.byKey.Do(tc.method, adminPrefix+tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %.300s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		code, msg, fields := errorOf(t, r)
		if code != tc.code || msg == "" {
			t.Errorf("%s: error %q %q, want %q", tc.name, code, msg, tc.code)
		}
		if tc.field != "" && (fields[tc.field] == "" || strings.HasPrefix(fields[tc.field], "validation.")) {
			t.Errorf("%s: error.fields lacks a message for %q: %.300s", tc.name, tc.field, r.Body)
		}
	}
	if after := admintest.State(t, f.p, f.p.Demo.ID); after != before {
		t.Fatalf("bad input changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The other tenant's plugin was not touched either.
	p, err := f.p.Store.PluginBySlug(context.Background(), f.p.Other.ID, "segredo-outra")
	testdb.Must(t, err, "other plugin")
	if p.Version != 1 {
		t.Errorf("other tenant's plugin changed: version %d", p.Version)
	}
}

// TestAdminAPIPrivateNetwork: the plugin's private-network setting is off
// by default, set only through the access route by the tenant's gestor (or
// an admin key), audited with its value before and after, and nobody else
// — a cliente, a síndico, another tenant's gestor or admin key — can set it.
func TestAdminAPIPrivateNetwork(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			ctx := context.Background()
			p := f.p
			const acc = "/api/v1/admin/plugins/documentos/access"
			r := f.byKey.Do("GET", acc, nil)
			m := decode(t, r)
			if r.Status != 200 || m["allow_private_network"] != false || m["private_network_available"] != false {
				t.Fatalf("default: %d %s", r.Status, r.Body)
			}
			version := m["version"]
			set := map[string]any{"version": version, "allow_private_network": true}

			cliente, clienteCSRF := f.session(t, "cliente@demo.portico.test")
			cliente.Header.Set("X-CSRF-Token", clienteCSRF)
			sindico, sindicoCSRF := f.session(t, "sindico@demo.portico.test")
			sindico.Header.Set("X-CSRF-Token", sindicoCSRF)
			otherGestor := p.NewClient(t, servertest.OtherHost)
			otherGestor.Login("gestor@outra.test", servertest.OtherPassword)
			otherKey, _ := f.newKey(t, p.Other.ID, model.ScopeAdmin)
			for _, tc := range []struct {
				name   string
				c      *servertest.Client
				status int
			}{
				{"cliente session", cliente, 403},
				{"síndico session", sindico, 403},
				{"other tenant's admin key on this portal", f.keyClient(t, "", otherKey), 401},
				{"other tenant's admin key on its own portal", f.keyClient(t, servertest.OtherHost, otherKey), 404},
				{"anonymous", p.NewClient(t, ""), 401},
			} {
				if r := tc.c.Do("PATCH", acc, set); r.Status != tc.status {
					t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
				}
			}
			if r := otherGestor.Do("PATCH", acc, set); r.Status < 400 {
				t.Errorf("other tenant's gestor session: %d %s", r.Status, r.Body)
			}
			// The plugin PATCH does not take it: one route, one audit action.
			if r := f.byKey.Do("PATCH", "/api/v1/admin/plugins/documentos", set); r.Status != 400 || r.ErrorCode() != "unknown_field" {
				t.Errorf("plugin PATCH with allow_private_network: %d %s, want 400 unknown_field", r.Status, r.Body)
			}
			if pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "documentos"); err != nil || pl.AllowPrivateNetwork {
				t.Fatalf("refused callers changed the setting: %v %v", pl.AllowPrivateNetwork, err)
			}

			r = f.gestor.Do("PATCH", acc, set)
			if r.Status != 200 || !strings.Contains(string(r.Body), `"allow_private_network":true`) || !strings.Contains(string(r.Body), `"changed":["allow_private_network"]`) {
				t.Fatalf("gestor: %d %s", r.Status, r.Body)
			}
			pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "documentos")
			testdb.Must(t, err, "reload")
			if !pl.AllowPrivateNetwork {
				t.Fatal("the setting was not stored")
			}
			es, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: "plugin.access"})
			testdb.Must(t, err, "audit")
			if len(es) != 1 || !strings.Contains(es[0].BeforeJSON, `"allow_private_network":false`) ||
				!strings.Contains(es[0].AfterJSON, `"allow_private_network":true`) || es[0].ActorType != "user" {
				t.Fatalf("audit: %+v", es)
			}
			// And off again, by an admin key.
			r = f.byKey.Do("PATCH", acc, map[string]any{"version": pl.Version, "allow_private_network": false})
			if r.Status != 200 || !strings.Contains(string(r.Body), `"allow_private_network":false`) {
				t.Fatalf("admin key: %d %s", r.Status, r.Body)
			}
			if other, err := p.Store.PluginBySlug(ctx, p.Other.ID, "segredo-outra"); err != nil || other.AllowPrivateNetwork {
				t.Errorf("other tenant's plugin: %v %v", other.AllowPrivateNetwork, err)
			}
		})
	}
}
