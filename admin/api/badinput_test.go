package api_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminAPIBadInput sends invalid input to every writing route: each
// gets a clear error (status, code, the field at fault, a message) and
// nothing is stored — the tenant's whole admintest.State, audit log included, is the
// same afterwards.
func TestAdminAPIBadInput(t *testing.T) {
	valid := map[string]any{"slug": "novo", "name": "Novo", "title": "Novo", "type": "iframe",
		"url": "https://novo.example.com/app", "icon": "financeiro", "visible_to": "ambos"}
	with := func(k string, v any) map[string]any {
		m := maps.Clone(valid)
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	type badCase struct {
		name   string
		method string
		path   string
		body   any
		header []string
		status int
		code   string
		field  string
	}
	const plugins = "/plugins"
	cases := []badCase{
		{"title too long", "POST", plugins, with("title", strings.Repeat("T", 41)), nil, 422, "validation_failed", "title"},
		{"name too long", "POST", plugins, with("name", strings.Repeat("ñ", 81)), nil, 422, "validation_failed", "name"},
		{"name missing", "POST", plugins, with("name", nil), nil, 422, "validation_failed", "name"},
		{"unknown icon", "POST", plugins, with("icon", "nao-existe"), nil, 422, "validation_failed", "icon"},
		{"icon as a path", "POST", plugins, with("icon", "../financeiro"), nil, 422, "validation_failed", "icon"},
		{"negative width", "POST", plugins, with("width", -1), nil, 422, "validation_failed", "size"},
		{"absurd width", "POST", plugins, with("width", 100000), nil, 422, "validation_failed", "size"},
		{"negative height", "POST", plugins, with("height", -600), nil, 422, "validation_failed", "size"},
		{"absurd height", "POST", plugins, with("height", 1<<30), nil, 422, "validation_failed", "size"},
		{"unknown size", "POST", plugins, with("size", "gigante"), nil, 422, "validation_failed", "size"},
		{"duplicate slug", "POST", plugins, with("slug", "documentos"), nil, 409, "slug_taken", "slug"},
		{"bad slug", "POST", plugins, with("slug", "Não Vale"), nil, 422, "validation_failed", "slug"},
		{"slug too long", "POST", plugins, with("slug", strings.Repeat("a", 49)), nil, 422, "validation_failed", "slug"},
		{"javascript url", "POST", plugins, with("url", "javascript:alert(1)"), nil, 422, "validation_failed", "url"},
		{"data url", "POST", plugins, with("url", "data:text/html,<script>alert(1)</script>"), nil, 422, "validation_failed", "url"},
		{"http url not local", "POST", plugins, with("url", "http://novo.example.com/"), nil, 422, "validation_failed", "url"},
		{"credentials in url", "POST", plugins, with("url", "https://user:senha@novo.example.com/"), nil, 422, "validation_failed", "url"},
		{"relative url", "POST", plugins, with("url", "/p/financeiro"), nil, 422, "validation_failed", "url"},
		{"url with a zone id injecting CSP", "POST", plugins, with("url", "https://[fe80::1%2525x;frame-ancestors%2520*;x]/a"), nil, 422, "validation_failed", "url"},
		{"url with a zone id", "POST", plugins, with("url", "https://[fe80::1%25x]/a"), nil, 422, "validation_failed", "url"},
		{"url with a zone id, encoded once", "POST", plugins, with("url", "https://[fe80::1%25eth0]/a"), nil, 422, "validation_failed", "url"},
		{"url host with a semicolon", "POST", plugins, with("url", "https://a.example.com;frame-ancestors/a"), nil, 422, "validation_failed", "url"},
		{"url host with a comma", "POST", plugins, with("url", "https://a.example.com,b.example.com/a"), nil, 422, "validation_failed", "url"},
		{"url host percent-encoded space", "POST", plugins, with("url", "https://a.example.com%20b/a"), nil, 422, "validation_failed", "url"},
		{"url port out of range", "POST", plugins, with("url", "https://a.example.com:99999/a"), nil, 422, "validation_failed", "url"},
		{"patch url with a zone id", "PATCH", "/plugins/documentos", map[string]any{"version": 1, "url": "https://[fe80::1%2525x;frame-ancestors%2520*;x]/a"}, nil, 422, "validation_failed", "url"},
		{"allowed host with a zone id", "POST", plugins, with("allowed_hosts", []string{"https://[fe80::1%25x]"}), nil, 422, "validation_failed", "allowed_hosts"},
		{"url too long", "POST", plugins, with("url", "https://novo.example.com/"+strings.Repeat("a", 2048)), nil, 422, "validation_failed", "url"},
		{"unknown type", "POST", plugins, with("type", "flash"), nil, 422, "validation_failed", "type"},
		{"unknown visibility", "POST", plugins, with("visible_to", "todos"), nil, 422, "validation_failed", "visible_to"},
		{"unknown auth type", "POST", plugins, with("auth_type", "oauth"), nil, 422, "validation_failed", "auth_type"},
		{"negative position", "POST", plugins, with("position", -5), nil, 422, "validation_failed", "position"},
		{"absurd wasm memory", "POST", plugins, with("memory_mb", 1<<20), nil, 422, "validation_failed", "memory_mb"},
		{"bad allowed host", "POST", plugins, with("allowed_hosts", []string{"https://a.example.com/path"}), nil, 422, "validation_failed", "allowed_hosts"},
		{"version on create", "POST", plugins, with("version", 1), nil, 422, "validation_failed", "version"},
		{"unknown field", "POST", plugins, with("colour", "red"), nil, 400, "unknown_field", "colour"},
		{"wrong type", "POST", plugins, with("title", 5), nil, 400, "invalid_json", "title"},
		{"wrong type bool", "POST", plugins, with("active", "sim"), nil, 400, "invalid_json", "active"},
		{"not json", "POST", plugins, `{"slug":`, []string{"Content-Type", "application/json"}, 400, "invalid_json", ""},
		{"two objects", "POST", plugins, `{} {}`, []string{"Content-Type", "application/json"}, 400, "invalid_json", ""},
		{"array", "POST", plugins, `[]`, []string{"Content-Type", "application/json"}, 400, "invalid_json", ""},
		{"wrong method", "DELETE", "/tenant", nil, nil, 405, "method_not_allowed", ""},
		{"null", "POST", plugins, `null`, []string{"Content-Type", "application/json"}, 400, "invalid_json", ""},
		{"not declared json", "POST", plugins, `{"slug":"novo"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"body too large", "POST", plugins, with("title", strings.Repeat("x", 70<<10)), nil, 413, "body_too_large", ""},

		{"patch bad url", "PATCH", "/plugins/documentos", map[string]any{"version": 1, "url": "javascript:x"}, nil, 422, "validation_failed", "url"},
		{"patch absurd size", "PATCH", "/plugins/documentos", map[string]any{"version": 1, "width": 99999, "height": 10}, nil, 422, "validation_failed", "size"},
		{"patch unknown field", "PATCH", "/plugins/documentos", map[string]any{"version": 1, "client_secret_hash": "x"}, nil, 400, "unknown_field", "client_secret_hash"},
		{"patch wrong version type", "PATCH", "/plugins/documentos", map[string]any{"version": "1", "title": "x"}, nil, 400, "invalid_json", "version"},
		{"patch hostile slug", "PATCH", "/plugins/%2e%2e", map[string]any{"version": 1, "title": "x"}, nil, 404, "plugin_not_found", ""},

		{"secret name with a path", "PUT", "/plugins/documentos/secrets/..%2Fx", map[string]any{"value": "v"}, nil, 422, "validation_failed", "name"},
		{"secret name upper case", "PUT", "/plugins/documentos/secrets/Nome", map[string]any{"value": "v"}, nil, 422, "validation_failed", "name"},
		{"secret name with a space", "PUT", "/plugins/documentos/secrets/a%20b", map[string]any{"value": "v"}, nil, 422, "validation_failed", "name"},
		{"secret name too long", "PUT", "/plugins/documentos/secrets/" + strings.Repeat("a", 65), map[string]any{"value": "v"}, nil, 422, "validation_failed", "name"},
		{"secret without value", "PUT", "/plugins/documentos/secrets/token", map[string]any{}, nil, 422, "validation_failed", "value"},
		{"secret empty value", "PUT", "/plugins/documentos/secrets/token", map[string]any{"value": ""}, nil, 422, "validation_failed", "value"},
		{"secret too long", "PUT", "/plugins/documentos/secrets/token", map[string]any{"value": strings.Repeat("s", 8193)}, nil, 422, "validation_failed", "value"},
		{"secret delete odd name", "DELETE", "/plugins/documentos/secrets/..%2Fx", nil, nil, 404, "secret_not_found", ""},

		{"config bad key", "PUT", "/plugins/documentos/config", map[string]any{"version": 1, "entries": []map[string]string{{"key": "A B", "type": "string", "value": "x"}}}, nil, 422, "validation_failed", "entries[0].key"},
		{"config bad type", "PUT", "/plugins/documentos/config", map[string]any{"version": 1, "entries": []map[string]string{{"key": "a", "type": "date", "value": "x"}}}, nil, 422, "validation_failed", "entries[0].type"},
		{"config duplicate key", "PUT", "/plugins/documentos/config", map[string]any{"version": 1, "entries": []map[string]string{{"key": "a", "type": "string", "value": "x"}, {"key": "a", "type": "string", "value": "y"}}}, nil, 422, "validation_failed", "entries[1].key"},
		{"config bad boolean", "PUT", "/plugins/documentos/config", map[string]any{"version": 1, "entries": []map[string]string{{"key": "a", "type": "boolean", "value": "talvez"}}}, nil, 422, "validation_failed", "entries[0].value"},
		{"config without entries", "PUT", "/plugins/documentos/config", map[string]any{"version": 1}, nil, 422, "validation_failed", "entries"},

		{"user bad e-mail", "POST", "/users", map[string]any{"email": "nao-e-email", "name": "X", "roles": []string{"cliente"}}, nil, 422, "validation_failed", "email"},
		{"user unknown role", "POST", "/users", map[string]any{"email": "x@demo.test", "name": "X", "roles": []string{"admin"}}, nil, 422, "validation_failed", "roles"},
		{"user short password", "POST", "/users", map[string]any{"email": "x@demo.test", "name": "X", "roles": []string{"cliente"}, "password": "curta"}, nil, 422, "validation_failed", "password"},
		{"user bad document", "POST", "/users", map[string]any{"email": "x@demo.test", "name": "X", "roles": []string{"cliente"}, "document": "111.111.111-11"}, nil, 422, "validation_failed", "document"},
		{"user with Carla's CPF", "POST", "/users", map[string]any{"email": "x@demo.test", "name": "X", "roles": []string{"cliente"}, "document": "529.982.247-25"}, nil, 422, "validation_failed", "document"},
		{"user duplicate e-mail", "POST", "/users", map[string]any{"email": "GESTOR@demo.portico.test", "name": "X", "roles": []string{"cliente"}}, nil, 409, "email_taken", "email"},
		{"key without name", "POST", "/api-keys", map[string]any{"scopes": []string{"admin"}}, nil, 422, "validation_failed", "name"},
		{"key without scopes", "POST", "/api-keys", map[string]any{"name": "x"}, nil, 422, "validation_failed", "scopes"},
		{"key scopes smuggled", "POST", "/api-keys", map[string]any{"name": "x", "scopes": []string{"admin,portal_sessions"}}, nil, 422, "validation_failed", "scopes"},
		{"tenant bad origin", "PATCH", "/tenant", map[string]any{"version": 1, "allowed_origins": []string{"https://a.example.com/x"}}, nil, 422, "validation_failed", "allowed_origins"},
		{"tenant bad locale", "PATCH", "/tenant", map[string]any{"version": 1, "default_locale": "fr"}, nil, 422, "validation_failed", "default_locale"},
		{"tenant without version", "PATCH", "/tenant", map[string]any{"name": "x"}, nil, 422, "version_required", "version"},
		{"tenant link minutes 0", "PATCH", "/tenant", map[string]any{"version": 1, "portal_link_minutes": 0}, nil, 422, "validation_failed", "portal_link_minutes"},
		{"tenant link minutes 61", "PATCH", "/tenant", map[string]any{"version": 1, "portal_link_minutes": 61}, nil, 422, "validation_failed", "portal_link_minutes"},
		{"tenant link minutes not a number", "PATCH", "/tenant", map[string]any{"version": 1, "portal_link_minutes": "30"}, nil, 400, "invalid_json", "portal_link_minutes"},
		{"tenant email login not a boolean", "PATCH", "/tenant", map[string]any{"version": 1, "portal_link_email_login": "sim"}, nil, 400, "invalid_json", "portal_link_email_login"},
		{"tenant return url elsewhere", "PATCH", "/tenant", map[string]any{"version": 1, "default_return_url": "https://outro.example.com/conta"}, nil, 422, "validation_failed", "default_return_url"},
		{"tenant return url not a url", "PATCH", "/tenant", map[string]any{"version": 1, "default_return_url": "javascript:alert(1)"}, nil, 422, "validation_failed", "default_return_url"},
		{"order with a duplicate", "PUT", "/plugins/order", map[string]any{"slugs": []string{"financeiro", "financeiro", "documentos", "assembleias", "chamados", "relatorios", "pontos"}}, nil, 422, "order_mismatch", "slugs"},
	}
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			before := admintest.State(t, f.p, f.p.Demo.ID)
			for _, tc := range cases {
				r := f.byKey.Do(tc.method, adminPrefix+tc.path, tc.body, tc.header...)
				if r.Status != tc.status {
					t.Errorf("%s: status %d, want %d: %.300s", tc.name, r.Status, tc.status, r.Body)
					continue
				}
				if tc.status == 405 && r.Header.Get("Allow") != "GET, HEAD, PATCH" {
					t.Errorf("%s: Allow %q, want the methods of %s", tc.name, r.Header.Get("Allow"), tc.path)
				}
				code, msg, fields := errorOf(t, r)
				if code != tc.code || msg == "" {
					t.Errorf("%s: error %q %q, want code %q: %.300s", tc.name, code, msg, tc.code, r.Body)
				}
				if tc.field != "" && fields[tc.field] == "" {
					t.Errorf("%s: error.fields lacks %q: %.300s", tc.name, tc.field, r.Body)
				}
				for f, m := range fields {
					if m == "" || strings.HasPrefix(m, "validation.") {
						t.Errorf("%s: field %s has no message: %q", tc.name, f, m)
					}
				}
			}
			if after := admintest.State(t, f.p, f.p.Demo.ID); after != before {
				t.Fatalf("bad input changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// hostileTexts are the characters model.CheckText refuses, as they arrive
// in JSON (where invalid UTF-8 cannot travel: the decoder replaces it).
var hostileTexts = map[string]string{
	"nul":       "Ana\x00Maria",
	"bidi":      "Ana \u202emaiR",
	"separator": "Ana\u2028Maria",
	"control":   "Ana\x1bMaria",
}

// TestAdminAPIHostileText sends each text the one text rule refuses to
// every text input of the admin API, on both databases: each is a 422
// naming the field with a message in the caller's language (never a 500,
// which PostgreSQL gave for NUL), and nothing is stored.
func TestAdminAPIHostileText(t *testing.T) {
	type input struct {
		name, method, path, field string
		body                      func(v string) any
	}
	inputs := []input{
		{"plugin name", "POST", "/plugins", "name", func(v string) any {
			return map[string]any{"slug": "novo", "name": v, "title": "Novo", "type": "iframe", "url": "https://novo.example.com/app", "icon": "financeiro", "visible_to": "ambos"}
		}},
		{"plugin title", "POST", "/plugins", "title", func(v string) any {
			return map[string]any{"slug": "novo", "name": "Novo", "title": v, "type": "iframe", "url": "https://novo.example.com/app", "icon": "financeiro", "visible_to": "ambos"}
		}},
		{"plugin title update", "PATCH", "/plugins/documentos", "title", func(v string) any { return map[string]any{"version": 1, "title": v} }},
		{"config value", "PUT", "/plugins/documentos/config", "entries[0].value", func(v string) any {
			return map[string]any{"version": 1, "entries": []map[string]string{{"key": "a", "type": "string", "value": v}}}
		}},
		{"user name", "POST", "/users", "name", func(v string) any {
			return map[string]any{"email": "x@demo.test", "name": v, "roles": []string{"cliente"}}
		}},
		{"api key name", "POST", "/api-keys", "name", func(v string) any { return map[string]any{"name": v, "scopes": []string{"admin"}} }},
		{"tenant name", "PATCH", "/tenant", "name", func(v string) any { return map[string]any{"version": 1, "name": v} }},
		{"tenant brand name", "PATCH", "/tenant", "brand_name", func(v string) any { return map[string]any{"version": 1, "brand_name": v} }},
		{"tenant logo path", "PATCH", "/tenant", "logo_url", func(v string) any { return map[string]any{"version": 1, "logo_url": "/logo/" + v} }},
	}
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			before := admintest.State(t, f.p, f.p.Demo.ID)
			for _, in := range inputs {
				for kind, v := range hostileTexts {
					r := f.byKey.Do(in.method, adminPrefix+in.path, in.body(v), "Accept-Language", "es")
					if r.Status != 422 {
						t.Errorf("%s %s: status %d, want 422: %.300s", in.name, kind, r.Status, r.Body)
						continue
					}
					code, msg, fields := errorOf(t, r)
					if code != "validation_failed" || msg == "" || fields[in.field] == "" || strings.HasPrefix(fields[in.field], "validation.") {
						t.Errorf("%s %s: error %q %q, fields %v", in.name, kind, code, msg, fields)
					}
				}
			}
			// The user edited through the API too.
			us, err := f.p.Store.Users(context.Background(), f.p.Demo.ID, "", 100, 0)
			testdb.Must(t, err, "users")
			for kind, v := range hostileTexts {
				r := f.byKey.Do("PATCH", adminPrefix+"/users/"+us[0].ID, map[string]any{"version": us[0].Version, "name": v})
				if r.Status != 422 {
					t.Errorf("user update %s: status %d, want 422: %.300s", kind, r.Status, r.Body)
				}
			}
			if after := admintest.State(t, f.p, f.p.Demo.ID); after != before {
				t.Fatalf("hostile text changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// hostileParams are path and query values that must never reach the
// database as they are: NUL, invalid UTF-8, a bidi override.
var hostileParams = []string{"%00", "a%00b", "%FF", "%C3%28", "%E2%80%AE"}

// TestHostileTextInURLs walks every registered route of the server with
// each path parameter and each search or filter parameter set to a value
// the text rule refuses, as the demo gestor (the widest access), and
// anonymous: no answer is a 5xx, on both databases, and nothing changes.
func TestHostileTextInURLs(t *testing.T) {
	queries := []string{"/api/v1/admin/users?q=", "/api/v1/admin/audit?target_id=", "/api/v1/admin/audit?actor_id=",
		"/api/v1/admin/audit?action=", "/api/v1/admin/audit?target_type=", "/api/v1/admin/audit?before=",
		"/admin/users?q=", "/admin/audit?target_id=", "/admin/audit?actor=", "/admin/audit?action=", "/admin/audit?target_type=",
		"/admin/audit?before=", "/login?next=", "/admin/plugins?moved="}
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			anon := f.p.NewClient(t, "")
			before := admintest.State(t, f.p, f.p.Demo.ID)
			seen := map[string]bool{}
			for _, rt := range f.p.Server.App.GetRoutes(true) {
				switch rt.Method {
				case "HEAD", "CONNECT", "TRACE", "OPTIONS":
					continue
				}
				if !strings.Contains(rt.Path, ":") || seen[rt.Method+rt.Path] {
					continue
				}
				seen[rt.Method+rt.Path] = true
				for _, hv := range hostileParams {
					path := admintest.RouteParam.ReplaceAllString(rt.Path, hv)
					for _, c := range []*servertest.Client{f.gestor, f.byKey, anon} {
						var body any
						if rt.Method != "GET" && rt.Method != "DELETE" {
							body = map[string]any{}
						}
						if r := c.Do(rt.Method, path, body); r.Status >= 500 {
							t.Errorf("%s %s: %d %.200s", rt.Method, path, r.Status, r.Body)
						}
					}
				}
			}
			for _, q := range queries {
				for _, hv := range hostileParams {
					for _, c := range []*servertest.Client{f.gestor, f.byKey} {
						if r := c.Do("GET", q+hv, nil); r.Status >= 500 {
							t.Errorf("GET %s%s: %d %.200s", q, hv, r.Status, r.Body)
						}
					}
				}
			}
			// Login bodies: the e-mail is looked up, the password only hashed.
			for _, hv := range []string{"ana\x00@demo.portico.test", "ana\u202e@demo.portico.test", "cliente@demo.portico.test\x00"} {
				for _, pw := range []string{demo.Password, "x\x00y"} {
					r := anon.Do("POST", "/api/v1/session", map[string]string{"email": hv, "password": pw})
					if r.Status != 401 && r.Status != 400 && r.Status != 422 {
						t.Errorf("login as %q: %d %.200s", hv, r.Status, r.Body)
					}
				}
			}
			if after := admintest.State(t, f.p, f.p.Demo.ID); after != before {
				t.Fatalf("hostile URLs changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestAdminAPISecretLimit: a plugin holds at most model.MaxSecretsPerPlugin
// secrets; one more is a validation error on the name, in the gestor's
// language, not a bare conflict, while replacing a stored one still works.
func TestAdminAPISecretLimit(t *testing.T) {
	f := start(t, "sqlite")
	for i := range model.MaxSecretsPerPlugin {
		path := fmt.Sprintf("/api/v1/admin/plugins/financeiro/secrets/k%d", i)
		if r := f.byKey.Do("PUT", path, map[string]any{"value": "v"}); r.Status != http.StatusNoContent {
			t.Fatalf("secret %d: %d %.300s", i, r.Status, r.Body)
		}
	}
	r := f.byKey.Do("PUT", "/api/v1/admin/plugins/financeiro/secrets/one_more", map[string]any{"value": "v"}, "Accept-Language", "en")
	code, _, fields := errorOf(t, r)
	if r.Status != http.StatusUnprocessableEntity || code != "validation_failed" || !strings.Contains(fields["name"], "most secrets") {
		t.Errorf("one secret too many: %d %s %v", r.Status, code, fields)
	}
	if r := f.byKey.Do("PUT", "/api/v1/admin/plugins/financeiro/secrets/k0", map[string]any{"value": "w"}); r.Status != http.StatusNoContent {
		t.Errorf("replacing a secret at the limit: %d %.300s", r.Status, r.Body)
	}
}
