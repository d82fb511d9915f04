package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

var gormNotFound = gorm.ErrRecordNotFound

// CreateSession stores a new login session.
func (s *Store) CreateSession(ctx context.Context, tenantID string, sess *model.Session) error {
	sess.TenantID = tenantID
	return translate(s.db.WithContext(ctx).Create(sess).Error, "create session")
}

// SessionUser returns the live session with ID id in tenantID and its user.
// An expired session, or one whose user is inactive, is model.ErrNotFound;
// expiry is checked here, at read time, so an expired row is dead even
// before the sweeper deletes it.
func (s *Store) SessionUser(ctx context.Context, tenantID, id string) (*model.Session, *model.User, error) {
	var sess model.Session
	db := s.db.WithContext(ctx)
	if err := db.Where("tenant_id = ? AND id = ?", tenantID, id).Take(&sess).Error; err != nil {
		return nil, nil, translate(err, "load session")
	}
	if !s.Now().Before(sess.ExpiresAt) {
		return nil, nil, fmt.Errorf("load session: expired: %w", model.ErrNotFound)
	}
	var u model.User
	if err := db.Where("tenant_id = ? AND id = ? AND active = ?", tenantID, sess.UserID, true).Take(&u).Error; err != nil {
		return nil, nil, translate(err, "load session user")
	}
	return &sess, &u, nil
}

// TouchSession slides a session's idle expiry forward, never beyond its
// absolute limit.
func (s *Store) TouchSession(ctx context.Context, tenantID, id string, lastSeen, expires time.Time) error {
	err := s.db.WithContext(ctx).Model(&model.Session{}).
		Where("tenant_id = ? AND id = ?", tenantID, id).
		Updates(map[string]any{"last_seen_at": lastSeen.UTC(), "expires_at": expires.UTC()}).Error
	return translate(err, "touch session")
}

// SetSessionRole records the portal role a session browses as.
func (s *Store) SetSessionRole(ctx context.Context, tenantID, id string, role model.Role) error {
	err := s.db.WithContext(ctx).Model(&model.Session{}).
		Where("tenant_id = ? AND id = ?", tenantID, id).
		Update("role", role).Error
	return translate(err, "set session role")
}

// DeleteSession ends one session. Deleting a session that is already gone
// is not an error: logout is idempotent.
func (s *Store) DeleteSession(ctx context.Context, tenantID, id string) error {
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Delete(&model.Session{}).Error
	return translate(err, "delete session")
}

// DeleteUserSessions ends every session of a user, e.g. on deactivation.
func (s *Store) DeleteUserSessions(ctx context.Context, tenantID, userID string) error {
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Delete(&model.Session{}).Error
	return translate(err, "delete user sessions")
}

// DeleteExpiredSessions removes sessions that expired before now and
// returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", s.Now()).Delete(&model.Session{})
	if res.Error != nil {
		return 0, translate(res.Error, "delete expired sessions")
	}
	return res.RowsAffected, nil
}
