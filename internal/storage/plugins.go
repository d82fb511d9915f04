package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/portico-dev/portico/internal/model"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Plugins returns every live plugin of tenantID in menu order: position,
// then slug.
func (s *Store) Plugins(ctx context.Context, tenantID string) ([]model.Plugin, error) {
	var ps []model.Plugin
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("position, slug").Find(&ps).Error
	if err != nil {
		return nil, translate(err, "list plugins")
	}
	return ps, nil
}

// PluginBySlug returns one live plugin of tenantID.
func (s *Store) PluginBySlug(ctx context.Context, tenantID, slug string) (*model.Plugin, error) {
	var p model.Plugin
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND slug = ?", tenantID, slug).Take(&p).Error
	if err != nil {
		return nil, translate(err, "plugin by slug")
	}
	return &p, nil
}

// PluginByClientID returns the live plugin of tenantID holding clientID;
// another tenant's client id is model.ErrNotFound.
func (s *Store) PluginByClientID(ctx context.Context, tenantID, clientID string) (*model.Plugin, error) {
	if clientID == "" {
		return nil, translate(gorm.ErrRecordNotFound, "plugin by client id")
	}
	coherent, now, ck := s.Coherent(), s.Now(), cacheKey(tenantID, clientID)
	if coherent {
		if p, ok := s.cache.clients.get(ck, now); ok {
			p = clonePlugin(p)
			return &p, nil
		}
	}
	epoch := s.cache.clients.begin()
	var p model.Plugin
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND client_id = ?", tenantID, clientID).Take(&p).Error
	if err != nil {
		return nil, translate(err, "plugin by client id")
	}
	if coherent {
		s.cache.clients.put(ck, clonePlugin(p), epoch, now)
	}
	return &p, nil
}

// PluginSnapshot is the audited view of a plugin: its editable fields
// (model.PluginFields), client ID and version, and never a secret.
func PluginSnapshot(p *model.Plugin) map[string]any {
	m := p.Fields().Snapshot()
	m["client_id"], m["version"] = p.ClientID, p.Version
	return m
}

// CreatePlugin inserts a validated plugin into tenantID and its
// model.AuditPluginCreate audit entry, in one transaction: the one way a plugin is
// created (the admin service for gestores and the CLI; the demo seed as a
// system actor). A duplicate slug inside the tenant, including a
// soft-deleted plugin's, is a model.ErrConflict.
// MaxPluginsPerTenant bounds a tenant's plugins (deleted ones aside): a
// portal menu of hundreds of entries helps no one, and each plugin holds
// rows, versions and secrets in the database every tenant shares. Two
// creations at the same instant may pass it by one.
const MaxPluginsPerTenant = 200

// ErrTooManyPlugins means a tenant already has MaxPluginsPerTenant
// plugins; nothing was created.
var ErrTooManyPlugins = fmt.Errorf("at most %d plugins per tenant", MaxPluginsPerTenant)

func (s *Store) CreatePlugin(ctx context.Context, tenantID string, p *model.Plugin, a model.Actor) error {
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
		if err := tx.Model(&model.Plugin{}).Where("tenant_id = ?", tenantID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxPluginsPerTenant {
			return ErrTooManyPlugins
		}
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginCreate, "plugin", p.Slug, nil, PluginSnapshot(p))
	})
	if errors.Is(err, ErrTooManyPlugins) {
		return err
	}
	if err != nil {
		return translate(err, "create plugin")
	}
	s.notify(TenantChange(tenantID))
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
	noop := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ? AND slug = ?", tenantID, slug).Take(&out).Error; err != nil {
			return err
		}
		if out.Version != expectedVersion {
			return ErrStale
		}
		before := snapshot(&out)
		orig := clonePlugin(out)
		if err := mutate(&out); err != nil {
			return err
		}
		if samePlugin(orig, out) {
			// Nothing changed: no new version, no audit entry, no
			// invalidation. A form saved as it was is a no-op.
			noop = true
			return nil
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
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, action, "plugin", slug, before, snapshot(&out))
	})
	if err != nil {
		if _, ok := model.AsValidation(err); ok || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, translate(err, "update plugin")
	}
	if !noop {
		s.notify(TenantChange(tenantID))
	}
	return &out, nil
}

