package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// TestNoLeakBetweenCalls is the STACK.md leak test: a call stores the
// user's secret in a package-level variable; the next call, by another
// user of the same tenant or on another tenant, must not see it.
func TestNoLeakBetweenCalls(t *testing.T) {
	e := newEngine(t, Options{PoolSize: 1})
	p := testPlugin("t1", "leak")
	q := testPlugin("t2", "leak")
	for i := range 20 {
		for _, pl := range []Plugin{p, q} {
			out, err := call(e, pl, "leak", "secret", "s"+pl.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, out); got != "" {
				t.Fatalf("call %d on %s saw %q", i, pl.TenantID, got)
			}
		}
	}
	// The instance really was reused (restored, not re-created).
	if d := e.discards.Load(); d != 0 {
		t.Errorf("%d instances discarded", d)
	}
	out1, _ := call(e, p, "rand")
	out2, _ := call(e, p, "rand")
	r1, r2 := text(t, out1), text(t, out2)
	if r1 == r2 || !strings.Contains(r1, time.Now().UTC().Format("2006-01-02")) {
		t.Errorf("random or clock not real: %q, %q", r1, r2)
	}
}

// TestConcurrency checks the per-plugin concurrency limit and its queue.
func TestConcurrency(t *testing.T) {
	e := newEngine(t, Options{})
	p := testPlugin("t1", "busy")
	p.Limits = Limits{MaxConcurrent: 1, QueueWait: 50 * time.Millisecond, Timeout: 5 * time.Second}
	if _, err := call(e, p, "render"); err != nil {
		t.Fatal(err)
	}
	release := make(chan error)
	go func() {
		_, err := call(e, p, "sleep", "d", "400ms")
		release <- err
	}()
	st := e.state("t1", "busy", 1)
	for deadline := time.Now().Add(5 * time.Second); len(st.slotsChan()) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("first call never started")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := call(e, p, "render"); reasonOf(err) != ReasonBusy {
		t.Fatalf("second call: %v, want busy", err)
	}
	// A longer queue wait lets the second call through once the first ends.
	q := p
	q.Limits.QueueWait = 5 * time.Second
	if _, err := call(e, q, "render"); err != nil {
		t.Fatalf("queued call: %v", err)
	}
	if err := <-release; err != nil {
		t.Fatalf("sleeping call: %v", err)
	}
	// Parallel calls within the limit all succeed.
	r := p
	r.Limits.MaxConcurrent = 4
	r.Limits.QueueWait = 5 * time.Second
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := call(e, r, "render")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestBreaker checks that a plugin that keeps failing is paused, that a
// trial call after the cooldown closes the breaker when it succeeds, and
// that a failed trial re-opens it.
func TestBreaker(t *testing.T) {
	e := newEngine(t, Options{BreakerThreshold: 2, BreakerCooldown: 100 * time.Millisecond})
	p := testPlugin("t1", "brk")
	other := testPlugin("t1", "fine")
	for range 2 {
		if _, err := call(e, p, "panic"); reasonOf(err) != ReasonTrap {
			t.Fatal(err)
		}
	}
	if _, err := call(e, p, "render"); reasonOf(err) != ReasonPaused {
		t.Fatalf("third call: %v, want paused", err)
	}
	if h := e.Health("t1", "brk"); !h.Paused || h.PausedUntil.IsZero() {
		t.Fatalf("health not paused: %+v", h)
	}
	if _, err := call(e, other, "render"); err != nil {
		t.Fatalf("another plugin is affected: %v", err)
	}
	waitUnpaused(t, e, "brk")
	if _, err := call(e, p, "panic"); reasonOf(err) != ReasonTrap { // failed trial
		t.Fatal(err)
	}
	if _, err := call(e, p, "render"); reasonOf(err) != ReasonPaused {
		t.Fatalf("after failed trial: %v, want paused", err)
	}
	waitUnpaused(t, e, "brk")
	// The next trial is another person's (TestFailedTrialIsNotRetriedBySamePerson).
	if _, err := callAs(e, p, "u2", "render"); err != nil {
		t.Fatalf("trial: %v", err)
	}
	if _, err := call(e, p, "render"); err != nil {
		t.Fatalf("after trial: %v", err)
	}
	if h := e.Health("t1", "brk"); h.Paused || h.Errors != 5 || h.P50 <= 0 || h.P95 < h.P50 {
		t.Fatalf("health after recovery: %+v", h)
	}
}

// TestBreakerNeedsSeveralPeople: a breaker pauses a plugin for everyone,
// so one customer whose input makes it fail cannot open it however often
// they try (their calls keep failing; another customer's are served), and
// another customer's success ends the run; failures of BreakerPeople
// different people in a row do open it.
func TestBreakerNeedsSeveralPeople(t *testing.T) {
	e := newEngine(t, Options{BreakerThreshold: 3, BreakerPeople: 3, BreakerCooldown: time.Hour})
	p := testPlugin("t1", "people")
	as := func(user, action string) error {
		_, err := callAs(e, p, user, action)
		return err
	}
	for i := range 10 {
		if err := as("attacker", "panic"); reasonOf(err) != ReasonTrap {
			t.Fatalf("the attacker's call %d: %v, want trap", i+1, err)
		}
	}
	if err := as("other", "render"); err != nil {
		t.Fatalf("one person's failures paused the plugin for another: %v", err)
	}
	// Two people's failures, then a third's success: the run ends.
	for _, u := range []string{"attacker", "second", "attacker", "second"} {
		if err := as(u, "panic"); reasonOf(err) != ReasonTrap {
			t.Fatalf("%s: %v, want trap", u, err)
		}
	}
	if err := as("third", "render"); err != nil {
		t.Fatalf("two people's failures paused the plugin: %v", err)
	}
	// Three people fail in a row: a fault everyone meets.
	for _, u := range []string{"attacker", "second", "third"} {
		if err := as(u, "panic"); reasonOf(err) != ReasonTrap {
			t.Fatalf("%s: %v, want trap", u, err)
		}
	}
	if err := as("fourth", "render"); reasonOf(err) != ReasonPaused {
		t.Fatalf("three people's failures in a row: %v, want paused", err)
	}
}

// TestFailedTrialIsNotRetriedBySamePerson: once a person's half-open
// trial has failed, the next trial is someone else's, so a person whose
// calls always fail cannot keep the breaker open by calling as each
// cooldown ends; another person's success closes it.
func TestFailedTrialIsNotRetriedBySamePerson(t *testing.T) {
	e := newEngine(t, Options{BreakerThreshold: 2, BreakerCooldown: 50 * time.Millisecond})
	p := testPlugin("t1", "trial")
	as := func(user, action string) error {
		_, err := callAs(e, p, user, action)
		return err
	}
	for range 2 {
		if err := as("attacker", "panic"); reasonOf(err) != ReasonTrap {
			t.Fatal(err)
		}
	}
	waitUnpaused(t, e, "trial")
	if err := as("attacker", "panic"); reasonOf(err) != ReasonTrap { // the trial, failed
		t.Fatalf("the trial: %v", err)
	}
	waitUnpaused(t, e, "trial")
	if err := as("attacker", "panic"); reasonOf(err) != ReasonPaused {
		t.Fatalf("the same person's next call after a failed trial: %v, want paused (not a trial)", err)
	}
	if err := as("other", "render"); err != nil {
		t.Fatalf("another person's call after the cooldown: %v, want it run as the trial", err)
	}
	if err := as("attacker", "render"); err != nil {
		t.Fatalf("after another's successful trial: %v, want the breaker closed", err)
	}
}

// TestHealthOnlyRefusalsDoNotPause: an output Accept refuses as
// HealthOnly (a home card the portal leaves out) counts in the health as
// malformed but never opens the breaker; a plain refusal does.
func TestHealthOnlyRefusalsDoNotPause(t *testing.T) {
	e := newEngine(t, Options{BreakerThreshold: 2, BreakerCooldown: time.Hour})
	p := testPlugin("t1", "card")
	p.Accept = func(*abi.Output) error { return HealthOnly(errors.New("card: too much text")) }
	for range 5 {
		if _, err := call(e, p, "render"); reasonOf(err) != ReasonMalformed {
			t.Fatalf("a refused card: %v, want malformed", err)
		}
	}
	if h := e.Health("t1", "card"); h.Paused || h.Errors != 5 || h.LastErrors[0].Detail != "card: too much text" {
		t.Fatalf("after five refused cards: %+v", h)
	}
	p.Accept = func(*abi.Output) error { return errors.New("view: bad link") }
	for range 2 {
		_, _ = call(e, p, "render")
	}
	if _, err := call(e, p, "render"); reasonOf(err) != ReasonPaused {
		t.Fatalf("after two refused views: %v, want paused", err)
	}
}

// TestBreakerClosesForAnotherVersion: the breaker a failing version
// opened does not hold back the version activated after it (a fix, or a
// rollback): its first call runs, on any node, without waiting out the
// cooldown; and failures of one version do not add to another's.
func TestBreakerClosesForAnotherVersion(t *testing.T) {
	e := newEngine(t, Options{BreakerThreshold: 2, BreakerCooldown: time.Hour})
	broken := testPlugin("t1", "versions")
	for range 2 {
		if _, err := call(e, broken, "panic"); reasonOf(err) != ReasonTrap {
			t.Fatal(err)
		}
	}
	if _, err := call(e, broken, "render"); reasonOf(err) != ReasonPaused {
		t.Fatalf("after two traps: %v, want paused", err)
	}
	fixed := broken
	fixed.VersionID = "v-fixed"
	if _, err := call(e, fixed, "render"); err != nil {
		t.Fatalf("the next version's first call: %v, want it run", err)
	}
	if h := e.Health("t1", "versions"); h.Paused {
		t.Fatalf("still paused after the next version ran: %+v", h)
	}
	// One failure of the old version (a call in flight across the
	// change) and one of the new do not add up to the threshold.
	if _, err := call(e, broken, "panic"); reasonOf(err) != ReasonTrap {
		t.Fatal(err)
	}
	if _, err := call(e, fixed, "panic"); reasonOf(err) != ReasonTrap {
		t.Fatal(err)
	}
	if _, err := call(e, fixed, "render"); err != nil {
		t.Fatalf("one failure of each version paused the plugin: %v", err)
	}
}

// TestBreakerIgnoresStoreOutage: a module the loader cannot fetch because
// its store is unreachable (ErrServiceUnavailable) fails the call as
// unavailable, which is not the plugin's fault: however many such calls
// fail, the breaker stays closed and the plugin runs as soon as the store
// is back. A loader failing for any other reason still counts.
func TestBreakerIgnoresStoreOutage(t *testing.T) {
	e := newEngine(t, Options{BreakerThreshold: 2, BreakerCooldown: time.Minute})
	p := testPlugin("t1", "outage")
	in := &abi.Input{Kind: abi.KindRender, User: abi.User{ID: "u1", Role: "cliente", Locale: "pt-BR", Tenant: "t1"}}
	down := func(context.Context) ([]byte, error) {
		return nil, fmt.Errorf("%w: database unreachable", ErrServiceUnavailable)
	}
	for range 5 {
		if _, err := e.Call(context.Background(), p, down, in); reasonOf(err) != ReasonUnavailable {
			t.Fatalf("a load during an outage: %v, want unavailable", err)
		}
	}
	if h := e.Health("t1", "outage"); h.Paused {
		t.Fatalf("an outage of the store paused the plugin: %+v", h)
	}
	if _, err := e.Call(context.Background(), p, loadGuest, in); err != nil {
		t.Fatalf("the first call after the outage: %v", err)
	}
	broken := testPlugin("t1", "broken")
	bad := func(context.Context) ([]byte, error) { return []byte("not wasm"), nil }
	for range 2 {
		if _, err := e.Call(context.Background(), broken, bad, in); reasonOf(err) != ReasonLoad {
			t.Fatalf("a module that does not compile: %v, want load", err)
		}
	}
	if !e.Health("t1", "broken").Paused {
		t.Error("a module that never compiles did not open the breaker")
	}
}

func waitUnpaused(t *testing.T, e *Engine, plugin string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); e.Health("t1", plugin).Paused; {
		if time.Now().After(deadline) {
			t.Fatal("breaker never half-opened")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLimitBounds checks the input, output, memory, timeout and host call
// limits at, below and above their bounds, and the clamping of Limits.
func TestLimitBounds(t *testing.T) {
	e := newEngine(t, Options{})
	base := testPlugin("t1", "lim")
	base.Limits.Timeout = MaxTimeout // generous under -race; the timeout rows set their own
	// Output: {"view":{"blocks":[{"type":"text","text":"…"}]}} is 47 bytes + text.
	for _, tt := range []struct {
		n      string
		reason string
	}{{"952", ""}, {"953", ""}, {"954", ReasonMalformed}} {
		p := base
		p.Limits.MaxOutputBytes = 1000 // 47 + 953 = 1000 is at the bound
		if _, err := call(e, p, "huge", "bytes", tt.n); reasonOf(err) != tt.reason {
			t.Errorf("output of 47+%s bytes: %v", tt.n, err)
		}
	}
	// Input.
	in := &abi.Input{Kind: abi.KindAction, Action: "noop", Form: map[string][]string{"x": {strings.Repeat("a", 500)}}}
	size := inputSize(t, base, in)
	for _, tt := range []struct {
		limit  int
		reason string
	}{{size + 1, ""}, {size, ""}, {size - 1, ReasonMalformed}} {
		p := base
		p.Limits.MaxInputBytes = tt.limit
		if _, err := e.Call(context.Background(), p, loadGuest, in); reasonOf(err) != tt.reason {
			t.Errorf("input %d with limit %d: %v", size, tt.limit, err)
		}
	}
	// Memory: 8 MiB fits in 32, 40 MiB does not.
	p := base
	p.Limits.MemoryMB = 32
	if _, err := call(e, p, "bigalloc", "mb", "8"); err != nil {
		t.Errorf("8 MiB in 32: %v", err)
	}
	if _, err := call(e, p, "bigalloc", "mb", "40"); reasonOf(err) != ReasonMemory {
		t.Errorf("40 MiB in 32: %v", err)
	}
	// Timeout: a 20 ms sleep fits in 2 s; a 3 s sleep does not fit in 200 ms.
	p = base
	if _, err := call(e, p, "sleep", "d", "20ms"); err != nil {
		t.Errorf("short sleep: %v", err)
	}
	p.Limits.Timeout = 200 * time.Millisecond
	if _, err := call(e, p, "sleep", "d", "3s"); reasonOf(err) != ReasonTimeout {
		t.Errorf("long sleep: %v", err)
	}
	// Host calls: at the bound all pass, above it the call fails.
	p = base
	p.Limits.MaxHostCalls = 10
	if out, err := call(e, p, "calls", "n", "10"); err != nil || text(t, out) != "refused=0" {
		t.Errorf("10 host calls: %v %v", out, err)
	}
	if _, err := call(e, p, "calls", "n", "11"); reasonOf(err) != ReasonHostCalls {
		t.Errorf("11 host calls: %v", err)
	}

	n := Limits{Timeout: time.Hour, MemoryMB: 4096, MaxConcurrent: -1, QueueWait: time.Hour}.normalize()
	if n.Timeout != MaxTimeout || n.MemoryMB != MaxMemoryMB || n.MaxConcurrent != DefaultMaxConcurrent || n.QueueWait != MaxTimeout ||
		n.MaxOutputBytes != DefaultMaxOutputBytes || n.MaxHostCalls != DefaultMaxHostCalls {
		t.Errorf("normalize: %+v", n)
	}
	if d := (Limits{}).normalize(); d.Timeout != DefaultTimeout || d.MemoryMB != DefaultMemoryMB || d.QueueWait != DefaultQueueWait {
		t.Errorf("defaults: %+v", d)
	}
}

func inputSize(t *testing.T, p Plugin, in *abi.Input) int {
	t.Helper()
	c := *in
	c.ABI = abi.Version
	c.Plugin = abi.PluginInfo{Slug: p.Slug, Title: p.Title}
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// TestMathRandFreshPerCall checks that math/rand's top-level functions (v1
// and v2) return new numbers on every call of a reused instance, although
// each call starts from the same memory image: the host finds the Go
// runtime's generator state and refreshes it before each call
// (guestrand.go).
func TestMathRandFreshPerCall(t *testing.T) {
	e := newEngine(t, Options{})
	p := testPlugin("t1", "mathrand")
	seen := map[string]int{}
	for i := range 6 {
		out, err := call(e, p, "mathrand")
		if err != nil {
			t.Fatal(err)
		}
		v1, v2, _ := strings.Cut(text(t, out), " ")
		for _, v := range []string{"v1 " + v1, "v2 " + v2} {
			if j, ok := seen[v]; ok {
				t.Fatalf("call %d repeats call %d's math/rand %s", i, j, v)
			}
			seen[v] = i
		}
	}
	if d := e.discards.Load(); d != 0 {
		t.Fatalf("%d instances discarded: the calls did not run on a rewound instance", d)
	}
	pl := e.pools[poolKey{p.TenantID, p.VersionID}]
	if pl == nil || len(pl.idle) != 1 || pl.idle[0].randAt < 0 {
		t.Fatalf("the runtime generator was not located in the pool's one instance")
	}
}
