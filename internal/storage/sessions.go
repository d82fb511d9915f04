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

// sessionUserRow is one joined row of a session and its user.
type sessionUserRow struct {
	Session model.Session `gorm:"embedded;embeddedPrefix:s_"`
	User    model.User    `gorm:"embedded;embeddedPrefix:u_"`
}

// sessionUserQuery reads a session and its active user in one round trip;
// it runs on every authenticated request.
const sessionUserQuery = `SELECT
 s.id AS s_id, s.tenant_id AS s_tenant_id, s.user_id AS s_user_id, s.csrf_token AS s_csrf_token, s.role AS s_role,
 s.portal_session_id AS s_portal_session_id, s.locale AS s_locale, s.return_url AS s_return_url, s.embedded AS s_embedded,
 s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at,
 u.id AS u_id, u.tenant_id AS u_tenant_id, u.email AS u_email, u.name AS u_name, u.document AS u_document,
 u.phone AS u_phone, u.roles AS u_roles, u.locale AS u_locale, u.password_hash AS u_password_hash,
 u.address_cep AS u_address_cep, u.address_street AS u_address_street, u.address_number AS u_address_number,
 u.address_complement AS u_address_complement, u.address_district AS u_address_district, u.address_city AS u_address_city,
 u.address_state AS u_address_state, u.active AS u_active, u.version AS u_version, u.created_at AS u_created_at, u.updated_at AS u_updated_at
FROM sessions s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
WHERE s.tenant_id = ? AND s.id = ? AND u.active = ?`

// SessionUser returns the live session with ID id in tenantID and its user.
// An expired session, or one whose user is inactive, is model.ErrNotFound;
// expiry is checked here, at read time, so an expired row is dead even
// before the sweeper deletes it.
//
// Both rows come from the store's cache while it is Coherent: a logout, a
// deactivation or any change of the user or session drops them (Change),
// and a cached session that looks expired is read again, since another
// node may have extended it. Otherwise, on PostgreSQL it is one joined
// query (a network round trip saved per request); on SQLite, which has no
// round trip, two primary-key reads are faster than GORM's scan of the
// joined row (docs/benchmarks.md).
func (s *Store) SessionUser(ctx context.Context, tenantID, id string) (*model.Session, *model.User, error) {
	if !s.Coherent() {
		return s.sessionUserRead(ctx, tenantID, id)
	}
	now := s.Now()
	sk := cacheKey(tenantID, id)
	if sess, ok := s.cache.sessions.get(sk, now); ok && now.Before(sess.ExpiresAt) {
		if u, ok := s.cache.users.get(cacheKey(tenantID, sess.UserID), now); ok && u.Active {
			return &sess, cloneUser(u), nil
		}
	}
	// Concurrent misses of one session share one read: when an entry
	// expires, every request in flight for that login misses at once, and
	// each would otherwise take a database connection for the same row.
	// The flight is named by both caches' epochs as well as the session,
	// so a request that arrives after an invalidation (a logout, a
	// deactivation) starts a read of its own instead of joining one that
	// began before the change.
	se, ue := s.cache.sessions.begin(), s.cache.users.begin()
	flight := s.cache.sessionReads.DoChan(fmt.Sprintf("%s\x00%d\x00%d", sk, se, ue), func() (any, error) {
		// Not the first caller's context: its client going away must not
		// fail the others waiting on this read; SharedReadTimeout bounds
		// it instead. Each caller still stops waiting at its own deadline.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SharedReadTimeout)
		defer cancel()
		sess, u, err := s.sessionUserRead(rctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		s.cache.sessions.put(sk, *sess, se, now)
		s.cache.users.put(cacheKey(tenantID, u.ID), *cloneUser(*u), ue, now)
		return sessionUserRow{Session: *sess, User: *u}, nil
	})
	select {
	case r := <-flight:
		if r.Err != nil {
			return nil, nil, r.Err
		}
		row := r.Val.(sessionUserRow)
		return &row.Session, cloneUser(row.User), nil
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("load session: %w", ctx.Err())
	}
}

// SharedReadTimeout bounds a read that several requests wait on (a
// singleflight's): it runs without the first caller's cancellation, so
// that one client going away does not fail the others, but not forever.
const SharedReadTimeout = 10 * time.Second

func (s *Store) sessionUserRead(ctx context.Context, tenantID, id string) (*model.Session, *model.User, error) {
	if s.driver != "postgres" {
		return s.sessionUserTwoReads(ctx, tenantID, id)
	}
	var rows []sessionUserRow
	if err := s.db.WithContext(ctx).Raw(sessionUserQuery, tenantID, id, true).Scan(&rows).Error; err != nil {
		return nil, nil, translate(err, "load session")
	}
	if len(rows) != 1 {
		return nil, nil, fmt.Errorf("load session: %w", model.ErrNotFound)
	}
	sess, u := rows[0].Session, rows[0].User
	if !s.Now().Before(sess.ExpiresAt) {
		return nil, nil, fmt.Errorf("load session: expired: %w", model.ErrNotFound)
	}
	return &sess, &u, nil
}

func (s *Store) sessionUserTwoReads(ctx context.Context, tenantID, id string) (*model.Session, *model.User, error) {
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
// absolute limit. Concurrent touches of one session in this process are
// one write (touchOnce), and the cached copy is moved forward rather than
// dropped, so the requests that follow neither read the row again nor
// touch it again.
func (s *Store) TouchSession(ctx context.Context, tenantID, id string, lastSeen, expires time.Time) error {
	sk := cacheKey(tenantID, id)
	lastSeen, expires = lastSeen.UTC(), expires.UTC()
	return s.cache.touchOnce("session\x00"+sk, func() error {
		err := s.db.WithContext(ctx).Model(&model.Session{}).
			Where("tenant_id = ? AND id = ?", tenantID, id).
			Updates(map[string]any{"last_seen_at": lastSeen, "expires_at": expires}).Error
		if err != nil {
			s.cache.sessions.forget(sk)
			return translate(err, "touch session")
		}
		// Not announced: another node's older copy can only look expired
		// sooner, and SessionUser reads a session that looks expired again.
		s.cache.sessions.update(sk, func(sess *model.Session) {
			if sess.LastSeenAt.Before(lastSeen) {
				sess.LastSeenAt, sess.ExpiresAt = lastSeen, expires
			}
		})
		return nil
	})
}

// SetSessionRole records the portal role a session browses as.
func (s *Store) SetSessionRole(ctx context.Context, tenantID, id string, role model.Role) error {
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&model.Session{}).Where("tenant_id = ? AND id = ?", tenantID, id).Update("role", role).Error
	}, SessionChange(tenantID, id))
	return translate(err, "set session role")
}

