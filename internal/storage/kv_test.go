package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

func TestKVIsolationAndValues(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa")
		b := newTenant(t, st, "beta")
		a1 := newWasmPlugin(t, st, a.ID, "um")
		a2 := newWasmPlugin(t, st, a.ID, "dois")
		b1 := newWasmPlugin(t, st, b.ID, "um")

		testdb.Must(t, st.KVSet(ctx, a.ID, a1.ID, "k", []byte("a1")), "set a1")
		testdb.Must(t, st.KVSet(ctx, a.ID, a2.ID, "k", []byte("a2")), "set a2")
		testdb.Must(t, st.KVSet(ctx, b.ID, b1.ID, "k", []byte("b1")), "set b1")
		testdb.Must(t, st.KVSet(ctx, a.ID, a1.ID, "k", []byte("a1 again")), "overwrite a1")
		testdb.Must(t, st.KVSet(ctx, a.ID, a1.ID, "empty", nil), "set empty")
		testdb.Must(t, st.KVSet(ctx, a.ID, a1.ID, "bin\u00e7", []byte{0, 255, 1}), "set binary")

		for _, tc := range []struct {
			tenant, plugin, key string
			want                string
			found               bool
		}{
			{a.ID, a1.ID, "k", "a1 again", true},
			{a.ID, a2.ID, "k", "a2", true},
			{b.ID, b1.ID, "k", "b1", true},
			{a.ID, a1.ID, "empty", "", true},
			{a.ID, a1.ID, "bin\u00e7", "\x00\xff\x01", true},
			{a.ID, a2.ID, "empty", "", false},
			{b.ID, a1.ID, "k", "", false}, // another tenant naming a1's ID sees nothing
			{a.ID, b1.ID, "k", "", false},
			{a.ID, a1.ID, "absent", "", false},
		} {
			v, found, err := st.KVGet(ctx, tc.tenant, tc.plugin, tc.key)
			testdb.Must(t, err, "get %s", tc.key)
			if found != tc.found || !bytes.Equal(v, []byte(tc.want)) || (found && v == nil) {
				t.Errorf("get(%s/%s/%s) = %q, %v; want %q, %v", tc.tenant, tc.plugin, tc.key, v, found, tc.want, tc.found)
			}
		}
		// Writing into another tenant's plugin fails.
		if err := st.KVSet(ctx, b.ID, a1.ID, "x", []byte("y")); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("cross-tenant set: %v", err)
		}
		// Delete is scoped, and idempotent.
		testdb.Must(t, st.KVDelete(ctx, b.ID, a1.ID, "k"), "cross-tenant delete")
		if _, found, _ := st.KVGet(ctx, a.ID, a1.ID, "k"); !found {
			t.Fatal("a cross-tenant delete removed the key")
		}
		testdb.Must(t, st.KVDelete(ctx, a.ID, a1.ID, "k"), "delete")
		testdb.Must(t, st.KVDelete(ctx, a.ID, a1.ID, "k"), "delete again")
		if _, found, _ := st.KVGet(ctx, a.ID, a1.ID, "k"); found {
			t.Fatal("deleted key still found")
		}
		if _, found, _ := st.KVGet(ctx, a.ID, a2.ID, "k"); !found {
			t.Fatal("delete in a1 removed a2's key")
		}
	})
}

