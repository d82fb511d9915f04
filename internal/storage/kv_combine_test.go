package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

// holdKVWrite starts a write of key whose change waits for release (the
// write under way, with the key's row not yet written), and returns when
// the change has been entered. done receives the write's outcome.
func holdKVWrite(t *testing.T, st *storage.Store, tenantID, pluginID, key string, value []byte) (release func(), done <-chan error) {
	t.Helper()
	entered, rel := make(chan struct{}), make(chan struct{})
	out := make(chan error, 1)
	var once sync.Once
	go func() {
		out <- st.KVUpdate(context.Background(), tenantID, pluginID, key, func([]byte, bool) ([]byte, bool, error) {
			once.Do(func() { close(entered) })
			<-rel
			return value, true, nil
		})
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the held write never called its change")
	}
	return func() { close(rel) }, out
}

// waitKVWaiting waits until n updates of key wait for the write under way.
func waitKVWaiting(t *testing.T, st *storage.Store, tenantID, pluginID, key string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); st.KVWaitingForTest(tenantID, pluginID, key) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d updates wait for %q, want %d", st.KVWaitingForTest(tenantID, pluginID, key), key, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestKVUpdatesOfOneKeyCombine: the updates of one key that arrive while
// a write of it is under way are made by one write, with each caller's
// outcome that of the updates one after another: every increment counted
// once, a failing change failing alone, a caller that leaves while waiting
// not applied.
func TestKVUpdatesOfOneKeyCombine(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "combina")
		p := newWasmPlugin(t, st, a.ID, "contador")
		release, first := holdKVWrite(t, st, a.ID, p.ID, "n", []byte("1"))
		writes := st.KVWritesForTest()

		const n, failing = 20, 7
		boom := errors.New("boom")
		results := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = st.KVUpdate(ctx, a.ID, p.ID, "n", func(old []byte, _ bool) ([]byte, bool, error) {
					if i == failing {
						return nil, false, boom
					}
					v, err := strconv.Atoi(string(old))
					if err != nil {
						return nil, false, fmt.Errorf("counter %q: %w", old, err)
					}
					results[i] = strconv.Itoa(v + 1)
					return []byte(results[i]), true, nil
				})
			}()
		}
		waitKVWaiting(t, st, a.ID, p.ID, "n", n)

		left, leave := context.WithCancel(ctx)
		gaveUp := make(chan error, 1)
		go func() {
			gaveUp <- st.KVUpdate(left, a.ID, p.ID, "n", func([]byte, bool) ([]byte, bool, error) {
				t.Error("the change of a caller that left was applied")
				return []byte("0"), true, nil
			})
		}()
		waitKVWaiting(t, st, a.ID, p.ID, "n", n+1)
		leave()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Fatalf("a caller that left got %v, want context.Canceled", err)
		}

		release()
		testdb.Must(t, <-first, "the held write")
		wg.Wait()
		var got []int
		for i, err := range errs {
			switch {
			case i == failing && !errors.Is(err, boom):
				t.Errorf("the failing change returned %v, want its own error", err)
			case i != failing && err != nil:
				t.Errorf("update %d: %v", i, err)
			case i != failing:
				v, _ := strconv.Atoi(results[i])
				got = append(got, v)
			}
		}
		slices.Sort(got)
		for k, v := range got {
			if v != k+2 {
				t.Fatalf("the increments returned %v, want 2…%d each once", got, n)
			}
		}
		if v, _, err := st.KVGet(ctx, a.ID, p.ID, "n"); err != nil || string(v) != strconv.Itoa(n) {
			t.Fatalf("n = %q, %v; want %d", v, err, n)
		}
		if w := st.KVWritesForTest() - writes; w != 1 {
			t.Errorf("the %d waiting updates took %d writes, want 1", n, w)
		}
	})
}

// fillKVStore fills a plugin's store to one value of KVMaxValue bytes
// short of its byte quota, as KVMaxBytes/KVMaxValue-1 full values under
// three-byte keys would (one ballast row: hundreds of quota checks over a
// growing store cost seconds under -race).
func fillKVStore(t *testing.T, st *storage.Store, tenantID, pluginID string) {
	t.Helper()
	const n = storage.KVMaxBytes/storage.KVMaxValue - 1
	testdb.Must(t, st.SeedKVBytesForTest(context.Background(), tenantID, pluginID, "f00", n*(storage.KVMaxValue+3)-3), "fill")
}

