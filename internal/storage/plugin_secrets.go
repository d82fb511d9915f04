package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/model"
)

type pluginSecret struct {
	TenantID   string `gorm:"primaryKey"`
	PluginID   string `gorm:"primaryKey"`
	Name       string `gorm:"primaryKey"`
	Ciphertext []byte
	UpdatedAt  time.Time
	UpdatedBy  string
}

func (pluginSecret) TableName() string { return "plugin_secrets" }

// ErrTooManySecrets means a plugin already holds model.MaxSecretsPerPlugin
// secrets and the one being stored is new; nothing was written.
var ErrTooManySecrets = fmt.Errorf("at most %d secrets per plugin", model.MaxSecretsPerPlugin)

// PutSecret stores an already-encrypted secret value. The audit entry
// records that the secret was set, never its value.
func (s *Store) PutSecret(ctx context.Context, tenantID, pluginID, slug, name string, ciphertext []byte, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Under the plugin's row lock, which a deletion takes too: a
		// secret stored as its plugin is deleted would outlive it.
		if _, err := s.lockPlugin(tx, tenantID, pluginID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&pluginSecret{}).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Where("name <> ?", name).Count(&n).Error; err != nil {
			return err
		}
		if n >= model.MaxSecretsPerPlugin {
			return ErrTooManySecrets
		}
		row := &pluginSecret{TenantID: tenantID, PluginID: pluginID, Name: name, Ciphertext: ciphertext, UpdatedAt: s.Now(), UpdatedBy: a.Label}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "plugin_id"}, {Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"ciphertext", "updated_at", "updated_by"}),
		}).Create(row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginSecretSet, "plugin", slug, nil, map[string]any{"secret": name, "value": model.Redacted})
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
		return s.appendAudit(tx, tenantID, a, model.AuditPluginSecretDelete, "plugin", slug, map[string]any{"secret": name}, nil)
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
