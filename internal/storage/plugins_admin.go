package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/model"
)

// PluginSnapshot is the audited view of a plugin: its editable fields
// (model.PluginFields), client ID and version, and never a secret.
func PluginSnapshot(p *model.Plugin) map[string]any {
	m := p.Fields().Snapshot()
	m["client_id"], m["version"] = p.ClientID, p.Version
	return m
}

// CreatePluginAudited inserts a validated plugin and its audit entry in one
// transaction.
func (s *Store) CreatePluginAudited(ctx context.Context, tenantID string, p *model.Plugin, a model.Actor) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	p.TenantID, p.Version = tenantID, 1
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// A soft-deleted plugin still owns its slug.
		var n int64
		if err := tx.Unscoped().Model(&model.Plugin{}).Where("tenant_id = ? AND slug = ?", tenantID, p.Slug).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return model.ErrConflict
		}
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, "plugin.create", "plugin", p.Slug, nil, PluginSnapshot(p))
	})
	if err != nil {
		return translate(err, "create plugin")
	}
	s.notify(tenantID)
	return nil
}

// UpdatePlugin applies mutate to the live plugin slug of tenantID if its
// version is still expectedVersion, bumps the version and audits the
// change, all in one transaction. mutate validates; its error aborts.
func (s *Store) UpdatePlugin(ctx context.Context, tenantID, slug string, expectedVersion int64, a model.Actor, action string, mutate func(*model.Plugin) error) (*model.Plugin, error) {
	return s.updatePlugin(ctx, tenantID, slug, expectedVersion, a, action, PluginSnapshot, mutate)
}

// updatePlugin is the optimistic, audited update every plugin change goes
// through: read the row, check its version, mutate, write it back guarded by
// the version, and record snapshot before and after in the same transaction.
func (s *Store) updatePlugin(ctx context.Context, tenantID, slug string, expectedVersion int64, a model.Actor, action string,
	snapshot func(*model.Plugin) map[string]any, mutate func(*model.Plugin) error) (*model.Plugin, error) {
	var out model.Plugin
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ? AND slug = ?", tenantID, slug).Take(&out).Error; err != nil {
			return err
		}
		if out.Version != expectedVersion {
			return ErrStale
		}
		before := snapshot(&out)
		if err := mutate(&out); err != nil {
			return err
		}
		out.Version = expectedVersion + 1
		out.UpdatedAt = s.Now()
		res := tx.Model(&model.Plugin{}).Where("id = ? AND tenant_id = ? AND version = ?", out.ID, tenantID, expectedVersion).
			Select("*").Omit("id", "tenant_id", "created_at", "deleted_at").Updates(&out)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		return s.appendAudit(tx, tenantID, a, action, "plugin", slug, before, snapshot(&out))
	})
	if err != nil {
		if _, ok := model.AsValidation(err); ok || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, translate(err, "update plugin")
	}
	s.notify(tenantID)
	return &out, nil
}

// DeletePlugin soft-deletes a plugin: it leaves every menu at once, keeps
// its history and keeps its slug reserved.
func (s *Store) DeletePlugin(ctx context.Context, tenantID, slug string, expectedVersion int64, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p model.Plugin
		if err := tx.Where("tenant_id = ? AND slug = ?", tenantID, slug).Take(&p).Error; err != nil {
			return err
		}
		if p.Version != expectedVersion {
			return ErrStale
		}
		res := tx.Model(&model.Plugin{}).Where("id = ? AND tenant_id = ? AND version = ?", p.ID, tenantID, expectedVersion).
			Updates(map[string]any{"deleted_at": s.Now(), "version": expectedVersion + 1, "active": false})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		return s.appendAudit(tx, tenantID, a, "plugin.delete", "plugin", slug, PluginSnapshot(&p), nil)
	})
	if err != nil {
		if errors.Is(err, ErrStale) {
			return err
		}
		return translate(err, "delete plugin")
	}
	s.notify(tenantID)
	return nil
}

// ErrOrderMismatch means a reorder did not list each live plugin exactly once.
var ErrOrderMismatch = errors.New("the order must list every plugin exactly once")

