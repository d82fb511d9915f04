package storage_test

import (
	"context"
	"testing"

	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

// forTwoNodes runs fn, on each driver, with two stores on one database
// (two Portico nodes) and a wasm plugin of a tenant made through a.
func forTwoNodes(t *testing.T, fn func(t *testing.T, a, b *storage.Store, tenantID, pluginID string)) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			url := testdb.URL(t, d)
			a, b := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
			tn := newTenant(t, a, "dicas")
			fn(t, a, b, tn.ID, newWasmPlugin(t, a, tn.ID, "contador").ID)
		})
	}
}

// TestKVHintsNeverDecide: two stores on one database play two nodes. A
// node's second update of a key writes from the value it left (no read
// first), and when the other node has changed, deleted or re-created the
// key meanwhile, the update still starts from the value in the database:
// increments are not lost, a delete is not written over, and a
// compare-and-set is answered from the value in the database, not from
// the stale hint.
func TestKVHintsNeverDecide(t *testing.T) {
	forTwoNodes(t, func(t *testing.T, a, b *storage.Store, tenantID, pluginID string) {
		ctx := context.Background()
		incr := func(st *storage.Store, want string) {
			t.Helper()
			r, err := update(st, tenantID, pluginID, abi.HostRequest{Op: abi.OpKVIncr, Key: "n", Delta: 1})
			if err != nil || string(r.Value) != want {
				t.Fatalf("incr = %q, %v; want %q", r.Value, err, want)
			}
			if v, _, err := a.KVGet(ctx, tenantID, pluginID, "n"); err != nil || string(v) != want {
				t.Fatalf("after the incr the database holds %q, %v; want %q", v, err, want)
			}
		}

		incr(a, "1")
		incr(a, "2")
		if n := a.KVHintedSwapsForTest(); n != 1 {
			t.Fatalf("%d writes made from a hint, want 1: the second increment", n)
		}

		incr(b, "3") // a's hint, "2", is now stale
		incr(a, "4")
		incr(a, "5") // without a hint: a backs off after the stale one
		if n, m := a.KVHintedSwapsForTest(), a.KVHintMissesForTest(); n != 1 || m != 1 {
			t.Errorf("writes made from a hint: %d, refused: %d; want 1 and 1 (the stale one does not count)", n, m)
		}

		testdb.Must(t, b.KVDelete(ctx, tenantID, pluginID, "n"), "delete on b")
		incr(a, "1") // from the hint "5" this would write nothing, or "6"

		testdb.Must(t, a.KVSet(ctx, tenantID, pluginID, "s", []byte("a")), "set on a")
		testdb.Must(t, b.KVSet(ctx, tenantID, pluginID, "s", []byte("b")), "set on b")
		r, err := update(a, tenantID, pluginID, abi.HostRequest{Op: abi.OpKVCAS, Key: "s", Expect: []byte("b"), Value: []byte("c")})
		if err != nil || !r.Swapped || string(r.Value) != "c" {
			t.Errorf("cas from b's value on a = %+v, %v; want swapped to \"c\"", r, err)
		}
		r, err = update(b, tenantID, pluginID, abi.HostRequest{Op: abi.OpKVCAS, Key: "s", Expect: []byte("b"), Value: []byte("d")})
		if err != nil || r.Swapped || string(r.Value) != "c" {
			t.Errorf("cas from b's stale value on b = %+v, %v; want refused, with the value \"c\"", r, err)
		}
		if v, _, _ := b.KVGet(ctx, tenantID, pluginID, "s"); string(v) != "c" {
			t.Errorf("s = %q, want \"c\"", v)
		}
		// From a current hint, a refused compare-and-set writes nothing.
		testdb.Must(t, a.KVSet(ctx, tenantID, pluginID, "r", []byte("c")), "set r on a")
		r, err = update(a, tenantID, pluginID, abi.HostRequest{Op: abi.OpKVCAS, Key: "r", Expect: []byte("x"), Value: []byte("y")})
		if err != nil || r.Swapped || string(r.Value) != "c" {
			t.Errorf("cas from a wrong value on a = %+v, %v; want refused, with the value \"c\"", r, err)
		}
		if v, _, _ := b.KVGet(ctx, tenantID, pluginID, "r"); string(v) != "c" {
			t.Errorf("after a refused cas r = %q, want \"c\"", v)
		}
	})
}

// TestKVHintsBackOffWhenNodesTakeTurns: when two nodes take turns on one
// key, each finds its hint stale every time; after a refused hinted swap a
// node goes without the key's hint for its next updates, so few of its
// updates pay for a statement that changes nothing, and none is lost.
func TestKVHintsBackOffWhenNodesTakeTurns(t *testing.T) {
	forTwoNodes(t, func(t *testing.T, a, b *storage.Store, tenantID, pluginID string) {
		const turns = 20
		for i := range turns {
			for _, st := range []*storage.Store{a, b} {
				if _, err := update(st, tenantID, pluginID, abi.HostRequest{Op: abi.OpKVIncr, Key: "n", Delta: 1}); err != nil {
					t.Fatalf("turn %d: %v", i, err)
				}
			}
		}
		if v, _, err := a.KVGet(context.Background(), tenantID, pluginID, "n"); err != nil || string(v) != "40" {
			t.Fatalf("n = %q, %v; want 40", v, err)
		}
		// Every hint a finds is stale: one try, then 8 updates without.
		if n := a.KVHintMissesForTest(); n < 1 || n > 3 {
			t.Errorf("a's hinted swaps refused: %d of %d updates, want 1 to 3", n, turns)
		}
	})
}
