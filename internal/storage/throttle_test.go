package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// testClock is a fixed time a test moves forward (or a node's skewed copy).
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// throttleStart is the start of a hold period, so tests know which period
// a reservation falls in.
var throttleStart = time.Unix(1_800_000_000, 0).Truncate(storage.ThrottleHold)

// openNodes opens n stores on one fresh database of driver, as n Portico
// nodes would (each its own pool and clock); clocks[i] drives node i.
func openNodes(t *testing.T, driver string, clocks ...*testClock) []*storage.Store {
	t.Helper()
	ctx := context.Background()
	url := testdb.URL(t, driver)
	var out []*storage.Store
	for i, c := range clocks {
		st, err := storage.Open(ctx, url, storage.Options{Logger: testdb.Logger(t), Now: c.Now})
		testdb.Must(t, err, "open node %d", i)
		t.Cleanup(func() { _ = st.Close() })
		if i == 0 {
			testdb.Must(t, st.Migrate(ctx), "migrate")
		}
		out = append(out, st)
	}
	return out
}

func newThrottle(t testing.TB, st *storage.Store, name string, limit int, window time.Duration) *storage.Throttle {
	t.Helper()
	th, err := st.Throttle(storage.ThrottleOptions{Name: name, Limit: limit, Window: window, Secret: []byte("a-secret-key-for-tests-32-bytes!")})
	testdb.Must(t, err, "throttle %s", name)
	return th
}

func reserve(t testing.TB, l auth.Limiter, key string) *auth.Reservation {
	t.Helper()
	r, err := l.Reserve(context.Background(), key)
	testdb.Must(t, err, "reserve %s", key)
	return r
}

func settle(t testing.TB, r *auth.Reservation, failed bool) {
	t.Helper()
	testdb.Must(t, r.Settle(context.Background(), failed), "settle")
}

// TestThrottleExactAcrossNodes races 60 reservations of one key with a
// limit of 5 through two stores on one database (two nodes) on each
// driver: exactly 5 are granted, whether the granted ones stay in flight
// or fail at once, and whether or not the nodes' clocks agree (the second
// node's clock is one hold period behind, the other side of a period
// boundary). The budget is then spent: a sixth attempt waits the window
// out, on either node.
func TestThrottleExactAcrossNodes(t *testing.T) {
	const attempts, limit = 60, 5
	for _, d := range testdb.Drivers {
		for _, tc := range []struct {
			name   string
			skew   time.Duration
			settle bool // settle each granted attempt as failed at once
		}{
			{"in flight", 0, false},
			{"failing", 0, true},
			{"skewed clocks", -storage.ThrottleHold, false},
			{"skewed clocks failing", -storage.ThrottleHold, true},
		} {
			t.Run(d+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				a, b := newTestClock(throttleStart), newTestClock(throttleStart.Add(tc.skew))
				nodes := openNodes(t, d, a, b)
				ths := []*storage.Throttle{newThrottle(t, nodes[0], "login-account", limit, 15*time.Minute),
					newThrottle(t, nodes[1], "login-account", limit, 15*time.Minute)}
				var granted, errs atomic.Int32
				var mu sync.Mutex
				var held []*auth.Reservation
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range attempts {
					wg.Add(1)
					go func(th *storage.Throttle) {
						defer wg.Done()
						<-start
						r, err := th.Reserve(context.Background(), "tenant|acct|ana@example.com")
						if err != nil {
							errs.Add(1)
							t.Errorf("reserve: %v", err)
							return
						}
						if !r.OK {
							if r.Wait <= 0 {
								t.Errorf("refused with wait %v", r.Wait)
							}
							return
						}
						granted.Add(1)
						if tc.settle {
							if err := r.Settle(context.Background(), true); err != nil {
								t.Errorf("settle: %v", err)
							}
							return
						}
						mu.Lock()
						held = append(held, r)
						mu.Unlock()
					}(ths[i%2])
				}
				close(start)
				wg.Wait()
				if granted.Load() != limit || errs.Load() != 0 {
					t.Fatalf("%d of %d concurrent reservations granted (%d errors), want exactly %d", granted.Load(), attempts, errs.Load(), limit)
				}
				if !tc.settle {
					// Only attempts in flight fill the budget: try again shortly.
					if r := reserve(t, ths[1], "tenant|acct|ana@example.com"); r.OK || r.Wait != time.Second {
						t.Fatalf("with %d in flight: ok=%v wait=%v, want refused for 1s", limit, r.OK, r.Wait)
					}
					for _, r := range held {
						settle(t, r, true)
					}
				}
				for i, th := range ths {
					r := reserve(t, th, "tenant|acct|ana@example.com")
					if r.OK || r.Wait < 14*time.Minute || r.Wait > 15*time.Minute+storage.ThrottleHold {
						t.Errorf("node %d after %d failures: ok=%v wait=%v, want refused for about the 15-minute window", i, limit, r.OK, r.Wait)
					}
					wait, blocked, err := th.Blocked(context.Background(), "tenant|acct|ana@example.com")
					if err != nil || !blocked || wait < 14*time.Minute {
						t.Errorf("node %d Blocked: %v %v %v", i, wait, blocked, err)
					}
				}
				// Another key, and the same key in another budget, are untouched.
				if r := reserve(t, ths[0], "tenant|acct|bia@example.com"); !r.OK {
					t.Error("another key was refused")
				}
				if r := reserve(t, newThrottle(t, nodes[1], "forgot-email", 3, time.Hour), "tenant|acct|ana@example.com"); !r.OK {
					t.Error("the same key in another budget was refused")
				}
			})
		}
	}
}

