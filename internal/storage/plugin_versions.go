package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/model"
)

// ErrNotWasm means a module was offered to, or a version asked of, a plugin
// that is not a wasm plugin.
var ErrNotWasm = fmt.Errorf("not a wasm plugin: %w", model.ErrConflict)

// ErrNoPreviousVersion means a rollback was asked of a plugin that has no
// previous version to return to.
var ErrNoPreviousVersion = fmt.Errorf("no previous version to roll back to: %w", model.ErrConflict)

// versionColumns are the plugin_versions columns read by listings: every
// one except the module bytes.
var versionColumns = []string{"id", "tenant_id", "plugin_id", "number", "sha256", "size_bytes", "abi_version", "created_by", "created_at"}

// lockPlugin loads a live plugin of tenantID by ID inside tx, locking its row
// on PostgreSQL (SQLite transactions are already exclusive).
func (s *Store) lockPlugin(tx *gorm.DB, tenantID, pluginID string) (*model.Plugin, error) {
	q := tx.Where("tenant_id = ? AND id = ?", tenantID, pluginID)
	if s.driver == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var p model.Plugin
	if err := q.Take(&p).Error; err != nil {
		return nil, err
	}
	return &p, nil
}

// versionSnapshot is the audited view of a plugin's version pointers.
func versionSnapshot(p *model.Plugin) map[string]any {
	return map[string]any{"active_version": p.ActiveVersion, "previous_version": p.PreviousVersion, "version": p.Version}
}

// CreatePluginVersion stores module as the next numbered version of the
// wasm plugin pluginID of tenantID and audits the upload, in one
// transaction. It fills v's ID, TenantID, PluginID, Number, SHA256,
// SizeBytes, CreatedBy and CreatedAt; the caller sets v.ABIVersion (from the
// runtime's check of the module). The new version is not activated.
func (s *Store) CreatePluginVersion(ctx context.Context, tenantID, pluginID string, v *model.PluginVersion, module []byte, a model.Actor) error {
	if len(module) == 0 {
		return fmt.Errorf("create plugin version: empty module: %w", model.ErrConflict)
	}
	sum := sha256.Sum256(module)
	v.ID, v.TenantID, v.PluginID = NewID(), tenantID, pluginID
	v.SHA256, v.SizeBytes, v.Module = hex.EncodeToString(sum[:]), int64(len(module)), module
	v.CreatedBy, v.CreatedAt = a.Label, s.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lockPlugin(tx, tenantID, pluginID)
		if err != nil {
			return err
		}
		if p.Type != model.PluginWasm {
			return ErrNotWasm
		}
		var max *int
		if err := tx.Model(&model.PluginVersion{}).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).
			Select("MAX(number)").Scan(&max).Error; err != nil {
			return err
		}
		v.Number = 1
		if max != nil {
			v.Number = *max + 1
		}
		if err := tx.Create(v).Error; err != nil {
			return err
		}
		pruned, err := pruneVersions(tx, p)
		if err != nil {
			return err
		}
		snap := map[string]any{"version_id": v.ID, "number": v.Number, "sha256": v.SHA256, "size_bytes": v.SizeBytes, "abi_version": v.ABIVersion}
		if len(pruned) > 0 {
			snap["pruned_versions"] = pruned
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginVersionUpload, "plugin", p.Slug, nil, snap)
	})
	v.Module = nil
	if err != nil {
		if errors.Is(err, ErrNotWasm) {
			return err
		}
		return translate(err, "create plugin version")
	}
	return nil
}

// MaxStoredVersions is how many of a plugin's newest versions are kept:
// an upload beyond it removes the oldest ones, never the active version
// nor the previous one (the rollback target). Every version holds a
// module of up to 16 MiB in the database, and uploads are otherwise
// unlimited, so without it a tenant's uploads would grow the database
// shared by every tenant without end.
const MaxStoredVersions = 20

// pruneVersions removes, in tx, the versions of plugin p beyond the
// MaxStoredVersions newest, keeping its active and previous versions, and
// returns the numbers it removed.
func pruneVersions(tx *gorm.DB, p *model.Plugin) ([]int, error) {
	var rows []struct {
		ID     string
		Number int
	}
	if err := tx.Model(&model.PluginVersion{}).Select("id, number").Where("tenant_id = ? AND plugin_id = ?", p.TenantID, p.ID).
		Order("number DESC").Limit(1 << 20).Offset(MaxStoredVersions).Scan(&rows).Error; err != nil {
		return nil, err
	}
	var ids []string
	var numbers []int
	for _, r := range rows {
		if r.ID == p.ActiveVersion || r.ID == p.PreviousVersion {
			continue
		}
		ids, numbers = append(ids, r.ID), append(numbers, r.Number)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if err := tx.Where("tenant_id = ? AND plugin_id = ? AND id IN ?", p.TenantID, p.ID, ids).Delete(&model.PluginVersion{}).Error; err != nil {
		return nil, err
	}
	slices.Sort(numbers)
	return numbers, nil
}

// PluginVersions lists a plugin's versions, newest first, without their
// module bytes.
func (s *Store) PluginVersions(ctx context.Context, tenantID, pluginID string) ([]model.PluginVersion, error) {
	var out []model.PluginVersion
	err := s.db.WithContext(ctx).Select(versionColumns).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).
		Order("number DESC").Find(&out).Error
	if err != nil {
		return nil, translate(err, "list plugin versions")
	}
	return out, nil
}

