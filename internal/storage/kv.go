package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/sdk/abi"
)

// Limits of a wasm plugin's key-value store, per (tenant, plugin): the
// plugin contract's (abi.MaxKV*). The runtime (host/sandbox) checks key and
// value sizes before it calls the store; the store enforces the totals,
// inside the transaction of the write, and re-checks the sizes.
const (
	KVMaxKey   = abi.MaxKVKey   // bytes of one key
	KVMaxValue = abi.MaxKVValue // bytes of one value
	KVMaxKeys  = abi.MaxKVKeys  // keys per plugin
	KVMaxBytes = abi.MaxKVBytes // bytes of all keys plus all values per plugin
)

// ErrKVQuota means a write would take a plugin's store over KVMaxKeys or
// KVMaxBytes; nothing was written.
var ErrKVQuota = errors.New("kv quota exceeded")

// ErrKVInvalid means a key is empty, too long, not UTF-8 or holds a NUL
// byte, or a value is too long; nothing was written.
var ErrKVInvalid = errors.New("invalid kv key or value")

type kvRow struct {
	TenantID  string `gorm:"primaryKey"`
	PluginID  string `gorm:"primaryKey"`
	Key       string `gorm:"primaryKey"`
	Value     []byte
	UpdatedAt time.Time
}

func (kvRow) TableName() string { return "plugin_kv" }

func validKVKey(key string) bool {
	return key != "" && len(key) <= KVMaxKey && utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}

// KVGet returns the value of key in the store of (tenantID, pluginID);
// found is false when the key is absent.
func (s *Store) KVGet(ctx context.Context, tenantID, pluginID, key string) (value []byte, found bool, err error) {
	if !validKVKey(key) {
		return nil, false, ErrKVInvalid
	}
	stmt, err := s.hot(ctx)
	if err != nil {
		return nil, false, translate(err, "kv get")
	}
	err = stmt.kvGet.queryRow(ctx, tenantID, pluginID, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translate(err, "kv get")
	}
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}

// KVSet stores value under key in the store of (tenantID, pluginID),
// replacing any previous value. The plugin must be a live plugin of the
// tenant (model.ErrNotFound otherwise). When the write would exceed
// KVMaxKeys or KVMaxBytes it returns ErrKVQuota and changes nothing.
func (s *Store) KVSet(ctx context.Context, tenantID, pluginID, key string, value []byte) error {
	if len(value) > KVMaxValue {
		return ErrKVInvalid
	}
	return s.KVUpdate(ctx, tenantID, pluginID, key, func([]byte, bool) ([]byte, bool, error) { return value, true, nil })
}

// KVUpdate is every write of a plugin's store, and what makes the host's
// atomic operations (kv.incr, kv.cas) atomic. In one transaction it:
//
//  1. locks key's row: SELECT … FOR UPDATE when it exists, else it inserts
//     the row (the insert holds the new row, and a concurrent writer of
//     the same key waits on it);
//  2. asks change for the new value from the current one;
//  3. only when the write makes the store grow (a new key, or a longer
//     value) locks the plugin's row and checks the quota over the other
//     keys, so the quota stays exact; and
//  4. writes the value.
//
// So concurrent writers of different keys of one plugin never wait for
// each other unless their writes grow the store, and writers of one key
// are serialised: a counter increment that keeps the value's length (or a
// write that shrinks it) takes no plugin-wide lock. Before all this,
// kvSwap tries the write of an existing key that does not grow as a
// single compare-and-swap statement, which is most writes, and before
// that kvSwapHinted tries the same statement without the read, from the
// value this process last left in the key (kvHints). Locks are
// always taken key first, then plugin, so no two writes deadlock. (SQLite's write
// transactions are exclusive anyway.) change returning write false, or an
// error (returned as it is), changes nothing.
//
// Concurrent updates of one key in this process are combined into one
// such write (kvCombiner), with the same outcome as one after another.
// change may thus be called more than once, and with a value another
// caller's change produced; it must depend on its arguments alone and not
// modify old. A change that panics fails alone, and panics again in its
// caller.
func (s *Store) KVUpdate(ctx context.Context, tenantID, pluginID, key string, change func(old []byte, found bool) ([]byte, bool, error)) error {
	if !validKVKey(key) {
		return ErrKVInvalid
	}
	k := cacheKey(tenantID, pluginID, key)
	return s.combineKV(ctx, k, change,
		func(ctx context.Context, change func([]byte, bool) ([]byte, bool, error)) error {
			return s.kvUpdate(ctx, k, tenantID, pluginID, key, change)
		})
}

