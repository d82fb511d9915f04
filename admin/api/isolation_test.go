package api_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

var routeParamRe = regexp.MustCompile(`:([a-zA-Z_]+)\??|\*`)

// fill expands a route pattern with every combination of values for its
// parameters; it fails the test for a parameter it has no values for.
func fill(t *testing.T, pattern string, values map[string][]string) []map[string]string {
	t.Helper()
	out := []map[string]string{{}}
	for _, m := range routeParamRe.FindAllStringSubmatch(pattern, -1) {
		name := m[1]
		if m[0] == "*" {
			name = "*"
		}
		vs, ok := values[name]
		if !ok {
			t.Fatalf("route %s has parameter %q this test does not know: give it the other tenant's values", pattern, name)
		}
		var next []map[string]string
		for _, partial := range out {
			for _, v := range vs {
				c := map[string]string{name: v}
				for k, x := range partial {
					c[k] = x
				}
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

func expandRoute(pattern string, params map[string]string) string {
	return routeParamRe.ReplaceAllStringFunc(pattern, func(m string) string {
		if m == "*" {
			return params["*"]
		}
		return params[strings.TrimSuffix(m[1:], "?")]
	})
}

// TestAdminAPITenantIsolation walks every admin route with the second
// tenant's plugin slugs, user IDs, API key IDs and secret names as path
// parameters, as the demo tenant's admin key and as the demo gestor's
// session (with its CSRF header). Every request that names a foreign object
// is 404 with a body that would make it succeed in its own tenant, no answer
// carries the other tenant's data, and neither tenant's state (plugins,
// configuration, secrets, users, keys, settings, audit log) changed. A
// route added later is walked too; one with a parameter this test does not
// know fails it until the table learns it.
func TestAdminAPITenantIsolation(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := start(t, driver)
			ctx := context.Background()
			other := f.p.Other
			system := model.Actor{Type: "system", Label: "test"}

			// Give the other tenant one of everything the admin API names.
			_, otherKey := f.newKey(t, other.ID, model.ScopeAdmin)
			const otherSecret = "token_outra"
			testdb.Must(t, f.svc.PutSecret(ctx, other.ID, f.p.OtherPlugins[0], otherSecret, "segredo-da-outra-999", system), "other secret")
			one := int64(1)
			testdb.Must(t, f.svc.ReplaceConfig(ctx, other.ID, f.p.OtherPlugins[1], &one,
				[]service.ConfigEntry{{Key: "chave_outra", Type: model.ConfigString, Value: "valor-da-outra"}}, system), "other config")
			// A wasm plugin of the other tenant with stored data, keys a
			// URL could mistake included.
			otherWasm := &model.Plugin{Slug: "dados-outra", Name: "Dados da outra", Title: "Dados", Type: model.PluginWasm, Icon: "alerta",
				Active: true, ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleAmbos, AuthType: model.AuthNone}
			testdb.Must(t, f.p.Store.CreatePlugin(ctx, other.ID, otherWasm, system), "other wasm plugin")
			otherKeys := []string{"cliente-da-outra:olga", "a/b", "visitas"}
			for _, k := range otherKeys {
				testdb.Must(t, f.p.Store.KVSet(ctx, other.ID, otherWasm.ID, k, []byte("valor-kv-da-outra")), "other kv %q", k)
			}
			otherSlugs := append(append([]string{}, f.p.OtherPlugins...), otherWasm.Slug)
			users, err := f.p.Store.Users(ctx, other.ID, "", 100, 0)
			testdb.Must(t, err, "other users")
			var userIDs []string
			for _, u := range users {
				userIDs = append(userIDs, u.ID)
			}
			versionOf := func(slug string) int64 {
				p, err := f.p.Store.PluginBySlug(ctx, other.ID, slug)
				testdb.Must(t, err, "other plugin")
				return p.Version
			}
			// What must never appear in an answer on the demo host.
			leaks := []string{other.ID, other.Slug, "Outra Incorporadora", "Olga Outra", "Otto Outro", "Homônimo Outro",
				"outra.test", "#aa3300", "valor-da-outra", "chave_outra", "segredo-da-outra", otherSecret, otherKey.ID, otherKey.Prefix}
			leaks = append(leaks, userIDs...)
			leaks = append(leaks, "cliente-da-outra", "valor-kv-da-outra")
			for _, s := range otherSlugs {
				p, err := f.p.Store.PluginBySlug(ctx, other.ID, s)
				testdb.Must(t, err, "other plugin")
				leaks = append(leaks, s, p.ID)
			}
			values := map[string][]string{
				"slug": otherSlugs,
				"key":  {url.PathEscape(otherKeys[0]), url.PathEscape(otherKeys[1])},
				"id":   append(append([]string{}, userIDs...), otherKey.ID),
				"name": {otherSecret},
				"*":    append([]string{"plugins/" + f.p.OtherPlugins[0] + "/x"}, f.p.OtherPlugins...),
			}
			// Bodies that would succeed against the object in its own tenant.
			bodies := map[string]func(params map[string]string) []variant{
				"PATCH /plugins/:slug": func(p map[string]string) []variant {
					return variants("", map[string]any{"version": versionOf(p["slug"]), "title": "Invadido", "active": false})
				},
				"DELETE /plugins/:slug": func(p map[string]string) []variant {
					v := versionOf(p["slug"])
					return append(variants(fmt.Sprintf("?version=%d", v), nil), variants("", map[string]any{"version": v})...)
				},
				"PUT /plugins/:slug/config": func(p map[string]string) []variant {
					return variants("", map[string]any{"version": versionOf(p["slug"]), "entries": []map[string]string{{"key": "invadido", "type": "string", "value": "x"}}})
				},
				"PUT /plugins/:slug/secrets/:name": func(map[string]string) []variant {
					return variants("", map[string]any{"value": "invadido"})
				},
				"PATCH /users/:id": func(map[string]string) []variant {
					return variants("", map[string]any{"version": 1, "active": false, "name": "Invadido", "roles": []string{"gestor"}})
				},
				"DELETE /plugins/:slug/data": func(map[string]string) []variant {
					return append(variants("?confirm=true", nil), variants("", map[string]any{"confirm": true})...)
				},
				"GET /plugins/:slug/data": func(map[string]string) []variant {
					return append(variants("", nil), variants("?prefix=cliente", nil)...)
				},
				"PUT /plugins/order": func(map[string]string) []variant {
					return variants("", map[string]any{"slugs": f.p.OtherPlugins})
				},
				"GET /audit": func(map[string]string) []variant {
					return append(variants("", nil), variants("?target_id="+f.p.OtherPlugins[0], nil)...)
				},
				"GET /users": func(map[string]string) []variant {
					return append(variants("?q=Olga", nil), variants("?q=outra.test", nil)...)
				},
			}
			for _, id := range userIDs {
				prev := bodies["GET /audit"]
				bodies["GET /audit"] = func(p map[string]string) []variant {
					return append(prev(p), variants("?actor_id="+id, nil)...)
				}
			}

			otherBefore := admintest.State(t, f.p, other.ID)
			demoBefore := admintest.State(t, f.p, f.p.Demo.ID)
			callers := []struct {
				name string
				c    *servertest.Client
			}{{"admin key", f.byKey}, {"gestor session", f.gestor}}
			requests := 0
			for _, rt := range adminRoutes(t, f.p) {
				method, pattern := rt[0], rt[1]
				rel := strings.TrimPrefix(pattern, adminPrefix)
				named := routeParamRe.MatchString(pattern)
				for _, params := range fill(t, pattern, values) {
					vs := variants("", nil)
					if mk, ok := bodies[method+" "+rel]; ok {
						vs = mk(params)
					} else if method != "GET" && method != "DELETE" {
						vs = variants("", map[string]any{})
					}
					for _, vr := range vs {
						path := expandRoute(pattern, params) + vr.query
						for _, cl := range callers {
							r := cl.c.Do(method, path, vr.body)
							requests++
							where := fmt.Sprintf("%s %s as %s", method, path, cl.name)
							for _, s := range leaks {
								if strings.Contains(string(r.Body), s) {
									t.Fatalf("%s leaked %q of the other tenant (status %d): %.300s", where, s, r.Status, r.Body)
								}
							}
							if named {
								if r.Status != 404 || r.ErrorCode() == "" {
									t.Errorf("%s names the other tenant's object: status %d, want 404: %.300s", where, r.Status, r.Body)
								}
								continue
							}
							if r.Status >= 500 {
								t.Errorf("%s: status %d: %.300s", where, r.Status, r.Body)
							}
							if method == "GET" && vr.query != "" && r.Status == 200 && !strings.Contains(string(r.Body), "[]") {
								t.Errorf("%s found something for the other tenant's identifier: %.300s", where, r.Body)
							}
						}
					}
				}
			}
			// Credentials of one tenant mean nothing on the other's host.
			if r := f.keyClient(t, servertest.OtherHost, f.key).Do("GET", adminPrefix+"/plugins", nil); r.Status != 401 || r.ErrorCode() != "invalid_api_key" {
				t.Errorf("demo key on the other host: %d %s", r.Status, r.Body)
			}
			x := f.p.NewClient(t, servertest.OtherHost)
			x.Header = f.gestor.Header.Clone()
			for _, ck := range f.gestor.HTTP.Jar.Cookies(mustURL(t, f.p.URL)) {
				x.Header.Add("Cookie", ck.Name+"="+ck.Value)
			}
			if r := x.Do("GET", adminPrefix+"/plugins", nil); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
				t.Errorf("demo gestor cookie on the other host: %d %s", r.Status, r.Body)
			}
			if after := admintest.State(t, f.p, other.ID); after != otherBefore {
				t.Fatalf("the other tenant changed:\nbefore:\n%s\nafter:\n%s", otherBefore, after)
			}
			if after := admintest.State(t, f.p, f.p.Demo.ID); after != demoBefore {
				t.Fatalf("the demo tenant changed:\nbefore:\n%s\nafter:\n%s", demoBefore, after)
			}
			if requests < 60 {
				t.Fatalf("only %d requests: the walk proves little", requests)
			}
			t.Logf("%d requests", requests)
		})
	}
}

// variant is one way to call a route: a query string and a JSON body.
type variant struct {
	query string
	body  any
}

func variants(query string, body any) []variant { return []variant{{query, body}} }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	testdb.Must(t, err, "parse url")
	return u
}
