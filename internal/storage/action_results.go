package storage

import (
	"context"
	"crypto/rand"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

// SaveActionResult stores r, setting its ID (128 random bits), CreatedAt
// and ExpiresAt (model.ActionResultTTL), and deletes the session's oldest
// results beyond model.ActionResultsPerSession in the same transaction.
func (s *Store) SaveActionResult(ctx context.Context, r *model.ActionResult) error {
	now := s.Now()
	r.ID, r.CreatedAt, r.ExpiresAt = rand.Text(), now, now.Add(model.ActionResultTTL)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		newest := tx.Model(&model.ActionResult{}).Select("id").Where("session_id = ?", r.SessionID).
			Order("created_at DESC, id DESC").Limit(model.ActionResultsPerSession)
		return tx.Where("session_id = ? AND id NOT IN (?)", r.SessionID, newest).Delete(&model.ActionResult{}).Error
	})
	return translate(err, "save action result")
}

// ActionResult returns the result id of the session sessionID of the
// tenant; a result of another session or tenant, or one past its time, is
// model.ErrNotFound.
func (s *Store) ActionResult(ctx context.Context, tenantID, sessionID, id string) (*model.ActionResult, error) {
	var r model.ActionResult
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND session_id = ? AND id = ? AND expires_at > ?", tenantID, sessionID, id, s.Now()).
		Take(&r).Error
	if err != nil {
		return nil, translate(err, "load action result")
	}
	return &r, nil
}
