package launch_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// BenchmarkSignEd25519 is BenchmarkMint's limit: crypto/ed25519's Sign of
// the same input, the signing input (header.payload) of a token Mint made
// with BenchmarkMint's MintInput, the way BenchmarkMint runs (RunParallel).
// The load script (bench/load, `make bench-load`) runs both with one core
// and wants Mint's rate ≥ 0.9 × this one:
//
//	taskset -c 0 go test -run '^$' -bench '^Benchmark(Mint|SignEd25519)$' -cpu 1 ./internal/launch/
func BenchmarkSignEd25519(b *testing.B) {
	f := newFixture(b, "sqlite")
	ctx := context.Background()
	tok, err := f.svc.Mint(ctx, launch.MintInput{Tenant: f.tenant, Plugin: f.plugin, User: f.user, Role: model.RoleCliente,
		Locale: "pt-BR", Issuer: issuer})
	testdb.Must(b, err, "mint")
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	// The token's signature verifies over input with the published key:
	// input is exactly what Mint signed.
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	testdb.Must(b, err, "decode the signature")
	doc, err := f.svc.JWKS(ctx, f.tenant.ID)
	testdb.Must(b, err, "jwks")
	var set struct {
		Keys []struct {
			X string `json:"x"`
		} `json:"keys"`
	}
	testdb.Must(b, json.Unmarshal(doc, &set), "parse jwks")
	verified := false
	for _, k := range set.Keys {
		if pub, err := base64.RawURLEncoding.DecodeString(k.X); err == nil && len(pub) == ed25519.PublicKeySize &&
			ed25519.Verify(pub, input, sig) {
			verified = true
		}
	}
	if !verified {
		b.Fatalf("no published key verifies the token's signature over %q", input)
	}
	// Signing costs the same with any key.
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	testdb.Must(b, err, "generate a key")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = ed25519.Sign(priv, input)
		}
	})
}
