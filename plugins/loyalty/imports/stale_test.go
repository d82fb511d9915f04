package imports

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// TestStaleImportResumed: an import whose worker died mid-way (here: a
// process that stopped without finishing it) is resumed by another
// service that was already running — once its progress has stood still
// for StaleAfter, without a restart — exactly after its last committed
// batch. And Close stops that look at once.
func TestStaleImportResumed(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const rows = 2*BatchSize + 10
		var off atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
		// The survivor: started before the import, so its start-up resume
		// had nothing to do.
		survivor := newService(t, st, Options{Now: now, StaleAfter: time.Minute, ResumeEvery: 20 * time.Millisecond})
		<-survivor.resumed

		dying := New(Options{Store: st, Log: testdb.Logger(t)})
		reached := make(chan struct{})
		dying.afterBatch = func(_ string, done int) {
			if done == BatchSize {
				close(reached)
				<-dying.ctx.Done() // its process dies here
			}
		}
		imp, err := dying.Start(ctx, bytes.NewReader(bigFile(t, rows)), "orfa.csv", gestor)
		testdb.Must(t, err, "start")
		select {
		case <-reached:
		case <-time.After(time.Minute):
			t.Fatal("the import never reached its first batch")
		}
		expired, cancel := context.WithCancel(ctx)
		cancel()
		testdb.Must(t, dying.Close(expired), "close")

		// Before StaleAfter the survivor leaves it alone.
		time.Sleep(100 * time.Millisecond)
		if got, _ := survivor.Get(ctx, imp.ID); got.Status != StatusRunning || got.Done != BatchSize {
			t.Fatalf("before StaleAfter: %+v", got)
		}
		off.Store(int64(2 * time.Minute))
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		done, err := survivor.Wait(wctx, imp.ID)
		testdb.Must(t, err, "wait for the stale import")
		if done.Status != StatusDone || done.Done != rows || done.Applied != rows || done.Failed != 0 || done.Skipped != 0 {
			t.Fatalf("resumed: %+v", done)
		}
		if n := count(t, st, "ledger"); n != rows {
			t.Fatalf("%d ledger entries for %d rows", n, rows)
		}
		checkAllBalances(t, st)

		began := time.Now()
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		testdb.Must(t, survivor.Close(cctx), "close")
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("Close took %v: the look for stale imports did not stop", d)
		}
	})
}
