package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// blockingServices is a Services whose KVGet blocks until release is
// closed: a guest calling kv.get is a call held in flight for as long as
// the test wants, without sleeping.
type blockingServices struct {
	*memServices
	release chan struct{}
	mu      sync.Mutex
	waiting int
}

func (s *blockingServices) KVGet(ctx context.Context, t, p, k string) ([]byte, bool, error) {
	s.mu.Lock()
	s.waiting++
	s.mu.Unlock()
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil, false, nil
}

func (s *blockingServices) blocked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// waitFor polls cond every 5 ms for at most 20 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for range 4000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("timed out waiting for %s", what)
}

// budgetPlugin is a plugin of the multi guest with the kv grant, a long
// deadline and a short queue wait.
func budgetPlugin(tenant, id string) Plugin {
	p := testPlugin(tenant, id)
	p.Grants = []string{GrantKV}
	p.Limits = Limits{Timeout: MaxTimeout, QueueWait: 50 * time.Millisecond, MemoryMB: 32}
	return p
}

// startBlocked starts a call of p that blocks in kv.get; its error is sent
// on the returned channel once released.
func startBlocked(e *Engine, p Plugin) <-chan error {
	done := make(chan error, 1)
	req, _ := json.Marshal(abi.HostRequest{Op: abi.OpKVGet, Key: "k"})
	go func() {
		_, err := call(e, p, "host", "req", string(req))
		done <- err
	}()
	return done
}

// loadGate is a module loader that blocks until release is closed. The
// execution slot is taken before the module is loaded, so a call whose
// load waits here holds its slot for as long as the test wants, without
// sleeping and without a host call (which gives the slot back).
type loadGate struct {
	release chan struct{}
	mu      sync.Mutex
	waiting int
}