// TestThrottleSemantics walks one key through the rules the login relies
// on, on each driver, with a clock the test moves.
func TestThrottleSemantics(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newTestClock(throttleStart)
			st := openNodes(t, d, clock)[0]
			th := newThrottle(t, st, "login-ip", 3, 15*time.Minute)
			const key = "tenant|ip|198.51.100.7"

			// A released attempt (a success, or an error) counts nothing.
			for range 10 {
				settle(t, reserve(t, th, key), false)
			}
			// Settle is once: a deferred release after a failure is a no-op.
			r := reserve(t, th, key)
			settle(t, r, true)
			settle(t, r, false)
			settle(t, r, true)
			testdb.Must(t, th.Fail(ctx, key), "fail") // a failure without a reservation
			if _, blocked, err := th.Blocked(ctx, key); blocked || err != nil {
				t.Fatalf("2 of 3 failures: blocked=%v err=%v", blocked, err)
			}
			settle(t, reserve(t, th, key), true)
			wait, blocked, err := th.Blocked(ctx, key)
			if !blocked || err != nil || wait != 15*time.Minute {
				t.Fatalf("3 of 3 failures: wait=%v blocked=%v err=%v, want blocked for the whole window", wait, blocked, err)
			}
			clock.Advance(5 * time.Minute)
			if r := reserve(t, th, key); r.OK || r.Wait != 10*time.Minute {
				t.Fatalf("locked, 5 minutes later: ok=%v wait=%v, want refused for 10m", r.OK, r.Wait)
			}
			// The window ends: the key starts again from zero.
			clock.Advance(10 * time.Minute)
			if _, blocked, _ := th.Blocked(ctx, key); blocked {
				t.Fatal("still blocked after the window")
			}
			for i := range 3 {
				r := reserve(t, th, key)
				if !r.OK {
					t.Fatalf("attempt %d of a new window refused", i+1)
				}
				settle(t, r, i < 2)
			}
			// Reset forgets the key, and a reservation taken before the
			// reset releases nothing in the row that replaced it.
			old := reserve(t, th, key)
			testdb.Must(t, th.Reset(ctx, key), "reset")
			fresh := []*auth.Reservation{reserve(t, th, key), reserve(t, th, key), reserve(t, th, key)}
			for _, r := range fresh {
				if !r.OK {
					t.Fatal("a reservation after the reset was refused")
				}
			}
			settle(t, old, false)
			if r := reserve(t, th, key); r.OK {
				t.Fatal("the release of a reservation older than the reset freed a place of the new row")
			}
			for _, r := range fresh {
				settle(t, r, false)
			}
			// A failure settled after a reset still counts, in the new row.
			old = reserve(t, th, key)
			testdb.Must(t, th.Reset(ctx, key), "reset")
			settle(t, old, true)
			testdb.Must(t, th.Fail(ctx, key), "fail")
			testdb.Must(t, th.Fail(ctx, key), "fail")
			if _, blocked, _ := th.Blocked(ctx, key); !blocked {
				t.Fatal("a failure settled after a reset was not counted")
			}
		})
	}
}