// queueKVSets queues a KVSet of key for each value, in order, behind the
// held write, and returns their outcomes once release has let them run.
func queueKVSets(t *testing.T, st *storage.Store, tenantID, pluginID, key string, release func(), first <-chan error, values ...[]byte) []error {
	t.Helper()
	errs := make([]error, len(values))
	var wg sync.WaitGroup
	for i, v := range values {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = st.KVSet(context.Background(), tenantID, pluginID, key, v) }()
		waitKVWaiting(t, st, tenantID, pluginID, key, i+1)
	}
	release()
	testdb.Must(t, <-first, "the held write")
	wg.Wait()
	return errs
}

// TestKVCombinedWritesKeepTheQuota: a combined write answers the quota
// for each change as the changes one after another would: a value over
// the quota is refused even when a later change of the same write leaves
// a shorter one, a change that fits is written even when a later one of
// the same write does not, and a change that grows a value is refused on
// a store already over its quota (limits lowered under existing data) even
// when the write's last value is shorter than the first.
func TestKVCombinedWritesKeepTheQuota(t *testing.T) {
	big := bytes.Repeat([]byte("x"), storage.KVMaxValue)
	tests := []struct {
		name   string
		over   bool // the store is over its byte quota before the writes
		held   string
		values [][]byte
		want   []error
		final  string
	}{
		{"too big, then short", false, "a", [][]byte{big, []byte("bb")}, []error{storage.ErrKVQuota, nil}, "bb"},
		{"fits, then too big", false, "a", [][]byte{[]byte("bb"), big}, []error{nil, storage.ErrKVQuota}, "bb"},
		{"over quota: shrink, then grow", true, "0123456789", [][]byte{[]byte("abc"), []byte("abcde")}, []error{nil, storage.ErrKVQuota}, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachDriver(t, func(t *testing.T, st *storage.Store) {
				ctx := context.Background()
				a := newTenant(t, st, "cota")
				p := newWasmPlugin(t, st, a.ID, "cheio")
				fillKVStore(t, st, a.ID, p.ID)
				testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "k", []byte(tt.held)), "set k")
				if tt.over {
					testdb.Must(t, st.SeedKVBytesForTest(ctx, a.ID, p.ID, "over", storage.KVMaxValue), "take the store over its quota")
				}
				release, first := holdKVWrite(t, st, a.ID, p.ID, "k", []byte(tt.held))
				errs := queueKVSets(t, st, a.ID, p.ID, "k", release, first, tt.values...)
				for i, err := range errs {
					if !errors.Is(err, tt.want[i]) || (tt.want[i] == nil && err != nil) {
						t.Errorf("write %d of %d bytes: %v, want %v", i, len(tt.values[i]), err, tt.want[i])
					}
				}
				if v, _, err := st.KVGet(ctx, a.ID, p.ID, "k"); err != nil || string(v) != tt.final {
					t.Fatalf("k = %.20q, %v; want %q", v, err, tt.final)
				}
			})
		})
	}
}

// TestKVCombinedWriteOutlivesItsLeader: the caller that leads a combined
// write leaving does not fail the others of that write.
func TestKVCombinedWriteOutlivesItsLeader(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "lider")
		p := newWasmPlugin(t, st, a.ID, "contador")
		release, first := holdKVWrite(t, st, a.ID, p.ID, "k", []byte("1"))
		leaderCtx, leave := context.WithCancel(ctx)
		entered, resume := make(chan struct{}), make(chan struct{})
		var once sync.Once
		leader := make(chan error, 1)
		go func() {
			leader <- st.KVSet(leaderCtx, a.ID, p.ID, "k", []byte("2"))
		}()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 1)
		other := make(chan error, 1)
		go func() {
			other <- st.KVUpdate(ctx, a.ID, p.ID, "k", func(old []byte, _ bool) ([]byte, bool, error) {
				once.Do(func() { close(entered); <-resume }) // the combined write is under way
				return append(old, '3'), true, nil
			})
		}()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 2)
		release()
		testdb.Must(t, <-first, "the held write")
		<-entered
		leave()
		close(resume)
		if err := <-other; err != nil {
			t.Fatalf("the other update of the write whose leader left: %v", err)
		}
		if err := <-leader; err != nil {
			t.Errorf("the leader, which left once its write was under way: %v (its change was written)", err)
		}
		if v, _, err := st.KVGet(ctx, a.ID, p.ID, "k"); err != nil || string(v) != "23" {
			t.Fatalf("k = %q, %v; want 23", v, err)
		}
	})
}

