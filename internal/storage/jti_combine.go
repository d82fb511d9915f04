package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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
type jtiCombiner = combiner[*jtiOp]

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

// jtiOp is one caller's insert and its outcome.
type jtiOp struct {
	tenant, jti string
	expires     int64
	ok          bool
	err         error
}

// consumeCombined inserts (tenantID, jti), combined with the inserts that
// arrive while another is under way, and reports whether this call
// inserted it.
func (s *Store) consumeCombined(ctx context.Context, tenantID, jti string, expires int64) (bool, error) {
	op := &jtiOp{tenant: tenantID, jti: jti, expires: expires}
	if err := s.jtis.do(ctx, op, jtiBatchTimeout, s.writeJTIs); err != nil {
		return false, err
	}
	return op.ok, op.err
}

// writeJTIs writes batch and sets each op's outcome.
func (s *Store) writeJTIs(ctx context.Context, batch []*jtiOp) {
	for _, op := range batch {
		op.ok, op.err = false, errJTIWriteAborted // until the write says otherwise
	}
	if len(batch) == 1 {
		op := batch[0]
		n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.consumeJTI }, op.tenant, op.jti, op.expires)
		op.ok, op.err = n == 1, translate(err, "consume jti")
		return
	}
	// The first op of each token is written; a repeat in the same batch
	// is a second exchange of the token: used. The rows go in one order
	// (tenant, jti) whichever node writes them, so that two nodes'
	// batches holding the same tokens never wait for each other's rows in
	// opposite orders (a deadlock on PostgreSQL).
	first := make(map[[2]string]*jtiOp, len(batch))
	uniq := make([]*jtiOp, 0, len(batch))
	for _, op := range batch {
		k := [2]string{op.tenant, op.jti}
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = op
		uniq = append(uniq, op)
	}
	slices.SortFunc(uniq, func(a, b *jtiOp) int { return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.jti, b.jti)) })
	args := make([]any, 0, 3*len(uniq))
	for _, op := range uniq {
		args = append(args, op.tenant, op.jti, op.expires)
	}
	inserted, err := s.insertJTIs(ctx, len(uniq), args)
	if statementFailed(err) {
		// One row refused the statement (a tenant deleted meanwhile, say):
		// nothing was inserted; each token is written alone.
		for _, op := range uniq {
			n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.consumeJTI }, op.tenant, op.jti, op.expires)
			op.ok, op.err = n == 1, translate(err, "consume jti")
		}
		for _, op := range batch {
			if f := first[[2]string{op.tenant, op.jti}]; f != op {
				op.ok, op.err = false, f.err // a repeat: used, unless the first failed
			}
		}
		return
	}
	for _, op := range batch {
		k := [2]string{op.tenant, op.jti}
		op.err = err
		op.ok = err == nil && first[k] == op && inserted[k]
	}
}

// insertJTIs runs the multi-row insert of n tokens and returns those it
// inserted.
func (s *Store) insertJTIs(ctx context.Context, n int, args []any) (map[[2]string]bool, error) {
	rows, err := s.batchQuery(ctx, s.jtiInsertQuery(n), args...)
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
