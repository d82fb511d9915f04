package storage

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

// The admin's side of a plugin's key-value store: what a gestor may see of
// it (key names, the size of each value, when it was written; never a
// value, which may hold a customer's data or an ERP token) and the two
// ways to empty it, one key or every key, each audited in its own
// transaction.
//
// Neither needs to tell the other nodes. What a node keeps of the store is
// its kvHints, and a hint is only ever the value a compare-and-swap
// expects: once a key is deleted, the swap finds no row, changes nothing,
// and the update goes the ordinary way from what the database then holds
// (TestKVAdminOtherNodeHints). The node that deletes drops its own hints
// of what it deleted anyway, as KVDelete does, so that its next update of
// such a key does not spend a statement on a swap that cannot succeed.

// KVKey is one key of a plugin's store as the admin lists it.
type KVKey struct {
	Key string
	// Size is the value's length in bytes.
	Size      int64
	UpdatedAt time.Time
}

// MaxKVPage bounds one KVKeys listing.
const MaxKVPage = 200

// ValidKVKey reports whether key can be a key of a plugin's store: 1 to
// KVMaxKey bytes of UTF-8 without NUL. The admin asks it of a key from a
// URL or a form before any query; anything else names no key.
func ValidKVKey(key string) bool { return validKVKey(key) }

// ValidKVPrefix reports whether prefix can begin a key: at most KVMaxKey
// bytes of UTF-8 without NUL ("" begins every key).
func ValidKVPrefix(prefix string) bool { return prefix == "" || validKVKey(prefix) }

// KVKeys lists the keys of the store of (tenantID, pluginID) in the order
// of their UTF-8 bytes (the same on both databases: SQLite compares text
// as bytes, PostgreSQL is told to with COLLATE "C", whatever the
// database's collation): at most limit (1 to MaxKVPage) of those that
// come after the key after ("": from the first) and start with prefix
// (""; every key). The next page starts after the last key returned. An
// after or prefix that ValidKVKey refuses lists nothing.
func (s *Store) KVKeys(ctx context.Context, tenantID, pluginID, prefix, after string, limit int) ([]KVKey, error) {
	if limit < 1 || limit > MaxKVPage {
		limit = MaxKVPage
	}
	if !ValidKVPrefix(prefix) || (after != "" && !validKVKey(after)) {
		return []KVKey{}, nil
	}
	key := "key"
	if s.driver == "postgres" {
		key = `key COLLATE "C"`
	}
	var q strings.Builder
	args := []any{tenantID, pluginID}
	q.WriteString("SELECT key, OCTET_LENGTH(value) AS size, updated_at FROM plugin_kv WHERE tenant_id = ? AND plugin_id = ?")
	if after != "" {
		q.WriteString(" AND " + key + " > ?")
		args = append(args, after)
	}
	if prefix != "" {
		// The lower bound lets SQLite start the index scan there; SUBSTR
		// counts characters on both databases, and LIKE would need its
		// wildcards escaped (and ignores case for ASCII on SQLite).
		q.WriteString(" AND " + key + " >= ? AND SUBSTR(key, 1, ?) = ?")
		args = append(args, prefix, utf8.RuneCountInString(prefix), prefix)
	}
	q.WriteString(" ORDER BY " + key + " LIMIT ?")
	args = append(args, limit)
	var rows []struct {
		Key       string
		Size      int64
		UpdatedAt time.Time
	}
	if err := s.db.WithContext(ctx).Raw(q.String(), args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "kv keys")
	}
	out := make([]KVKey, len(rows))
	for i, r := range rows {
		out[i] = KVKey{Key: r.Key, Size: r.Size, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// KVRemove deletes key from the store of the plugin (tenantID, pluginID),
// slug, and records it in the audit log (the key's name and its value's
// size, never the value) in the same transaction. A key that is absent,
// or that ValidKVKey refuses, is model.ErrNotFound.
func (s *Store) KVRemove(ctx context.Context, tenantID, pluginID, slug, key string, a model.Actor) error {
	if !validKVKey(key) {
		return translate(gorm.ErrRecordNotFound, "kv remove")
	}
	k := cacheKey(tenantID, pluginID, key)
	s.kvHints.drop(k)
	err := s.kvAdminTx(ctx, func(tx *gorm.DB) error {
		var sizes []int64
		if err := tx.Raw("DELETE FROM plugin_kv WHERE tenant_id = ? AND plugin_id = ? AND key = ? RETURNING OCTET_LENGTH(value)",
			tenantID, pluginID, key).Scan(&sizes).Error; err != nil {
			return err
		}
		if len(sizes) == 0 {
			return gorm.ErrRecordNotFound
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginDataDelete, "plugin", slug,
			map[string]any{"data_key": key, "size_bytes": sizes[0]}, nil)
	})
	// Again after the commit: an update of this node may have left the
	// deleted value as the key's hint meanwhile.
	s.kvHints.drop(k)
	return translate(err, "kv remove")
}

// KVClear deletes every key of the store of the plugin (tenantID,
// pluginID), slug, with one statement, and records how many in the audit
// log, in the same transaction; it returns that number. A write of the
// plugin that commits while it runs may keep its key (a key it creates
// meanwhile is not seen by the delete); every key that existed when it
// began is gone.
//
// The plugin's row is not locked: a KV write locks its key, then the
// plugin's row, and taking the plugin's row before the keys would
// deadlock with it on PostgreSQL (as DeletePlugin explains). A combined
// compare-and-swap of several keys can still lock two of them in the other
// order; PostgreSQL then refuses one of the two statements, and a refused
// clear is tried again, up to three times.
func (s *Store) KVClear(ctx context.Context, tenantID, pluginID, slug string, a model.Actor) (int64, error) {
	var n int64
	err := s.kvAdminTx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Delete(&kvRow{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return s.appendAudit(tx, tenantID, a, model.AuditPluginDataClear, "plugin", slug, nil,
			map[string]any{"keys_erased": n})
	})
	s.kvHints.dropPlugin(tenantID, pluginID)
	if err != nil {
		return 0, translate(err, "kv clear")
	}
	return n, nil
}

// kvAdminTx runs fn in a transaction, again (up to three times in all)
// when PostgreSQL refused it as one side of a deadlock: it then changed
// nothing.
func (s *Store) kvAdminTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for range 3 {
		err = s.db.WithContext(ctx).Transaction(fn)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "40P01" {
			return err
		}
	}
	return err
}

// dropPlugin forgets the hints of every key of (tenantID, pluginID).
func (h *kvHints) dropPlugin(tenantID, pluginID string) {
	prefix := cacheKey(tenantID, pluginID, "")
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.m {
		if strings.HasPrefix(k, prefix) {
			delete(h.m, k)
		}
	}
}
