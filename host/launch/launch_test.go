package launch_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hostlaunch "github.com/portico-dev/portico/host/launch"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

var b64 = base64.RawURLEncoding

// creds gives a demo plugin client credentials and the given profile
// fields, and returns its client id and secret.
func creds(t testing.TB, p *servertest.Portal, tenantID, slug string, fields ...string) (string, string) {
	t.Helper()
	ctx := context.Background()
	cur, err := p.Store.PluginBySlug(ctx, tenantID, slug)
	testdb.Must(t, err, "plugin %s", slug)
	id, sec := "pc_"+strings.ToLower(auth.NewToken()[:20]), "pcs_"+auth.NewToken()
	_, err = p.Store.UpdatePlugin(ctx, tenantID, slug, cur.Version, model.Actor{Type: "system", Label: "test"}, "plugin.update",
		func(pl *model.Plugin) error {
			pl.ClientID, pl.ClientSecretHash, pl.UserFields = id, auth.HashToken(sec), fields
			return nil
		})
	testdb.Must(t, err, "give %s credentials", slug)
	return id, sec
}

// signer is a signing key the test holds.
type signer struct {
	kid  string
	priv ed25519.PrivateKey
}

// insertKey stores a key for tenantID activating at act, sealed with the
// server's own box, and returns it.
func insertKey(t testing.TB, p *servertest.Portal, box *secret.Box, tenantID string, act time.Time) signer {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	kid := launch.Thumbprint(pub)
	sealed, err := box.Seal(tenantID, launch.SealSlot, kid, priv.Seed())
	testdb.Must(t, err, "seal")
	testdb.Must(t, p.Store.CreateSigningKey(context.Background(), tenantID,
		&storage.SigningKey{KID: kid, Algorithm: "EdDSA", PublicKey: pub, PrivateKeySealed: sealed, ActivatesAt: act}, nil), "insert key")
	return signer{kid, priv}
}

// openKey unseals a key the server created.
func openKey(t testing.TB, p *servertest.Portal, box *secret.Box, tenantID string) signer {
	t.Helper()
	rows, err := p.Store.SigningKeys(context.Background(), tenantID)
	testdb.Must(t, err, "keys")
	last := rows[len(rows)-1]
	seed, err := box.Open(tenantID, launch.SealSlot, last.KID, last.PrivateKeySealed)
	testdb.Must(t, err, "open key")
	return signer{last.KID, ed25519.NewKeyFromSeed(seed)}
}

func jsonB64(v any) string {
	b, _ := json.Marshal(v)
	return b64.EncodeToString(b)
}

func (s signer) sign(claims map[string]any) string {
	in := jsonB64(map[string]string{"alg": "EdDSA", "kid": s.kid, "typ": "JWT"}) + "." + jsonB64(claims)
	return in + "." + b64.EncodeToString(ed25519.Sign(s.priv, []byte(in)))
}

var tokenRe = regexp.MustCompile(`name="portico_token" value="([A-Za-z0-9_\-.]+)"`)

// launchToken opens the launch page as c and returns the token it posts.
func launchToken(t testing.TB, c *servertest.Client, slug string) string {
	t.Helper()
	r := c.Do("GET", "/p/"+slug+"/launch", nil)
	m := tokenRe.FindSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		t.Fatalf("launch page of %s: %d %s", slug, r.Status, r.Body)
	}
	return string(m[1])
}

func claimsOf(t testing.TB, tok string) map[string]any {
	t.Helper()
	raw, err := b64.DecodeString(strings.Split(tok, ".")[1])
	testdb.Must(t, err, "payload")
	var m map[string]any
	testdb.Must(t, json.Unmarshal(raw, &m), "claims")
	return m
}

func basic(id, sec string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+sec))
}

