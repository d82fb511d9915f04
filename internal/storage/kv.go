package storage

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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
	var r kvRow
	err = s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ? AND key = ?", tenantID, pluginID, key).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, translate(err, "kv get")
	}
	if r.Value == nil {
		r.Value = []byte{}
	}
	return r.Value, true, nil
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
// atomic operations (kv.incr, kv.cas) atomic: in one transaction it locks
// the plugin's row (so writers of one store are serialised on PostgreSQL;
// SQLite's transactions are exclusive), reads key's current value, asks
// change for the new one, checks the quota and upserts. change returning
// write false, or an error (returned as it is), changes nothing.
func (s *Store) KVUpdate(ctx context.Context, tenantID, pluginID, key string, change func(old []byte, found bool) ([]byte, bool, error)) error {
	if !validKVKey(key) {
		return ErrKVInvalid
	}
	var changeErr error
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := s.lockPlugin(tx, tenantID, pluginID); err != nil {
			return err
		}
		var cur kvRow
		found := true
		if err := tx.Where("tenant_id = ? AND plugin_id = ? AND key = ?", tenantID, pluginID, key).Take(&cur).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			found = false
		} else if err != nil {
			return err
		}
		if found && cur.Value == nil {
			cur.Value = []byte{}
		}
		value, write, err := change(cur.Value, found)
		if err != nil {
			changeErr = err
			return err
		}
		if !write {
			return nil
		}
		if value == nil {
			value = []byte{}
		}
		if len(value) > KVMaxValue {
			return ErrKVInvalid
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
		row := &kvRow{TenantID: tenantID, PluginID: pluginID, Key: key, Value: value, UpdatedAt: s.Now()}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "plugin_id"}, {Name: "key"}},
			DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
		}).Create(row).Error
	})
	if changeErr != nil || errors.Is(err, ErrKVQuota) || errors.Is(err, ErrKVInvalid) {
		return err
	}
	return translate(err, "kv write")
}

// KVDelete removes key from the store of (tenantID, pluginID); deleting an
// absent key is not an error.
func (s *Store) KVDelete(ctx context.Context, tenantID, pluginID, key string) error {
	if !validKVKey(key) {
		return ErrKVInvalid
	}
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
