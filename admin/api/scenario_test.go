package api_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

// vars carries values between the steps of a scenario: versions, IDs, keys.
type vars map[string]any

var placeholderRe = regexp.MustCompile(`\{([a-z_0-9]+)\}`)

func (v vars) expand(t *testing.T, s string) string {
	return placeholderRe.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		val, ok := v[name]
		if !ok {
			t.Fatalf("no value for %s in %q", m, s)
		}
		return fmt.Sprint(val)
	})
}

// step is one admin API request of a scenario.
type step struct {
	name   string
	by     string // "key" (default): the admin key; "gestor": session + CSRF header
	method string
	path   string // under /api/v1/admin unless it starts with /api/v1/me; {var} expands
	body   any    // sent as JSON; a func(vars) any is called first
	status int
	code   string   // error.code
	field  string   // a field error.fields must name
	has    []string // fragments the body must contain ({var} expands)
	lacks  []string // fragments the body must not contain ({var} expands)
	save   map[string]string
	check  func(t *testing.T, f *fixture, r *servertest.Response, v vars)
}

func (f *fixture) run(t *testing.T, steps []step, v vars) {
	t.Helper()
	for i, s := range steps {
		c := f.byKey
		if s.by == "gestor" {
			c = f.gestor
		}
		path := v.expand(t, s.path)
		if !strings.HasPrefix(path, "/api/v1/me") {
			path = adminPrefix + path
		}
		body := s.body
		if fn, ok := body.(func(vars) any); ok {
			body = fn(v)
		}
		method := s.method
		if method == "" {
			method = "GET"
		}
		r := c.Do(method, path, body)
		where := fmt.Sprintf("step %d %q: %s %s", i, s.name, method, path)
		if r.Status != s.status {
			t.Fatalf("%s: status %d, want %d: %.600s", where, r.Status, s.status, r.Body)
		}
		if s.code != "" || s.field != "" {
			code, msg, fields := errorOf(t, r)
			if code != s.code || msg == "" {
				t.Fatalf("%s: error %q (%q), want %q: %.400s", where, code, msg, s.code, r.Body)
			}
			if s.field != "" && fields[s.field] == "" {
				t.Fatalf("%s: error.fields lacks %q: %.400s", where, s.field, r.Body)
			}
		}
		for _, h := range s.has {
			if h = v.expand(t, h); !strings.Contains(string(r.Body), h) {
				t.Errorf("%s: body lacks %q: %.800s", where, h, r.Body)
			}
		}
		for _, l := range s.lacks {
			if l = v.expand(t, l); strings.Contains(string(r.Body), l) {
				t.Errorf("%s: body has %q: %.800s", where, l, r.Body)
			}
		}
		if len(s.save) > 0 {
			m := decode(t, r)
			for name, field := range s.save {
				val, ok := m[field]
				if !ok {
					t.Fatalf("%s: no %q to save in %.400s", where, field, r.Body)
				}
				if fl, isNum := val.(float64); isNum {
					val = int64(fl)
				}
				v[name] = val
			}
		}
		if s.check != nil {
			s.check(t, f, r, v)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

// menuOf returns the slugs of a demo account's portal menu.
func menuOf(t *testing.T, f *fixture, email, role string) []string {
	t.Helper()
	c := f.p.NewClient(t, "")
	c.Login(email, demo.Password)
	r := c.Do("GET", "/api/v1/me/menu?role="+role, nil)
	if r.Status != 200 {
		t.Fatalf("menu of %s: %d %s", email, r.Status, r.Body)
	}
	var m struct {
		Entries []struct {
			Slug string `json:"slug"`
		} `json:"entries"`
	}
	r.JSON(t, &m)
	out := []string{}
	for _, e := range m.Entries {
		out = append(out, e.Slug)
	}
	return out
}

func TestAdminAPIScenarios(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			ctx := context.Background()
			secretValue := "valor-secreto-Zq8#x"
			boletos := map[string]any{"slug": "boletos", "name": "Boletos (banco)", "title": "Boletos", "type": "iframe",
				"url": "https://Boletos.Example.com/app?x=1", "icon": "financeiro", "visible_to": "sindico", "auth_type": "token", "size": "pequeno"}
			v := vars{}
			f.run(t, []step{
				// Plugins: create, read, partial update, versions.
				{name: "create token plugin", method: "POST", path: "/plugins", body: boletos, status: 201,
					has:  []string{`"client_id":"pc_`, `"client_secret":"pcs_`, `"slug":"boletos"`, `"size":"pequeno"`, `"width":640`, `"version":1`, `"allowed_hosts":[]`},
					save: map[string]string{"client_id": "client_id", "client_secret": "client_secret", "v": "version"}},
				{name: "credentials are shown once", path: "/plugins/boletos", status: 200,
					has:   []string{`"client_id":"{client_id}"`, `"config":[]`, `"secrets":[]`, `"visible_to":"sindico"`, `"created_at":"`},
					lacks: []string{"{client_secret}", "client_secret", "hash"}},
				{name: "list has every plugin in menu order", path: "/plugins", status: 200,
					has:   []string{`"slug":"financeiro"`, `"slug":"boletos"`, `"show_in_manager":false`, `"timeout_ms":2000`, `"memory_mb":64`},
					lacks: []string{"{client_secret}", "client_secret", "hash"},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var m struct{ Plugins []struct{ Slug string } }
						r.JSON(t, &m)
						var got []string
						for _, p := range m.Plugins {
							got = append(got, p.Slug)
						}
						want := []string{"financeiro", "documentos", "assembleias", "chamados", "relatorios", "pontos", "vistoria", "boletos"}
						if !slices.Equal(got, want) {
							t.Errorf("order %v, want %v", got, want)
						}
					}},
				{name: "patch one field", by: "gestor", method: "PATCH", path: "/plugins/boletos",
					body: func(v vars) any { return map[string]any{"version": v["v"], "title": "Boletos 2ª via"} }, status: 200,
					has:  []string{`"changed":["title"]`, `"title":"Boletos 2ª via"`, `"name":"Boletos (banco)"`, `"size":"pequeno"`, `"visible_to":"sindico"`, `"version":2`},
					save: map[string]string{"v_old": "version"}},
				{name: "patch names size changes", method: "PATCH", path: "/plugins/boletos",
					body: func(v vars) any { return map[string]any{"version": v["v_old"], "width": 800, "height": 600} }, status: 200,
					has:  []string{`"changed":["size","width","height"]`, `"size":"custom"`, `"width":800`, `"title":"Boletos 2ª via"`},
					save: map[string]string{"v": "version"}},
				{name: "stale version", method: "PATCH", path: "/plugins/boletos",
					body: func(v vars) any { return map[string]any{"version": v["v_old"], "title": "Perdido"} }, status: 409, code: "stale_version"},
				{name: "missing version", method: "PATCH", path: "/plugins/boletos", body: map[string]any{"title": "Sem versão"},
					status: 422, code: "version_required", field: "version"},
				{name: "slug is immutable", method: "PATCH", path: "/plugins/boletos",
					body: func(v vars) any { return map[string]any{"version": v["v"], "slug": "outro"} }, status: 422, code: "validation_failed", field: "slug"},
				{name: "nothing was lost", path: "/plugins/boletos", status: 200, has: []string{`"title":"Boletos 2ª via"`, `"version":{v}`}},

				// Reorder, then the síndico's menu follows at once.
				{name: "order must list every plugin", method: "PUT", path: "/plugins/order", body: map[string]any{"slugs": []string{"boletos"}},
					status: 422, code: "order_mismatch", field: "slugs"},
				{name: "order without slugs", method: "PUT", path: "/plugins/order", body: map[string]any{}, status: 422, code: "validation_failed", field: "slugs"},
				{name: "reorder", by: "gestor", method: "PUT", path: "/plugins/order",
					body:   map[string]any{"slugs": []string{"boletos", "vistoria", "pontos", "relatorios", "chamados", "assembleias", "documentos", "financeiro"}},
					status: 200, has: []string{`"plugins":[{"slug":"boletos"`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						if got, want := menuOf(t, f, "sindico@demo.portico.test", "sindico"), []string{"boletos", "chamados", "assembleias", "documentos"}; !slices.Equal(got, want) {
							t.Errorf("síndico menu %v, want %v", got, want)
						}
						if got := menuOf(t, f, "cliente@demo.portico.test", "cliente"); slices.Contains(got, "boletos") {
							t.Errorf("cliente menu has the síndico's plugin: %v", got)
						}
					}},
				{name: "moved plugin has a new version", path: "/plugins/boletos", status: 200, has: []string{`"position":10`}, save: map[string]string{"v": "version"}},

				// Configuration, typed.
				{name: "config put", method: "PUT", path: "/plugins/boletos/config", status: 200,
					body: func(v vars) any {
						return map[string]any{"version": v["v"], "entries": []map[string]string{
							{"key": "banco", "type": "string", "value": "001"}, {"key": "limite", "type": "number", "value": " 10.50 "},
							{"key": "ativo", "type": "boolean", "value": "TRUE"}}}
					},
					has:  []string{`{"key":"ativo","type":"boolean","value":"true"`, `{"key":"banco","type":"string","value":"001"`, `{"key":"limite","type":"number","value":"10.5"`},
					save: map[string]string{"v": "version"}},
				{name: "config read back", path: "/plugins/boletos", status: 200,
					has: []string{`"config":[{"key":"ativo","type":"boolean","value":"true"`, `{"key":"limite","type":"number","value":"10.5"`}},
				{name: "config stale", method: "PUT", path: "/plugins/boletos/config",
					body: map[string]any{"version": 1, "entries": []any{}}, status: 409, code: "stale_version"},
				{name: "config without version", method: "PUT", path: "/plugins/boletos/config",
					body: map[string]any{"entries": []any{}}, status: 422, code: "version_required"},
				{name: "config bad number", method: "PUT", path: "/plugins/boletos/config",
					body: func(v vars) any {
						return map[string]any{"version": v["v"], "entries": []map[string]string{{"key": "limite", "type": "number", "value": "dez"}}}
					}, status: 422, code: "validation_failed", field: "entries[0].value"},

				// Secrets: write-only.
				{name: "secret put", by: "gestor", method: "PUT", path: "/plugins/boletos/secrets/api_token", body: map[string]any{"value": secretValue}, status: 204,
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						pl, err := f.p.Store.PluginBySlug(ctx, f.p.Demo.ID, "boletos")
						testdb.Must(t, err, "plugin")
						ct, err := f.p.Store.SecretCiphertext(ctx, f.p.Demo.ID, pl.ID, "api_token")
						testdb.Must(t, err, "ciphertext")
						if strings.Contains(string(ct), secretValue) {
							t.Errorf("secret stored in clear")
						}
					}},
				{name: "secret shown as set", path: "/plugins/boletos", status: 200,
					has: []string{`"secrets":[{"name":"api_token","updated_at":"`, `"updated_by":"gestor@demo.portico.test"`}, lacks: []string{secretValue}},
				{name: "secret rotated", method: "PUT", path: "/plugins/boletos/secrets/api_token", body: map[string]any{"value": secretValue + "2"}, status: 204},
				{name: "secret in no list", path: "/plugins", status: 200, lacks: []string{secretValue}},
				{name: "secret redacted in the audit log", path: "/audit?action=plugin.secret.set", status: 200,
					has: []string{`"value":"[redacted]"`, `"secret":"api_token"`}, lacks: []string{secretValue}},
				{name: "secret in no audit entry", path: "/audit?limit=200", status: 200, lacks: []string{secretValue}},
				{name: "secret delete", method: "DELETE", path: "/plugins/boletos/secrets/api_token", status: 204},
				{name: "secret delete again", method: "DELETE", path: "/plugins/boletos/secrets/api_token", status: 404, code: "secret_not_found"},
				{name: "secret gone", path: "/plugins/boletos", status: 200, has: []string{`"secrets":[]`}},

				// Soft delete: out of every menu, slug kept.
				{name: "create avisos", method: "POST", path: "/plugins", status: 201,
					body: map[string]any{"slug": "avisos", "name": "Avisos", "title": "Avisos", "type": "iframe", "url": "https://avisos.example.com",
						"icon": "alerta", "visible_to": "ambos", "size": "tela_cheia"},
					has: []string{`"auth_type":"none"`, `"client_id":""`, `"active":true`}, lacks: []string{"client_secret"},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						if got := menuOf(t, f, "cliente@demo.portico.test", "cliente"); !slices.Contains(got, "avisos") {
							t.Errorf("cliente menu lacks the new plugin: %v", got)
						}
					}},
				{name: "delete needs a version", method: "DELETE", path: "/plugins/avisos", status: 422, code: "version_required"},
				{name: "delete with a bad version", method: "DELETE", path: "/plugins/avisos?version=um", status: 400, code: "invalid_parameter", field: "version"},
				{name: "delete stale", method: "DELETE", path: "/plugins/avisos?version=7", status: 409, code: "stale_version"},
				{name: "delete", method: "DELETE", path: "/plugins/avisos?version=1", status: 204,
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						for _, m := range [][2]string{{"cliente@demo.portico.test", "cliente"}, {"sindico@demo.portico.test", "sindico"}} {
							if got := menuOf(t, f, m[0], m[1]); slices.Contains(got, "avisos") {
								t.Errorf("%s menu still has the deleted plugin: %v", m[0], got)
							}
						}
					}},
				{name: "deleted is gone", path: "/plugins/avisos", status: 404, code: "plugin_not_found"},
				{name: "deleted is out of the list", path: "/plugins", status: 200, lacks: []string{`"avisos"`}},
				{name: "slug stays reserved", method: "POST", path: "/plugins", status: 409, code: "slug_taken", field: "slug",
					body: map[string]any{"slug": "avisos", "name": "Avisos", "title": "Avisos", "type": "iframe", "url": "https://avisos.example.com", "icon": "alerta", "visible_to": "ambos"}},
				{name: "delete by JSON body", by: "gestor", method: "DELETE", path: "/plugins/boletos",
					body: func(v vars) any { return map[string]any{"version": v["v"]} }, status: 204},
				{name: "deleted plugin's secrets route", method: "PUT", path: "/plugins/boletos/secrets/x", body: map[string]any{"value": "x"}, status: 404, code: "plugin_not_found"},

				// Users.
				{name: "create user", by: "gestor", method: "POST", path: "/users", status: 201,
					body:  map[string]any{"email": " Nova@Demo.Portico.Test ", "name": "Nina Nova", "roles": []string{"cliente", "síndico"}, "password": "senha-forte-123", "document": "123.456.789-09"},
					has:   []string{`"email":"nova@demo.portico.test"`, `"roles":["cliente","sindico"]`, `"document":"12345678909"`, `"active":true`, `"version":1`},
					lacks: []string{"password", "hash", "senha-forte"}, save: map[string]string{"uid": "id"}},
				{name: "duplicate e-mail", method: "POST", path: "/users", body: map[string]any{"email": "nova@demo.portico.test", "name": "Outra", "roles": []string{"cliente"}},
					status: 409, code: "email_taken", field: "email"},
				{name: "search", path: "/users?q=NINA", status: 200, has: []string{`"id":"{uid}"`}, lacks: []string{"gestor@demo", "password", "hash"}},
				{name: "search by document", path: "/users?q=1234567", status: 200, has: []string{`"id":"{uid}"`}},
				{name: "search nothing", path: "/users?q=ninguem-aqui", status: 200, has: []string{`"users":[]`}},
				{name: "page", path: "/users?limit=2&offset=1", status: 200, has: []string{`"limit":2`, `"offset":1`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var m struct{ Users []any }
						r.JSON(t, &m)
						if len(m.Users) != 2 {
							t.Errorf("page of %d users, want 2", len(m.Users))
						}
					}},
				{name: "bad limit", path: "/users?limit=9999", status: 400, code: "invalid_parameter", field: "limit"},
				{name: "get user", path: "/users/{uid}", status: 200, has: []string{`"name":"Nina Nova"`}, lacks: []string{"password"},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						// A session of the new user, to be ended by deactivation below.
						c := f.p.NewClient(t, "")
						c.Login("nova@demo.portico.test", "senha-forte-123")
						if r := c.Do("GET", "/api/v1/me", nil); r.Status != 200 {
							t.Fatalf("new user: %d %s", r.Status, r.Body)
						}
						v["nova_client"] = c
					}},
				{name: "unknown user", path: "/users/0190f0f0-0000-7000-8000-000000000000", status: 404, code: "user_not_found"},
				{name: "hostile id", path: "/users/" + strings.Repeat("a", 65), status: 404, code: "user_not_found"},
				{name: "patch user", method: "PATCH", path: "/users/{uid}", body: func(v vars) any { return map[string]any{"version": 1, "phone": "(11) 98765-4321"} },
					status: 200, has: []string{`"changed":["phone"]`, `"phone":"11987654321"`, `"name":"Nina Nova"`, `"version":2`}},
				{name: "password not by patch", method: "PATCH", path: "/users/{uid}", body: map[string]any{"version": 2, "password": "outra-senha-123"},
					status: 422, code: "validation_failed", field: "password"},
				{name: "deactivate ends sessions", method: "PATCH", path: "/users/{uid}",
					body: map[string]any{"version": 2, "active": false}, status: 200, has: []string{`"changed":["active"]`, `"active":false`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						// The session opened before (see below) died with the change.
						c := v["nova_client"].(*servertest.Client)
						if r := c.Do("GET", "/api/v1/me", nil); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
							t.Errorf("deactivated user's session: %d %s", r.Status, r.Body)
						}
					}},
				{name: "reset link", method: "POST", path: "/users/{uid}/reset-link", status: 201, has: []string{`"path":"/reset/`, `"expires_in_seconds":86400`}},

				// API keys.
				{name: "create key", by: "gestor", method: "POST", path: "/api-keys", body: map[string]any{"name": "ERP Financeiro", "scopes": []string{"admin"}},
					status: 201, has: []string{`"key":"pk_`, `"scopes":["admin"]`, `"created_by":"gestor@demo.portico.test"`, `"revoked_at":null`},
					lacks: []string{"hash"}, save: map[string]string{"new_key": "key", "kid": "id"}},
				{name: "list keys", path: "/api-keys", status: 200, has: []string{`"name":"ERP Financeiro"`, `"id":"{kid}"`, `"prefix":"pk_`},
					lacks: []string{"{new_key}", "hash", `"key":`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						c := f.keyClient(t, "", v["new_key"].(string))
						if r := c.Do("GET", adminPrefix+"/tenant", nil); r.Status != 200 {
							t.Fatalf("new key does not work: %d %s", r.Status, r.Body)
						}
						v["new_key_client"] = c
					}},
				{name: "bad scope", method: "POST", path: "/api-keys", body: map[string]any{"name": "x", "scopes": []string{"root"}}, status: 422, code: "validation_failed", field: "scopes"},
				{name: "revoke", method: "DELETE", path: "/api-keys/{kid}", status: 204,
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						c := v["new_key_client"].(*servertest.Client)
						if r := c.Do("GET", adminPrefix+"/tenant", nil); r.Status != 401 || r.ErrorCode() != "invalid_api_key" {
							t.Errorf("revoked key: %d %s", r.Status, r.Body)
						}
					}},
				{name: "revoke again", method: "DELETE", path: "/api-keys/{kid}", status: 409, code: "already_revoked"},
				{name: "revoke unknown", method: "DELETE", path: "/api-keys/nao-existe", status: 404, code: "api_key_not_found"},
				{name: "revoked key listed", path: "/api-keys", status: 200, lacks: []string{`"revoked_at":null,"key"`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var m struct {
							APIKeys []struct {
								ID        string  `json:"id"`
								RevokedAt *string `json:"revoked_at"`
								Active    bool    `json:"active"`
							} `json:"api_keys"`
						}
						r.JSON(t, &m)
						for _, k := range m.APIKeys {
							if k.ID == v["kid"] && (k.RevokedAt == nil || k.Active) {
								t.Errorf("revoked key listed as %+v", k)
							}
						}
					}},

				// Tenant settings.
				{name: "tenant", path: "/tenant", status: 200, has: []string{`"slug":"construtora-exemplo"`, `"hostnames":["127.0.0.1","localhost"]`}, save: map[string]string{"tv": "version"}},
				{name: "patch tenant", by: "gestor", method: "PATCH", path: "/tenant",
					body: func(v vars) any {
						return map[string]any{"version": v["tv"], "brand_name": "Construtora Nova", "primary_color": "#112233"}
					},
					status: 200, has: []string{`"changed":["brand_name","primary_color"]`, `"name":"Construtora Exemplo"`, `"hostnames":["127.0.0.1","localhost"]`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						if r := f.p.NewClient(t, "").Do("GET", "/theme.css", nil); !strings.Contains(string(r.Body), "#112233") {
							t.Errorf("the portal theme does not follow: %.300s", r.Body)
						}
					}},
				{name: "tenant stale", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"], "name": "X"} },
					status: 409, code: "stale_version"},
				{name: "tenant bad colour", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"].(int64) + 1, "primary_color": "red"} },
					status: 422, code: "validation_failed", field: "primary_color"},

				// The portal-session settings: a partial update, read back,
				// out-of-range minutes and a return URL on an origin that is
				// not allowed refused with the field named.
				{name: "tenant portal-session defaults", path: "/tenant", status: 200,
					has:  []string{`"portal_session_minutes":60`, `"portal_link_minutes":30`, `"portal_link_email_login":false`, `"default_return_url":""`},
					save: map[string]string{"tv": "version"}},
				{name: "patch portal-session settings", method: "PATCH", path: "/tenant",
					body: func(v vars) any {
						return map[string]any{"version": v["tv"], "allowed_origins": []string{"https://www.exemplo.com.br"}, "portal_link_minutes": 15,
							"portal_link_email_login": true, "default_return_url": " https://WWW.exemplo.com.br/minha-conta "}
					},
					status: 200, has: []string{`"changed":["allowed_origins","portal_link_minutes","portal_link_email_login","default_return_url"]`,
						`"portal_link_minutes":15`, `"portal_link_email_login":true`, `"default_return_url":"https://www.exemplo.com.br/minha-conta"`,
						`"portal_session_minutes":60`, `"brand_name":"Construtora Nova"`}},
				{name: "tenant portal-session settings read back", path: "/tenant", status: 200,
					has: []string{`"allowed_origins":["https://www.exemplo.com.br"]`, `"portal_link_minutes":15`, `"portal_link_email_login":true`,
						`"default_return_url":"https://www.exemplo.com.br/minha-conta"`},
					save: map[string]string{"tv": "version"}},
				{name: "tenant link minutes 0", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"], "portal_link_minutes": 0} },
					status: 422, code: "validation_failed", field: "portal_link_minutes"},
				{name: "tenant link minutes 61", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"], "portal_link_minutes": 61} },
					status: 422, code: "validation_failed", field: "portal_link_minutes"},
				{name: "tenant session minutes 0", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"], "portal_session_minutes": 0} },
					status: 422, code: "validation_failed", field: "portal_session_minutes"},
				{name: "tenant colour blank", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"], "primary_color": ""} },
					status: 422, code: "validation_failed", field: "primary_color"},
				{name: "tenant language blank", method: "PATCH", path: "/tenant", body: func(v vars) any { return map[string]any{"version": v["tv"], "default_locale": " "} },
					status: 422, code: "validation_failed", field: "default_locale"},
				{name: "tenant return url elsewhere", method: "PATCH", path: "/tenant",
					body: func(v vars) any {
						return map[string]any{"version": v["tv"], "default_return_url": "https://outro.example.com/conta"}
					},
					status: 422, code: "validation_failed", field: "default_return_url"},
				{name: "tenant return url off an origin being removed", method: "PATCH", path: "/tenant",
					body: func(v vars) any {
						return map[string]any{"version": v["tv"], "allowed_origins": []string{"https://app.exemplo.com.br"}}
					},
					status: 422, code: "validation_failed", field: "default_return_url"},
				{name: "tenant unchanged by the refusals", path: "/tenant", status: 200,
					has: []string{`"version":{tv}`, `"portal_link_minutes":15`, `"portal_session_minutes":60`, `"default_return_url":"https://www.exemplo.com.br/minha-conta"`}},
				{name: "clear the default return url", by: "gestor", method: "PATCH", path: "/tenant",
					body: func(v vars) any {
						return map[string]any{"version": v["tv"], "default_return_url": "", "portal_link_minutes": 15, "portal_link_email_login": false}
					},
					status: 200, has: []string{`"changed":["portal_link_email_login","default_return_url"]`, `"default_return_url":""`, `"portal_link_email_login":false`}},
				{name: "audit of the portal-session settings", path: "/audit?action=tenant.update&limit=2", status: 200,
					has: []string{`"portal_link_minutes":30`, `"portal_link_minutes":15`, `"portal_link_email_login":true`, `"portal_link_email_login":false`,
						`"default_return_url":"https://www.exemplo.com.br/minha-conta"`, `"default_return_url":""`}},

				// Audit.
				{name: "audit by action", path: "/audit?action=plugin.create", status: 200,
					has: []string{`"target_id":"boletos"`, `"target_id":"avisos"`, `"actor_type":"api_key"`, `"actor_label":"test admin"`, `"before":null`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var m struct {
							Entries []struct {
								Action     string
								ActorType  string `json:"actor_type"`
								ActorLabel string `json:"actor_label"`
							}
						}
						r.JSON(t, &m)
						// Two by the test's key, and the demo seed's, by the
						// system actor "demo".
						byKey := 0
						for _, e := range m.Entries {
							if e.Action != "plugin.create" {
								t.Errorf("filter let %q through", e.Action)
							}
							switch {
							case e.ActorType == "api_key":
								byKey++
							case e.ActorType != "system" || e.ActorLabel != "demo":
								t.Errorf("plugin.create by %s %q", e.ActorType, e.ActorLabel)
							}
						}
						if byKey != 2 {
							t.Errorf("%d plugin.create entries by the key, want 2", byKey)
						}
					}},
				{name: "audit of a tenant change by a gestor", path: "/audit?action=tenant.update", status: 200,
					has: []string{`"actor_label":"gestor@demo.portico.test"`, `"ip":"127.0.0.1"`, `"brand_name":"Construtora Nova"`, `"brand_name":"Construtora Exemplo"`}},
				{name: "audit by target", path: "/audit?target_type=user&target_id={uid}", status: 200, has: []string{`"action":"user.create"`, `"action":"user.update"`},
					lacks: []string{"password_hash", "senha-forte"}},
				{name: "audit newest first, paged", path: "/audit?limit=2", status: 200, has: []string{`"next_before":"`},
					check: func(t *testing.T, f *fixture, r *servertest.Response, v vars) {
						var m struct {
							Entries []struct {
								ID     string
								Action string
							}
							NextBefore string `json:"next_before"`
						}
						r.JSON(t, &m)
						if len(m.Entries) != 2 || m.Entries[0].Action != "tenant.update" || m.NextBefore != m.Entries[1].ID {
							t.Fatalf("first page %+v", m)
						}
						r2 := f.byKey.Do("GET", adminPrefix+"/audit?limit=1&before="+m.NextBefore, nil)
						var m2 struct{ Entries []struct{ ID string } }
						r2.JSON(t, &m2)
						if len(m2.Entries) != 1 || m2.Entries[0].ID >= m.NextBefore {
							t.Errorf("next page %s", r2.Body)
						}
					}},
				{name: "audit since the future", path: "/audit?since=2999-01-01T00:00:00Z", status: 200, has: []string{`"entries":[]`}},
				{name: "audit until the past", path: "/audit?until=2000-01-01T00:00:00Z", status: 200, has: []string{`"entries":[]`}},
				{name: "audit bad since", path: "/audit?since=ontem", status: 400, code: "invalid_parameter", field: "since"},
				{name: "audit bad limit", path: "/audit?limit=0", status: 400, code: "invalid_parameter", field: "limit"},
			}, v)
		})
	}
}