// TestLaunchAttackTable runs the whole flow on a real server for each
// driver: the launch page's shape and headers, one good exchange, and then
// every attack of the issue, each a row that must fail with its code.
func TestLaunchAttackTable(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			p := servertest.Start(t, driver)
			ctx := context.Background()
			box, err := secret.New(p.Server.Env.Config.SecretKey)
			testdb.Must(t, err, "box")
			now := time.Now()
			// A key retired a day ago and the current key, both held by the
			// test; inserted before anything else makes one.
			retired := insertKey(t, p, box, p.Demo.ID, now.Add(-48*time.Hour))
			current := insertKey(t, p, box, p.Demo.ID, now.Add(-24*time.Hour))
			finID, finSecret := creds(t, p, p.Demo.ID, "financeiro", model.UserFieldName, model.UserFieldEmail)
			chamID, chamSecret := creds(t, p, p.Demo.ID, "chamados")

			cliente := p.NewClient(t, "")
			cliente.Login("cliente@demo.portico.test", "portico-demo")
			exch := p.NewClient(t, "") // the plugin's server: no cookies
			exchange := func(id, sec string, body any) *servertest.Response {
				return exch.Do("POST", "/api/v1/launch/exchange", body, "Authorization", basic(id, sec))
			}

			// The launch page.
			r := cliente.Do("GET", "/p/financeiro/launch", nil)
			body := string(r.Body)
			planURL := p.URL + "/demo/frame/financeiro"
			for _, want := range []string{`method="post"`, `action="` + planURL + `"`, `name="portico_token"`, `<button type="submit">`,
				`<script src="/launch/assets/`, `<meta name="referrer" content="no-referrer">`, `<link rel="icon" href="/favicon.svg"`} {
				if !strings.Contains(body, want) {
					t.Errorf("launch page lacks %s:\n%s", want, body)
				}
			}
			csp := r.Header.Get("Content-Security-Policy")
			for _, want := range []string{"form-action " + p.URL + ";", "frame-ancestors 'self'", "script-src 'self'", "default-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("launch CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(body, "<script>") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("launch page uses inline script")
			}
			if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("X-Frame-Options") != "" {
				t.Errorf("launch headers: %v", r.Header)
			}
			// The portal page frames it, allowing 'self' and the plugin origin.
			r = cliente.Do("GET", "/p/financeiro", nil)
			if !strings.Contains(string(r.Body), `src="/p/financeiro/launch"`) || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-src 'self' "+p.URL+";") {
				t.Errorf("plugin page does not frame the launch page: %s / %s", r.Header.Get("Content-Security-Policy"), r.Body)
			}
			// Other pages keep their strict headers.
			if r := cliente.Do("GET", "/", nil); r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("home lost its strict framing headers: %v", r.Header)
			}
			for _, tc := range []struct {
				name, path string
				status     int
				header     []string
			}{
				{"another role's plugin", "/p/assembleias/launch", 404, nil},
				{"auth none plugin", "/p/documentos/launch", 404, nil},
				{"unknown plugin", "/p/nada/launch", 404, nil},
				{"other tenant's plugin", "/p/segredo-outra/launch", 404, nil},
				{"token plugin without credentials", "/p/relatorios/launch", 404, nil},
				{"cross-site navigation", "/p/financeiro/launch", 403, []string{"Sec-Fetch-Site", "cross-site"}},
			} {
				if r := cliente.Do("GET", tc.path, nil, tc.header...); r.Status != tc.status {
					t.Errorf("%s: %s answered %d, want %d", tc.name, tc.path, r.Status, tc.status)
				}
			}
			if r := exch.Do("GET", "/p/financeiro/launch", nil); r.Status == 200 || tokenRe.Match(r.Body) {
				t.Errorf("launch page without a session: %d", r.Status)
			}

			// One good exchange.
			tok := launchToken(t, cliente, "financeiro")
			c := claimsOf(t, tok)
			if c["iss"] != p.URL || c["aud"] != finID {
				t.Errorf("iss/aud: %v", c)
			}
			r = exchange(finID, finSecret, map[string]string{"token": tok})
			var u map[string]any
			if r.Status != 200 {
				t.Fatalf("exchange: %d %s", r.Status, r.Body)
			}
			r.JSON(t, &u)
			if u["name"] != "Carla Cliente" || u["email"] != "cliente@demo.portico.test" || u["role"] != "cliente" ||
				u["tenant"] != p.Demo.Slug || u["locale"] != "pt-BR" || u["id"] != c["sub"] || u["document"] != nil || u["phone"] != nil {
				t.Errorf("exchange answered %s", r.Body)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("exchange is cacheable")
			}

			// JWKS: current and previous keys only, cacheable for the
			// documented period.
			r = exch.Do("GET", "/.well-known/jwks.json", nil)
			if r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=300" ||
				!strings.Contains(string(r.Body), current.kid) || strings.Contains(string(r.Body), retired.kid) {
				t.Errorf("jwks: %d %v %s", r.Status, r.Header.Get("Cache-Control"), r.Body)
			}

			// Forged tokens, each built from the genuine claims.
			fresh := func(edit func(map[string]any)) map[string]any {
				m := claimsOf(t, launchToken(t, cliente, "financeiro"))
				if edit != nil {
					edit(m)
				}
				return m
			}
			sec := time.Now().Unix()
			other := p.NewClient(t, servertest.OtherHost)
			if r := other.Do("GET", "/.well-known/jwks.json", nil); r.Status != 200 {
				t.Fatalf("other tenant's jwks: %d", r.Status)
			}
			otherKey := openKey(t, p, box, p.Other.ID)
			pubJWK := `{"crv":"Ed25519","kty":"OKP","x":"` + b64.EncodeToString(current.priv.Public().(ed25519.PublicKey)) + `"}`
			hs256 := func(secret []byte) string {
				in := jsonB64(map[string]string{"alg": "HS256", "kid": current.kid, "typ": "JWT"}) + "." + jsonB64(fresh(nil))
				m := hmac.New(sha256.New, secret)
				m.Write([]byte(in))
				return in + "." + b64.EncodeToString(m.Sum(nil))
			}
			tampered := func() string {
				parts := strings.Split(launchToken(t, cliente, "financeiro"), ".")
				m := claimsOf(t, strings.Join(parts, "."))
				m["portico"].(map[string]any)["role"] = "gestor"
				return parts[0] + "." + jsonB64(m) + "." + parts[2]
			}
			unknown := signer{"unknown-kid", ed25519.NewKeyFromSeed(make([]byte, 32))}
			deactivatedTok := func() string {
				amb := p.NewClient(t, "")
				amb.Login("ambos@demo.portico.test", "portico-demo")
				tok := launchToken(t, amb, "financeiro")
				usr, err := p.Store.UserByEmail(ctx, p.Demo.ID, "ambos@demo.portico.test")
				testdb.Must(t, err, "ambos")
				_, err = p.Store.UpdateUser(ctx, p.Demo.ID, usr.ID, usr.Version, model.Actor{Type: "system"}, func(u *model.User) error { u.Active = false; return nil })
				testdb.Must(t, err, "deactivate ambos")
				return tok
			}
			used := launchToken(t, cliente, "financeiro")
			if r := exchange(finID, finSecret, map[string]string{"token": used}); r.Status != 200 {
				t.Fatalf("first use: %d %s", r.Status, r.Body)
			}

			attacks := []struct {
				name    string
				token   func() string
				id, sec string
				host    string
				status  int
				code    string
			}{
				{name: "alg none", token: func() string {
					return jsonB64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + jsonB64(fresh(nil)) + "."
				}, code: "token_invalid"},
				{name: "HS256 keyed with the raw public key", token: func() string { return hs256(current.priv.Public().(ed25519.PublicKey)) }, code: "token_invalid"},
				{name: "HS256 keyed with the public JWK", token: func() string { return hs256([]byte(pubJWK)) }, code: "token_invalid"},
				{name: "unknown kid", token: func() string { return unknown.sign(fresh(nil)) }, code: "token_invalid"},
				{name: "previous key after its retirement", token: func() string { return retired.sign(fresh(nil)) }, code: "token_invalid"},
				{name: "tampered payload", token: tampered, code: "token_invalid"},
				{name: "expired", token: func() string {
					return current.sign(fresh(func(m map[string]any) { m["iat"], m["nbf"], m["exp"] = sec-100, sec-100, sec-11 }))
				}, code: "token_expired"},
				{name: "nbf beyond the leeway", token: func() string {
					return current.sign(fresh(func(m map[string]any) { m["nbf"] = sec + 60 }))
				}, code: "token_invalid"},
				{name: "wrong aud (another plugin's token)", token: func() string { return launchToken(t, cliente, "chamados") }, code: "wrong_audience"},
				{name: "wrong iss (another tenant's host)", token: func() string {
					return current.sign(fresh(func(m map[string]any) { m["iss"] = "http://" + servertest.OtherHost }))
				}, code: "token_invalid"},
				{name: "another tenant's key", token: func() string { return otherKey.sign(fresh(nil)) }, code: "token_invalid"},
				{name: "replay after success", token: func() string { return used }, code: "token_used"},
				{name: "deactivated user", token: deactivatedTok, code: "token_invalid"},
				{name: "exchanged at another tenant's host", token: func() string { return launchToken(t, cliente, "financeiro") },
					host: servertest.OtherHost, code: "invalid_client"},
				{name: "wrong client secret", token: func() string { return launchToken(t, cliente, "financeiro") }, sec: "pcs_wrong", code: "invalid_client"},
				{name: "another plugin's credentials", token: func() string { return launchToken(t, cliente, "financeiro") }, id: chamID, sec: chamSecret, code: "wrong_audience"},
				{name: "garbage", token: func() string { return "not.a.token" }, code: "token_invalid"},
				{name: "oversized token", token: func() string { return strings.Repeat("a", launch.MaxTokenLength+1) }, code: "token_invalid"},
			}
			for _, a := range attacks {
				id, s := finID, finSecret
				if a.id != "" {
					id = a.id
				}
				if a.sec != "" {
					s = a.sec
				}
				cl := exch
				if a.host != "" {
					cl = other
				}
				r := cl.Do("POST", "/api/v1/launch/exchange", map[string]string{"token": a.token()}, "Authorization", basic(id, s))
				if r.Status != http.StatusUnauthorized || r.ErrorCode() != a.code {
					t.Errorf("%s: %d %s, want 401 %s", a.name, r.Status, r.Body, a.code)
				}
			}
			// A forged-but-valid control: the same construction with the
			// current key and untouched claims succeeds, so the rows above
			// fail for the reason they name.
			if r := exchange(finID, finSecret, map[string]string{"token": current.sign(fresh(nil))}); r.Status != 200 {
				t.Errorf("control token signed by the current key: %d %s", r.Status, r.Body)
			}

			// Bad requests.
			tok = launchToken(t, cliente, "financeiro")
			for _, bad := range []struct {
				name   string
				auth   string
				body   any
				ct     string
				status int
				code   string
			}{
				{"no credentials", "", map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"bearer instead of basic", "Bearer " + finSecret, map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"basic without colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(finID)), map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"client_id with NUL", basic(finID+"\x00", finSecret), map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"client_id not UTF-8", basic("pc_\xff\xfe", finSecret), map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"client_id with a bidi override", basic("pc_\u202e", finSecret), map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"secret with NUL", basic(finID, finSecret+"\x00"), map[string]string{"token": tok}, "", 401, "invalid_client"},
				{"token with NUL", basic(finID, finSecret), map[string]string{"token": "a\x00b"}, "", 401, "token_invalid"},
				{"token with a bidi override", basic(finID, finSecret), map[string]string{"token": tok + "\u202e"}, "", 401, "token_invalid"},
				{"form body", basic(finID, finSecret), url.Values{"token": {tok}}, "", 415, "unsupported_media_type"},
				{"unknown field", basic(finID, finSecret), map[string]string{"token": tok, "user": "x"}, "", 400, "unknown_field"},
				{"no token", basic(finID, finSecret), map[string]string{}, "", 400, "validation_failed"},
				{"token not a string", basic(finID, finSecret), map[string]int{"token": 1}, "", 400, "invalid_json"},
				{"two objects", basic(finID, finSecret), `{"token":"a"}{"token":"b"}`, "application/json", 400, "invalid_json"},
				{"too large", basic(finID, finSecret), `{"token":"` + strings.Repeat("a", 70<<10) + `"}`, "application/json", 413, "body_too_large"},
			} {
				h := []string{}
				if bad.auth != "" {
					h = append(h, "Authorization", bad.auth)
				}
				if bad.ct != "" {
					h = append(h, "Content-Type", bad.ct)
				}
				r := exch.Do("POST", "/api/v1/launch/exchange", bad.body, h...)
				if r.Status != bad.status || r.ErrorCode() != bad.code {
					t.Errorf("%s: %d %s, want %d %s", bad.name, r.Status, r.Body, bad.status, bad.code)
				}
				if bad.code == "invalid_client" && r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", bad.name)
				}
			}
			// The bad requests did not burn the token.
			if r := exchange(finID, finSecret, map[string]string{"token": tok}); r.Status != 200 {
				t.Errorf("token after bad requests: %d %s", r.Status, r.Body)
			}

			// Replay racing the first use: of 100 concurrent exchanges of
			// one token exactly one succeeds, the rest are token_used.
			tok = launchToken(t, cliente, "financeiro")
			var mu sync.Mutex
			statuses := map[string]int{}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := 0; i < 100; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r := exchange(finID, finSecret, map[string]string{"token": tok})
					key := r.ErrorCode()
					if r.Status == 200 {
						key = "ok"
					}
					mu.Lock()
					statuses[key]++
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
			if statuses["ok"] != 1 || statuses["token_used"] != 99 {
				t.Errorf("100 concurrent exchanges of one token: %v, want 1 ok and 99 token_used", statuses)
			}
		})
	}
}

