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

// swapBatchTimeout bounds one combined write whatever its callers'
// contexts (see jtiBatchTimeout).
const swapBatchTimeout = 10 * time.Second

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
	if err := s.swaps.do(ctx, op, swapBatchTimeout, s.writeSwaps); err != nil {
		return false, err
	}
	return op.swapped, op.err
}

// writeSwaps writes batch and sets each op's outcome.
func (s *Store) writeSwaps(ctx context.Context, batch []*swapOp) {
	for _, op := range batch {
		op.swapped, op.err = false, errSwapAborted // until the write says otherwise
	}
	if len(batch) == 1 {
		op := batch[0]
		n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.kvSwap }, op.value, op.at, op.tenant, op.plugin, op.key, op.old)
		op.swapped, op.err = n == 1, err
		return
	}
	type rowKey struct{ tenant, plugin, key string }
	first := make(map[rowKey]*swapOp, len(batch))
	uniq := make([]*swapOp, 0, len(batch))
	for _, op := range batch {
		k := rowKey{op.tenant, op.plugin, op.key}
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = op
		uniq = append(uniq, op)
	}
	// One order of rows on every node (see writeJTIs).
	slices.SortFunc(uniq, func(a, b *swapOp) int {
		return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.plugin, b.plugin), cmp.Compare(a.key, b.key))
	})
	args := make([]any, 0, 6*len(uniq))
	for _, op := range uniq {
		args = append(args, op.tenant, op.plugin, op.key, op.old, op.value, op.at)
	}
	swapped := make(map[rowKey]bool, len(uniq))
	rows, err := s.batchQuery(ctx, s.swapQuery(len(uniq)), args...)
	if err == nil {
		for rows.Next() {
			var k rowKey
			if err = rows.Scan(&k.tenant, &k.plugin, &k.key); err != nil {
				break
			}
			swapped[k] = true
		}
		if err == nil {
			err = rows.Err()
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}
	if statementFailed(err) {
		// One row refused the statement: nothing was changed; each swap
		// is written alone. A repeat of a key is answered "not swapped"
		// (its caller reads the key again).
		for _, op := range uniq {
			n, err := s.hotExec(ctx, func(h *hotStmts) *hotStmt { return &h.kvSwap }, op.value, op.at, op.tenant, op.plugin, op.key, op.old)
			op.swapped, op.err = n == 1, err
		}
		for _, op := range batch {
			if first[rowKey{op.tenant, op.plugin, op.key}] != op {
				op.swapped, op.err = false, nil
			}
		}
		return
	}
	for _, op := range batch {
		k := rowKey{op.tenant, op.plugin, op.key}
		op.err = err
		op.swapped = err == nil && first[k] == op && swapped[k]
	}
}

// swapQueries caches the multi-row swap's text per row count and driver.
var swapQueries sync.Map // "driver/n" → string

// swapQuery returns the swap of n rows in the store's dialect. The values
// are typed in the first row on PostgreSQL (a VALUES list's parameters
// have no type otherwise); SQLite compares the bound BLOBs as they are.
func (s *Store) swapQuery(n int) string {
	key := fmt.Sprintf("%s/%d", s.driver, n)
	if q, ok := swapQueries.Load(key); ok {
		return q.(string)
	}
	row := "(?, ?, ?, ?, ?, ?)"
	first := row
	if s.driver == "postgres" {
		first = "(?::text, ?::text, ?::text, ?::bytea, ?::bytea, ?::timestamptz)"
	}
	q := "WITH v (tenant_id, plugin_id, key, old, value, updated_at) AS (VALUES " + first +
		strings.Repeat(", "+row, n-1) + ") " +
		"UPDATE plugin_kv SET value = v.value, updated_at = v.updated_at FROM v " +
		"WHERE plugin_kv.tenant_id = v.tenant_id AND plugin_kv.plugin_id = v.plugin_id AND plugin_kv.key = v.key AND plugin_kv.value = v.old " +
		"RETURNING plugin_kv.tenant_id, plugin_kv.plugin_id, plugin_kv.key"
	if s.driver == "postgres" {
		q = dollarPlaceholders(q)
	}
	swapQueries.Store(key, q)
	return q
}
