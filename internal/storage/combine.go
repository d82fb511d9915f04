package storage

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
)

// combiner makes concurrent writes of one kind one database write (group
// commit), per key: writes of different keys never wait for each other
// here. A write that finds none of its key under way is written at once
// (its caller leads); while one is under way, the writes of that key that
// arrive wait, and when it ends the first of them leads the next write
// with up to max of them. What a batch's write does, and each op's
// outcome, is the user's: kvCombiner's updates of one key, and, with one
// key for all, jtiCombiner's single-use inserts and swapCombiner's
// compare-and-swaps of any keys. The combiner only gathers, hands off and
// releases.
//
// With yield, a leader that found no write under way yields its goroutine
// once before writing (runtime.Gosched), so that the writes other
// goroutines are about to make join its batch. On a busy core that is
// what makes a batch at all: the database work of an embedded SQLite is
// the caller's own CPU, so no other caller would ever arrive while it
// runs. On an idle one the yield returns at once.
type combiner[T any] struct {
	max   int  // ops per write; 0 is all that wait
	yield bool // the leader yields once before its first write
	mu    sync.Mutex
	// queues holds the keys with a write under way, each with the ops
	// that wait for the next write of it; a key leaves when its queue is
	// empty at the end of a write.
	queues map[string]*combinerQueue[T]
	// writes counts the writes made and batches those of more than one
	// op (for tests).
	writes, batches atomic.Int64
}

// combinerQueue holds what waits for the next write of one key.
type combinerQueue[T any] struct {
	pending []*combinerEntry[T]
}

// combinedWriteTimeout bounds a write of several ops whatever its callers'
// deadlines: it runs detached from each caller's cancellation, since it
// writes for all of them and the first to leave must not fail the others.
const combinedWriteTimeout = 10 * time.Second

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