// SetSessionLocale sets the language a session overrides the user's with
// ("" for none).
func (s *Store) SetSessionLocale(ctx context.Context, tenantID, id, locale string) error {
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&model.Session{}).Where("tenant_id = ? AND id = ?", tenantID, id).Update("locale", locale).Error
	}, SessionChange(tenantID, id))
	return translate(err, "set session locale")
}

// DeleteSession ends one session, on every node. Deleting a session that
// is already gone is not an error: logout is idempotent.
func (s *Store) DeleteSession(ctx context.Context, tenantID, id string) error {
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		return tx.Where("tenant_id = ? AND id = ?", tenantID, id).Delete(&model.Session{}).Error
	}, SessionChange(tenantID, id))
	return translate(err, "delete session")
}

// DeleteUserSessions ends every session of a user, on every node, e.g. on
// deactivation.
func (s *Store) DeleteUserSessions(ctx context.Context, tenantID, userID string) error {
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		return tx.Where("tenant_id = ? AND user_id = ?", tenantID, userID).Delete(&model.Session{}).Error
	}, UserChange(tenantID, userID))
	return translate(err, "delete user sessions")
}

// DeleteExpiredSessions removes sessions that expired before now and
// returns how many it removed. Action results past their time go too (a
// session's results go with the session).
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	now := s.Now()
	if err := s.db.WithContext(ctx).Where("expires_at < ?", now).Delete(&model.ActionResult{}).Error; err != nil {
		return 0, translate(err, "delete expired action results")
	}
	res := s.db.WithContext(ctx).Where("expires_at < ?", now).Delete(&model.Session{})
	if res.Error != nil {
		return 0, translate(res.Error, "delete expired sessions")
	}
	return res.RowsAffected, nil
}
