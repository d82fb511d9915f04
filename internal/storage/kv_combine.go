package storage

import (
	"context"
	"errors"
)

// errKVUnfinished is the outcome of the updates of a combined write that
// did not end (the write panicked); whether it landed is not known.
var errKVUnfinished = errors.New("kv: the combined write did not finish")

// errKVPanicked is the outcome of a change that panicked in a combined
// write; its caller panics again with what it panicked with (outcome).
var errKVPanicked = errors.New("kv: the change panicked")

// errKVSplit makes a batch be written one change at a time (writeKVBatch).
var errKVSplit = errors.New("kv: the batch is written one change at a time")

// kvCombiner makes the concurrent updates of one key in this process one
// write (a combiner keyed by the KV key). While a write of a key is under
// way, the updates of that key that arrive queue; when it ends, the first
// of them leads the next write with all the queue's changes applied in
// order, each to the value the previous one left, and every caller gets
// its own change's outcome. So a counter that every buyer's visit
// increments costs one write per batch instead of one per visit, each
// waiting on the row's lock behind the previous commit (on PostgreSQL the
// view of the demo's one-user benchmark), and the outcome is exactly that
// of the same updates one after another: the batch is written by one
// compare-and-swap or one transaction, all or nothing. Updates of
// different keys never wait for each other here.
type kvCombiner = combiner[*kvOp]

// kvOp is one caller's update.
type kvOp struct {
	ctx    context.Context
	change func(old []byte, found bool) ([]byte, bool, error)
	err    error
	// panicked is what change panicked with in a combined write (call),
	// panicked again in the caller's own goroutine.
	panicked any
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

// combineKV applies change to the key named k through write, combined
// with the updates of the same key that arrive while a write of it is
// under way (see kvCombiner). write is the store's single update
// (kvUpdate).
func (s *Store) combineKV(ctx context.Context, k string, change func([]byte, bool) ([]byte, bool, error),
	write func(context.Context, func([]byte, bool) ([]byte, bool, error)) error) error {
	op := &kvOp{ctx: ctx, change: change}
	if err := s.kvq.do(ctx, k, op, func(ctx context.Context, batch []*kvOp) {
		s.writeKVBatch(ctx, batch, write)
	}); err != nil {
		return err // left while waiting: never applied
	}
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

// writeKVBatch writes batch's changes as one update, under ctx (the
// combiner's), and sets each op's outcome. The changes of callers that
// left before the write began are not applied. A combined write the quota
// refuses, or whose values between the quota would have been asked about
// and the write's own check does not cover, is written again one change
// at a time, in order, so that the quota answers each change as it would
// have alone; a database failure is every op's outcome.
func (s *Store) writeKVBatch(ctx context.Context, batch []*kvOp, write func(context.Context, func([]byte, bool) ([]byte, bool, error)) error) {
	for _, op := range batch {
		op.err = errKVUnfinished // until the write below ends
	}
	if len(batch) == 1 { // serves its caller alone, under its context
		batch[0].err = write(ctx, batch[0].change)
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
				s.kvq.writes.Add(1)
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
