package launchkit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// fakePortal serves a JWKS on 127.0.0.1 whose keys the test changes, as a
// portal's rotation would. (The real portal is exercised end to end in
// host/server/launch_browser_test.go.)
type fakePortal struct {
	srv     *httptest.Server
	mu      sync.Mutex
	public  []jwk.Key
	fetches atomic.Int32
}

func newFakePortal(t testing.TB) *fakePortal {
	f := &fakePortal{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		f.fetches.Add(1)
		f.mu.Lock()
		set := jwk.NewSet()
		for _, k := range f.public {
			_ = set.AddKey(k)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// newKey makes an Ed25519 key pair with kid; publish adds its public half
// to the JWKS.
func newKey(t testing.TB, kid string) (priv jwk.Key, pub jwk.Key) {
	t.Helper()
	_, raw, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err = jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = priv.Set(jwk.KeyIDKey, kid)
	_ = priv.Set(jwk.AlgorithmKey, jwa.EdDSA())
	pub, err = priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func (f *fakePortal) publish(k jwk.Key) {
	f.mu.Lock()
	f.public = append(f.public, k)
	f.mu.Unlock()
}

type claimSet struct {
	iss, aud, sub, jti string
	iat, nbf, exp      time.Time
	noPortico          bool
}

func sign(t testing.TB, key jwk.Key, c claimSet) string {
	t.Helper()
	b := jwt.NewBuilder().Issuer(c.iss).Audience([]string{c.aud}).Subject(c.sub).
		IssuedAt(c.iat).NotBefore(c.nbf).Expiration(c.exp)
	if c.jti != "" {
		b = b.JwtID(c.jti)
	}
	if !c.noPortico {
		b = b.Claim("portico", map[string]string{"tenant": "construtora-exemplo", "plugin": "exemplo", "role": "cliente", "locale": "es"})
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), key))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestVerify(t *testing.T) {
	f := newFakePortal(t)
	issuer := f.srv.URL
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	clock := now
	v.now = func() time.Time { return clock }
	k1, p1 := newKey(t, "k1")
	f.publish(p1)
	other, _ := newKey(t, "k1") // same kid, not the portal's key
	good := claimSet{iss: issuer, aud: "pc_me", sub: "s1", jti: "j1", iat: now, nbf: now, exp: now.Add(60 * time.Second)}
	with := func(mod func(*claimSet)) claimSet { c := good; mod(&c); return c }

	tests := []struct {
		name  string
		token string
		at    time.Time
		code  string // "" means accepted
	}{
		{"valid", sign(t, k1, good), now, ""},
		{"expired within the leeway", sign(t, k1, good), now.Add(69 * time.Second), ""},
		{"expired beyond the leeway", sign(t, k1, good), now.Add(71 * time.Second), "token_expired"},
		{"not yet valid beyond the leeway", sign(t, k1, with(func(c *claimSet) { c.nbf = now.Add(30 * time.Second) })), now, "token_invalid"},
		{"another plugin's token", sign(t, k1, with(func(c *claimSet) { c.aud = "pc_other" })), now, "wrong_audience"},
		{"another issuer", sign(t, k1, with(func(c *claimSet) { c.iss = "https://evil.example" })), now, "token_invalid"},
		{"signed by another key with the same kid", sign(t, other, good), now, "token_invalid"},
		{"no portico claim", sign(t, k1, with(func(c *claimSet) { c.noPortico = true })), now, "token_invalid"},
		{"no jti", sign(t, k1, with(func(c *claimSet) { c.jti = "" })), now, "token_invalid"},
		{"alg none", "eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.eyJpc3MiOiJ4In0.", now, "token_invalid"},
		{"HS256 with the public key as secret", "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJ4In0.c2ln", now, "token_invalid"},
		{"not a JWS", "abc", now, "token_invalid"},
		{"empty", "", now, "token_invalid"},
		{"too long", string(make([]byte, MaxTokenLength+1)), now, "token_invalid"},
	}
	for _, tc := range tests {
		clock = tc.at
		c, err := v.Verify(ctx, tc.token, "pc_me")
		var te *TokenError
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.code == "" && (c.Subject != "s1" || c.JTI != "j1" || c.Portico.Locale != "es" || c.Portico.Role != "cliente"):
			t.Errorf("%s: claims %+v", tc.name, c)
		case tc.code != "" && (!errors.As(err, &te) || te.Code != tc.code):
			t.Errorf("%s: err %v, want code %s", tc.name, err, tc.code)
		}
	}

	// Rotation: a token signed by a key published after our last fetch is
	// accepted after one refetch; a forged kid refetches at most once per
	// minRefetch. The clock moves past every row's time plus minRefetch, so
	// a refetch made while a row above ran (the rows go up to now+71s)
	// cannot count as recent.
	clock = now.Add(71*time.Second + minRefetch + time.Second)
	k2, p2 := newKey(t, "k2")
	f.publish(p2)
	before := f.fetches.Load()
	fresh := sign(t, k2, with(func(c *claimSet) { c.iat, c.nbf, c.exp = clock, clock, clock.Add(time.Minute) }))
	if _, err := v.Verify(ctx, fresh, "pc_me"); err != nil {
		t.Fatalf("token of a newly published key: %v", err)
	}
	if n := f.fetches.Load() - before; n != 1 {
		t.Errorf("unknown kid caused %d fetches, want 1", n)
	}
	forged, _ := newKey(t, "forged")
	before = f.fetches.Load()
	for range 5 {
		if _, err := v.Verify(ctx, sign(t, forged, good), "pc_me"); err == nil {
			t.Fatal("a token of an unpublished key was accepted")
		}
	}
	if n := f.fetches.Load() - before; n > 1 {
		t.Errorf("5 forged kids within %v caused %d fetches, want at most 1", minRefetch, n)
	}
}

func TestVerifyPortalDown(t *testing.T) {
	f := newFakePortal(t)
	url := f.srv.URL
	f.srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := newKey(t, "k1")
	now := time.Now()
	_, err = v.Verify(ctx, sign(t, k, claimSet{iss: url, aud: "a", sub: "s", jti: "j", iat: now, nbf: now, exp: now.Add(time.Minute)}), "a")
	var te *TokenError
	if err == nil || errors.As(err, &te) {
		t.Errorf("portal down: err %v, want a non-token error (portal unreachable)", err)
	}
}

// FuzzVerify feeds arbitrary strings to the verifier: it must never panic
// and never accept claims not signed by the published key.
func FuzzVerify(f *testing.F) {
	fp := newFakePortal(f)
	k, p := newKey(f, "k1")
	fp.publish(p)
	now := time.Now()
	good := sign(f, k, claimSet{iss: fp.srv.URL, aud: "pc_me", sub: "s", jti: "j", iat: now, nbf: now, exp: now.Add(time.Hour)})
	for _, s := range []string{good, good[:len(good)-2], "a.b.c", "..", "eyJhbGciOiJFZERTQSJ9..", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, fp.srv.URL)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(ctx, token, "pc_me")
		// Only the signed claims may ever be accepted (a different base64
		// spelling of the same bytes is the same token).
		if err == nil && (c.Subject != "s" || c.JTI != "j") {
			t.Fatalf("accepted claims nobody signed: %q (%+v)", token, c)
		}
	})
}

