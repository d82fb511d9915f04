package storage

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
)

// combiner makes concurrent writes of one kind one database write (group
// commit). A write that finds none under way is written at once (its
// caller leads); while one is under way, the writes that arrive wait, and
// when it ends the first of them leads the next write with up to max of
// them. What a batch's write does, and each op's outcome, is the user's
// (jtiCombiner's single-use inserts, swapCombiner's compare-and-swaps):
// the combiner only gathers, hands off and releases.
//
// With yield, a leader that found no write under way yields its goroutine
// once before writing (runtime.Gosched), so that the writes other
// goroutines are about to make join its batch. On a busy core that is
// what makes a batch at all: the database work of an embedded SQLite is
// the caller's own CPU, so no other caller would ever arrive while it
// runs. On an idle one the yield returns at once.
type combiner[T any] struct {
	max     int  // ops per write, at least 1
	yield   bool // the leader yields once before its first write
	mu      sync.Mutex
	busy    bool                // a write is under way
	pending []*combinerEntry[T] // what waits for the next write
	// batches counts the writes of more than one op (for tests).
	batches atomic.Int64
}

// combinerEntry is one op waiting for its write.
type combinerEntry[T any] struct {
	op  T
	ctx context.Context
	// done is closed when op's outcome is final, or when the entry is to
	// lead the next write: then batch holds that write's entries (itself
	// first).
	done  chan struct{}
	batch []*combinerEntry[T]
}

// do writes op, combined with the ops that queue while a write is under
// way. write gets the ops of one write and must set each op's outcome
// (the first op is the leader's; it may be written alone). It runs under
// a context detached from its callers' cancellation, since it writes for
// all of them, ending at the latest of their deadlines and at most
// timeout from now (detachedContext). do returns ctx's error, having
// written nothing, when ctx ends while op still waits; otherwise nil, and
// op holds its outcome. A write that panics panics in its leader; the
// others of its batch are released with whatever outcome their op had
// been given before the panic (write should set a failure first).
func (c *combiner[T]) do(ctx context.Context, op T, timeout time.Duration, write func(context.Context, []T)) error {
	e := &combinerEntry[T]{op: op, ctx: ctx, done: make(chan struct{})}
	c.mu.Lock()
	if c.busy {
		c.pending = append(c.pending, e)
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			c.mu.Lock()
			if i := slices.Index(c.pending, e); i >= 0 {
				c.pending = slices.Delete(c.pending, i, i+1)
				c.mu.Unlock()
				return ctx.Err() // never written
			}
			c.mu.Unlock()
			<-e.done // already in a write: its outcome is coming
		}
		if e.batch == nil {
			return nil // written by another's write
		}
	} else {
		c.busy = true
		c.mu.Unlock()
		e.batch = []*combinerEntry[T]{e}
		if c.yield {
			runtime.Gosched()
			c.mu.Lock()
			e.batch = append(e.batch, c.take(c.max-1)...)
			c.mu.Unlock()
		}
	}
	defer c.handOff() // even if the write panics: the next must not wait forever
	ops := make([]T, len(e.batch))
	ctxs := make([]context.Context, len(e.batch))
	for i, b := range e.batch {
		ops[i], ctxs[i] = b.op, b.ctx
	}
	defer func() {
		for _, b := range e.batch[1:] {
			close(b.done)
		}
	}()
	if len(ops) > 1 {
		c.batches.Add(1)
	}
	wctx, cancel := detachedContext(ctxs, timeout)
	defer cancel()
	write(wctx, ops)
	return nil
}

// take removes up to n entries from the head of pending; c.mu is held.
func (c *combiner[T]) take(n int) []*combinerEntry[T] {
	n = min(n, len(c.pending))
	if n <= 0 {
		return nil
	}
	got := slices.Clone(c.pending[:n])
	c.pending = slices.Delete(c.pending, 0, n)
	return got
}

// handOff gives the next write to the first entry waiting, with up to max
// of them, or marks the combiner idle.
func (c *combiner[T]) handOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.take(c.max)
	if len(next) == 0 {
		c.busy = false
		return
	}
	next[0].batch = next
	close(next[0].done)
}

// detachedContext is the context of a write made for several callers:
// detached from their cancellation (the first to leave must not fail the
// others), ending at the latest of their deadlines, and at most max from
// now. ctxs[0]'s values are kept.
func detachedContext(ctxs []context.Context, max time.Duration) (context.Context, context.CancelFunc) {
	end := time.Now().Add(max)
	latest, bounded := time.Time{}, true
	for _, ctx := range ctxs {
		d, ok := ctx.Deadline()
		if !ok {
			bounded = false
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if bounded && latest.Before(end) {
		end = latest
	}
	return context.WithDeadline(context.WithoutCancel(ctxs[0]), end)
}

// statementFailed reports whether err is the database's own refusal of a
// statement (a constraint, bad input, a deadlock, a busy SQLite), after
// which nothing the statement did was kept, as opposed to a lost
// connection or an ended context, after which it may have committed. A
// combined write refused so is written again one op at a time, so that
// one op's bad row does not fail the others.
func statementFailed(err error) bool {
	if err == nil || IsUnavailable(err) {
		return false
	}
	var pe *pgconn.PgError
	var se *sqlite3.Error
	return errors.As(err, &pe) || errors.As(err, &se)
}
