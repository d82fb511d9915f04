package storage

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

// UserSnapshot is the audited view of a user (never the password hash).
func UserSnapshot(u *model.User) map[string]any {
	return map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "document": u.Document, "phone": u.Phone,
		"roles": u.Roles, "locale": u.Locale, "active": u.Active, "version": u.Version}
}

// MaxUserPage bounds one user listing.
const MaxUserPage = 100

// Users lists tenantID's users whose name, e-mail or document contains
// query (case-insensitive), ordered by name.
func (s *Store) Users(ctx context.Context, tenantID, query string, limit, offset int) ([]model.User, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	if query = strings.ToLower(strings.TrimSpace(query)); query != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(query) + "%"
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR document LIKE ? ESCAPE '\')`, like, like, like)
	}
	if limit <= 0 || limit > MaxUserPage {
		limit = MaxUserPage
	}
	var out []model.User
	err := q.Order("name, id").Limit(limit).Offset(max(offset, 0)).Find(&out).Error
	return out, translate(err, "list users")
}

// CreateUserAudited inserts a validated user and its audit entry.
func (s *Store) CreateUserAudited(ctx context.Context, tenantID string, u *model.User, a model.Actor) error {
	if u.ID == "" {
		u.ID = NewID()
	}
	u.TenantID, u.Version = tenantID, 1
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, "user.create", "user", u.ID, nil, UserSnapshot(u))
	})
	return translate(err, "create user")
}

// UpdateUser applies mutate to user id of tenantID if its version is still
// expectedVersion. A user who ends up inactive loses every session in the
// same transaction.
func (s *Store) UpdateUser(ctx context.Context, tenantID, id string, expectedVersion int64, a model.Actor, mutate func(*model.User) error) (*model.User, error) {
	var u model.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("tenant_id = ? AND id = ?", tenantID, id).Take(&u).Error; err != nil {
			return err
		}
		if u.Version != expectedVersion {
			return ErrStale
		}
		before := UserSnapshot(&u)
		if err := mutate(&u); err != nil {
			return err
		}
		u.Version, u.UpdatedAt = expectedVersion+1, s.Now()
		res := tx.Model(&model.User{}).Where("tenant_id = ? AND id = ? AND version = ?", tenantID, id, expectedVersion).
			Select("email", "name", "document", "phone", "roles", "locale", "active", "version", "updated_at").Updates(&u)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		if !u.Active {
			if err := tx.Where("tenant_id = ? AND user_id = ?", tenantID, id).Delete(&model.Session{}).Error; err != nil {
				return err
			}
		}
		return s.appendAudit(tx, tenantID, a, "user.update", "user", id, before, UserSnapshot(&u))
	})
	if err != nil {
		if _, ok := model.AsValidation(err); ok || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, translate(err, "update user")
	}
	return &u, nil
}

type passwordReset struct {
	TokenHash string `gorm:"primaryKey"`
	TenantID  string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (passwordReset) TableName() string { return "password_resets" }

// invalidatePasswordResets marks every unused reset link of a user used, in
// the caller's transaction: only the newest link a gestor issued may work,
// and none issued before a password change.
func invalidatePasswordResets(tx *gorm.DB, tenantID, userID string, now time.Time) error {
	return tx.Model(&passwordReset{}).Where("tenant_id = ? AND user_id = ? AND used_at IS NULL", tenantID, userID).
		Update("used_at", now).Error
}

// CreatePasswordReset stores a one-time reset link's token hash. Every
// earlier link of the user stops working in the same transaction.
func (s *Store) CreatePasswordReset(ctx context.Context, tenantID, userID, tokenHash string, ttl time.Duration, a model.Actor) error {
	now := s.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u model.User
		if err := tx.Where("tenant_id = ? AND id = ?", tenantID, userID).Take(&u).Error; err != nil {
			return err
		}
		if err := invalidatePasswordResets(tx, tenantID, userID, now); err != nil {
			return err
		}
		if err := tx.Create(&passwordReset{TokenHash: tokenHash, TenantID: tenantID, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl)}).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, "user.password_reset_link", "user", userID, nil, map[string]any{"expires_at": now.Add(ttl)})
	})
	return translate(err, "create password reset")
}

// ConsumePasswordReset sets a new password hash through a reset token, once:
// a used or expired token is model.ErrNotFound. Every session of the user
// ends, and every other reset link of the user stops working. (It is the
// only way a stored password changes.)
func (s *Store) ConsumePasswordReset(ctx context.Context, tenantID, tokenHash, newHash string) (*model.User, error) {
	var u model.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r passwordReset
		if err := tx.Where("tenant_id = ? AND token_hash = ? AND used_at IS NULL", tenantID, tokenHash).Take(&r).Error; err != nil {
			return err
		}
		now := s.Now()
		if !now.Before(r.ExpiresAt) {
			return gorm.ErrRecordNotFound
		}
		res := tx.Model(&passwordReset{}).Where("token_hash = ? AND used_at IS NULL", tokenHash).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return gorm.ErrRecordNotFound
		}
		if err := tx.Where("tenant_id = ? AND id = ? AND active = ?", tenantID, r.UserID, true).Take(&u).Error; err != nil {
			return err
		}
		if err := tx.Model(&model.User{}).Where("tenant_id = ? AND id = ?", tenantID, u.ID).
			Updates(map[string]any{"password_hash": newHash, "version": u.Version + 1, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("tenant_id = ? AND user_id = ?", tenantID, u.ID).Delete(&model.Session{}).Error; err != nil {
			return err
		}
		if err := invalidatePasswordResets(tx, tenantID, u.ID, now); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, model.Actor{Type: "user", ID: u.ID, Label: u.Email}, "user.password_reset", "user", u.ID, nil, nil)
	})
	if err != nil {
		return nil, translate(err, "consume password reset")
	}
	return &u, nil
}

// TenantSnapshot is the audited view of tenant settings.
func TenantSnapshot(t *model.Tenant) map[string]any {
	return map[string]any{"name": t.Name, "brand_name": t.BrandName, "logo_url": t.LogoURL, "primary_color": t.PrimaryColor,
		"default_locale": t.DefaultLocale, "allowed_origins": t.AllowedOrigins, "portal_session_minutes": t.PortalSessionMinutes, "version": t.Version}
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
			Select("name", "brand_name", "logo_url", "primary_color", "default_locale", "allowed_origins", "portal_session_minutes", "version", "updated_at").Updates(&t)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		return s.appendAudit(tx, tenantID, a, "tenant.update", "tenant", tenantID, before, TenantSnapshot(&t))
	})
	if err != nil {
		if _, ok := model.AsValidation(err); ok || errors.Is(err, ErrStale) {
			return nil, err
		}
		return nil, translate(err, "update tenant")
	}
	s.notify(tenantID)
	return &t, nil
}
