package storage

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// kvBatchTimeout bounds one combined write (kvCombiner) whatever its
// callers' deadlines: the write runs detached from any one caller, so
// that the first caller leaving does not fail the others.
const kvBatchTimeout = 10 * time.Second

// errKVUnfinished is the outcome of the updates of a combined write that
// did not end (the write panicked); whether it landed is not known.
var errKVUnfinished = errors.New("kv: the combined write did not finish")

// errKVPanicked is the outcome of a change that panicked in a combined
// write; its caller panics again with what it panicked with (outcome).
var errKVPanicked = errors.New("kv: the change panicked")

// errKVSplit makes a batch be written one change at a time (writeBatch).
var errKVSplit = errors.New("kv: the batch is written one change at a time")

// kvCombiner makes the concurrent updates of one key in this process one
// write. While a write of a key is under way, the updates of that key that
// arrive queue; when it ends, the first of them leads the next write with
// all the queue's changes applied in order, each to the value the previous
// one left, and every caller gets its own change's outcome. So a counter
// that every buyer's visit increments costs one write per batch instead of
// one per visit, each waiting on the row's lock behind the previous commit
// (on PostgreSQL the view of the demo's one-user benchmark), and the
// outcome is exactly that of the same updates one after another: the
// batch is written by one compare-and-swap or one transaction, all or
// nothing. Updates of different keys never wait for each other here.
type kvCombiner struct {
	mu     sync.Mutex
	keys   map[string]*kvQueue // keys being written, with what waits for them
	writes atomic.Int64        // writes made, each of one change or several
}

// kvQueue holds the updates of one key that wait for the write under way.
type kvQueue struct {
	pending []*kvOp
}

// kvOp is one caller's update.
type kvOp struct {
	ctx    context.Context
	change func(old []byte, found bool) ([]byte, bool, error)
	err    error
	// panicked is what change panicked with in a combined write (call),
	// panicked again in the caller's own goroutine.
	panicked any
	// done is closed when err is final, or when the op is to lead the next
	// write: then batch holds the ops of that write (itself first).
	done  chan struct{}
	batch []*kvOp
}

// call runs op's change in a combined write, where it runs in another
// caller's goroutine: a panic fails this change alone (errKVPanicked) and
// is kept for op's caller.
func (op *kvOp) call(old []byte, found bool) (v []byte, write bool, err error) {
	op.panicked = nil
	defer func() {
		if r := recover(); r != nil {
			op.panicked = r
			v, write, err = nil, false, errKVPanicked
		}
	}()
	return op.change(old, found)
}

// update applies change to key through write, combined with the updates
// of the same key that arrive while a write of it is under way (see
// kvCombiner). write is the store's single update (kvUpdate).
func (c *kvCombiner) update(ctx context.Context, key string, change func([]byte, bool) ([]byte, bool, error),
	write func(context.Context, func([]byte, bool) ([]byte, bool, error)) error) error {
	op := &kvOp{ctx: ctx, change: change, done: make(chan struct{})}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = map[string]*kvQueue{}
	}
	if q, busy := c.keys[key]; busy {
		q.pending = append(q.pending, op)
		c.mu.Unlock()
		select {
		case <-op.done:
		case <-ctx.Done():
			c.mu.Lock()
			if i := slices.Index(q.pending, op); i >= 0 {
				q.pending = slices.Delete(q.pending, i, i+1)
				c.mu.Unlock()
				return ctx.Err() // never applied
			}
			c.mu.Unlock()
			<-op.done // already in a write: its outcome is coming
		}
		if op.batch == nil {
			return op.outcome()
		}
	} else {
		c.keys[key] = &kvQueue{}
		c.mu.Unlock()
		op.batch = []*kvOp{op}
	}
	defer c.handOff(key) // even if the write panics: the key must not stay busy
	c.writeBatch(op.batch, write)
	return op.outcome()
}

// outcome returns op's error, or panics again with what its change
// panicked with in a combined write.
func (op *kvOp) outcome() error {
	if op.panicked != nil {
		panic(op.panicked)
	}
	return op.err
}

// handOff ends the write of key under way: the first of the updates that
// queued meanwhile leads the next write, with all of them.
func (c *kvCombiner) handOff(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.keys[key]
	if len(q.pending) == 0 {
		delete(c.keys, key)
		return
	}
	next := q.pending[0]
	next.batch, q.pending = q.pending, nil
	close(next.done)
}

// writeBatch writes batch's changes as one update and sets each op's
// outcome, closing done for all but the first (the leader, which returns
// its own). The changes of callers that left before the write began are
// not applied. A combined write the quota refuses, or whose values between
// the quota would have been asked about and the write's own check does
// not cover, is written again one change at a time, in order, so that the
// quota answers each change as it would have alone; a database failure is
// every op's outcome.
func (c *kvCombiner) writeBatch(batch []*kvOp, write func(context.Context, func([]byte, bool) ([]byte, bool, error)) error) {
	for _, op := range batch[1:] {
		op.err = errKVUnfinished // until the write below ends
	}
	defer func() {
		for _, op := range batch[1:] {
			close(op.done)
		}
	}()
	c.writes.Add(1)
	if len(batch) == 1 { // serves its caller alone, under its context
		batch[0].err = write(batch[0].ctx, batch[0].change)
		return
	}
	live := make([]*kvOp, 0, len(batch))
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = err // left before anything was written
			continue
		}
		live = append(live, op)
	}
	ctxs := make([]context.Context, len(batch))
	for i, op := range batch {
		ctxs[i] = op.ctx
	}
	ctx, cancel := detachedContext(ctxs, kvBatchTimeout)
	defer cancel()
	errs := make([]error, len(live))
	err := write(ctx, func(old []byte, found bool) ([]byte, bool, error) {
		cur, curFound, wrote := old, found, false
		grew, longest := false, 0 // whether a change made the value grow; the longest value written
		for i, op := range live {
			v, w, err := op.call(cur, curFound)
			switch {
			case err != nil:
				errs[i] = err
			case !w:
				errs[i] = nil
			case len(v) > KVMaxValue:
				errs[i] = ErrKVInvalid
			default:
				if v == nil {
					v = []byte{}
				}
				grew = grew || !curFound || len(v) > len(cur)
				errs[i], cur, curFound, wrote = nil, v, true, true
				longest = max(longest, len(v))
			}
		}
		// One after another, the quota would have been asked about every
		// change that made the value grow. The write checks its last value
		// only, and only when that grows the store (a new key, a longer
		// value): that covers the values between only when none is longer.
		checked := !found || len(cur) > len(old)
		if wrote && grew && (!checked || longest > len(cur)) {
			return nil, false, errKVSplit
		}
		return cur, wrote, nil
	})
	switch {
	case err == nil:
		for i, op := range live {
			op.err = errs[i]
		}
	case errors.Is(err, ErrKVQuota) || errors.Is(err, errKVSplit):
		// Refused before anything was written: some of the changes may
		// fit alone.
		for _, op := range live {
			if op.err = op.ctx.Err(); op.err == nil {
				c.writes.Add(1)
				op.err = write(ctx, op.call)
			}
		}
	default:
		// The database failed; whether the write landed may be unknown
		// (a lost commit acknowledgement), so it is not tried again.
		for _, op := range live {
			op.err = err
		}
	}
}