// PluginVersion returns one version of tenantID without its module bytes.
func (s *Store) PluginVersion(ctx context.Context, tenantID, versionID string) (*model.PluginVersion, error) {
	var v model.PluginVersion
	err := s.db.WithContext(ctx).Select(versionColumns).Where("tenant_id = ? AND id = ?", tenantID, versionID).Take(&v).Error
	if err != nil {
		return nil, translate(err, "load plugin version")
	}
	return &v, nil
}

// PluginModule returns the module bytes of one version of tenantID.
func (s *Store) PluginModule(ctx context.Context, tenantID, versionID string) ([]byte, error) {
	var v model.PluginVersion
	err := s.db.WithContext(ctx).Select("module").Where("tenant_id = ? AND id = ?", tenantID, versionID).Take(&v).Error
	if err != nil {
		return nil, translate(err, "load plugin module")
	}
	return v.Module, nil
}

// ActivatePluginVersion makes versionID the plugin's active version and the
// formerly active one its previous version (the rollback target), bumps the
// plugin's version and audits the change, in one transaction. Activating
// the version that is already active changes nothing and returns the
// plugin as it is. A version of another plugin or tenant is
// model.ErrNotFound; a concurrent change of the plugin is ErrStale.
func (s *Store) ActivatePluginVersion(ctx context.Context, tenantID, pluginID, versionID string, a model.Actor) (*model.Plugin, error) {
	return s.movePluginVersion(ctx, tenantID, pluginID, a, model.AuditPluginVersionActivate, func(tx *gorm.DB, p *model.Plugin) (bool, error) {
		var n int64
		if err := tx.Model(&model.PluginVersion{}).Where("tenant_id = ? AND plugin_id = ? AND id = ?", tenantID, pluginID, versionID).
			Count(&n).Error; err != nil {
			return false, err
		}
		if n == 0 {
			return false, gorm.ErrRecordNotFound
		}
		if p.ActiveVersion == versionID {
			return false, nil
		}
		p.PreviousVersion, p.ActiveVersion = p.ActiveVersion, versionID
		return true, nil
	})
}

// RollbackPluginVersion swaps the plugin's active and previous versions,
// bumps its version and audits the change, in one transaction. It returns
// ErrNoPreviousVersion when there is nothing to roll back to.
func (s *Store) RollbackPluginVersion(ctx context.Context, tenantID, pluginID string, a model.Actor) (*model.Plugin, error) {
	return s.movePluginVersion(ctx, tenantID, pluginID, a, model.AuditPluginVersionRollback, func(_ *gorm.DB, p *model.Plugin) (bool, error) {
		if p.PreviousVersion == "" {
			return false, ErrNoPreviousVersion
		}
		p.ActiveVersion, p.PreviousVersion = p.PreviousVersion, p.ActiveVersion
		return true, nil
	})
}

// movePluginVersion loads the plugin, lets change move its version
// pointers and, when it reports a change, writes them guarded by the
// plugin's version, with an audit entry.
func (s *Store) movePluginVersion(ctx context.Context, tenantID, pluginID string, a model.Actor, action string,
	change func(*gorm.DB, *model.Plugin) (bool, error)) (*model.Plugin, error) {
	var out *model.Plugin
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.lockPlugin(tx, tenantID, pluginID)
		if err != nil {
			return err
		}
		if p.Type != model.PluginWasm {
			return ErrNotWasm
		}
		before := versionSnapshot(p)
		expected := p.Version
		if changed, err = change(tx, p); err != nil || !changed {
			out = p
			return err
		}
		p.Version, p.UpdatedAt = expected+1, s.Now()
		res := tx.Model(&model.Plugin{}).Where("id = ? AND tenant_id = ? AND version = ?", p.ID, tenantID, expected).
			Updates(map[string]any{"active_version": p.ActiveVersion, "previous_version": p.PreviousVersion,
				"version": p.Version, "updated_at": p.UpdatedAt})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		out = p
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, action, "plugin", p.Slug, before, versionSnapshot(p))
	})
	if err != nil {
		if errors.Is(err, ErrStale) || errors.Is(err, ErrNotWasm) || errors.Is(err, ErrNoPreviousVersion) {
			return nil, err
		}
		return nil, translate(err, "change plugin version")
	}
	if changed {
		s.notify(TenantChange(tenantID))
	}
	return out, nil
}
