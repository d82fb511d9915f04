package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

type tenantHost struct {
	Hostname  string `gorm:"primaryKey"`
	TenantID  string
	CreatedAt time.Time
}

func (tenantHost) TableName() string { return "tenant_hosts" }

// NewID returns a new time-ordered random identifier (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// CreateTenant inserts a validated tenant and its hostnames in one
// transaction, audited as a's. A hostname already owned by any tenant is a
// model.ErrConflict.
func (s *Store) CreateTenant(ctx context.Context, t *model.Tenant, a model.Actor) error {
	return s.CreateTenantWith(ctx, t, nil, nil, a)
}

// CreateTenantWith inserts a tenant with its hostnames, users and plugins in
// one transaction: either all of it exists afterwards or none of it. Each
// record gets its create audit entry (tenant.create, user.create,
// plugin.create, with the snapshots the admin writes) as a's, so a tenant
// seeded by the demo or a command has the same history as one built in the
// admin. The caller has validated every record.
func (s *Store) CreateTenantWith(ctx context.Context, t *model.Tenant, users []*model.User, plugins []*model.Plugin, a model.Actor) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	t.Version = 1
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		for _, h := range t.Hostnames {
			if err := tx.Create(&tenantHost{Hostname: h, TenantID: t.ID}).Error; err != nil {
				return err
			}
		}
		if err := s.appendAudit(tx, t.ID, a, model.AuditTenantCreate, "tenant", t.ID, nil, TenantSnapshot(t)); err != nil {
			return err
		}
		for _, u := range users {
			if u.ID == "" {
				u.ID = NewID()
			}
			u.TenantID, u.Version = t.ID, 1
			if err := tx.Create(u).Error; err != nil {
				return err
			}
			if err := s.appendAudit(tx, t.ID, a, model.AuditUserCreate, "user", u.ID, nil, UserSnapshot(u)); err != nil {
				return err
			}
		}
		for _, p := range plugins {
			if p.ID == "" {
				p.ID = NewID()
			}
			p.TenantID, p.Version = t.ID, 1
			if err := tx.Create(p).Error; err != nil {
				return err
			}
			if err := s.appendAudit(tx, t.ID, a, model.AuditPluginCreate, "plugin", p.Slug, nil, PluginSnapshot(p)); err != nil {
				return err
			}
		}
		return s.announce(tx, TenantChange(t.ID))
	})
	if err != nil {
		return translate(err, "create tenant")
	}
	s.notify(TenantChange(t.ID))
	return nil
}

// TenantByHost returns the tenant that answers on hostname (already
// normalised by model.NormalizeHost).
func (s *Store) TenantByHost(ctx context.Context, hostname string) (*model.Tenant, error) {
	var h tenantHost
	if err := s.db.WithContext(ctx).Where("hostname = ?", hostname).Take(&h).Error; err != nil {
		return nil, translate(err, "tenant by host")
	}
	return s.TenantByID(ctx, h.TenantID)
}

// TenantByID returns a tenant with its hostnames.
func (s *Store) TenantByID(ctx context.Context, id string) (*model.Tenant, error) {
	return s.tenantWhere(ctx, "id = ?", id)
}

// TenantBySlug returns a tenant with its hostnames.
func (s *Store) TenantBySlug(ctx context.Context, slug string) (*model.Tenant, error) {
	return s.tenantWhere(ctx, "slug = ?", slug)
}

func (s *Store) tenantWhere(ctx context.Context, cond string, arg string) (*model.Tenant, error) {
	var t model.Tenant
	db := s.db.WithContext(ctx)
	if err := db.Where(cond, arg).Take(&t).Error; err != nil {
		return nil, translate(err, "load tenant")
	}
	var hosts []tenantHost
	if err := db.Where("tenant_id = ?", t.ID).Order("hostname").Find(&hosts).Error; err != nil {
		return nil, translate(err, "load tenant hosts")
	}
	for _, h := range hosts {
		t.Hostnames = append(t.Hostnames, h.Hostname)
	}
	return &t, nil
}

// CountTenants returns how many tenants exist; the demo seed only runs on 0.
func (s *Store) CountTenants(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&model.Tenant{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count tenants: %w", err)
	}
	return n, nil
}

// TenantSnapshot is the audited view of tenant settings.
func TenantSnapshot(t *model.Tenant) map[string]any {
	return map[string]any{"name": t.Name, "brand_name": t.BrandName, "logo_url": t.LogoURL, "primary_color": t.PrimaryColor,
		"default_locale": t.DefaultLocale, "allowed_origins": t.AllowedOrigins, "portal_session_minutes": t.PortalSessionMinutes,
		"portal_link_minutes": t.PortalLinkMinutes, "portal_link_email_login": t.PortalLinkEmailLogin, "default_return_url": t.DefaultReturnURL,
		"time_zone": t.TimeZone, "version": t.Version}
}

// UpdateTenant applies mutate to the tenant's settings if its version is
// still expectedVersion. Hostnames are not changed here.
func (s *Store) UpdateTenant(ctx context.Context, tenantID string, expectedVersion int64, a model.Actor, mutate func(*model.Tenant) error) (*model.Tenant, error) {
	var t model.Tenant
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", tenantID).Take(&t).Error; err != nil {
			return err
		}
		if t.Version != expectedVersion {
			return ErrStale
		}
		before := TenantSnapshot(&t)
		if err := mutate(&t); err != nil {
			return err
		}
		t.Version, t.UpdatedAt = expectedVersion+1, s.Now()
		res := tx.Model(&model.Tenant{}).Where("id = ? AND version = ?", tenantID, expectedVersion).
			Select("name", "brand_name", "logo_url", "primary_color", "default_locale", "allowed_origins", "portal_session_minutes",
				"portal_link_minutes", "portal_link_email_login", "default_return_url", "time_zone", "version", "updated_at").Updates(&t)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		if err := s.announce(tx, TenantChange(tenantID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditTenantUpdate, "tenant", tenantID, before, TenantSnapshot(&t))
	})
	if err != nil {
		if _, ok := model.AsValidation(err); ok || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, translate(err, "update tenant")
	}
	s.notify(TenantChange(tenantID))
	return &t, nil
}