// kvUpdate is one write of KVUpdate, of one change or of several combined;
// k is the key's cacheKey. It tries, in order: the compare-and-swap from
// the value this process last left (kvSwapHinted), the compare-and-swap
// from a read (kvSwap), and the transaction. Whatever it learns of the
// value in the database becomes the key's hint.
func (s *Store) kvUpdate(ctx context.Context, k, tenantID, pluginID, key string, change func(old []byte, found bool) ([]byte, bool, error)) error {
	if done, err := s.kvSwapHinted(ctx, k, tenantID, pluginID, key, change); done || err != nil {
		return err
	}
	if done, err := s.kvSwap(ctx, k, tenantID, pluginID, key, change); done || err != nil {
		return err
	}
	var changeErr error
	var known []byte // the key's value when tx commits, if it exists then
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, found, err := s.lockKVKey(tx, tenantID, pluginID, key)
		if err != nil {
			return err
		}
		known = nil
		if found {
			known = cur
		}
		value, write, err := change(cur, found)
		if err != nil {
			changeErr = err
			return err
		}
		if !write {
			return errKVNoWrite // also drops the row step 1 inserted
		}
		if value == nil {
			value = []byte{}
		}
		if len(value) > KVMaxValue {
			return ErrKVInvalid
		}
		if !found || len(value) > len(cur) {
			if err := s.checkKVQuota(tx, tenantID, pluginID, key, value); err != nil {
				return err
			}
		}
		known = nil
		if err := tx.Model(&kvRow{}).Where("tenant_id = ? AND plugin_id = ? AND key = ?", tenantID, pluginID, key).
			Updates(map[string]any{"value": value, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		known = value
		return nil
	})
	switch {
	case err == nil && known != nil, errors.Is(err, errKVNoWrite) && known != nil:
		s.kvHints.put(k, known)
	default:
		s.kvHints.drop(k)
	}
	switch {
	case errors.Is(err, errKVNoWrite):
		return nil
	case changeErr != nil || errors.Is(err, ErrKVQuota) || errors.Is(err, ErrKVInvalid):
		return err
	}
	return translate(err, "kv write")
}

// kvSwap is KVUpdate's common case without a transaction: it reads the
// key, asks change for the new value and writes it with one statement
// that changes the row only if it still holds the value read (a
// compare-and-swap), so the row is locked for that statement alone, not
// for three round trips, and writers of one key never wait while another
// computes. It reports done false, having written nothing, when the
// transaction of KVUpdate must run instead: the key is absent, the new
// value is longer than the old (the quota must be checked), or another
// writer changed the value between the read and the write. change may
// thus be called twice; the second call sees the value then current.
func (s *Store) kvSwap(ctx context.Context, k, tenantID, pluginID, key string, change func(old []byte, found bool) ([]byte, bool, error)) (done bool, err error) {
	cur, found, err := s.KVGet(ctx, tenantID, pluginID, key)
	if err != nil || !found {
		return false, err
	}
	value, write, err := change(cur, true)
	if err != nil || !write || len(value) > KVMaxValue {
		s.kvHints.put(k, cur) // nothing is written: the value read stands
	}
	switch {
	case err != nil:
		return true, err
	case !write:
		return true, nil
	case len(value) > KVMaxValue:
		return true, ErrKVInvalid
	case len(value) > len(cur):
		return false, nil
	}
	if value == nil {
		value = []byte{}
	}
	swapped, err := s.swapKV(ctx, tenantID, pluginID, key, cur, value)
	if swapped {
		s.kvHints.put(k, value)
	}
	return swapped, translate(err, "kv write")
}

// errKVNoWrite rolls back a KVUpdate whose change wrote nothing.
var errKVNoWrite = errors.New("kv: nothing to write")

