package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// SeedKVForTest inserts n empty-valued keys k0000… into one store in a
// single statement, so quota tests need not commit a thousand writes.
func (s *Store) SeedKVForTest(ctx context.Context, tenantID, pluginID string, n int) error {
	rows := make([]kvRow, n)
	for i := range rows {
		rows[i] = kvRow{TenantID: tenantID, PluginID: pluginID, Key: fmt.Sprintf("k%04d", i), Value: []byte{}, UpdatedAt: s.Now()}
	}
	return s.db.WithContext(ctx).CreateInBatches(rows, 200).Error
}

// SeedKVBytesForTest stores key with a value of n bytes in the store of
// (tenantID, pluginID), past the checks: a ballast that brings a store
// near its byte quota in one write instead of hundreds of full values.
func (s *Store) SeedKVBytesForTest(ctx context.Context, tenantID, pluginID, key string, n int) error {
	return s.db.WithContext(ctx).Create(&kvRow{TenantID: tenantID, PluginID: pluginID, Key: key, Value: make([]byte, n), UpdatedAt: s.Now()}).Error
}

// HoldPluginLockForTest locks a plugin's row in a transaction of its own,
// as a write that grows the plugin's store does, until release.
func (s *Store) HoldPluginLockForTest(ctx context.Context, tenantID, pluginID string) (release func(), err error) {
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return nil, tx.Error
	}
	if _, err := s.lockPlugin(tx, tenantID, pluginID); err != nil {
		tx.Rollback()
		return nil, err
	}
	return func() { tx.Rollback() }, nil
}

// ParseChange exposes parseChange to the fuzz target.
func ParseChange(payload string) (Change, error) {
	m, err := parseChange(payload)
	return Change{Kind: m.Kind, TenantID: m.TenantID, ID: m.ID}, err
}

// RawSQL is the store's connection pool, for tests that change rows behind
// its back.
func (s *Store) RawSQL() *sql.DB { return s.sqlDB }

// KVWritesForTest is how many writes KVUpdate has made, each of one change
// or of several combined.
func (s *Store) KVWritesForTest() int64 { return s.kvq.writes.Load() }

// KVWaitingForTest is how many updates of key wait for a write of it under
// way.
func (s *Store) KVWaitingForTest(tenantID, pluginID, key string) int {
	s.kvq.mu.Lock()
	defer s.kvq.mu.Unlock()
	if q := s.kvq.queues[cacheKey(tenantID, pluginID, key)]; q != nil {
		return len(q.pending)
	}
	return 0
}

// BindForTest writes q's ? placeholders as the store's driver wants them.
func (s *Store) BindForTest(q string) string {
	if s.driver == "postgres" {
		return dollarPlaceholders(q)
	}
	return q
}

// KVHintedSwapsForTest is how many KV writes were made from a hint,
// without reading the key first (kvSwapHinted).
func (s *Store) KVHintedSwapsForTest() int64 { return s.kvHints.swaps.Load() }

// KVHintMissesForTest is how many hinted swaps the database refused.
func (s *Store) KVHintMissesForTest() int64 { return s.kvHints.misses.Load() }

// JTIBatchesForTest returns how many combined launch-token inserts of
// more than one token this store made.
func (s *Store) JTIBatchesForTest() int64 { return s.jtis.batches.Load() }

// KVSwapBatchesForTest returns how many combined compare-and-swaps of
// more than one key this store made.
func (s *Store) KVSwapBatchesForTest() int64 { return s.swaps.batches.Load() }

// SwapKVForTest is one compare-and-swap of a combined write.
type SwapKVForTest struct {
	TenantID, PluginID, Key string
	Old, Value              []byte
}

// SwapKVBatchForTest writes swaps as one combined write and returns
// whether each swapped.
func (s *Store) SwapKVBatchForTest(ctx context.Context, swaps []SwapKVForTest) ([]bool, error) {
	ops := make([]*swapOp, len(swaps))
	for i, w := range swaps {
		ops[i] = &swapOp{tenant: w.TenantID, plugin: w.PluginID, key: w.Key, old: w.Old, value: w.Value, at: s.Now()}
	}
	s.writeSwaps(ctx, ops)
	out := make([]bool, len(ops))
	for i, op := range ops {
		if op.err != nil {
			return nil, op.err
		}
		out[i] = op.swapped
	}
	return out, nil
}

// ConsumeJTIBatchForTest writes the tokens (tenant, jti pairs) as one
// combined insert and returns each one's outcome.
func (s *Store) ConsumeJTIBatchForTest(ctx context.Context, tokens [][2]string, expires int64) ([]bool, []error) {
	ops := make([]*jtiOp, len(tokens))
	for i, tk := range tokens {
		ops[i] = &jtiOp{tenant: tk[0], jti: tk[1], expires: expires}
	}
	s.writeJTIs(ctx, ops)
	oks, errs := make([]bool, len(ops)), make([]error, len(ops))
	for i, op := range ops {
		oks[i], errs[i] = op.ok, op.err
	}
	return oks, errs
}

// SwapKVBatchOutcomesForTest is SwapKVBatchForTest returning each swap's
// error too, instead of the first.
func (s *Store) SwapKVBatchOutcomesForTest(ctx context.Context, swaps []SwapKVForTest) ([]bool, []error) {
	ops := make([]*swapOp, len(swaps))
	for i, w := range swaps {
		ops[i] = &swapOp{tenant: w.TenantID, plugin: w.PluginID, key: w.Key, old: w.Old, value: w.Value, at: s.Now()}
	}
	s.writeSwaps(ctx, ops)
	oks, errs := make([]bool, len(ops)), make([]error, len(ops))
	for i, op := range ops {
		oks[i], errs[i] = op.swapped, op.err
	}
	return oks, errs
}
