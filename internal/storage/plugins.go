package storage

import (
	"context"

	"github.com/portico-dev/portico/internal/model"
)

// CreatePlugin inserts a plugin registration into tenantID. The caller has
// run p.Validate; a duplicate slug inside the tenant (including a
// soft-deleted one) is a model.ErrConflict.
func (s *Store) CreatePlugin(ctx context.Context, tenantID string, p *model.Plugin) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	p.TenantID = tenantID
	p.Version = 1
	if err := s.db.WithContext(ctx).Create(p).Error; err != nil {
		return translate(err, "create plugin")
	}
	s.notify(tenantID)
	return nil
}

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
