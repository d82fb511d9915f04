package launch_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// BenchmarkMint measures mint+sign with warm caches (the tenant's key and
// the user's subject in memory), as on every plugin page after the first.
// Target: ≥ 20,000/s per core (≤ 50 µs/op with -cpu 1).
func BenchmarkMint(b *testing.B) {
	f := newFixture(b, "sqlite")
	in := launch.MintInput{Tenant: f.tenant, Plugin: f.plugin, User: f.user, Role: model.RoleCliente, Locale: "pt-BR", Issuer: issuer}
	ctx := context.Background()
	_ = f.mint(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.Mint(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyOffline measures what an integrator's verifier does with
// jwx and the published JWKS (signature and claims, no exchange).
func BenchmarkVerifyOffline(b *testing.B) {
	f := newFixture(b, "sqlite")
	tok := f.mint(b)
	doc, err := f.svc.JWKS(context.Background(), f.tenant.ID)
	testdb.Must(b, err, "jwks")
	set, err := jwk.Parse(doc)
	testdb.Must(b, err, "parse jwks")
	clk := jwt.ClockFunc(f.clock.Now)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithClock(clk),
				jwt.WithIssuer(issuer), jwt.WithAudience(f.plugin.ClientID)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerify measures Portico's own strict verification (the CPU
// part of an exchange).
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, "sqlite")
	tok := f.mint(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.Verify(ctx, f.tenant.ID, issuer, f.plugin.ClientID, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzVerify feeds arbitrary strings to the token parser and verifier.
// Nothing may panic, and nothing may be accepted except a token whose
// signed claims are exactly those of the one genuine token (base64 allows a
// few spellings of the same bytes; they carry the same jti, so the exchange
// still redeems it once).
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, "sqlite")
	ctx := context.Background()
	good := fx.mint(f)
	want, err := fx.svc.Verify(ctx, fx.tenant.ID, issuer, fx.plugin.ClientID, good)
	testdb.Must(f, err, "verify the genuine token")
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding.EncodeToString
	for _, seed := range []string{
		good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"HS256","kid":"x"}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"EdDSA","kid":"x","crit":["b64"],"b64":false}`)) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + enc([]byte(`{"aud":["a","b"]}`)) + "." + parts[2],
		good + "." + parts[2], strings.Repeat("A", launch.MaxTokenLength+1),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := fx.svc.Verify(ctx, fx.tenant.ID, issuer, fx.plugin.ClientID, tok)
		if err != nil {
			if launch.CodeOf(err) == "" {
				t.Fatalf("non-coded error for input %q: %v", tok, err)
			}
			return
		}
		if *c != *want {
			t.Fatalf("accepted a token with other claims: %+v", c)
		}
	})
}
