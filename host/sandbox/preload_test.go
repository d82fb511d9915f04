package sandbox

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
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

// TestPoolKeepsWhatAPluginRunsAtOnce: after a burst of as many concurrent
// calls as the plugin may run, the pool keeps that many warm instances
// (not only PoolSize), so the next burst instantiates nothing.
func TestPoolKeepsWhatAPluginRunsAtOnce(t *testing.T) {
	e := newEngine(t, Options{PoolSize: 1})
	p := testPlugin("t1", "burst")
	p.Limits.MaxConcurrent = 3
	idle := func() int {
		e.mu.Lock()
		pl := e.pools[poolKey{p.TenantID, p.VersionID}]
		e.mu.Unlock()
		if pl == nil {
			return 0
		}
		pl.mu.Lock()
		defer pl.mu.Unlock()
		return len(pl.idle)
	}
	burst := func() {
		var wg sync.WaitGroup
		errs := make(chan error, p.Limits.MaxConcurrent)
		for range p.Limits.MaxConcurrent {
			wg.Go(func() {
				// Long enough that the three calls overlap.
				if _, err := call(e, p, "sleep", "d", "150ms"); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	burst()
	if n := idle(); n != p.Limits.MaxConcurrent {
		t.Fatalf("%d idle instances after a burst of %d, want %d", n, p.Limits.MaxConcurrent, p.Limits.MaxConcurrent)
	}
	discards := e.discards.Load()
	burst()
	if n := idle(); n != p.Limits.MaxConcurrent || e.discards.Load() != discards {
		t.Fatalf("after a second burst: %d idle, %d discards; want %d and none", n, e.discards.Load()-discards, p.Limits.MaxConcurrent)
	}
}

// TestCloseWaitsForWorkUnderWay: Close does not close the runtimes under
// a call that is still loading its module (the compile that follows would
// meet a closed wazero engine, which panics when the compiled module is
// added to it), and calls after Close are refused as unavailable.
func TestCloseWaitsForWorkUnderWay(t *testing.T) {
	e := newEngine(t, Options{})
	loading, release := make(chan struct{}), make(chan struct{})
	load := func(context.Context) ([]byte, error) {
		close(loading)
		<-release
		return guestWasm, nil
	}
	called := make(chan error, 1)
	go func() {
		_, err := e.Call(context.Background(), testPlugin("t1", "closing"), load,
			&abi.Input{Kind: abi.KindRender, User: abi.User{ID: "u1", Role: "cliente", Locale: "pt-BR", Tenant: "t1"}})
		called <- err
	}()
	<-loading
	closed := make(chan error, 1)
	go func() { closed <- e.Close(context.Background()) }()
	// Close is waiting; the engine already refuses new work.
	for {
		e.mu.Lock()
		c := e.closed
		e.mu.Unlock()
		if c {
			break
		}
		runtime.Gosched()
	}
	// Without the wait, Close returns in a few milliseconds.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a call was loading its module", err)
	case <-time.After(200 * time.Millisecond):
	}
	_, err := call(e, testPlugin("t1", "late"), "render")
	var cerr *CallError
	if !errors.As(err, &cerr) || cerr.Reason != ReasonUnavailable {
		t.Fatalf("call after Close: %v, want %s", err, ReasonUnavailable)
	}
	if _, err := e.Check(context.Background(), guestWasm); err == nil {
		t.Fatal("Check after Close succeeded")
	}
	close(release)
	if err := <-called; err == nil {
		t.Fatal("the call under way succeeded on a closing engine; want it refused once its module is compiled")
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestCloseStopsWhatOutlastsItsContext: when Close's context ends before
// a call does (a guest in an endless loop, or asleep, with the longest
// timeout), the call is stopped, not waited out, and Close still closes
// the runtimes only after it ended.
func TestCloseStopsWhatOutlastsItsContext(t *testing.T) {
	for _, tt := range []struct{ action, arg string }{{"loop", ""}, {"sleep", "9s"}} {
		t.Run(tt.action, func(t *testing.T) {
			e := newEngine(t, Options{})
			p := testPlugin("t1", "outlasting")
			if _, err := call(e, p, "render"); err != nil { // compiled and pooled
				t.Fatal(err)
			}
			called := make(chan error, 1)
			go func() {
				_, err := call(e, p, tt.action, "d", tt.arg)
				called <- err
			}()
			for e.InFlight(p.TenantID, p.PluginID) == 0 {
				runtime.Gosched()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			if err := e.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			// Not a speed figure: waited out, the call would end at its
			// 9–10 s; stopped, it ends a moment after the 100 ms.
			if took := time.Since(start); took > MaxTimeout/2 {
				t.Fatalf("Close took %s: it waited the call out instead of stopping it", took)
			}
			if err := <-called; err == nil {
				t.Fatalf("the %s call succeeded", tt.action)
			}
		})
	}
}