// TestThrottleReservationLapses: nodes crash before settling their
// reservations. A reservation counts for the rest of the hold period it
// was taken in and the whole next one (ThrottleHold to 2×ThrottleHold),
// then its place is free again; crashed reservations settled late neither
// free a place of live ones nor go negative.
func TestThrottleReservationLapses(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(throttleStart.Add(storage.ThrottleHold - time.Second)) // late in period P
			th := newThrottle(t, openNodes(t, d, clock)[0], "login-account", 3, 15*time.Minute)
			const key = "tenant|acct|crash@example.com"
			take := func(want bool, when string) *auth.Reservation {
				t.Helper()
				r := reserve(t, th, key)
				if r.OK != want {
					t.Fatalf("%s: granted=%v, want %v", when, r.OK, want)
				}
				if !r.OK && r.Wait != time.Second {
					t.Fatalf("%s: refused for %v, want 1s (attempts in flight)", when, r.Wait)
				}
				return r
			}
			p0 := take(true, "P")
			clock.Advance(2 * time.Second) // period P+1
			p1 := []*auth.Reservation{take(true, "P+1"), take(true, "P+1")}
			take(false, "P+1, three in flight")
			clock.Advance(storage.ThrottleHold) // P+2: p0 lapsed, p1 live
			p2 := take(true, "P+2, p0 lapsed")
			take(false, "P+2, p1 and p2 in flight")
			clock.Advance(storage.ThrottleHold) // P+3: p1 lapsed, p2 live
			p3 := []*auth.Reservation{take(true, "P+3"), take(true, "P+3")}
			take(false, "P+3, p2 and p3 in flight")
			// The crashed ones, settled late, free nothing.
			settle(t, p0, false)
			for _, r := range p1 {
				settle(t, r, false)
			}
			take(false, "after late releases")
			// The live ones do.
			settle(t, p2, false)
			for _, r := range p3 {
				settle(t, r, false)
			}
			for i := range 3 {
				take(true, fmt.Sprintf("free place %d", i+1))
			}
		})
	}
}