func TestKVLimits(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa")
		p := newWasmPlugin(t, st, a.ID, "um")
		q := newWasmPlugin(t, st, a.ID, "dois")

		// Key and value sizes: at, above, and malformed keys.
		for _, tc := range []struct {
			name  string
			key   string
			value []byte
			want  error
		}{
			{"key at limit", strings.Repeat("k", storage.KVMaxKey), []byte("v"), nil},
			{"key above limit", strings.Repeat("k", storage.KVMaxKey+1), []byte("v"), storage.ErrKVInvalid},
			{"empty key", "", []byte("v"), storage.ErrKVInvalid},
			{"nul in key", "a\x00b", []byte("v"), storage.ErrKVInvalid},
			{"invalid utf-8 key", "a\xffb", []byte("v"), storage.ErrKVInvalid},
			{"value at limit", "big", make([]byte, storage.KVMaxValue), nil},
			{"value above limit", "bigger", make([]byte, storage.KVMaxValue+1), storage.ErrKVInvalid},
		} {
			if err := st.KVSet(ctx, a.ID, p.ID, tc.key, tc.value); !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}

		// Byte quota: fill q to just below KVMaxBytes with full values.
		val := make([]byte, storage.KVMaxValue)
		n := 0
		for ; ; n++ {
			key := fmt.Sprintf("v%03d", n)
			err := st.KVSet(ctx, a.ID, q.ID, key, val)
			if errors.Is(err, storage.ErrKVQuota) {
				break
			}
			testdb.Must(t, err, "fill %d", n)
			if n > storage.KVMaxBytes/storage.KVMaxValue+1 {
				t.Fatal("byte quota never hit")
			}
		}
		keys, used, err := st.KVUsage(ctx, a.ID, q.ID)
		testdb.Must(t, err, "usage")
		if keys != int64(n) || used > storage.KVMaxBytes || used+int64(4+len(val)) <= storage.KVMaxBytes {
			t.Fatalf("after filling: %d keys, %d bytes (n=%d)", keys, used, n)
		}
		// Exactly the remaining room fits; one byte more does not.
		room := storage.KVMaxBytes - used - int64(len("last"))
		if err := st.KVSet(ctx, a.ID, q.ID, "last", make([]byte, room+1)); !errors.Is(err, storage.ErrKVQuota) {
			t.Fatalf("room+1: %v", err)
		}
		testdb.Must(t, st.KVSet(ctx, a.ID, q.ID, "last", make([]byte, room)), "exactly the room")
		// Overwriting an existing key with a smaller value is allowed when full.
		testdb.Must(t, st.KVSet(ctx, a.ID, q.ID, "v000", []byte("small")), "shrink at quota")
		// The other plugin of the same tenant is unaffected.
		testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "still", []byte("fine")), "other plugin")
	})
}

func TestKVKeyQuota(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := testdb.Open(t, d)
			ctx := context.Background()
			a := newTenant(t, st, "alfa")
			p := newWasmPlugin(t, st, a.ID, "um")
			testdb.Must(t, st.SeedKVForTest(ctx, a.ID, p.ID, storage.KVMaxKeys-1), "seed")
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "last-that-fits", nil), "key %d", storage.KVMaxKeys)
			if err := st.KVSet(ctx, a.ID, p.ID, "one-more", nil); !errors.Is(err, storage.ErrKVQuota) {
				t.Fatalf("key %d: %v", storage.KVMaxKeys+1, err)
			}
			// Overwriting an existing key at the bound still works.
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "k0000", []byte("x")), "overwrite at bound")
			testdb.Must(t, st.KVDelete(ctx, a.ID, p.ID, "k0001"), "delete")
			testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "one-more", nil), "after delete")
		})
	}
}

// update applies an atomic kv request through KVUpdate, as the host does.
func update(st *storage.Store, tenantID, pluginID string, req abi.HostRequest) (abi.HostResponse, error) {
	var resp abi.HostResponse
	err := st.KVUpdate(context.Background(), tenantID, pluginID, req.Key, func(old []byte, found bool) ([]byte, bool, error) {
		v, write, r, err := abi.KVChange(&req, old, found)
		resp = r
		return v, write, err
	})
	return resp, err
}

// TestKVAtomic: concurrent increments of one key, from many goroutines,
// end exact; compare-and-set lets exactly one of many claim a key; a value
// that is not a number is refused; the quota still holds.
func TestKVAtomic(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "atomica")
		p := newWasmPlugin(t, st, a.ID, "contador")

		const workers, each = 16, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if _, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVIncr, Key: "visits", Delta: 1}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("incr: %v", err)
		}
		v, _, err := st.KVGet(ctx, a.ID, p.ID, "visits")
		if err != nil || string(v) != strconv.Itoa(workers*each) {
			t.Fatalf("visits = %q, %v; want %d", v, err, workers*each)
		}
		if r, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVIncr, Key: "visits", Delta: -400}); err != nil || string(r.Value) != strconv.Itoa(workers*each-400) {
			t.Errorf("incr -400 = %q, %v", r.Value, err)
		}

		// Claims: of many concurrent compare-and-sets on an absent key,
		// exactly one stores.
		var claimed atomic.Int32
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVCAS, Key: "slip:1", Absent: true, Value: []byte("owner-" + strconv.Itoa(i))})
				if err != nil {
					t.Error(err)
				}
				if r.Swapped {
					claimed.Add(1)
				}
			}()
		}
		wg.Wait()
		if claimed.Load() != 1 {
			t.Fatalf("%d claims succeeded, want 1", claimed.Load())
		}
		cur, _, _ := st.KVGet(ctx, a.ID, p.ID, "slip:1")
		if r, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVCAS, Key: "slip:1", Expect: []byte("wrong"), Value: []byte("x")}); r.Swapped || !r.Found || string(r.Value) != string(cur) || err != nil {
			t.Errorf("cas with a wrong expectation = %+v %v", r, err)
		}
		if r, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVCAS, Key: "slip:1", Expect: cur, Value: []byte("done")}); !r.Swapped || string(r.Value) != "done" || err != nil {
			t.Errorf("cas with the current value = %+v %v", r, err)
		}

		testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "text", []byte("abc")), "set text")
		if _, err := update(st, a.ID, p.ID, abi.HostRequest{Op: abi.OpKVIncr, Key: "text", Delta: 1}); !errors.Is(err, abi.ErrNotInteger) {
			t.Errorf("incr of text: %v, want abi.ErrNotInteger", err)
		}
		if v, _, _ := st.KVGet(ctx, a.ID, p.ID, "text"); string(v) != "abc" {
			t.Errorf("a refused incr changed the value to %q", v)
		}
	})
}