// clonePlugin copies p deeply enough that a mutation of the copy's lists
// or pointers cannot change p.
func clonePlugin(p model.Plugin) model.Plugin {
	p.AllowedHosts, p.Grants, p.UserFields = slices.Clone(p.AllowedHosts), slices.Clone(p.Grants), slices.Clone(p.UserFields)
	if p.PreviousSecretExpiresAt != nil {
		t := *p.PreviousSecretExpiresAt
		p.PreviousSecretExpiresAt = &t
	}
	return p
}

// samePlugin reports whether a and b hold the same values in every
// column, an empty list being the same as none.
func samePlugin(a, b model.Plugin) bool {
	for _, p := range []*model.Plugin{&a, &b} {
		for _, l := range []*model.StringList{&p.AllowedHosts, &p.Grants, &p.UserFields} {
			if len(*l) == 0 {
				*l = nil
			}
		}
	}
	return reflect.DeepEqual(a, b)
}

// DeletePlugin soft-deletes a plugin: it leaves every menu at once, keeps
// its history and keeps its slug reserved. What it held for the company
// and its customers goes: in the same transaction its secrets (an ERP's
// credentials must not outlive the plugin that used them, nor stay where
// no page can remove them) and its module versions (up to 16 MiB each,
// which a deleted plugin would otherwise keep in the shared database for
// ever); right after it, its key-value store (customers' data kept for a
// plugin that can never run again). The store goes in a second
// transaction because a KV write locks its key, then the plugin's row,
// and deleting keys after taking the plugin's row would deadlock with it
// on PostgreSQL; once the deletion is committed no write can add a key
// (the quota check needs the live plugin). Its configuration, which holds
// neither secrets nor customers' data, stays with the row.
func (s *Store) DeletePlugin(ctx context.Context, tenantID, slug string, expectedVersion int64, a model.Actor) error {
	var pluginID string
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
		secrets := tx.Where("tenant_id = ? AND plugin_id = ?", tenantID, p.ID).Delete(&pluginSecret{})
		if secrets.Error != nil {
			return secrets.Error
		}
		versions := tx.Where("tenant_id = ? AND plugin_id = ?", tenantID, p.ID).Delete(&model.PluginVersion{})
		if versions.Error != nil {
			return versions.Error
		}
		pluginID = p.ID
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginDelete, "plugin", slug, PluginSnapshot(&p),
			map[string]any{"secrets_erased": secrets.RowsAffected, "versions_erased": versions.RowsAffected})
	})
	if err != nil {
		if errors.Is(err, ErrStale) {
			return err
		}
		return translate(err, "delete plugin")
	}
	s.notify(TenantChange(tenantID))
	kv := s.db.WithContext(context.WithoutCancel(ctx)).Where("tenant_id = ? AND plugin_id = ?", tenantID, pluginID).Delete(&kvRow{})
	if kv.Error != nil {
		// The plugin is deleted; its keys stay until the next deletion
		// sweep (a migration, or an operator's query), which the log says.
		s.log.Error("erase a deleted plugin's key-value store", "tenant_id", tenantID, "plugin_id", pluginID, "err", kv.Error)
	} else if kv.RowsAffected > 0 {
		s.log.Info("deleted plugin's key-value store erased", "tenant_id", tenantID, "plugin_id", pluginID, "keys", kv.RowsAffected)
	}
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
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPluginReorder, "plugin", "", map[string]any{"order": before}, map[string]any{"order": slugs})
	})
	if err != nil {
		if errors.Is(err, ErrOrderMismatch) {
			return err
		}
		return translate(err, "reorder plugins")
	}
	s.notify(TenantChange(tenantID))
	return nil
}

// PublishedWasmPlugins returns every live, active wasm plugin with an
// active version, across tenants: what `serve` prepares before the first
// call.
func (s *Store) PublishedWasmPlugins(ctx context.Context) ([]model.Plugin, error) {
	var ps []model.Plugin
	err := s.db.WithContext(ctx).Where("type = ? AND active = ? AND active_version <> '' AND deleted_at IS NULL", model.PluginWasm, true).
		Order("tenant_id, position, slug").Find(&ps).Error
	return ps, translate(err, "published wasm plugins")
}
