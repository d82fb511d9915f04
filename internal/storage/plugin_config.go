package storage

import (
	"context"
	"errors"
	"slices"

	"github.com/portico-dev/portico/internal/model"
	"gorm.io/gorm"
)

// PluginConfig returns a plugin's configuration, ordered by key.
//
// It is cached while the store is Coherent (a wasm call reads it every
// time); a configuration change (ChangeTenant) drops it. The slice is the
// caller's own.
func (s *Store) PluginConfig(ctx context.Context, tenantID, pluginID string) ([]model.ConfigValue, error) {
	coherent, now, ck := s.Coherent(), s.Now(), cacheKey(tenantID, pluginID)
	if coherent {
		if cfg, ok := s.cache.configs.get(ck, now); ok {
			return slices.Clone(cfg), nil
		}
	}
	epoch := s.cache.configs.begin()
	var out []model.ConfigValue
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Order("key").Find(&out).Error
	if err != nil {
		return nil, translate(err, "load plugin config")
	}
	if coherent {
		s.cache.configs.put(ck, slices.Clone(out), epoch, now)
	}
	return out, nil
}

// ReplacePluginConfig replaces a plugin's whole configuration, guarded by
// the plugin's version (which it bumps), and audits old and new values.
func (s *Store) ReplacePluginConfig(ctx context.Context, tenantID, slug string, expectedVersion int64, values []model.ConfigValue, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p model.Plugin
		if err := tx.Where("tenant_id = ? AND slug = ?", tenantID, slug).Take(&p).Error; err != nil {
			return err
		}
		res := tx.Model(&model.Plugin{}).Where("id = ? AND tenant_id = ? AND version = ?", p.ID, tenantID, expectedVersion).
			Updates(map[string]any{"version": expectedVersion + 1, "updated_at": s.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		var old []model.ConfigValue
		if err := tx.Where("tenant_id = ? AND plugin_id = ?", tenantID, p.ID).Order("key").Find(&old).Error; err != nil {
			return err
		}
		if err := tx.Where("tenant_id = ? AND plugin_id = ?", tenantID, p.ID).Delete(&model.ConfigValue{}).Error; err != nil {
			return err
		}
		now := s.Now()
		for i := range values {
			values[i].TenantID, values[i].PluginID, values[i].UpdatedAt = tenantID, p.ID, now
		}
		if len(values) > 0 {
			if err := tx.Create(&values).Error; err != nil {
				return err
			}
		}
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginConfig, "plugin", slug, configMap(old), configMap(values))
	})
	if err != nil {
		if errors.Is(err, ErrStale) {
			return err
		}
		return translate(err, "replace plugin config")
	}
	s.notify(TenantChange(tenantID))
	return nil
}

func configMap(vs []model.ConfigValue) map[string]string {
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		m[v.Key] = string(v.Type) + ":" + v.Value
	}
	return m
}