// lockKVKey locks key's row in tx and returns its value and whether it
// existed before tx; a key that did not is inserted (empty, not yet
// counted by anyone: other transactions cannot see it) so that tx holds
// its row. A plugin that is not a live plugin of the tenant is
// model.ErrNotFound.
func (s *Store) lockKVKey(tx *gorm.DB, tenantID, pluginID, key string) ([]byte, bool, error) {
	for range 3 {
		q := tx.Where("tenant_id = ? AND plugin_id = ? AND key = ?", tenantID, pluginID, key)
		if s.driver == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var cur kvRow
		err := q.Take(&cur).Error
		if err == nil {
			if cur.Value == nil {
				cur.Value = []byte{}
			}
			return cur.Value, true, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, false, err
		}
		// A new key grows the store: the plugin must exist (the insert
		// below would otherwise create a row for no plugin).
		var n int64
		if err := tx.Model(&model.Plugin{}).Where("tenant_id = ? AND id = ? AND deleted_at IS NULL", tenantID, pluginID).Count(&n).Error; err != nil {
			return nil, false, err
		}
		if n == 0 {
			return nil, false, gorm.ErrRecordNotFound
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&kvRow{TenantID: tenantID, PluginID: pluginID, Key: key, Value: []byte{}, UpdatedAt: s.Now()})
		if res.Error != nil {
			return nil, false, res.Error
		}
		if res.RowsAffected == 1 {
			return nil, false, nil
		}
		// Another transaction created it meanwhile: lock it as it stands.
	}
	return nil, false, errors.New("kv: the key keeps appearing and disappearing")
}

// checkKVQuota locks the plugin's row (serialising the writes that grow
// its store, and only those) and refuses the write of value under key when the store's
// other keys plus it would exceed KVMaxKeys or KVMaxBytes.
func (s *Store) checkKVQuota(tx *gorm.DB, tenantID, pluginID, key string, value []byte) error {
	// FOR NO KEY UPDATE, not FOR UPDATE: a new key's insert has taken
	// FOR KEY SHARE on the plugin's row (the foreign key), which FOR
	// UPDATE would wait for, so two new keys would deadlock; NO KEY UPDATE
	// still serialises the growing writes among themselves.
	q := tx.Model(&model.Plugin{}).Where("tenant_id = ? AND id = ?", tenantID, pluginID)
	if s.driver == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "NO KEY UPDATE"})
	}
	var ids []string
	if err := q.Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) != 1 {
		return gorm.ErrRecordNotFound
	}
	var usage struct {
		N     int64
		Bytes *int64
	}
	if err := tx.Model(&kvRow{}).Where("tenant_id = ? AND plugin_id = ? AND key <> ?", tenantID, pluginID, key).
		Select("COUNT(*) AS n, SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)) AS bytes").Scan(&usage).Error; err != nil {
		return err
	}
	var used int64
	if usage.Bytes != nil {
		used = *usage.Bytes
	}
	if usage.N+1 > KVMaxKeys || used+int64(len(key)+len(value)) > KVMaxBytes {
		return ErrKVQuota
	}
	return nil
}

// KVDelete removes key from the store of (tenantID, pluginID); deleting an
// absent key is not an error.
func (s *Store) KVDelete(ctx context.Context, tenantID, pluginID, key string) error {
	if !validKVKey(key) {
		return ErrKVInvalid
	}
	s.kvHints.drop(cacheKey(tenantID, pluginID, key))
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ? AND key = ?", tenantID, pluginID, key).Delete(&kvRow{}).Error
	return translate(err, "kv delete")
}

// KVUsage returns how many keys and bytes (keys plus values) the store of
// (tenantID, pluginID) holds.
func (s *Store) KVUsage(ctx context.Context, tenantID, pluginID string) (keys, bytes int64, err error) {
	var usage struct {
		N     int64
		Bytes *int64
	}
	if err := s.db.WithContext(ctx).Model(&kvRow{}).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).
		Select("COUNT(*) AS n, SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)) AS bytes").Scan(&usage).Error; err != nil {
		return 0, 0, translate(err, "kv usage")
	}
	if usage.Bytes != nil {
		bytes = *usage.Bytes
	}
	return usage.N, bytes, nil
}
