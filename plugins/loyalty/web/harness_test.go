package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/imports"
	"github.com/portico-dev/portico/plugins/loyalty/store"
	"github.com/portico-dev/portico/plugins/loyalty/web"
)

// fakePortal is the portal side of a launch: a JWKS and an exchange that
// answers each token once with the user it was minted for. The real
// portal is exercised end to end in host/server/loyalty_browser_test.go.
type fakePortal struct {
	srv   *httptest.Server
	key   jwk.Key
	mu    sync.Mutex
	users map[string]launchkit.User // by token
	n     atomic.Int64
}

const (
	clientID     = "pc_loyalty"
	clientSecret = "pcs_loyalty"
)

func newFakePortal(t *testing.T) *fakePortal {
	t.Helper()
	_, raw, err := ed25519.GenerateKey(rand.Reader)
	testdb.Must(t, err, "key")
	priv, err := jwk.Import(raw)
	testdb.Must(t, err, "import key")
	_ = priv.Set(jwk.KeyIDKey, "k1")
	_ = priv.Set(jwk.AlgorithmKey, jwa.EdDSA())
	pub, err := priv.PublicKey()
	testdb.Must(t, err, "public key")
	p := &fakePortal{key: priv, users: map[string]launchkit.User{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/jwks.json":
			set := jwk.NewSet()
			_ = set.AddKey(pub)
			_ = json.NewEncoder(w).Encode(set)
		case "/api/v1/launch/exchange":
			id, secret, _ := r.BasicAuth()
			var body struct{ Token string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			p.mu.Lock()
			u, ok := p.users[body.Token]
			delete(p.users, body.Token)
			p.mu.Unlock()
			code := ""
			switch {
			case id != clientID || secret != clientSecret:
				code = "invalid_client"
			case !ok:
				code = "token_used"
			}
			if code != "" {
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": code}})
				return
			}
			_ = json.NewEncoder(w).Encode(u)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// token mints a launch token for u, which the exchange answers once.
func (p *fakePortal) token(t *testing.T, u launchkit.User) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(p.srv.URL).Audience([]string{clientID}).Subject(u.ID).
		IssuedAt(now).NotBefore(now).Expiration(now.Add(time.Minute)).JwtID(fmt.Sprintf("j%d-%d", p.n.Add(1), now.UnixNano())).
		Claim("portico", map[string]string{"tenant": "t", "plugin": "pontos", "role": u.Role, "locale": u.Locale}).Build()
	testdb.Must(t, err, "build token")
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), p.key))
	testdb.Must(t, err, "sign token")
	p.mu.Lock()
	p.users[string(signed)] = u
	p.mu.Unlock()
	return string(signed)
}

// harness is the web handler on a real database of one driver, served on
// 127.0.0.1, and a fake portal.
type harness struct {
	t      *testing.T
	st     *store.Store
	portal *fakePortal
	h      *web.Handler
	srv    *httptest.Server
	hc     *http.Client
	imp    *imports.Service
}

type options struct {
	maxUpload int64
}

func newHarness(t *testing.T, driver string, o options) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := store.Open(ctx, testdb.URL(t, driver), store.Options{Logger: testdb.Logger(t)})
	testdb.Must(t, err, "open store")
	t.Cleanup(func() { _ = st.Close() })
	portal := newFakePortal(t)
	lc, err := launchkit.NewClient(ctx, launchkit.ClientConfig{PortalOrigin: portal.srv.URL,
		Credentials: launchkit.Credentials{ClientID: clientID, ClientSecret: clientSecret}})
	testdb.Must(t, err, "launch client")
	imp := imports.New(imports.Options{Store: st, Log: testdb.Logger(t)})
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		_ = imp.Close(cctx)
	})
	h, err := web.New(web.Options{Store: st, Launch: lc, Imports: imp, Log: testdb.Logger(t), MaxUpload: o.maxUpload})
	testdb.Must(t, err, "web handler")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &harness{t: t, st: st, portal: portal, h: h, srv: srv, imp: imp,
		hc: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func forEachDriver(t *testing.T, f func(t *testing.T, driver string)) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// response is a read answer.
type response struct {
	Status int
	Header http.Header
	Body   string
}

func (h *harness) do(req *http.Request) response {
	h.t.Helper()
	res, err := h.hc.Do(req)
	testdb.Must(h.t, err, "%s %s", req.Method, req.URL)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	testdb.Must(h.t, err, "read %s", req.URL)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (h *harness) get(path string) response {
	h.t.Helper()
	req, err := http.NewRequest("GET", h.srv.URL+path, nil)
	testdb.Must(h.t, err, "request")
	return h.do(req)
}

// post sends a form as the app's own page would (same-origin).
//
// A form without a "once" field gets a fresh one-time token, as the pages'
// forms carry (each post a new movement); a test of the token sets it.
func (h *harness) post(path string, form url.Values, header ...string) response {
	h.t.Helper()
	if _, ok := form["once"]; !ok {
		form = maps.Clone(form)
		form.Set("once", freshOnce())
	}
	req, err := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	testdb.Must(h.t, err, "request")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return h.do(req)
}

// launch opens the plugin as u (the launch page's cross-site form post) and
// returns the session's base path, /s/{id}.
func (h *harness) launch(u launchkit.User) string {
	h.t.Helper()
	res := h.launchRaw(u)
	loc := res.Header.Get("Location")
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/s/") {
		h.t.Fatalf("launch as %s: %d %q %.500s", u.ID, res.Status, loc, res.Body)
	}
	return strings.TrimSuffix(loc, "/")
}

func (h *harness) launchRaw(u launchkit.User) response {
	h.t.Helper()
	form := url.Values{"portico_token": {h.portal.token(h.t, u)}}
	req, err := http.NewRequest("POST", h.srv.URL+"/launch", strings.NewReader(form.Encode()))
	testdb.Must(h.t, err, "request")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.portal.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return h.do(req)
}

func str(s string) *string { return &s }

// cliente and gestor are launching users.
func cliente(id, name, email, doc string) launchkit.User {
	u := launchkit.User{ID: id, Role: "cliente", Locale: "pt-BR", Tenant: "t"}
	if name != "" {
		u.Name = str(name)
	}
	u.Email, u.Document = str(email), str(doc)
	return u
}

func gestor() launchkit.User {
	return launchkit.User{ID: "sub-gestor", Name: str("Gabriela Gestora"), Email: str("gestor@demo.portico.test"), Role: "gestor", Locale: "pt-BR", Tenant: "t"}
}

var tagRe = regexp.MustCompile(`<[^>]+>`)

// text is a page's text without tags, spaces collapsed.
func text(body string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(body, " "))), " ")
}

// idOf returns the text inside the element with id (its first tag's
// content up to the next tag).
func idOf(body, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func mustContain(t *testing.T, what string, r response, status int, wants ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %.800s", what, r.Status, status, text(r.Body))
	}
	txt := text(r.Body)
	for _, w := range wants {
		if !strings.Contains(txt, w) && !strings.Contains(r.Body, w) {
			t.Errorf("%s: no %q in %.1500s", what, w, txt)
		}
	}
}

// freshOnce returns a new one-time form token, as the pages write them.
func freshOnce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
