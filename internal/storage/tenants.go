package storage

import (
	"context"
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
// transaction. A hostname already owned by any tenant is a model.ErrConflict.
func (s *Store) CreateTenant(ctx context.Context, t *model.Tenant) error {
	return s.CreateTenantWith(ctx, t, nil, nil)
}

// CreateTenantWith inserts a tenant with its hostnames, users and plugins in
// one transaction: either all of it exists afterwards or none of it. The
// caller has validated every record.
func (s *Store) CreateTenantWith(ctx context.Context, t *model.Tenant, users []*model.User, plugins []*model.Plugin) error {
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
		for _, u := range users {
			if u.ID == "" {
				u.ID = NewID()
			}
			u.TenantID, u.Version = t.ID, 1
			if err := tx.Create(u).Error; err != nil {
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
		}
		return nil
	})
	if err != nil {
		return translate(err, "create tenant")
	}
	s.notify(t.ID)
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