// TestLaunchGetMethod: a plugin that opted into GET gets the token as a
// query parameter, its own query kept.
func TestLaunchGetMethod(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	creds(t, p, p.Demo.ID, "financeiro")
	cur, _ := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	_, err := p.Store.UpdatePlugin(ctx, p.Demo.ID, "financeiro", cur.Version, model.Actor{Type: "system"}, "plugin.update", func(pl *model.Plugin) error {
		pl.LaunchMethod, pl.URL = model.LaunchGet, p.URL+"/demo/frame/financeiro?unit=12&portico_token=spoof#top"
		return nil
	})
	testdb.Must(t, err, "set get method")
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", "portico-demo")
	r := c.Do("GET", "/p/financeiro/launch", nil)
	body := string(r.Body)
	for _, want := range []string{`method="get"`, `action="` + p.URL + `/demo/frame/financeiro"`, `name="unit" value="12"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET launch page lacks %s:\n%s", want, body)
		}
	}
	if strings.Count(body, `name="portico_token"`) != 1 || strings.Contains(body, "spoof") {
		t.Errorf("the plugin URL's own portico_token was kept:\n%s", body)
	}
}

// TestExchangeThrottlesFailedClientAuthentication: wrong client secrets are
// counted per client_id and per client IP, as failed logins are; past the
// budget even the right secret is answered 429 rate_limited with
// Retry-After, and failures of the token itself do not count.
func TestExchangeThrottlesFailedClientAuthentication(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	finID, finSecret := creds(t, p, p.Demo.ID, "financeiro", model.UserFieldName)
	chamID, chamSecret := creds(t, p, p.Demo.ID, "chamados")
	cliente := p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", "portico-demo")
	exch := p.NewClient(t, "")
	exchange := func(auth string, tok string) *servertest.Response {
		return exch.Do("POST", "/api/v1/launch/exchange", map[string]string{"token": tok}, "Authorization", auth)
	}
	tok := launchToken(t, cliente, "financeiro")
	// Token failures with the right credentials are not client failures.
	for i := 0; i < hostlaunch.ExchangeClientFailures+1; i++ {
		if r := exchange(basic(finID, finSecret), "x.y.z"); r.Status != 401 || r.ErrorCode() != "token_invalid" {
			t.Fatalf("bad token %d: %d %s", i, r.Status, r.Body)
		}
	}
	for i := 0; i < hostlaunch.ExchangeClientFailures; i++ {
		if r := exchange(basic(finID, "pcs_wrong"), tok); r.Status != 401 || r.ErrorCode() != "invalid_client" {
			t.Fatalf("wrong secret %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := exchange(basic(finID, finSecret), tok)
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" {
		t.Fatalf("right secret after %d failures: %d %s, want 429 rate_limited", hostlaunch.ExchangeClientFailures, r.Status, r.Body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > int(hostlaunch.ExchangeThrottleWindow/time.Second)+1 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// The plugin's own backend, calling from another address, is not
	// locked out: the client_id is public, so its budget is per address.
	elsewhere := p.NewClient(t, "")
	elsewhere.HTTP.Transport = &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}
	if r := elsewhere.Do("POST", "/api/v1/launch/exchange", map[string]string{"token": tok},
		"Authorization", basic(finID, finSecret)); r.Status != 200 {
		t.Fatalf("right secret from another address: %d %s, want 200", r.Status, r.Body)
	}
	tok = launchToken(t, cliente, "financeiro")
	// Another client from the same address still works: the client_id
	// budget is spent, the address's is not yet.
	if r := exchange(basic(chamID, chamSecret), launchToken(t, cliente, "chamados")); r.Status != 200 {
		t.Fatalf("another client: %d %s", r.Status, r.Body)
	}
	// Spend the address's budget with unknown clients and malformed
	// credentials; then every client from it is refused.
	for i := hostlaunch.ExchangeClientFailures; i < hostlaunch.ExchangeIPFailures; i++ {
		a := basic(fmt.Sprintf("pc_unknown%d", i), "pcs_x")
		if i%2 == 0 {
			a = "Bearer nothing"
		}
		if r := exchange(a, tok); r.Status != 401 || r.ErrorCode() != "invalid_client" {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Body)
		}
	}
	r = exchange(basic(chamID, chamSecret), launchToken(t, cliente, "chamados"))
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("another client after the address's budget: %d %s", r.Status, r.Body)
	}
}

// TestExchangeThrottleCountsTheIPv6Network: failed client authentications
// from the addresses of one IPv6 /64 share one budget, as failed logins
// do; another /64 is not locked out.
func TestExchangeThrottleCountsTheIPv6Network(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	exch := p.NewClient(t, "")
	n := 0
	exchange := func(from string) *servertest.Response {
		n++ // a client_id of its own each time: only the address's budget is spent
		return exch.Do("POST", "/api/v1/launch/exchange", map[string]string{"token": "x.y.z"},
			"Authorization", basic(fmt.Sprintf("pc_unknown%d", n), "pcs_x"), "X-Forwarded-For", from)
	}
	for i := range hostlaunch.ExchangeIPFailures {
		if r := exchange(fmt.Sprintf("2001:db8:5:6:%x::1", i+1)); r.Status != 401 || r.ErrorCode() != "invalid_client" {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := exchange("2001:db8:5:6:ffff::9"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("another address of the same /64: %d %s, want 429", r.Status, r.Body)
	}
	if r := exchange("2001:db8:5:7::1"); r.Status != 401 {
		t.Fatalf("another /64: %d %s, want 401", r.Status, r.Body)
	}
}
