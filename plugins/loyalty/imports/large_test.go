package imports

import (
	"context"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// TestLargeImport imports 100,000 generated rows (every one a new
// customer with a CPF and points, ~8.6 MB) on each database and reports
// the wall time and the peak Go heap (the 60 s bar is checked by reading
// the figure, docs/benchmarks.md, not asserted: machines differ). The file streams
// from a generator into Start, so the test holds none of it. Skipped
// with -short; under -race it imports 10,000 rows and checks only the
// results. Measure with:
//
//	go test -count=1 -run TestLargeImport -v ./plugins/loyalty/imports/
func TestLargeImport(t *testing.T) {
	if testing.Short() {
		t.Skip("a 100,000-row import: skipped with -short")
	}
	rows := 100_000
	if raceEnabled {
		rows = 10_000
	}
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			// Not parallel: each measurement has the machine to itself.
			st := openStore(t, driver)
			s := newService(t, st, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapAlloc)
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()

			begin := time.Now()
			imp, err := s.Start(ctx, newGenerated(rows), "grande.csv", gestor)
			testdb.Must(t, err, "start")
			started := time.Since(begin)
			done, err := s.Wait(ctx, imp.ID)
			testdb.Must(t, err, "wait")
			wall := time.Since(begin)
			close(stop)
			wg.Wait()
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)

			if done.Status != StatusDone || done.Total != rows || done.Applied != rows {
				t.Fatalf("import: %+v", done)
			}
			if n := count(t, st, "ledger"); n != int64(rows) {
				t.Fatalf("%d ledger entries for %d rows", n, rows)
			}
			checkAllBalances(t, st)
			c, err := st.CustomerBy(ctx, "email", "cliente77777@exemplo.com.br")
			if rows >= 77777 {
				testdb.Must(t, err, "customer")
				if bal, _ := st.Balance(ctx, c.ID); bal != 1+77777%500 {
					t.Errorf("balance %d", bal)
				}
				_ = store.ErrNotFound
			}
			t.Logf("%s: %d rows in %s (Start, incl. upload, hash and count: %s; %.0f rows/s); Go heap: %.1f MiB before, peak %.1f MiB; process max RSS %.0f MiB",
				driver, rows, wall.Round(time.Millisecond), started.Round(time.Millisecond), float64(rows)/wall.Seconds(),
				float64(base.HeapAlloc)/(1<<20), float64(peak)/(1<<20), float64(ru.Maxrss)/1024)
			// The 60 s bar is a benchmark's, reported with its command in
			// docs/benchmarks.md: a busy or slow machine is no failure.
			if !raceEnabled && wall > 60*time.Second {
				t.Logf("over the 60 s bar on this run: %d rows took %s", rows, wall)
			}
		})
	}
}