// ReorderPlugins sets the menu order to slugs, which must be a permutation
// of the tenant's live plugins. Positions become 10, 20, 30… and the
// version of every plugin that moved is bumped.
func (s *Store) ReorderPlugins(ctx context.Context, tenantID string, slugs []string, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ps []model.Plugin
		q := tx.Where("tenant_id = ?", tenantID)
		if s.driver == "postgres" {
			// SQLite transactions are already exclusive (_txlock=immediate).
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Order("position, slug").Find(&ps).Error; err != nil {
			return err
		}
		if len(ps) != len(slugs) {
			return ErrOrderMismatch
		}
		bySlug := map[string]*model.Plugin{}
		before := make([]string, len(ps))
		for i := range ps {
			bySlug[ps[i].Slug] = &ps[i]
			before[i] = ps[i].Slug
		}
		seen := map[string]bool{}
		for _, sl := range slugs {
			if bySlug[sl] == nil || seen[sl] {
				return ErrOrderMismatch
			}
			seen[sl] = true
		}
		now := s.Now()
		for i, sl := range slugs {
			p := bySlug[sl]
			pos := (i + 1) * 10
			if p.Position == pos {
				continue
			}
			if err := tx.Model(&model.Plugin{}).Where("id = ? AND tenant_id = ?", p.ID, tenantID).
				Updates(map[string]any{"position": pos, "version": p.Version + 1, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		return s.appendAudit(tx, tenantID, a, "plugin.reorder", "plugin", "", map[string]any{"order": before}, map[string]any{"order": slugs})
	})
	if err != nil {
		if errors.Is(err, ErrOrderMismatch) {
			return err
		}
		return translate(err, "reorder plugins")
	}
	s.notify(tenantID)
	return nil
}

// PluginConfig returns a plugin's configuration, ordered by key.
func (s *Store) PluginConfig(ctx context.Context, tenantID, pluginID string) ([]model.ConfigValue, error) {
	var out []model.ConfigValue
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Order("key").Find(&out).Error
	return out, translate(err, "load plugin config")
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
		return s.appendAudit(tx, tenantID, a, "plugin.config", "plugin", slug, configMap(old), configMap(values))
	})
	if err != nil {
		if errors.Is(err, ErrStale) {
			return err
		}
		return translate(err, "replace plugin config")
	}
	s.notify(tenantID)
	return nil
}

func configMap(vs []model.ConfigValue) map[string]string {
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		m[v.Key] = string(v.Type) + ":" + v.Value
	}
	return m
}

type pluginSecret struct {
	TenantID   string `gorm:"primaryKey"`
	PluginID   string `gorm:"primaryKey"`
	Name       string `gorm:"primaryKey"`
	Ciphertext []byte
	UpdatedAt  time.Time
	UpdatedBy  string
}

func (pluginSecret) TableName() string { return "plugin_secrets" }

// PutSecret stores an already-encrypted secret value. The audit entry
// records that the secret was set, never its value.
func (s *Store) PutSecret(ctx context.Context, tenantID, pluginID, slug, name string, ciphertext []byte, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&pluginSecret{}).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Where("name <> ?", name).Count(&n).Error; err != nil {
			return err
		}
		if n >= model.MaxSecretsPerPlugin {
			return fmt.Errorf("%w: at most %d secrets per plugin", model.ErrConflict, model.MaxSecretsPerPlugin)
		}
		row := &pluginSecret{TenantID: tenantID, PluginID: pluginID, Name: name, Ciphertext: ciphertext, UpdatedAt: s.Now(), UpdatedBy: a.Label}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "plugin_id"}, {Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"ciphertext", "updated_at", "updated_by"}),
		}).Create(row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, "plugin.secret.set", "plugin", slug, nil, map[string]any{"secret": name, "value": "[redacted]"})
	})
	return translate(err, "put secret")
}

// DeleteSecret removes a secret; model.ErrNotFound when it does not exist.
func (s *Store) DeleteSecret(ctx context.Context, tenantID, pluginID, slug, name string, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("tenant_id = ? AND plugin_id = ? AND name = ?", tenantID, pluginID, name).Delete(&pluginSecret{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		return s.appendAudit(tx, tenantID, a, "plugin.secret.delete", "plugin", slug, map[string]any{"secret": name}, nil)
	})
	return translate(err, "delete secret")
}

// Secrets lists a plugin's secret names and when they were set.
func (s *Store) Secrets(ctx context.Context, tenantID, pluginID string) ([]model.SecretMeta, error) {
	var rows []pluginSecret
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Order("name").Find(&rows).Error; err != nil {
		return nil, translate(err, "list secrets")
	}
	out := make([]model.SecretMeta, len(rows))
	for i, r := range rows {
		out[i] = model.SecretMeta{Name: r.Name, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
	}
	return out, nil
}

// SecretCiphertext returns one secret's encrypted value, for the runtime.
func (s *Store) SecretCiphertext(ctx context.Context, tenantID, pluginID, name string) ([]byte, error) {
	var r pluginSecret
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND plugin_id = ? AND name = ?", tenantID, pluginID, name).Take(&r).Error; err != nil {
		return nil, translate(err, "load secret")
	}
	return r.Ciphertext, nil
}
