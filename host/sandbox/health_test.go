package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// TestChangedHealth: the changes since a mark are exactly the plugins that
// ran or logged after it, each once, with the snapshot Health returns;
// nothing changed, nothing returned; the zero mark returns every plugin.
func TestChangedHealth(t *testing.T) {
	e := newEngine(t, Options{})
	a, b, c := testPlugin("t1", "a"), testPlugin("t1", "b"), testPlugin("t2", "a")
	b.Grants = []string{GrantLog}
	names := func(hs []PluginHealth) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.TenantID+"/"+h.PluginID)
		}
		slices.Sort(out)
		return out
	}

	got, m0 := e.ChangedHealth(0)
	if len(got) != 0 {
		t.Fatalf("a new engine reported changes: %v", names(got))
	}
	for _, p := range []Plugin{a, b} {
		if _, err := call(e, p, "render"); err != nil {
			t.Fatal(err)
		}
	}
	got, m1 := e.ChangedHealth(m0)
	if n := names(got); !slices.Equal(n, []string{"t1/a", "t1/b"}) || m1 <= m0 {
		t.Fatalf("after calls of a and b: %v, mark %d → %d", n, m0, m1)
	}
	for _, h := range got {
		if h.Calls != 1 || h.Errors != 0 || h.P50 <= 0 {
			t.Errorf("%s: %+v", h.PluginID, h.Health)
		}
	}
	if got, m2 := e.ChangedHealth(m1); len(got) != 0 || m2 != m1 {
		t.Fatalf("nothing happened, yet %v (mark %d → %d)", names(got), m1, m2)
	}

	// A failure of c, and a call of b that logs a line.
	if _, err := call(e, c, "trap"); reasonOf(err) != ReasonTrap {
		t.Fatalf("trap: %v", err)
	}
	req, _ := json.Marshal(abi.HostRequest{Op: abi.OpLog, Level: "info", Message: "boleto emitido"})
	if _, err := call(e, b, "host", "req", string(req)); err != nil {
		t.Fatal(err)
	}
	got, m3 := e.ChangedHealth(m1)
	if n := names(got); !slices.Equal(n, []string{"t1/b", "t2/a"}) {
		t.Fatalf("after c's trap and b's log line: %v", n)
	}
	for _, h := range got {
		want := e.Health(h.TenantID, h.PluginID)
		if h.Calls != want.Calls || h.Errors != want.Errors || len(h.Logs) != len(want.Logs) || len(h.LastErrors) != len(want.LastErrors) {
			t.Errorf("%s/%s: snapshot %+v, Health %+v", h.TenantID, h.PluginID, h.Health, want)
		}
	}
	if all, _ := e.ChangedHealth(0); !slices.Equal(names(all), []string{"t1/a", "t1/b", "t2/a"}) {
		t.Errorf("from the zero mark: %v", names(all))
	}

	// Calls racing with the polling: whatever the interleaving, every
	// plugin that ran after a mark is in one of the answers that follow.
	var wg sync.WaitGroup
	seen := map[string]bool{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		m := m3
		for {
			var hs []PluginHealth
			hs, m = e.ChangedHealth(m)
			for _, n := range names(hs) {
				seen[n] = true
			}
			select {
			case <-stop:
				hs, _ = e.ChangedHealth(m)
				for _, n := range names(hs) {
					seen[n] = true
				}
				return
			case <-time.After(50 * time.Microsecond):
				// A pause, not a spin: a busy poller took a whole core
				// from the calls it races with, and on a loaded
				// two-core machine they timed out.
			}
		}
	}()
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := call(e, testPlugin("t3", id), "render"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		if !seen["t3/"+id] {
			t.Errorf("the call of %s was never reported (seen %v)", id, seen)
		}
	}
}

// BenchmarkChangedHealth measures the publisher's poll over 1,000 plugins:
// when nothing changed (idle), and when one of them ran.
func BenchmarkChangedHealth(b *testing.B) {
	e := newEngine(b, Options{})
	for i := range 1000 {
		st := e.state("t", fmt.Sprint(i), 4)
		for range 100 {
			st.record(e, time.Now(), time.Millisecond, "v1", "u1", nil)
		}
	}
	one := e.state("t", "0", 4)
	b.Run("idle", func(b *testing.B) {
		_, m := e.ChangedHealth(0)
		for b.Loop() {
			if hs, _ := e.ChangedHealth(m); len(hs) != 0 {
				b.Fatal("changes while idle")
			}
		}
	})
	b.Run("one_changed", func(b *testing.B) {
		_, m := e.ChangedHealth(0)
		for b.Loop() {
			one.record(e, time.Now(), time.Millisecond, "v1", "u1", nil)
			var hs []PluginHealth
			if hs, m = e.ChangedHealth(m); len(hs) != 1 {
				b.Fatalf("%d changed", len(hs))
			}
		}
	})
}