// TestKVCombinedWriteSurvivesAPanic: a change that panics in a combined
// write, which runs in another caller's goroutine, fails alone and panics
// again in its own caller; the others of the write are written; the key is
// not left busy.
func TestKVCombinedWriteSurvivesAPanic(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "panico")
		p := newWasmPlugin(t, st, a.ID, "fragil")
		release, first := holdKVWrite(t, st, a.ID, p.ID, "k", []byte("1"))
		set := func(v string) <-chan error {
			out := make(chan error, 1)
			go func() { out <- st.KVSet(ctx, a.ID, p.ID, "k", []byte(v)) }()
			return out
		}
		before := set("2") // leads the combined write
		waitKVWaiting(t, st, a.ID, p.ID, "k", 1)
		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			_ = st.KVUpdate(ctx, a.ID, p.ID, "k", func([]byte, bool) ([]byte, bool, error) { panic("a broken change") })
		}()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 2)
		after := set("3")
		waitKVWaiting(t, st, a.ID, p.ID, "k", 3)
		release()
		testdb.Must(t, <-first, "the held write")
		if r := <-panicked; r != "a broken change" {
			t.Fatalf("the broken change's caller recovered %v, want its own panic", r)
		}
		testdb.Must(t, <-before, "the update before the broken one")
		testdb.Must(t, <-after, "the update after the broken one")
		if v, _, err := st.KVGet(ctx, a.ID, p.ID, "k"); err != nil || string(v) != "3" {
			t.Fatalf("k = %q, %v; want 3", v, err)
		}
		done := make(chan error, 1)
		go func() { done <- st.KVSet(ctx, a.ID, p.ID, "k", []byte("4")) }()
		select {
		case err := <-done:
			testdb.Must(t, err, "the next update")
		case <-time.After(10 * time.Second):
			t.Fatal("the key stayed busy after the panic")
		}
	})
}

// TestKVSwapsOfManyKeysCombine: concurrent increments of different keys
// are written together (one statement for several keys) with each key's
// count exact, and a key changed behind the store's back (its hint stale)
// in such a batch is not overwritten: its increments build on the value
// the database holds.
func TestKVSwapsOfManyKeysCombine(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "swaps")
		p := newWasmPlugin(t, st, a.ID, "contadores")
		const keys, each = 24, 6
		key := func(i int) string { return fmt.Sprintf("visits:%02d", i) }
		want := make([]int, keys)
		for round := 0; st.KVSwapBatchesForTest() == 0 || round < 2; round++ {
			if round == 6 {
				t.Fatal("6 rounds of concurrent increments of different keys and never a combined write")
			}
			// Every key exists and this store holds its hint, except that
			// the first key is changed behind its back after the first
			// round.
			if round == 1 {
				res, err := st.RawSQL().ExecContext(ctx, st.BindForTest("UPDATE plugin_kv SET value = ? WHERE tenant_id = ? AND plugin_id = ? AND key = ?"),
					[]byte("100"), a.ID, p.ID, key(0))
				testdb.Must(t, err, "change behind the store's back")
				if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("changed %d rows behind the store's back", n)
				}
				want[0] = 100
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range keys {
				for range each {
					wg.Go(func() {
						<-start
						if _, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVIncr, Key: key(i), Delta: 1}); err != nil {
							t.Errorf("incr %s: %v", key(i), err)
						}
					})
				}
				want[i] += each
			}
			close(start)
			wg.Wait()
			for i := range keys {
				v, _, err := st.KVGet(ctx, a.ID, p.ID, key(i))
				if err != nil || string(v) != strconv.Itoa(want[i]) {
					t.Fatalf("round %d: %s = %q, %v; want %d", round, key(i), v, err, want[i])
				}
			}
		}
	})
}