// TestThrottleStoresNoKey: the table holds a 32-byte keyed hash of each
// key, never the e-mail or the address; without a secret the hash is the
// plain SHA-256 of the budget's name and key, and another secret makes
// other hashes (nodes must share PORTICO_SECRET_KEY).
func TestThrottleStoresNoKey(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		th := newThrottle(t, st, "login-ip", 30, 15*time.Minute)
		keys := []string{"t1|ip|198.51.100.7", "t1|acct|ana.souza@example.com"}
		for _, k := range keys {
			testdb.Must(t, th.Fail(ctx, k), "fail")
		}
		got, err := st.ThrottleKeyHashesForTest(ctx)
		testdb.Must(t, err, "read hashes")
		if len(got) != len(keys) {
			t.Fatalf("%d rows, want %d", len(got), len(keys))
		}
		for _, h := range got {
			if len(h) != sha256.Size {
				t.Errorf("stored key of %d bytes, want %d", len(h), sha256.Size)
			}
			for _, k := range keys {
				for _, part := range strings.Split(k, "|") {
					if bytes.Contains(h, []byte(part)) {
						t.Errorf("stored key contains %q", part)
					}
				}
			}
		}
		plain, err := st.Throttle(storage.ThrottleOptions{Name: "login-ip", Limit: 30, Window: time.Minute})
		testdb.Must(t, err, "plain throttle")
		other, err := st.Throttle(storage.ThrottleOptions{Name: "login-ip", Limit: 30, Window: time.Minute, Secret: []byte("another")})
		testdb.Must(t, err, "other throttle")
		sum := sha256.Sum256([]byte("login-ip\x00" + keys[0]))
		if !bytes.Equal(plain.KeyHashForTest(keys[0]), sum[:]) {
			t.Error("without a secret the key is not the SHA-256 of name and key")
		}
		if bytes.Equal(th.KeyHashForTest(keys[0]), sum[:]) || bytes.Equal(th.KeyHashForTest(keys[0]), other.KeyHashForTest(keys[0])) {
			t.Error("the secret does not key the hash")
		}
	})
}

// TestDeleteExpiredThrottles sweeps rows whose window ended and that hold
// no live reservation, and keeps the others.
func TestDeleteExpiredThrottles(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newTestClock(throttleStart)
			st := openNodes(t, d, clock)[0]
			short := newThrottle(t, st, "short", 5, time.Minute)
			long := newThrottle(t, st, "long", 5, time.Hour)
			for _, k := range []string{"ended", "in flight"} {
				testdb.Must(t, short.Fail(ctx, k), "fail") // windows end at 60 s
			}
			testdb.Must(t, long.Fail(ctx, "running"), "fail")
			clock.Advance(50 * time.Second)
			inFlight := reserve(t, short, "in flight") // lives until 90 s at least
			clock.Advance(20 * time.Second)            // 70 s: both windows ended, one reservation lives
			n, err := st.DeleteExpiredThrottles(ctx)
			testdb.Must(t, err, "sweep")
			if n != 1 {
				t.Fatalf("swept %d rows, want 1 (the ended window without a reservation)", n)
			}
			settle(t, inFlight, false)
			clock.Advance(storage.ThrottleHold * 2)
			if n, err := st.DeleteExpiredThrottles(ctx); err != nil || n != 1 {
				t.Fatalf("second sweep: %d %v, want the lapsed reservation's row", n, err)
			}
			if _, blocked, _ := long.Blocked(ctx, "running"); blocked {
				t.Fatal("1 of 5 failures blocked")
			}
			hashes, _ := st.ThrottleKeyHashesForTest(ctx)
			if len(hashes) != 1 {
				t.Fatalf("%d rows left, want the running window's", len(hashes))
			}
		})
	}
}

// TestThrottleOptionsValidated refuses a budget that could never work.
func TestThrottleOptionsValidated(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	for _, o := range []storage.ThrottleOptions{
		{Limit: 1, Window: time.Minute},
		{Name: "x", Limit: 0, Window: time.Minute},
		{Name: "x", Limit: 1},
	} {
		if _, err := st.Throttle(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// BenchmarkThrottleLogin measures what the shared budgets add to one
// failed login: a reservation and a failed settlement in each of the two
// budgets (address and account), on each driver.
func BenchmarkThrottleLogin(b *testing.B) {
	for _, d := range testdb.Drivers {
		b.Run(d, func(b *testing.B) {
			st := testdb.Open(b, d)
			ip := newThrottle(b, st, "login-ip", 1<<30, time.Hour)
			acct := newThrottle(b, st, "login-account", 1<<30, time.Hour)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for _, l := range []auth.Limiter{ip, acct} {
					r, err := l.Reserve(ctx, "t|"+strconv.Itoa(i%1000))
					if err != nil || !r.OK {
						b.Fatalf("reserve: %v %v", r, err)
					}
					if err := r.Settle(ctx, true); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