func (g *loadGate) load(ctx context.Context) ([]byte, error) {
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	select {
	case <-g.release:
		return guestWasm, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *loadGate) blocked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// startHeld starts a no-op call of p that holds its execution slot until
// g is released; its error is sent on the returned channel.
func startHeld(e *Engine, p Plugin, g *loadGate) <-chan error {
	done := make(chan error, 1)
	go func() {
		in := &abi.Input{Kind: abi.KindAction, Action: "noop", User: abi.User{ID: "u1", Role: "cliente", Locale: "pt-BR", Tenant: p.TenantID}}
		_, err := e.Call(context.Background(), p, g.load, in)
		done <- err
	}()
	return done
}

// TestExecutionBudgetSharesBetweenTenants fills the process's execution
// slots with held calls: a tenant at its share is refused with
// ReasonOverloaded while another tenant's call still runs, and when the
// process is full every tenant is refused, until the calls end.
func TestExecutionBudgetSharesBetweenTenants(t *testing.T) {
	e := newEngine(t, Options{MaxExecutions: 3, MaxTenantExecutions: 2})
	g := &loadGate{release: make(chan struct{})}
	var running []<-chan error
	defer func() {
		close(g.release)
		for _, done := range running {
			if err := <-done; err != nil {
				t.Errorf("held call: %v", err)
			}
		}
	}()
	// Tenant A holds its share (two calls of two plugins: the per-plugin
	// cap is not what refuses).
	running = append(running, startHeld(e, budgetPlugin("A", "a1"), g), startHeld(e, budgetPlugin("A", "a2"), g))
	waitFor(t, "tenant A's two calls in flight", func() bool { return g.blocked() == 2 })
	_, err := call(e, budgetPlugin("A", "a3"), "noop")
	if reasonOf(err) != ReasonOverloaded || !strings.Contains(err.Error(), "the tenant has 2 calls running") {
		t.Fatalf("tenant A over its share: %v, want %s", err, ReasonOverloaded)
	}
	// Tenant B still runs while A's calls are in flight.
	if _, err := call(e, budgetPlugin("B", "b1"), "noop"); err != nil {
		t.Fatalf("tenant B while A holds its share: %v", err)
	}
	if e.Executing() != 2 || g.blocked() != 2 {
		t.Fatalf("%d calls executing, want tenant A's 2 still in flight", e.Executing())
	}
	// B takes the last slot: now the process is full for everyone.
	running = append(running, startHeld(e, budgetPlugin("B", "b2"), g))
	waitFor(t, "tenant B's call in flight", func() bool { return g.blocked() == 3 })
	_, err = call(e, budgetPlugin("C", "c1"), "noop")
	if reasonOf(err) != ReasonOverloaded || !strings.Contains(err.Error(), "3 calls running in the process") {
		t.Fatalf("tenant C with the process full: %v, want %s", err, ReasonOverloaded)
	}
	if h := e.Health("C", "c1"); h.Paused || h.Errors != 1 {
		t.Errorf("overloaded is counted but must not pause the plugin: %+v", h)
	}
}

// TestHostCallsGiveTheSlotBack: calls waiting in a host call (here kv.get,
// as on a slow database or ERP) do not hold execution slots. A tenant with
// more calls waiting than its share still runs its other calls, and the
// waiting calls all finish once their wait ends.
func TestHostCallsGiveTheSlotBack(t *testing.T) {
	svc := &blockingServices{memServices: newMemServices(), release: make(chan struct{})}
	e := newEngine(t, Options{Services: svc, MaxExecutions: 3, MaxTenantExecutions: 2})
	var running []<-chan error
	released := false
	defer func() {
		if !released {
			close(svc.release)
		}
		for _, done := range running {
			<-done
		}
	}()
	for _, id := range []string{"w1", "w2", "w3", "w4"} {
		p := budgetPlugin("A", id)
		p.Limits.QueueWait = MaxTimeout // the first calls' instantiation takes a while
		running = append(running, startBlocked(e, p))
	}
	waitFor(t, "four calls of tenant A waiting in kv.get", func() bool { return svc.blocked() == 4 })
	if n := e.Executing(); n != 0 {
		t.Fatalf("%d calls hold execution slots while waiting in host calls, want 0", n)
	}
	if _, err := call(e, budgetPlugin("A", "a5"), "noop"); err != nil {
		t.Fatalf("tenant A's call while four of its calls wait on I/O: %v", err)
	}
	// When the waits end, the four take their slots back in turn (two at
	// a time, the tenant's share) and finish.
	close(svc.release)
	released = true
	for i, done := range running {
		if err := <-done; err != nil {
			t.Errorf("waiting call %d: %v", i, err)
		}
	}
	running = nil
	if n := e.Executing(); n != 0 {
		t.Errorf("%d execution slots still held after every call ended", n)
	}
}

// TestResumingCallsComeFirst: a call taking its slot back after a host
// call goes before calls that have not started, and one whose deadline
// passes while it waits gives its place up.
func TestResumingCallsComeFirst(t *testing.T) {
	b := newBudget(Options{MaxExecutions: 1, MaxTenantExecutions: 1})
	ctx := context.Background()
	running, err := b.acquireExec(ctx, "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parked := &execSlot{b: b, tenant: "A"} // a call inside a host call
	resumed := make(chan error, 1)
	go func() { resumed <- parked.resume(ctx) }()
	waitFor(t, "the parked call waiting for its slot", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.resuming == 1
	})
	// Room for one more call appears (the budget raised without waking
	// anyone): it is the resuming call's, not a new call's.
	b.mu.Lock()
	b.maxExec, b.maxTenant = 2, 2
	b.mu.Unlock()
	if s, err := b.acquireExec(ctx, "B", time.Now()); err == nil {
		s.release()
		t.Fatal("a new call took the room a resuming call waits for")
	}
	running.release()
	if err := <-resumed; err != nil || !parked.held {
		t.Fatalf("resume: %v (held %v)", err, parked.held)
	}
	b.mu.Lock()
	b.maxExec, b.maxTenant = 1, 1
	b.mu.Unlock()
	// A resume whose call's deadline passes gives its place up: the next
	// new call is not kept out by it.
	parked.park()
	holder, err := b.acquireExec(ctx, "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	late := &execSlot{b: b, tenant: "A"}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := late.resume(dctx); !errors.Is(err, context.DeadlineExceeded) || late.held {
		t.Fatalf("resume past the deadline: %v (held %v)", err, late.held)
	}
	holder.release()
	next, err := b.acquireExec(ctx, "B", time.Now())
	if err != nil {
		t.Fatalf("a new call after the late resume gave up: %v", err)
	}
	next.release()
	if b.exec != 0 || b.resuming != 0 || len(b.tenantExec) != 0 || len(b.tenantResuming) != 0 {
		t.Fatalf("budget not back to empty: exec %d resuming %d %v %v", b.exec, b.resuming, b.tenantExec, b.tenantResuming)
	}
}

// TestMemoryBudgetEvictsIdleThenSheds: a new instance that does not fit
// in the instance memory budget evicts the oldest idle instance of any
// tenant; when running instances hold the budget the call is refused with
// ReasonOverloaded.
func TestMemoryBudgetEvictsIdleThenSheds(t *testing.T) {
	svc := &blockingServices{memServices: newMemServices(), release: make(chan struct{})}
	e := newEngine(t, Options{Services: svc, PoolSize: 1, MaxInstanceMemoryMB: 64, MaxTenantInstanceMemoryMB: 64})
	for _, id := range []string{"m1", "m2"} {
		if _, err := call(e, budgetPlugin("A", id), "noop"); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.budget.reservedMem(); got != 64 {
		t.Fatalf("%d MiB reserved by two idle 32 MiB instances", got)
	}
	// Another tenant's plugin evicts A's oldest idle instance.
	if _, err := call(e, budgetPlugin("B", "m3"), "noop"); err != nil {
		t.Fatal(err)
	}
	if e.evictions.Load() != 1 || e.budget.reservedMem() != 64 {
		t.Fatalf("%d evictions, %d MiB reserved", e.evictions.Load(), e.budget.reservedMem())
	}
	// Two calls hold the whole budget while running: a third plugin has
	// nothing to evict.
	var running []<-chan error
	running = append(running, startBlocked(e, budgetPlugin("A", "m2")), startBlocked(e, budgetPlugin("B", "m3")))
	waitFor(t, "two calls in flight", func() bool { return svc.blocked() == 2 })
	_, err := call(e, budgetPlugin("C", "m4"), "noop")
	if reasonOf(err) != ReasonOverloaded || !strings.Contains(err.Error(), "instance memory") {
		t.Fatalf("with the memory budget held by running calls: %v, want %s", err, ReasonOverloaded)
	}
	close(svc.release)
	for _, done := range running {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := call(e, budgetPlugin("C", "m4"), "noop"); err != nil {
		t.Fatalf("after the calls ended: %v", err)
	}
}

// TestTenantSharePercent: the per-tenant bounds default to the share of
// the process's (PORTICO_WASM_TENANT_SHARE), rounded up, at least one slot
// and one instance of the largest memory limit; explicit bounds win.
func TestTenantSharePercent(t *testing.T) {
	for _, tc := range []struct {
		opts          Options
		exec, memMB   int
		wantExec, mem int
	}{
		{Options{MaxExecutions: 9, MaxInstanceMemoryMB: 1000}, 9, 1000, 5, 500},
		{Options{MaxExecutions: 9, MaxInstanceMemoryMB: 1000, TenantSharePercent: 100}, 9, 1000, 9, 1000},
		// Never less than one instance of the largest limit (256 MiB).
		{Options{MaxExecutions: 9, MaxInstanceMemoryMB: 1000, TenantSharePercent: 1}, 9, 1000, 1, MaxMemoryMB},
		{Options{MaxExecutions: 9, MaxInstanceMemoryMB: 128}, 9, 128, 5, 128},
		{Options{MaxExecutions: 9, MaxInstanceMemoryMB: 1000, TenantSharePercent: 30, MaxTenantExecutions: 7}, 9, 1000, 7, 300},
		{Options{MaxExecutions: 9, MaxInstanceMemoryMB: 1000, TenantSharePercent: 250}, 9, 1000, 9, 1000},
	} {
		e := newEngine(t, tc.opts)
		if e.opts.MaxExecutions != tc.exec || e.opts.MaxTenantExecutions != tc.wantExec ||
			e.opts.MaxInstanceMemoryMB != tc.memMB || e.opts.MaxTenantInstanceMemoryMB != tc.mem {
			t.Errorf("%+v: exec %d/%d, memory %d/%d MiB; want %d/%d, %d/%d", tc.opts, e.opts.MaxTenantExecutions, e.opts.MaxExecutions,
				e.opts.MaxTenantInstanceMemoryMB, e.opts.MaxInstanceMemoryMB, tc.wantExec, tc.exec, tc.mem, tc.memMB)
		}
	}
}

// TestMemoryBudgetSharedBetweenTenants: calls parked in a host call hold
// their instances but no execution slot; one tenant's may hold at most its
// share of the instance memory budget (half, by default), so another
// tenant is still served. A tenant at its share evicts its own idle
// instances, not another tenant's.
func TestMemoryBudgetSharedBetweenTenants(t *testing.T) {
	svc := &blockingServices{memServices: newMemServices(), release: make(chan struct{})}
	// Half of 128 MiB, set explicitly: the default share would be the
	// whole 128 (never less than one instance of the largest limit).
	e := newEngine(t, Options{Services: svc, PoolSize: 4, MaxInstanceMemoryMB: 128, MaxTenantInstanceMemoryMB: 64})
	// B has an idle instance; A's idle one is evicted for A's own calls.
	if _, err := call(e, budgetPlugin("B", "b1"), "noop"); err != nil {
		t.Fatal(err)
	}
	if _, err := call(e, budgetPlugin("A", "a0"), "noop"); err != nil {
		t.Fatal(err)
	}
	var running []<-chan error
	running = append(running, startBlocked(e, budgetPlugin("A", "a1")), startBlocked(e, budgetPlugin("A", "a1")))
	waitFor(t, "two calls of A parked", func() bool { return svc.blocked() == 2 })
	if e.Executing() != 0 {
		t.Fatalf("%d execution slots held by parked calls", e.Executing())
	}
	if got := e.budget.tenantReservedMem("A"); got != 64 {
		t.Fatalf("A holds %d MiB, want its share, 64", got)
	}
	if e.evictions.Load() != 1 || e.budget.tenantReservedMem("B") != 32 {
		t.Fatalf("%d evictions, B holds %d MiB: A evicted another tenant's instance", e.evictions.Load(), e.budget.tenantReservedMem("B"))
	}
	// A third call of A finds its share spent by running calls.
	_, err := call(e, budgetPlugin("A", "a1"), "noop")
	if reasonOf(err) != ReasonOverloaded || !strings.Contains(err.Error(), "per tenant") {
		t.Fatalf("A past its share: %v, want %s", err, ReasonOverloaded)
	}
	// B is served: its idle instance and a new one.
	for _, id := range []string{"b1", "b2"} {
		if _, err := call(e, budgetPlugin("B", id), "noop"); err != nil {
			t.Fatalf("B's %s while A holds its share: %v", id, err)
		}
	}
	close(svc.release)
	for _, done := range running {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestRefillTakesAnExecutionSlot: the background refill after a failed
// call runs the plugin's _initialize within one of its tenant's execution
// slots, and is skipped when the tenant has none free.
func TestRefillTakesAnExecutionSlot(t *testing.T) {
	e := newEngine(t, Options{MaxExecutions: 2, MaxTenantExecutions: 1, PoolSize: 2})
	p := budgetPlugin("A", "refill")
	if _, err := call(e, p, "noop"); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	pl := e.pools[poolKey{p.TenantID, p.VersionID}]
	e.mu.Unlock()
	take := func() *instance {
		pl.mu.Lock()
		defer pl.mu.Unlock()
		if len(pl.idle) == 0 {
			t.Fatal("no idle instance to take")
		}
		inst := pl.idle[0]
		pl.idle = pl.idle[1:]
		return inst
	}
	settled := func() int {
		var n int
		waitFor(t, "the refill to end", func() bool {
			pl.mu.Lock()
			defer pl.mu.Unlock()
			n = len(pl.idle)
			return !pl.refilling
		})
		return n
	}
	slot, err := e.budget.acquireExec(context.Background(), "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.discard(pl, take())
	if n := settled(); n != 0 {
		t.Fatalf("%d instances refilled while the tenant's only slot was held", n)
	}
	slot.release()
	inst, err := e.newInstance(context.Background(), pl, p.Limits.MemoryMB, false)
	if err != nil {
		t.Fatal(err)
	}
	e.discard(pl, inst)
	if n := settled(); n != 1 {
		t.Fatalf("%d instances refilled with a slot free, want 1", n)
	}
	if e.Executing() != 0 {
		t.Fatalf("the refill kept its slot: %d executing", e.Executing())
	}
}

// TestIdleInstancesExpire: an instance idle for IdleTimeout is closed (the
// clock is passed to the sweep), its memory reservation given back, and the
// background sweeper does it by itself.
func TestIdleInstancesExpire(t *testing.T) {
	e := newEngine(t, Options{IdleTimeout: time.Hour})
	p := testPlugin("t1", "idle")
	if _, err := call(e, p, "noop"); err != nil {
		t.Fatal(err)
	}
	idleInstance(t, e, p)
	if n := e.sweepIdle(time.Now().Add(59 * time.Minute)); n != 0 {
		t.Fatalf("%d instances expired before their idle timeout", n)
	}
	if n := e.sweepIdle(time.Now().Add(61 * time.Minute)); n != 1 {
		t.Fatalf("%d instances expired after the idle timeout, want 1", n)
	}
	if got := e.budget.reservedMem(); got != 0 {
		t.Fatalf("%d MiB still reserved", got)
	}
	if _, err := call(e, p, "noop"); err != nil {
		t.Fatalf("call after expiry: %v", err)
	}

	// The background sweep, with a short idle timeout.
	e2 := newEngine(t, Options{IdleTimeout: 20 * time.Millisecond})
	if _, err := call(e2, p, "noop"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sweeper to close the idle instance", func() bool { return e2.budget.reservedMem() == 0 })
}

// TestResumersBeyondTheirShareKeepNoSlot: calls of a tenant waiting to
// resume while their tenant is at its share could not take a free slot,
// so they keep none from another tenant's new call.
func TestResumersBeyondTheirShareKeepNoSlot(t *testing.T) {
	b := newBudget(Options{MaxExecutions: 3, MaxTenantExecutions: 2})
	ctx := context.Background()
	a1, err := b.acquireExec(ctx, "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a2, err := b.acquireExec(ctx, "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a2.park() // in a host call
	a3, err := b.acquireExec(ctx, "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	resumed := make(chan error, 1)
	go func() { resumed <- a2.resume(rctx) }()
	waitFor(t, "A's call waiting to resume", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.resuming == 1
	})
	// A runs 2 (its share) and has one resumer; the third slot is free.
	bs, err := b.acquireExec(ctx, "B", time.Now())
	if err != nil {
		t.Fatalf("B refused while a slot is free: %v", err)
	}
	bs.release()
	// Once A is below its share, its resumer goes first again.
	a1.release()
	if err := <-resumed; err != nil || !a2.held {
		t.Fatalf("resume: %v (held %v)", err, a2.held)
	}
	cancel()
	a2.release()
	a3.release()
	if b.exec != 0 || b.resuming != 0 || len(b.tenantExec) != 0 || len(b.tenantResuming) != 0 {
		t.Fatalf("budget not back to empty: exec %d resuming %d %v %v", b.exec, b.resuming, b.tenantExec, b.tenantResuming)
	}
}
