package sandbox

import (
	"context"
	"errors"
	"testing"
)

// TestPreload checks that Preload leaves one warm instance per plugin
// version, that the first call uses it, and that a failing loader is
// reported without stopping the others.
func TestPreload(t *testing.T) {
	e := newEngine(t, Options{})
	ctx := context.Background()
	bad := errors.New("no such module")
	items := []PreloadItem{
		{Plugin: testPlugin("t1", "pre1"), Load: loadGuest},
		{Plugin: testPlugin("t2", "pre1"), Load: loadGuest},
		{Plugin: testPlugin("t1", "pre-bad"), Load: func(context.Context) ([]byte, error) { return nil, bad }},
	}
	if err := e.Preload(ctx, items); !errors.Is(err, bad) {
		t.Fatalf("Preload: %v, want the loader's error", err)
	}
	for _, it := range items[:2] {
		e.mu.Lock()
		pl := e.pools[poolKey{it.Plugin.TenantID, it.Plugin.VersionID}]
		e.mu.Unlock()
		if pl == nil {
			t.Fatalf("%s: no pool", it.Plugin.TenantID)
		}
		pl.mu.Lock()
		idle := len(pl.idle)
		pl.mu.Unlock()
		if idle != 1 {
			t.Fatalf("%s: %d idle instances, want 1", it.Plugin.TenantID, idle)
		}
		out, err := call(e, it.Plugin, "render")
		if err != nil || len(out.View.Blocks) != 3 {
			t.Fatalf("first call: %v", err)
		}
	}
	// Preloading again is a no-op for a warm pool.
	if err := e.Preload(ctx, items[:2]); err != nil {
		t.Fatal(err)
	}
}
