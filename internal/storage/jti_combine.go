package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
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
	if err := s.jtis.do(ctx, "", op, s.writeJTIs); err != nil {
		return false, err
	}
	return op.ok, op.err
}

// writeJTIs writes batch and sets each op's outcome (rowWrite): an
// inserted token is ok; a repeat in the same batch is a second exchange
// of the token, used.
func (s *Store) writeJTIs(ctx context.Context, batch []*jtiOp) {
	rowWrite[*jtiOp, [2]string]{
		key: func(op *jtiOp) [2]string { return [2]string{op.tenant, op.jti} },
		compare: func(a, b [2]string) int {
			return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
		},
		one: func(ctx context.Context, op *jtiOp) (bool, error) {
			n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.consumeJTI }, op.tenant, op.jti, op.expires)
			return n == 1, translate(err, "consume jti")
		},
		many: func(ctx context.Context, ops []*jtiOp) (map[[2]string]bool, error) {
			args := make([]any, 0, 3*len(ops))
			for _, op := range ops {
				args = append(args, op.tenant, op.jti, op.expires)
			}
			inserted, err := queryRows(ctx, s, s.batchText(&jtiInsertQueries, len(ops), jtiInsertQuery), args,
				func(r *sql.Rows) (k [2]string, err error) { err = r.Scan(&k[0], &k[1]); return k, err })
			return inserted, translate(err, "consume jtis")
		},
		set:     func(op *jtiOp, ok bool, err error) { op.ok, op.err = ok, err },
		aborted: errJTIWriteAborted,
	}.write(ctx, batch)
}

// jtiInsertQueries caches the multi-row insert's text (batchText; on
// PostgreSQL, pgx prepares each text once per connection).
var jtiInsertQueries sync.Map

// jtiInsertQuery is the insert of n tokens, with ? placeholders.
func jtiInsertQuery(n int) string {
	return "INSERT INTO launch_jtis (tenant_id, jti, expires_unix) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ") +
		" ON CONFLICT DO NOTHING RETURNING tenant_id, jti"
}
