package storage

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

type passwordReset struct {
	TokenHash string `gorm:"primaryKey"`
	TenantID  string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	// CreatedBy is the user who made the link for someone else (a
	// gestor); nil for a link people asked for themselves or that an API
	// key made. voidResetLinksBy ends such links.
	CreatedBy *string
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
		r := passwordReset{TokenHash: tokenHash, TenantID: tenantID, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if a.Type == "user" && a.ID != "" && a.ID != userID {
			r.CreatedBy = &a.ID
		}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditUserPasswordResetLink, "user", userID, nil, map[string]any{"expires_at": now.Add(ttl)})
	})
	return translate(err, "create password reset")
}

// PasswordResetUsable reports whether tokenHash names an unused, unexpired
// reset link of tenantID. It decides nothing (ConsumePasswordReset checks
// again, atomically): it lets a wrong link be refused before the new
// password is hashed.
func (s *Store) PasswordResetUsable(ctx context.Context, tenantID, tokenHash string) (bool, error) {
	email, err := s.PasswordResetEmail(ctx, tenantID, tokenHash)
	return email != "", err
}

// PasswordResetEmail returns the e-mail of the account an unused,
// unexpired reset link of tenantID is for, or "" when tokenHash names
// none: the reset page names the account to password managers (a hidden
// username field), so that the new password is saved for it. Whoever
// holds the link can set that account's password; the address is less.
func (s *Store) PasswordResetEmail(ctx context.Context, tenantID, tokenHash string) (string, error) {
	var emails []string
	err := s.db.WithContext(ctx).Model(&passwordReset{}).Joins("JOIN users u ON u.id = password_resets.user_id AND u.tenant_id = password_resets.tenant_id").
		Where("password_resets.tenant_id = ? AND password_resets.token_hash = ? AND password_resets.used_at IS NULL AND password_resets.expires_at > ?",
			tenantID, tokenHash, s.Now()).
		Limit(1).Pluck("u.email", &emails).Error
	if err != nil || len(emails) == 0 {
		return "", translate(err, "look up password reset")
	}
	return emails[0], nil
}

// ConsumePasswordReset sets a new password hash through a reset token, once:
// a used or expired token is model.ErrNotFound. Every session of the user
// ends, and every other reset link of the user stops working. (With
// ChangeOwnPassword, it is the only way a stored password changes.)
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
		res := tx.Model(&passwordReset{}).Where("tenant_id = ? AND token_hash = ? AND used_at IS NULL", tenantID, tokenHash).Update("used_at", now)
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
		if err := s.announce(tx, UserChange(tenantID, u.ID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, model.Actor{Type: "user", ID: u.ID, Label: u.Email}, model.AuditUserPasswordReset, "user", u.ID, nil, nil)
	})
	if err != nil {
		return nil, translate(err, "consume password reset")
	}
	s.notify(UserChange(tenantID, u.ID))
	return &u, nil
}

// ChangeOwnPassword replaces oldHash, the password hash of an active user
// who proved the password it holds (the caller checks it), with newHash.
// Every other session of the user ends (keepSessionID, the one that made
// the change, stays), and every reset link of the user stops working. A
// user whose hash is no longer oldHash (a reset link used meanwhile) or
// who is no longer active is ErrStale: nothing is changed.
func (s *Store) ChangeOwnPassword(ctx context.Context, tenantID, userID, keepSessionID, oldHash, newHash string, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.Now()
		res := tx.Model(&model.User{}).Where("tenant_id = ? AND id = ? AND active = ? AND password_hash = ?", tenantID, userID, true, oldHash).
			Updates(map[string]any{"password_hash": newHash, "version": gorm.Expr("version + 1"), "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrStale
		}
		if err := tx.Where("tenant_id = ? AND user_id = ? AND id <> ?", tenantID, userID, keepSessionID).Delete(&model.Session{}).Error; err != nil {
			return err
		}
		if err := invalidatePasswordResets(tx, tenantID, userID, now); err != nil {
			return err
		}
		if err := s.announce(tx, UserChange(tenantID, userID)); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditUserPasswordChange, "user", userID, nil, nil)
	})
	if err != nil {
		return translate(err, "change own password")
	}
	s.notify(UserChange(tenantID, userID))
	return nil
}

// voidResetLinksBy ends the unused reset links userID made for other
// people: it is called when userID is deactivated or stops being a
// gestor, so that a link made before leaving cannot take over someone's
// account afterwards.
func voidResetLinksBy(tx *gorm.DB, tenantID, userID string, now time.Time) error {
	return tx.Model(&passwordReset{}).Where("tenant_id = ? AND created_by = ? AND used_at IS NULL", tenantID, userID).
		Update("used_at", now).Error
}
