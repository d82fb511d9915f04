package storage

import (
	"context"

	"github.com/portico-dev/portico/internal/model"
)

// APIKeyByID returns one key of tenantID, revoked or not; a key of another
// tenant is model.ErrNotFound.
func (s *Store) APIKeyByID(ctx context.Context, tenantID, id string) (*model.APIKey, error) {
	var k model.APIKey
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&k).Error; err != nil {
		return nil, translate(err, "api key by id")
	}
	return &k, nil
}

// CountAudit returns how many audit entries tenantID has.
func (s *Store) CountAudit(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&model.AuditEntry{}).Where("tenant_id = ?", tenantID).Count(&n).Error
	return n, translate(err, "count audit log")
}