// TestPublishedWasmPlugins lists exactly the live, active wasm plugins with
// an active version, of every tenant.
func TestPublishedWasmPlugins(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a, b := newTenant(t, st, "pub-a"), newTenant(t, st, "pub-b")
		published := []*model.Plugin{newWasmPlugin(t, st, a.ID, "um"), newWasmPlugin(t, st, b.ID, "dois")}
		for _, p := range published {
			v := &model.PluginVersion{ABIVersion: 1}
			testdb.Must(t, st.CreatePluginVersion(ctx, p.TenantID, p.ID, v, []byte("\x00asm\x01\x00\x00\x00"), model.SystemActor("test")), "version")
			_, err := st.ActivatePluginVersion(ctx, p.TenantID, p.ID, v.ID, model.SystemActor("test"))
			testdb.Must(t, err, "activate")
		}
		newWasmPlugin(t, st, a.ID, "sem-versao") // no version: not published
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, newPlugin("quadro", 50), model.SystemActor("test")), "iframe")
		ps, err := st.PublishedWasmPlugins(ctx)
		testdb.Must(t, err, "list")
		var got []string
		for _, p := range ps {
			if p.TenantID == a.ID || p.TenantID == b.ID {
				got = append(got, p.Slug)
			}
		}
		if strings.Join(got, ",") != "um,dois" && strings.Join(got, ",") != "dois,um" {
			t.Errorf("published = %v, want um and dois", got)
		}
	})
}

// TestKVQuotaExactUnderConcurrency: twenty writers add new keys at once to
// a store five keys short of its quota: exactly five succeed, on both
// databases, and the store ends exactly full.
func TestKVQuotaExactUnderConcurrency(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa")
		p := newWasmPlugin(t, st, a.ID, "um")
		testdb.Must(t, st.SeedKVForTest(ctx, a.ID, p.ID, storage.KVMaxKeys-5), "seed")
		var ok, full atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.KVSet(ctx, a.ID, p.ID, fmt.Sprintf("new-%02d", i), []byte("v"))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, storage.ErrKVQuota):
					full.Add(1)
				default:
					t.Errorf("set: %v", err)
				}
			}()
		}
		wg.Wait()
		keys, _, err := st.KVUsage(ctx, a.ID, p.ID)
		testdb.Must(t, err, "usage")
		if ok.Load() != 5 || full.Load() != 15 || keys != storage.KVMaxKeys {
			t.Fatalf("%d written, %d refused, %d keys; want 5, 15, %d", ok.Load(), full.Load(), keys, storage.KVMaxKeys)
		}
	})
}

// TestKVWriteWithoutPluginLock: on PostgreSQL, while another transaction
// holds the plugin's row (as a growing write does), a write that does not
// grow the store — a counter going from 41 to 42 — goes through at once,
// and a write that grows it waits for the lock.
func TestKVWriteWithoutPluginLock(t *testing.T) {
	st := testdb.Open(t, "postgres")
	ctx := context.Background()
	a := newTenant(t, st, "alfa")
	p := newWasmPlugin(t, st, a.ID, "um")
	testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "visits", []byte("41")), "seed")
	release, err := st.HoldPluginLockForTest(ctx, a.ID, p.ID)
	testdb.Must(t, err, "hold the plugin's lock")
	defer release()
	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := st.KVSet(quick, a.ID, p.ID, "visits", []byte("42")); err != nil {
		t.Fatalf("a same-size write waited for the plugin's lock: %v", err)
	}
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if err := st.KVSet(short, a.ID, p.ID, "visits", []byte("1000")); err == nil {
		t.Fatal("a growing write did not wait for the plugin's lock")
	}
	release()
	testdb.Must(t, st.KVSet(ctx, a.ID, p.ID, "visits", []byte("1000")), "after the lock")
}
