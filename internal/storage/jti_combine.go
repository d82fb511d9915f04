package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// jtiCombiner makes the concurrent single-use inserts of this process
// (ConsumeJTI) one statement. A lone insert is written at once, by itself;
// while an insert is under way, the tokens that arrive wait, and the next
// write takes them together: one multi-row INSERT … ON CONFLICT DO NOTHING
// RETURNING, one commit for all. Every launch exchange of every tenant
// makes one such insert, each its own transaction until now: on
// PostgreSQL the database's per-statement and per-commit work was the
// exchange's limit (docs/benchmarks.md, session 12).
//
// The outcome is each insert's own: a token id returned by the statement
// was inserted by it, so its exchange is the one that counts; one not
// returned was already there. Two exchanges of the same token in one
// batch are told apart here: the first is written, the second answered as
// used. Across processes, the database's primary key decides, as before.
type jtiCombiner struct {
	mu      sync.Mutex
	busy    bool     // a write is under way
	pending []*jtiOp // what waits for the next write
	// batches counts the writes of more than one insert (for tests).
	batches atomic.Int64
}

// maxJTIBatch bounds the inserts of one write (3 parameters each: far
// below SQLite's and PostgreSQL's limits on a statement's parameters).
const maxJTIBatch = 64

// jtiBatchTimeout bounds one write whatever its callers' contexts: it
// writes for several callers, so no single caller's cancellation may stop
// it half-way for the others.
const jtiBatchTimeout = 10 * time.Second

// errJTIWriteAborted is the outcome of an insert whose write stopped
// before it was decided (a panic): an error, never "used".
var errJTIWriteAborted = errors.New("consume jti: the combined write did not finish")

// jtiOp is one caller's insert.
type jtiOp struct {
	tenant, jti string
	expires     int64
	ok          bool
	err         error
	// done is closed when ok and err are final, or when the op is to lead
	// the next write: then batch holds that write's ops (itself first).
	done  chan struct{}
	batch []*jtiOp
}

// consume inserts (tenantID, jti), combined with the inserts that arrive
// while another is under way, and reports whether this call inserted it.
func (s *Store) consumeCombined(ctx context.Context, tenantID, jti string, expires int64) (bool, error) {
	c := &s.jtis
	op := &jtiOp{tenant: tenantID, jti: jti, expires: expires, done: make(chan struct{})}
	c.mu.Lock()
	if c.busy {
		c.pending = append(c.pending, op)
		c.mu.Unlock()
		select {
		case <-op.done:
		case <-ctx.Done():
			c.mu.Lock()
			if i := slices.Index(c.pending, op); i >= 0 {
				c.pending = slices.Delete(c.pending, i, i+1)
				c.mu.Unlock()
				return false, ctx.Err() // never written
			}
			c.mu.Unlock()
			<-op.done // already in a write: its outcome is coming
		}
		if op.batch == nil {
			return op.ok, op.err
		}
	} else {
		c.busy = true
		c.mu.Unlock()
		op.batch = []*jtiOp{op}
	}
	defer c.handOff() // even if the write panics: the next must not wait forever
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jtiBatchTimeout)
	defer cancel()
	s.writeJTIs(wctx, op.batch)
	return op.ok, op.err
}

// handOff gives the next write to the first op waiting, with up to
// maxJTIBatch of the others, or marks the combiner idle.
func (c *jtiCombiner) handOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		c.busy = false
		return
	}
	n := min(len(c.pending), maxJTIBatch)
	next := slices.Clone(c.pending[:n])
	c.pending = slices.Delete(c.pending, 0, n)
	next[0].batch = next
	close(next[0].done)
}

// writeJTIs writes batch and sets each op's outcome; every op but the
// first (the leader, whose caller reads its outcome itself) is released.
func (s *Store) writeJTIs(ctx context.Context, batch []*jtiOp) {
	for _, op := range batch {
		op.ok, op.err = false, errJTIWriteAborted // until the write says otherwise
	}
	defer func() {
		for _, op := range batch[1:] {
			close(op.done)
		}
	}()
	if len(batch) == 1 {
		op := batch[0]
		n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.consumeJTI }, op.tenant, op.jti, op.expires)
		op.ok, op.err = n == 1, translate(err, "consume jti")
		return
	}
	s.jtis.batches.Add(1)
	// The first op of each token is written; a repeat in the same batch
	// is a second exchange of the token: used.
	first := make(map[[2]string]*jtiOp, len(batch))
	args := make([]any, 0, 3*len(batch))
	for _, op := range batch {
		k := [2]string{op.tenant, op.jti}
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = op
		args = append(args, op.tenant, op.jti, op.expires)
	}
	inserted, err := s.insertJTIs(ctx, len(first), args)
	for _, op := range batch {
		k := [2]string{op.tenant, op.jti}
		op.err = err
		op.ok = err == nil && first[k] == op && inserted[k]
	}
}

// insertJTIs runs the multi-row insert of n tokens and returns those it
// inserted.
func (s *Store) insertJTIs(ctx context.Context, n int, args []any) (map[[2]string]bool, error) {
	rows, err := s.sqlDB.QueryContext(ctx, s.jtiInsertQuery(n), args...)
	if err != nil {
		return nil, translate(err, "consume jtis")
	}
	defer rows.Close()
	inserted := make(map[[2]string]bool, n)
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, translate(err, "consume jtis")
		}
		inserted[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "consume jtis")
	}
	return inserted, nil
}

// jtiInsertQueries caches the multi-row insert's text per row count and
// driver (on PostgreSQL, pgx prepares each text once per connection).
var jtiInsertQueries sync.Map // "driver/n" → string

// jtiInsertQuery returns the insert of n rows in the store's dialect.
func (s *Store) jtiInsertQuery(n int) string {
	key := fmt.Sprintf("%s/%d", s.driver, n)
	if q, ok := jtiInsertQueries.Load(key); ok {
		return q.(string)
	}
	q := "INSERT INTO launch_jtis (tenant_id, jti, expires_unix) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ") +
		" ON CONFLICT DO NOTHING RETURNING tenant_id, jti"
	if s.driver == "postgres" {
		q = dollarPlaceholders(q)
	}
	jtiInsertQueries.Store(key, q)
	return q
}
