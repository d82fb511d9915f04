package admin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/sandbox"
)

// TestChecksOfOneTenantDoNotStarveAnother fills the process's check slots
// with checks of tenant A that hold them until released, then checks a
// module of tenant B: B's check must start while A's are still held (before
// the per-tenant cap, A's checks held every slot and B waited, then got
// 503 module_check_busy).
func TestChecksOfOneTenantDoNotStarveAnother(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan string, 16)
	vs := &Versions{checkModule: func(ctx context.Context, module []byte, _ sandbox.Limits) (*sandbox.Info, error) {
		entered <- string(module)
		if string(module) == "A" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return &sandbox.Info{}, nil
	}}
	defer close(release)
	n := cap(moduleChecks) + 1
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := vs.check(context.Background(), "tenant-a", []byte("A"), sandbox.Limits{})
			done <- err
		}()
	}
	// Wait until every check of A holds a slot or waits for its tenant's.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for range 2000 {
			if ok() {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	waitFor("A's checks to queue", func() bool {
		tenantChecks.Lock()
		defer tenantChecks.Unlock()
		g := tenantChecks.gates["tenant-a"]
		return g != nil && g.users == n && len(entered) >= 1
	})
	if got := len(entered); got > MaxChecksPerTenant {
		t.Fatalf("%d checks of one tenant run at once, the cap is %d", got, MaxChecksPerTenant)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := vs.check(context.Background(), "tenant-b", []byte("B"), sandbox.Limits{})
		bDone <- err
	}()
	select {
	case err := <-bDone:
		if err != nil {
			t.Fatalf("tenant B's check: %v", err)
		}
	case <-time.After(checkQueueWait / 2):
		t.Fatal("tenant B's check did not start while tenant A's checks were held: A holds every slot")
	}
}

// FuzzParseActivate: only the documented spellings are accepted, and each
// means what it says.
func FuzzParseActivate(f *testing.F) {
	for _, s := range []string{"", "true", "TRUE", " on ", "1", "0", "false", "off", "yes", "sim", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		on, err := parseActivate(s)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "on":
			if err != nil || !on {
				t.Fatalf("%q: %v %v", s, on, err)
			}
		case "", "false", "0", "off":
			if err != nil || on {
				t.Fatalf("%q: %v %v", s, on, err)
			}
		default:
			if err == nil || on {
				t.Fatalf("%q accepted as %v", s, on)
			}
		}
	})
}
