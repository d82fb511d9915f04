package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"
)

// swapCombiner makes the concurrent compare-and-swaps of KV values of this
// process (kvSwap, kvSwapHinted: most KV writes) one statement, whatever
// their keys: one multi-row UPDATE … FROM (VALUES …) RETURNING and one
// commit, where each was a statement and a commit of its own. On the
// demo's view, which counts a visit per customer, the SQLite commit of
// that one write cost as much as the rest of the server's own work around
// the plugin's render (docs/benchmarks.md, session 13).
//
// Each swap's outcome is its own, as alone: the row changes only if it
// still holds the value the swap expects, and the keys the statement
// returns are those it changed. Two swaps of one key never meet in a
// batch (kvCombiner lets one write of a key be under way at a time);
// should they, the second is answered "not swapped", which makes its
// caller read and try again, as after any stale value.
type swapCombiner = combiner[*swapOp]

// maxSwapBatch bounds the swaps of one write (6 parameters each).
const maxSwapBatch = 64

// errSwapAborted is the outcome of a swap whose combined write stopped
// before it was decided (a panic).
var errSwapAborted = errors.New("kv write: the combined write did not finish")

// swapOp is one compare-and-swap and its outcome.
type swapOp struct {
	tenant, plugin, key string
	old, value          []byte
	at                  time.Time
	swapped             bool
	err                 error
}

// swapKV sets key's value to value if it is old, combined with the
// concurrent swaps of any keys, and reports whether it did.
func (s *Store) swapKV(ctx context.Context, tenantID, pluginID, key string, old, value []byte) (bool, error) {
	op := &swapOp{tenant: tenantID, plugin: pluginID, key: key, old: old, value: value, at: s.Now()}
	if err := s.swaps.do(ctx, "", op, s.writeSwaps); err != nil {
		return false, err
	}
	return op.swapped, op.err
}

// swapRow is the row a swap writes.
type swapRow struct{ tenant, plugin, key string }

// writeSwaps writes batch and sets each op's outcome (rowWrite): a swap
// is swapped if the statement changed its row; a repeat of a key is not
// (its caller reads the key again).
func (s *Store) writeSwaps(ctx context.Context, batch []*swapOp) {
	rowWrite[*swapOp, swapRow]{
		key: func(op *swapOp) swapRow { return swapRow{op.tenant, op.plugin, op.key} },
		compare: func(a, b swapRow) int {
			return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.plugin, b.plugin), cmp.Compare(a.key, b.key))
		},
		one: func(ctx context.Context, op *swapOp) (bool, error) {
			n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.kvSwap }, op.value, op.at, op.tenant, op.plugin, op.key, op.old)
			return n == 1, err
		},
		many: func(ctx context.Context, ops []*swapOp) (map[swapRow]bool, error) {
			args := make([]any, 0, 6*len(ops))
			for _, op := range ops {
				args = append(args, op.tenant, op.plugin, op.key, op.old, op.value, op.at)
			}
			return queryRows(ctx, s, s.batchText(&swapTexts, len(ops), s.swapQuery), args,
				func(r *sql.Rows) (k swapRow, err error) { err = r.Scan(&k.tenant, &k.plugin, &k.key); return k, err })
		},
		set:     func(op *swapOp, swapped bool, err error) { op.swapped, op.err = swapped, err },
		aborted: errSwapAborted,
	}.write(ctx, batch)
}

// swapTexts caches the multi-row swap's text per driver (batchText): the
// first row's casts differ.
var swapTexts sync.Map

// swapQuery is the swap of n rows, with ? placeholders. The values are
// typed in the first row on PostgreSQL (a VALUES list's parameters have
// no type otherwise); SQLite compares the bound BLOBs as they are.
func (s *Store) swapQuery(n int) string {
	row := "(?, ?, ?, ?, ?, ?)"
	first := row
	if s.driver == "postgres" {
		first = "(?::text, ?::text, ?::text, ?::bytea, ?::bytea, ?::timestamptz)"
	}
	return "WITH v (tenant_id, plugin_id, key, old, value, updated_at) AS (VALUES " + first +
		strings.Repeat(", "+row, n-1) + ") " +
		"UPDATE plugin_kv SET value = v.value, updated_at = v.updated_at FROM v " +
		"WHERE plugin_kv.tenant_id = v.tenant_id AND plugin_kv.plugin_id = v.plugin_id AND plugin_kv.key = v.key AND plugin_kv.value = v.old " +
		"RETURNING plugin_kv.tenant_id, plugin_kv.plugin_id, plugin_kv.key"
}
