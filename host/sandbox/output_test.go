package sandbox

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/sdk/abi"
)

// heavyWasm builds testdata/guests/heavy (internal/testguest caches it).
var heavyWasm = sync.OnceValues(func() ([]byte, error) {
	return testguest.Build("./testdata/guests/heavy")
})

// heavyPlugin returns a plugin running the heavy guest and its loader.
func heavyPlugin(tb testing.TB, tenant, id string) (Plugin, func(context.Context) ([]byte, error)) {
	tb.Helper()
	wasm, err := heavyWasm()
	if err != nil {
		tb.Fatal(err)
	}
	p := testPlugin(tenant, id)
	return p, func(context.Context) ([]byte, error) { return wasm, nil }
}

func callWith(e *Engine, p Plugin, load func(context.Context) ([]byte, error), action string, kv ...string) (*abi.Output, error) {
	in := &abi.Input{Kind: abi.KindAction, Action: action, Form: map[string][]string{},
		User: abi.User{ID: "u1", Role: "cliente", Locale: "pt-BR", Tenant: p.TenantID}}
	for i := 0; i+1 < len(kv); i += 2 {
		in.Form[kv[i]] = []string{kv[i+1]}
	}
	return e.Call(context.Background(), p, load, in)
}

// TestHostileOutputIsRefusedWhileDecoding returns about 1 MB of output
// made of empty elements (333,333 empty blocks; 300,000 empty table rows;
// an unknown field nested 5,000 arrays deep). Each is refused as
// malformed, naming the limit, and decoding it allocates a bounded amount
// (a naive decode of the blocks allocated ~490 MB per call).
func TestHostileOutputIsRefusedWhileDecoding(t *testing.T) {
	e := newEngine(t, Options{})
	p, load := heavyPlugin(t, "t1", "heavy")
	if out, err := callWith(e, p, load, "ok"); err != nil || text(t, out) != "ok" {
		t.Fatalf("ok: %v", err)
	}
	for _, tt := range []struct {
		action, n, detail string
	}{
		{"blocks", "333333", "more than 100 blocks"},
		{"rows", "300000", "more than 500 rows"},
		{"deep", "5000", "nested deeper than 10 levels"},
	} {
		t.Run(tt.action, func(t *testing.T) {
			const calls = 3
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range calls {
				_, err := callWith(e, p, load, tt.action, "n", tt.n)
				if reasonOf(err) != ReasonMalformed || !strings.Contains(err.Error(), tt.detail) {
					t.Fatalf("%s: got %v, want malformed naming %q", tt.action, err, tt.detail)
				}
			}
			runtime.ReadMemStats(&after)
			// Each call also instantiates a fresh instance (the failed one
			// is discarded); the bound is generous for that.
			const bound = 20 << 20
			perCall := (after.TotalAlloc - before.TotalAlloc) / calls
			t.Logf("%s: %d bytes allocated per call", tt.action, perCall)
			if perCall > bound {
				t.Errorf("%s: %d bytes allocated per call, want < %d", tt.action, perCall, bound)
			}
		})
	}
	// The limit itself is not off by one: exactly 100 empty blocks decode
	// (and are left for the view check to judge).
	out, err := callWith(e, p, load, "blocks", "n", strconv.Itoa(100))
	if err != nil || len(out.View.Blocks) != 100 {
		t.Fatalf("100 blocks: %v", err)
	}
}