// TestKVSwapBatch: in one combined write, each compare-and-swap changes
// its key only if the key holds the value it expects, and says whether it
// did; a key absent, a stale expectation, another tenant's or plugin's key
// and a second swap of the same key change nothing.
func TestKVSwapBatch(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a, b := newTenant(t, st, "swapa"), newTenant(t, st, "swapb")
		pa, pb := newWasmPlugin(t, st, a.ID, "um"), newWasmPlugin(t, st, b.ID, "dois")
		for _, k := range []string{"x", "y", "z"} {
			testdb.Must(t, st.KVSet(ctx, a.ID, pa.ID, k, []byte("1")), "set %s", k)
		}
		testdb.Must(t, st.KVSet(ctx, b.ID, pb.ID, "x", []byte("1")), "set b x")
		got, err := st.SwapKVBatchForTest(ctx, []storage.SwapKVForTest{
			{a.ID, pa.ID, "x", []byte("1"), []byte("2")},      // swaps
			{a.ID, pa.ID, "y", []byte("7"), []byte("8")},      // stale
			{a.ID, pa.ID, "absent", []byte("1"), []byte("2")}, // no such key
			{b.ID, pa.ID, "z", []byte("1"), []byte("2")},      // a's plugin under b
			{a.ID, pa.ID, "x", []byte("1"), []byte("3")},      // the same key again
			{b.ID, pb.ID, "x", []byte("1"), []byte("")},       // swaps (to empty)
			{a.ID, pa.ID, "z", []byte("1"), []byte("4")},      // swaps
		})
		testdb.Must(t, err, "swap batch")
		if want := []bool{true, false, false, false, false, true, true}; !slices.Equal(got, want) {
			t.Fatalf("swapped %v, want %v", got, want)
		}
		for _, c := range []struct{ tenant, plugin, key, want string }{
			{a.ID, pa.ID, "x", "2"}, {a.ID, pa.ID, "y", "1"}, {a.ID, pa.ID, "z", "4"}, {b.ID, pb.ID, "x", ""},
		} {
			v, found, err := st.KVGet(ctx, c.tenant, c.plugin, c.key)
			if err != nil || !found || string(v) != c.want {
				t.Errorf("%s = %q (found %v, %v), want %q", c.key, v, found, err, c.want)
			}
		}
		if _, found, _ := st.KVGet(ctx, a.ID, pa.ID, "absent"); found {
			t.Error("a swap of an absent key created it")
		}
	})
}

// TestCombinedWritesSurviveABadRow: a row the database refuses (a token of
// a tenant that does not exist; a key PostgreSQL cannot store) fails its
// own op only: the combined statement is written again one op at a time.
func TestCombinedWritesSurviveABadRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "badrow")
		exp := time.Now().Add(time.Minute).Unix()
		oks, errs := st.ConsumeJTIBatchForTest(ctx, [][2]string{
			{a.ID, "j1"}, {"no-such-tenant", "j2"}, {a.ID, "j3"}, {a.ID, "j1"},
		}, exp)
		if !oks[0] || errs[0] != nil || !oks[2] || errs[2] != nil {
			t.Errorf("good tokens: ok %v, errors %v", oks, errs)
		}
		if oks[1] || errs[1] == nil {
			t.Errorf("a token of no tenant: ok %v, error %v; want an error", oks[1], errs[1])
		}
		if oks[3] || errs[3] != nil {
			t.Errorf("a repeat in the batch: ok %v, error %v; want used", oks[3], errs[3])
		}

		p := newWasmPlugin(t, st, a.ID, "linhas")
		for _, k := range []string{"x", "y"} {
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, k, []byte("1")), "set %s", k)
		}
		swapped, serrs := st.SwapKVBatchOutcomesForTest(ctx, []storage.SwapKVForTest{
			{a.ID, p.ID, "x", []byte("1"), []byte("2")},
			{a.ID, p.ID, "bad\x00key", []byte("1"), []byte("2")},
			{a.ID, p.ID, "y", []byte("1"), []byte("3")},
		})
		if !swapped[0] || serrs[0] != nil || !swapped[2] || serrs[2] != nil || swapped[1] {
			t.Errorf("swaps beside a bad key: swapped %v, errors %v", swapped, serrs)
		}
		for k, want := range map[string]string{"x": "2", "y": "3"} {
			if v, _, err := st.KVGet(ctx, a.ID, p.ID, k); err != nil || string(v) != want {
				t.Errorf("%s = %q, %v; want %q", k, v, err, want)
			}
		}
	})
}
