package store

import (
	"context"
)

// Queries of the point-of-sale API (plugins/loyalty/api).

// EntryBySourceKey returns the ledger entry whose source key is key: the
// API finds the movement a request already made under its
// Idempotency-Key when the database refused to make it twice.
func (s *Store) EntryBySourceKey(ctx context.Context, key string) (*Entry, error) {
	var e Entry
	return &e, translate(s.db.WithContext(ctx).Where("source_key = ?", key).Take(&e).Error, "entry by source key")
}

// HistoryPage is History with the answer to "is there an older page?":
// up to limit (1–MaxHistory) of customer id's movements older than the
// entry before ("" for the newest), newest first, and whether more
// remain. It reads one row more than it returns.
func (s *Store) HistoryPage(ctx context.Context, id, before string, limit int) ([]Entry, bool, error) {
	if limit <= 0 || limit > MaxHistory {
		limit = MaxHistory
	}
	q := s.db.WithContext(ctx).Where("customer_id = ?", id)
	if before != "" {
		q = q.Where("id < ?", before)
	}
	var out []Entry
	if err := q.Order("id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, false, translate(err, "history page")
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