// BenchmarkVerify is the offline check of one launch token with the JWKS
// already cached: what a plugin spends before calling the exchange.
func BenchmarkVerify(b *testing.B) {
	fp := newFakePortal(b)
	k, p := newKey(b, "k1")
	fp.publish(p)
	now := time.Now()
	tok := sign(b, k, claimSet{iss: fp.srv.URL, aud: "pc_me", sub: "s", jti: "j", iat: now, nbf: now, exp: now.Add(time.Hour)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, fp.srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok, "pc_me"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok, "pc_me"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyNoKeysRefetchBounded: while the portal's JWKS cannot be
// loaded, tokens (forged, with any kid) do not each trigger a fetch: the
// refetches are minRefetch apart, as for an unknown kid, and every one of
// those tokens is answered "could not check" (not a *TokenError).
func TestVerifyNoKeysRefetchBounded(t *testing.T) {
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := now
	v.now = func() time.Time { return clock }
	// The cache's own first fetch, in the background, fails: wait for it so
	// that only the verifier's refetches are counted below.
	for deadline := time.Now().Add(5 * time.Second); fetches.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	before := fetches.Load()
	verify := func(i int) {
		t.Helper()
		k, _ := newKey(t, fmt.Sprintf("forged-%d", i))
		_, err := v.Verify(ctx, sign(t, k, claimSet{iss: srv.URL, aud: "a", sub: "s", jti: "j", iat: now, nbf: now, exp: now.Add(time.Minute)}), "a")
		var te *TokenError
		if err == nil || errors.As(err, &te) {
			t.Fatalf("token %d with no keys loaded: err %v, want a non-token error", i, err)
		}
	}
	for i := range 20 {
		verify(i)
	}
	if n := fetches.Load() - before; n != 1 {
		t.Errorf("20 tokens with no keys loaded caused %d fetches, want 1", n)
	}
	// Once minRefetch has passed, the next token may fetch again.
	clock = now.Add(minRefetch + time.Second)
	before = fetches.Load()
	verify(20)
	verify(21)
	if n := fetches.Load() - before; n != 1 {
		t.Errorf("after %v: %d fetches, want 1", minRefetch, n)
	}
}

// TestVerifyConcurrentFirstLaunches: launches that arrive together before
// the keys are loaded (the app just started, the portal answers slowly)
// share one refetch and are all accepted; none is refused for arriving
// while it runs.
func TestVerifyConcurrentFirstLaunches(t *testing.T) {
	f := newFakePortal(t)
	k, p := newKey(t, "k1")
	f.publish(p)
	slow := f.srv.Config.Handler
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		slow.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := sign(t, k, claimSet{iss: f.srv.URL, aud: "a", sub: "s", jti: "j", iat: now, nbf: now, exp: now.Add(time.Minute)})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, tok, "a"); err != nil {
				t.Errorf("launch %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if n := f.fetches.Load(); n > 2 {
		t.Errorf("%d fetches for 8 launches, want at most 2 (the cache's own and one refetch)", n)
	}
}
