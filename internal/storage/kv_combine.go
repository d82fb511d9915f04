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
// did not end (a change panicked); whether it landed is unknown.
var errKVUnfinished = errors.New("kv: the combined write did not finish")

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
	// done is closed when err is final, or when the op is to lead the next
	// write: then batch holds the ops of that write (itself first).
	done  chan struct{}
	batch []*kvOp
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
			return op.err
		}
	} else {
		c.keys[key] = &kvQueue{}
		c.mu.Unlock()
		op.batch = []*kvOp{op}
	}
	defer c.handOff(key) // even if a change panics: the key must not stay busy
	c.writeBatch(op.batch, write)
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
// its own). A batch of several that the quota refuses is written again
// one op at a time, in order, so that each change the quota allows alone
// still lands; a database failure is every op's outcome.
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
	ctx, cancel := batchContext(batch)
	defer cancel()
	errs := make([]error, len(batch))
	err := write(ctx, func(old []byte, found bool) ([]byte, bool, error) {
		cur, curFound, wrote := old, found, false
		longest := 0 // of the values the changes ask to write
		for i, op := range batch {
			v, w, err := op.change(cur, curFound)
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
				errs[i], cur, curFound, wrote = nil, v, true, true
				longest = max(longest, len(v))
			}
		}
		// The quota is checked on the value written. A value between,
		// longer than both it and the one before, might not have passed:
		// the changes are then written one at a time.
		if before := len(old); wrote && longest > max(before, len(cur)) {
			return nil, false, errKVSplit
		}
		return cur, wrote, nil
	})
	switch {
	case err == nil:
		for i, op := range batch {
			op.err = errs[i]
		}
	case errors.Is(err, ErrKVQuota) || errors.Is(err, errKVSplit):
		// Refused before anything was written: some of the changes may
		// fit alone.
		for _, op := range batch {
			c.writes.Add(1)
			op.err = write(ctx, op.change)
		}
	default:
		// The database failed; whether the write landed may be unknown
		// (a lost commit acknowledgement), so it is not tried again.
		for _, op := range batch {
			op.err = err
		}
	}
}

// batchContext is the context of a combined write: detached from its
// callers' cancellation (it serves them all), ending at the latest of
// their deadlines and at most kvBatchTimeout from now.
func batchContext(batch []*kvOp) (context.Context, context.CancelFunc) {
	end := time.Now().Add(kvBatchTimeout)
	latest, bounded := time.Time{}, true
	for _, op := range batch {
		d, ok := op.ctx.Deadline()
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
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), end)
}
