package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

// ErrStale is returned by versioned updates whose expected version is not
// the stored one: someone else changed the record first.
var ErrStale = fmt.Errorf("record changed by someone else: %w", model.ErrConflict)

// appendAudit writes one audit entry inside tx. before and after are
// snapshots the caller has already redacted; nil is stored as "".
func (s *Store) appendAudit(tx *gorm.DB, tenantID string, a model.Actor, action, targetType, targetID string, before, after any) error {
	enc := func(v any) (string, error) {
		if v == nil {
			return "", nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("encode audit snapshot: %w", err)
		}
		return string(b), nil
	}
	b, err := enc(before)
	if err != nil {
		return err
	}
	af, err := enc(after)
	if err != nil {
		return err
	}
	e := &model.AuditEntry{
		ID: NewID(), TenantID: tenantID, At: s.Now(),
		ActorType: a.Type, ActorID: a.ID, ActorLabel: a.Label, IP: a.IP,
		Action: action, TargetType: targetType, TargetID: targetID, BeforeJSON: b, AfterJSON: af,
	}
	if err := tx.Create(e).Error; err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// Audit appends an entry outside any other change (e.g. a login-related or
// CLI action).
func (s *Store) Audit(ctx context.Context, tenantID string, a model.Actor, action, targetType, targetID string, before, after any) error {
	return s.appendAudit(s.db.WithContext(ctx), tenantID, a, action, targetType, targetID, before, after)
}

// MaxAuditPage bounds one audit listing.
const MaxAuditPage = 200

// AuditLog lists tenantID's entries, newest first. Entries are never
// updated or deleted: the store has no method for it and the database
// refuses it with a trigger.
func (s *Store) AuditLog(ctx context.Context, tenantID string, f model.AuditFilter) ([]model.AuditEntry, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until.UTC())
	}
	if f.Before != "" {
		// IDs are UUIDv7: ordering by ID is ordering by creation time.
		q = q.Where("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxAuditPage {
		limit = MaxAuditPage
	}
	var out []model.AuditEntry
	if err := q.Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, translate(err, "list audit log")
	}
	return out, nil
}

// CountAudit returns how many audit entries tenantID has.
func (s *Store) CountAudit(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&model.AuditEntry{}).Where("tenant_id = ?", tenantID).Count(&n).Error
	return n, translate(err, "count audit log")
}