// do writes op, combined with the ops of key that queue while a write of
// it is under way. write gets the ops of one write and must set each op's
// outcome (the first op is the leader's; it may be written alone). A
// write of one op runs under its caller's ctx; a write of several runs
// under a context detached from its callers' cancellation, since it
// writes for all of them, ending at the latest of their deadlines and at
// most combinedWriteTimeout from now (detachedContext). do returns ctx's error, having
// written nothing, when ctx ends while op still waits; otherwise nil, and
// op holds its outcome. A write that panics panics in its leader; the
// others of its batch are released with whatever outcome their op had
// been given before the panic (write should set a failure first).
func (c *combiner[T]) do(ctx context.Context, key string, op T, write func(context.Context, []T)) error {
	e := &combinerEntry[T]{op: op, ctx: ctx, done: make(chan struct{})}
	c.mu.Lock()
	if q, busy := c.queues[key]; busy {
		q.pending = append(q.pending, e)
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			c.mu.Lock()
			if i := slices.Index(q.pending, e); i >= 0 {
				q.pending = slices.Delete(q.pending, i, i+1)
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
		if c.queues == nil {
			c.queues = make(map[string]*combinerQueue[T])
		}
		q := &combinerQueue[T]{}
		c.queues[key] = q
		c.mu.Unlock()
		e.batch = []*combinerEntry[T]{e}
		if c.yield {
			runtime.Gosched()
			c.mu.Lock()
			e.batch = append(e.batch, c.take(q, c.max-1)...)
			c.mu.Unlock()
		}
	}
	defer c.handOff(key) // even if the write panics: the next must not wait forever
	defer func() {
		for _, b := range e.batch[1:] {
			close(b.done)
		}
	}()
	c.writes.Add(1)
	ops := make([]T, len(e.batch))
	for i, b := range e.batch {
		ops[i] = b.op
	}
	if len(ops) == 1 {
		write(ctx, ops)
		return nil
	}
	c.batches.Add(1)
	ctxs := make([]context.Context, len(e.batch))
	for i, b := range e.batch {
		ctxs[i] = b.ctx
	}
	wctx, cancel := detachedContext(ctxs, combinedWriteTimeout)
	defer cancel()
	write(wctx, ops)
	return nil
}

// take removes from q's head the entries of the next write: room of them
// at most (with a max; all without); c.mu is held.
func (c *combiner[T]) take(q *combinerQueue[T], room int) []*combinerEntry[T] {
	n := len(q.pending)
	if c.max > 0 {
		n = min(n, room)
	}
	if n <= 0 {
		return nil
	}
	got := slices.Clone(q.pending[:n])
	q.pending = slices.Delete(q.pending, 0, n)
	return got
}

// handOff ends the write of key under way: the first entry waiting leads
// the next, with up to max of them, or the key leaves the combiner.
func (c *combiner[T]) handOff(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queues[key]
	next := c.take(q, c.max)
	if len(next) == 0 {
		delete(c.queues, key)
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

// rowWrite is how one kind of combined write writes its ops, each of
// which writes one row keyed K (jtiCombiner's inserts, swapCombiner's
// compare-and-swaps). Its write is the combiner's write function.
type rowWrite[T any, K comparable] struct {
	key     func(T) K
	compare func(a, b K) int // the one order of rows on every node
	// one is an op's own statement: whether it wrote its row.
	one func(context.Context, T) (bool, error)
	// many is one statement for ops of distinct rows, in compare's order:
	// the rows it wrote.
	many func(context.Context, []T) (map[K]bool, error)
	// set records an op's outcome.
	set func(op T, wrote bool, err error)
	// aborted is every op's outcome until the write decides it (a write
	// that panics leaves it).
	aborted error
}

// write writes batch: a lone op by its own statement; otherwise the
// first op of each row in one statement, the rows in one order, and a
// repeat of a row answered "not written". The order is what keeps two
// nodes' inserts of tokens from waiting for each other's rows in opposite
// orders (a deadlock on PostgreSQL): an INSERT takes its rows in its
// VALUES order. An UPDATE … FROM (VALUES …), the KV swaps, takes them in
// whatever order PostgreSQL's plan reads them (sorted by a loop over the
// values for a few rows, the table's order in a hash join for many), so
// two nodes' swap batches can still deadlock: PostgreSQL then refuses one
// of them after its deadlock_timeout (1 s by default), and its swaps are
// written one by one, as after any refusal. A statement the database
// refuses (statementFailed: one bad row, a deadlock) changed nothing, and each op is then written by its
// own statement, so that one op's row does not fail the others; a repeat
// then shares its first's error. Any other failure is every op's outcome:
// after a lost connection the statement may have committed.
func (w rowWrite[T, K]) write(ctx context.Context, batch []T) {
	for _, op := range batch {
		w.set(op, false, w.aborted)
	}
	if len(batch) == 1 {
		wrote, err := w.one(ctx, batch[0])
		w.set(batch[0], wrote, err)
		return
	}
	seen := make(map[K]bool, len(batch))
	repeat := make([]bool, len(batch))
	uniq := make([]T, 0, len(batch))
	for i, op := range batch {
		k := w.key(op)
		if repeat[i] = seen[k]; !repeat[i] {
			seen[k] = true
			uniq = append(uniq, op)
		}
	}
	slices.SortFunc(uniq, func(a, b T) int { return w.compare(w.key(a), w.key(b)) })
	wrote, err := w.many(ctx, uniq)
	if statementFailed(err) {
		errs := make(map[K]error, len(uniq))
		for _, op := range uniq {
			ok, err := w.one(ctx, op)
			w.set(op, ok, err)
			errs[w.key(op)] = err
		}
		for i, op := range batch {
			if repeat[i] {
				w.set(op, false, errs[w.key(op)])
			}
		}
		return
	}
	for i, op := range batch {
		w.set(op, err == nil && !repeat[i] && wrote[w.key(op)], err)
	}
}

// queryRows runs a combined write's statement (batchQuery) and returns
// the keys of the rows it reports (RETURNING), each read by scan.
func queryRows[K comparable](ctx context.Context, s *Store, query string, args []any, scan func(*sql.Rows) (K, error)) (map[K]bool, error) {
	rows, err := s.batchQuery(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := make(map[K]bool)
	for rows.Next() {
		k, err := scan(rows)
		if err != nil {
			return nil, err
		}
		got[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return got, rows.Close()
}

// batchText returns the text of a combined write of n rows in the store's
// dialect, built once per driver and row count (build writes it with ?
// placeholders) and kept in cache.
func (s *Store) batchText(cache *sync.Map, n int, build func(n int) string) string {
	key := s.driver + "/" + strconv.Itoa(n)
	if q, ok := cache.Load(key); ok {
		return q.(string)
	}
	q := build(n)
	if s.driver == "postgres" {
		q = dollarPlaceholders(q)
	}
	cache.Store(key, q)
	return q
}
