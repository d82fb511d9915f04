package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

// ErrNotTokenPlugin is returned when client credentials are rotated on a
// plugin that does not use launch tokens: it has no credentials to rotate.
var ErrNotTokenPlugin = errors.New("the plugin does not use token authentication")

// PluginAccessSnapshot is the audited view of a plugin's access settings:
// what it is granted and how it is launched. Secrets and their hashes are
// never part of it.
func PluginAccessSnapshot(p *model.Plugin) map[string]any {
	fields, grants := []string{}, []string{}
	fields = append(fields, p.UserFields...)
	grants = append(grants, p.Grants...)
	return map[string]any{
		"user_fields": fields, "grants": grants, "token_ttl_seconds": p.TokenTTLSeconds,
		"launch_method": p.LaunchMethod, "allow_private_network": p.AllowPrivateNetwork, "version": p.Version,
	}
}

// UpdatePluginAccess applies mutate (which validates) to the live plugin slug
// of tenantID if its version is still expectedVersion, bumps the version and
// writes a model.AuditPluginAccess audit entry with the access fields before and
// after, all in one transaction.
func (s *Store) UpdatePluginAccess(ctx context.Context, tenantID, slug string, expectedVersion int64, a model.Actor, mutate func(*model.Plugin) error) (*model.Plugin, error) {
	return s.updatePlugin(ctx, tenantID, slug, expectedVersion, a, model.AuditPluginAccess, PluginAccessSnapshot, mutate)
}

// NewClientSecret is what a rotation stores: the new secret's hash and, for
// a plugin that has no client ID yet, the ID to give it.
type NewClientSecret struct {
	ClientID   string // used only when the plugin has none
	SecretHash string // auth.HashToken of the new secret
}

// RotateClientSecret replaces a token plugin's client secret. The secret
// being replaced keeps working until overlapUntil (nil: it stops at once);
// a secret still in an earlier overlap window is dropped, so at most two
// secrets are ever valid. A plugin without a client ID (registered before
// credentials existed) gets next.ClientID and no overlap. The version is
// bumped and the audit entry records the client ID and the overlap's end,
// never a secret or its hash. Rotation is not guarded by a version: like
// setting a secret, the last rotation wins.
func (s *Store) RotateClientSecret(ctx context.Context, tenantID, slug string, next NewClientSecret, overlapUntil *time.Time, a model.Actor) (*model.Plugin, error) {
	if next.SecretHash == "" {
		return nil, errors.New("rotate client secret: empty secret hash")
	}
	var out model.Plugin
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ? AND slug = ?", tenantID, slug).Take(&out).Error; err != nil {
			return err
		}
		if out.AuthType != model.AuthToken {
			return ErrNotTokenPlugin
		}
		before := map[string]any{"client_id": out.ClientID, "previous_secret_expires_at": out.PreviousSecretExpiresAt}
		prevHash, prevUntil := "", (*time.Time)(nil)
		if out.ClientID == "" {
			if next.ClientID == "" {
				return errors.New("rotate client secret: no client id to issue")
			}
			out.ClientID = next.ClientID
		} else if overlapUntil != nil && out.ClientSecretHash != "" {
			u := overlapUntil.UTC()
			prevHash, prevUntil = out.ClientSecretHash, &u
		}
		old := out.Version
		out.ClientSecretHash, out.PreviousClientSecretHash, out.PreviousSecretExpiresAt = next.SecretHash, prevHash, prevUntil
		out.Version, out.UpdatedAt = old+1, s.Now()
		res := tx.Model(&model.Plugin{}).Where("id = ? AND tenant_id = ? AND version = ?", out.ID, tenantID, old).
			Updates(map[string]any{
				"client_id": out.ClientID, "client_secret_hash": out.ClientSecretHash,
				"previous_client_secret_hash": prevHash, "previous_secret_expires_at": prevUntil,
				"version": out.Version, "updated_at": out.UpdatedAt,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		after := map[string]any{"client_id": out.ClientID, "client_secret": model.Redacted, "previous_secret_expires_at": prevUntil}
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginClientSecretRotate, "plugin", slug, before, after)
	})
	if err != nil {
		if errors.Is(err, ErrNotTokenPlugin) || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, translate(err, "rotate client secret")
	}
	s.notify(TenantChange(tenantID))
	return &out, nil
}
