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

// TestKVCombinedWritesKeepTheQuota: in a combined write, a change whose
// value the quota refuses is refused, even when a later change of the
// same write leaves a shorter value.
func TestKVCombinedWritesKeepTheQuota(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "cota")
		p := newWasmPlugin(t, st, a.ID, "cheio")
		big := bytes.Repeat([]byte("x"), storage.KVMaxValue)
		for i := range storage.KVMaxBytes/storage.KVMaxValue - 1 {
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, fmt.Sprintf("f%02d", i), big), "fill")
		}
		release, first := holdKVWrite(t, st, a.ID, p.ID, "k", []byte("a"))
		var tooBig, short error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); tooBig = st.KVSet(ctx, a.ID, p.ID, "k", big) }()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 1)
		wg.Add(1)
		go func() { defer wg.Done(); short = st.KVSet(ctx, a.ID, p.ID, "k", []byte("bb")) }()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 2)
		release()
		testdb.Must(t, <-first, "the held write")
		wg.Wait()
		if !errors.Is(tooBig, storage.ErrKVQuota) || short != nil {
			t.Fatalf("the value over the quota: %v (want storage.ErrKVQuota); the short one after it: %v (want nil)", tooBig, short)
		}
		if v, _, err := st.KVGet(ctx, a.ID, p.ID, "k"); err != nil || string(v) != "bb" {
			t.Fatalf("k = %q, %v; want bb", v, err)
		}
	})
}

// TestKVCombinedWriteSurvivesAPanic: a change that panics in a combined
// write fails the others of that write (their outcome unknown, never a
// false success), and the key is not left busy: the next update of it
// goes through.
func TestKVCombinedWriteSurvivesAPanic(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "panico")
		p := newWasmPlugin(t, st, a.ID, "fragil")
		release, first := holdKVWrite(t, st, a.ID, p.ID, "k", []byte("1"))
		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			_ = st.KVUpdate(ctx, a.ID, p.ID, "k", func([]byte, bool) ([]byte, bool, error) { panic("a broken change") })
		}()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 1)
		other := make(chan error, 1)
		go func() { other <- st.KVSet(ctx, a.ID, p.ID, "k", []byte("2")) }()
		waitKVWaiting(t, st, a.ID, p.ID, "k", 2)
		release()
		testdb.Must(t, <-first, "the held write")
		if r := <-panicked; r == nil {
			t.Fatal("the broken change did not panic in its caller")
		}
		if err := <-other; err == nil {
			t.Error("the update combined with a panicking change reported success")
		}
		done := make(chan error, 1)
		go func() { done <- st.KVSet(ctx, a.ID, p.ID, "k", []byte("3")) }()
		select {
		case err := <-done:
			testdb.Must(t, err, "the next update")
		case <-time.After(10 * time.Second):
			t.Fatal("the key stayed busy after the panic")
		}
		if v, _, err := st.KVGet(ctx, a.ID, p.ID, "k"); err != nil || string(v) != "3" {
			t.Fatalf("k = %q, %v; want 3", v, err)
		}
	})
}
