package service

import (
	"context"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
)

// TestChecksOfOneTenantDoNotStarveAnother fills the process's check slots
// with checks of tenant A that hold them until released, then checks a
// module of tenant B: B's check must start while A's are still held (before
// the per-tenant cap, A's checks held every slot and B waited, then got
// 503 module_check_busy).
func TestChecksOfOneTenantDoNotStarveAnother(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan string, 16)
	vs := New(Deps{Runtime: heldRuntime(func(ctx context.Context, module []byte) {
		entered <- string(module)
		if string(module) == "A" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	})})
	defer close(release)
	n := cap(moduleChecks) + 1
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := vs.check(context.Background(), "tenant-a", []byte("A"), &model.Plugin{})
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
		_, err := vs.check(context.Background(), "tenant-b", []byte("B"), &model.Plugin{})
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

// heldRuntime is a Runtime whose module check runs check (which may hold
// its slot until told to finish) and accepts every module.
type heldRuntime func(ctx context.Context, module []byte)

func (h heldRuntime) MaxModuleBytes() int { return 1 << 20 }

func (h heldRuntime) CheckModule(ctx context.Context, module []byte, _ *model.Plugin) (int, error) {
	h(ctx, module)
	return 1, nil
}

func (heldRuntime) Evict(string, string) {}
