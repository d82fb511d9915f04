package server_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

var paramRe = regexp.MustCompile(`:[a-zA-Z_]+\??|\*`)

// TestTenantIsolationOverEveryRoute walks every route the app registers,
// fills each parameter with the second tenant's identifiers (ids, slugs,
// names), and calls it as each demo account on the demo host, plus with a
// demo session cookie sent to the second tenant's host. No response may
// carry anything of the second tenant beyond the guess it was sent and its data must be unchanged. A
// route added later is covered automatically.
func TestTenantIsolationOverEveryRoute(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			p := servertest.Start(t, driver)
			ctx := context.Background()
			other := p.Other
			otherUsers := []string{}
			for _, e := range []string{"cliente@outra.test", "gestor@outra.test", "cliente@demo.portico.test"} {
				u, err := p.Store.UserByEmail(ctx, other.ID, e)
				testdb.Must(t, err, "load other user")
				otherUsers = append(otherUsers, u.ID)
			}
			otherPluginIDs := []string{}
			for _, s := range p.OtherPlugins {
				pl, err := p.Store.PluginBySlug(ctx, other.ID, s)
				testdb.Must(t, err, "load other plugin")
				otherPluginIDs = append(otherPluginIDs, pl.ID)
			}
			// What must never appear in an answer to the demo tenant.
			secrets := append([]string{other.ID, "Outra Incorporadora", "Olga Outra", "Otto Outro", "Homônimo Outro", "apps.outra.test", "#aa3300"},
				append(otherUsers, otherPluginIDs...)...)
			secrets = append(secrets, p.OtherPlugins...)
			guesses := append(append([]string{other.Slug, other.ID}, p.OtherPlugins...), append(otherUsers, otherPluginIDs...)...)

			before := snapshot(t, p)
			routes := p.Server.App.GetRoutes(true)
			if len(routes) < 10 {
				t.Fatalf("only %d routes registered; the walk would prove nothing", len(routes))
			}
			accounts := []string{"cliente@demo.portico.test", "sindico@demo.portico.test", "gestor@demo.portico.test", "ambos@demo.portico.test"}
			requests := 0
			for _, as := range accounts {
				c := p.NewClient(t, "")
				token := ""
				// login (re)establishes the session, e.g. after the walk hit
				// POST /logout, so every route is tried logged in.
				login := func() {
					c.Login(as, demo.Password)
					// A logged-in page carries the session's CSRF token, so the
					// walk's form posts pass the CSRF check and reach handlers.
					for _, page := range []string{"/", "/gestor"} {
						if m := csrfRe.FindSubmatch(c.Do("GET", page, nil).Body); m != nil {
							token = string(m[1])
							break
						}
					}
					if token == "" {
						t.Fatalf("no CSRF token for %s", as)
					}
				}
				login()
				for _, rt := range routes {
					if rt.Method == "HEAD" || rt.Method == "CONNECT" || rt.Method == "TRACE" {
						continue
					}
					// Logging in is not scoped by guessed IDs, and hundreds of
					// failed logins would trip the per-IP throttle for the rest
					// of the walk; TestLoginRateLimit and the scenarios cover it.
					if rt.Method == "POST" && (rt.Path == "/login" || rt.Path == "/api/v1/session") {
						continue
					}
					for _, g := range guesses {
						path := paramRe.ReplaceAllString(rt.Path, url.PathEscape(g))
						for _, q := range []string{"", "?panel=gestor&next=/p/" + url.QueryEscape(g)} {
							var body any
							if rt.Method != "GET" {
								body = url.Values{"_csrf": {token}, "slug": {g}, "id": {g}, "role": {"sindico"}, "locale": {"es"}}
							}
							if liveSessionCookie(t, p, c) == "" {
								login()
								if body != nil {
									body.(url.Values)["_csrf"] = []string{token}
								}
							}
							r := c.Do(rt.Method, path+q, body, "X-CSRF-Token", token)
							requests++
							for _, s := range secrets {
								// The guess itself may be echoed back (e.g. the
								// path in a form); everything else is a leak.
								if s == g {
									continue
								}
								if strings.Contains(string(r.Body), s) {
									t.Fatalf("%s %s%s as %s leaked %q of the other tenant (status %d): %.300s", rt.Method, path, q, as, s, r.Status, r.Body)
								}
							}
						}
					}
				}
				// The demo session cookie means nothing on the other tenant's host.
				login()
				cookie := liveSessionCookie(t, p, c)
				x := p.NewClient(t, servertest.OtherHost)
				for _, path := range []string{"/api/v1/me", "/api/v1/me/menu", "/api/v1/me/menu?panel=gestor"} {
					if r := x.Do("GET", path, nil, "Cookie", "portico_session="+cookie); r.Status != 401 {
						t.Fatalf("demo cookie on the other tenant's host: %s → %d %s", path, r.Status, r.Body)
					}
				}
				for _, slug := range p.OtherPlugins {
					if r := x.Do("GET", "/p/"+slug, nil, "Cookie", "portico_session="+cookie); r.Status != 303 {
						t.Fatalf("demo cookie opened the other tenant's plugin %s: %d", slug, r.Status)
					}
				}
			}
			if after := snapshot(t, p); after != before {
				t.Fatalf("the other tenant's data changed:\nbefore %s\nafter  %s", before, after)
			}
			t.Logf("%d requests over %d routes", requests, len(routes))
		})
	}
}

func snapshot(t *testing.T, p *servertest.Portal) string {
	t.Helper()
	ctx := context.Background()
	ps, err := p.Store.Plugins(ctx, p.Other.ID)
	testdb.Must(t, err, "plugins")
	var b strings.Builder
	for _, pl := range ps {
		fmt.Fprintf(&b, "%s/%s/%v/%d/%d;", pl.Slug, pl.Title, pl.Active, pl.Position, pl.Version)
	}
	for _, e := range []string{"cliente@outra.test", "gestor@outra.test", "cliente@demo.portico.test"} {
		u, err := p.Store.UserByEmail(ctx, p.Other.ID, e)
		testdb.Must(t, err, "user")
		fmt.Fprintf(&b, "%s/%s/%s/%v/%d;", u.Email, u.Name, u.Locale, u.Active, u.Version)
	}
	tn, err := p.Store.TenantByID(ctx, p.Other.ID)
	testdb.Must(t, err, "tenant")
	fmt.Fprintf(&b, "%s/%s/%v", tn.Name, tn.PrimaryColor, tn.Hostnames)
	return b.String()
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	testdb.Must(t, err, "parse url")
	return u
}

func liveSessionCookie(t *testing.T, p *servertest.Portal, c *servertest.Client) string {
	t.Helper()
	for _, ck := range c.HTTP.Jar.Cookies(mustURL(t, p.URL)) {
		if ck.Name == "portico_session" {
			return ck.Value
		}
	}
	return ""
}
