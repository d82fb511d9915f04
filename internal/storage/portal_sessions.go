package storage

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portico-dev/portico/internal/model"
)

// Why an auth_url cannot be opened (OpenPortalSession); every other
// failure is model.ErrNotFound (no such link in the tenant) or a storage
// error.
var (
	ErrPortalLinkUsed    = errors.New("portal link already used")
	ErrPortalLinkExpired = errors.New("portal link expired")
)

// PortalSessionSnapshot is the audited view of a portal session (never its
// token hash).
func PortalSessionSnapshot(p *model.PortalSession) map[string]any {
	return map[string]any{"id": p.ID, "user_id": p.UserID, "api_key_id": p.APIKeyID, "forward": p.Forward,
		"return_url": p.ReturnURL, "locale": p.Locale, "expires_at": p.ExpiresAt}
}

// CreatePortalSession stores p (its ID, token hash and expiry already set)
// with its audit entry.
func (s *Store) CreatePortalSession(ctx context.Context, tenantID string, p *model.PortalSession, a model.Actor) error {
	p.TenantID, p.CreatedAt = tenantID, s.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(p).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditPortalSessionCreate, "portal_session", p.ID, nil, PortalSessionSnapshot(p))
	})
	return translate(err, "create portal session")
}

// PortalSession returns portal session id of tenantID and whether the
// login it started is live (exists, unexpired).
func (s *Store) PortalSession(ctx context.Context, tenantID, id string) (*model.PortalSession, bool, error) {
	var p model.PortalSession
	db := s.db.WithContext(ctx)
	if err := db.Where("tenant_id = ? AND id = ?", tenantID, id).Take(&p).Error; err != nil {
		return nil, false, translate(err, "portal session")
	}
	live := false
	if p.LoginSessionID != "" {
		var n int64
		if err := db.Model(&model.Session{}).Where("tenant_id = ? AND id = ? AND expires_at > ?", tenantID, p.LoginSessionID, s.Now()).
			Count(&n).Error; err != nil {
			return nil, false, translate(err, "portal session login")
		}
		live = n > 0
	}
	return &p, live, nil
}

// keyNotRevoked is the condition, on a portal_sessions row, that the API
// key that created it is not revoked: a revoked key's links and codes log
// no one in (endKeysPortalSessions ends the logins they already made).
const keyNotRevoked = "NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = portal_sessions.api_key_id AND k.revoked_at IS NOT NULL)"

// PortalSessionByToken returns the portal session of tenantID whose
// token hashes to tokenHash, whatever its state; one made by a revoked
// key is model.ErrNotFound, like an unknown token.
func (s *Store) PortalSessionByToken(ctx context.Context, tenantID, tokenHash string) (*model.PortalSession, error) {
	var p model.PortalSession
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND token_hash = ? AND "+keyNotRevoked, tenantID, tokenHash).Take(&p).Error
	return &p, translate(err, "portal session by token")
}

// OpenPortalSession redeems an auth_url once: in one transaction it marks
// the portal session opened (only if it was not, has not ended and has not
// expired), creates login (a session of the portal session's user, who must
// still be active) and records the open. A second open, a concurrent one
// that lost, or one after the end is ErrPortalLinkUsed; a late one
// ErrPortalLinkExpired; an unknown token, or one whose API key was
// revoked, model.ErrNotFound.
func (s *Store) OpenPortalSession(ctx context.Context, tenantID, tokenHash string, login *model.Session, ip string) (*model.PortalSession, *model.User, error) {
	var p model.PortalSession
	var u model.User
	now := s.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The claim and the read are one statement; only a refused claim
		// reads the row again to say why.
		res := tx.Model(&p).Clauses(clause.Returning{}).
			Where("tenant_id = ? AND token_hash = ? AND opened_at IS NULL AND logged_out_at IS NULL AND expires_at > ? AND "+keyNotRevoked, tenantID, tokenHash, now).
			Updates(map[string]any{"opened_at": now, "open_ip": ip, "login_session_id": login.ID, "embed": login.Embedded})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			var cur model.PortalSession // p holds what Updates assigned
			if err := tx.Where("tenant_id = ? AND token_hash = ? AND "+keyNotRevoked, tenantID, tokenHash).Take(&cur).Error; err != nil {
				return err
			}
			p = cur
			if p.OpenedAt == nil && p.LoggedOutAt == nil && !now.Before(p.ExpiresAt) {
				return ErrPortalLinkExpired
			}
			return ErrPortalLinkUsed
		}
		if err := startLogin(tx, tenantID, &p, login, &u); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, model.Actor{Type: "user", ID: u.ID, Label: u.Email, IP: ip},
			model.AuditPortalSessionOpen, "portal_session", p.ID, nil, map[string]any{"api_key_id": p.APIKeyID, "forward": p.Forward, "embed": p.Embed})
	})
	if errors.Is(err, ErrPortalLinkUsed) || errors.Is(err, ErrPortalLinkExpired) {
		return &p, nil, err
	}
	if err != nil {
		return nil, nil, translate(err, "open portal session")
	}
	return &p, &u, nil
}

// EndPortalSession ends portal session id: the login it started is deleted
// and it can no longer be opened. Ending an ended session changes nothing
// (false); a's audit entry records the first end.
func (s *Store) EndPortalSession(ctx context.Context, tenantID, id string, a model.Actor) (bool, error) {
	ended, user := false, ""
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p model.PortalSession
		if err := tx.Where("tenant_id = ? AND id = ?", tenantID, id).Take(&p).Error; err != nil {
			return err
		}
		// Every login it started: the open's, and any a one-time code made.
		if err := tx.Where("tenant_id = ? AND portal_session_id = ?", tenantID, id).Delete(&model.Session{}).Error; err != nil {
			return err
		}
		user = p.UserID
		if err := s.announce(tx, UserChange(tenantID, p.UserID)); err != nil {
			return err
		}
		if p.LoggedOutAt != nil {
			return nil
		}
		res := tx.Model(&model.PortalSession{}).Where("tenant_id = ? AND id = ? AND logged_out_at IS NULL", tenantID, id).
			Update("logged_out_at", s.Now())
		if res.Error != nil || res.RowsAffected != 1 {
			return res.Error
		}
		ended = true
		return s.appendAudit(tx, tenantID, a, model.AuditPortalSessionLogout, "portal_session", id, nil, nil)
	})
	if err == nil && user != "" {
		s.notify(UserChange(tenantID, user))
	}
	return ended, translate(err, "end portal session")
}

// PortalSessionUser reports whether a portal session may log u in: an
// active cliente or síndico who is not a gestor. A key that creates portal
// sessions must never obtain a manager's powers, so a gestor's account
// (even one that is also a síndico) cannot be entered this way.
func PortalSessionUser(u *model.User) bool {
	return u.Active && len(u.PortalRoles()) > 0 && !u.HasRole(model.RoleGestor)
}

// startLogin creates login, in tx, for the customer of portal session p
// (read into u): an active cliente or síndico who is not a gestor
// (PortalSessionUser), browsing as their first portal role, with the
// portal session's locale and return URL. Anyone else is
// gorm.ErrRecordNotFound.
func startLogin(tx *gorm.DB, tenantID string, p *model.PortalSession, login *model.Session, u *model.User) error {
	if err := tx.Where("tenant_id = ? AND id = ? AND active = ?", tenantID, p.UserID, true).Take(u).Error; err != nil {
		return err
	}
	if !PortalSessionUser(u) {
		return gorm.ErrRecordNotFound
	}
	login.TenantID, login.UserID, login.PortalSessionID = tenantID, u.ID, p.ID
	login.Locale, login.ReturnURL = p.Locale, p.ReturnURL
	login.Role = u.PortalRoles()[0]
	return tx.Create(login).Error
}

// CodeLoginAllowed reports whether a one-time code may log the customer
// of portal session p in at now: only when its link can no longer be
// opened (used or expired), and never once the portal session was ended
// (by the company's logout, or by the customer's "Sair"). A code is a way
// back in after the link's time, not around a logout.
func CodeLoginAllowed(p *model.PortalSession, now time.Time) bool {
	return p.LoggedOutAt == nil && (p.OpenedAt != nil || !now.Before(p.ExpiresAt))
}

// Portal login code bounds.
const (
	// MaxPortalCodesPerSession bounds the codes one portal session may
	// send: each is an e-mail to the customer.
	MaxPortalCodesPerSession = 3
	// MaxPortalCodeAttempts bounds the guesses at one code.
	MaxPortalCodeAttempts = 5
)

// ErrTooManyCodes is returned when a portal session has sent
// MaxPortalCodesPerSession codes already.
var ErrTooManyCodes = errors.New("too many login codes for this portal session")

type portalLoginCode struct {
	ID              string `gorm:"primaryKey"`
	TenantID        string
	PortalSessionID string
	CodeHash        string
	Attempts        int
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
}

func (portalLoginCode) TableName() string { return "portal_login_codes" }

// CreatePortalLoginCode stores a one-time code's hash for portal session
// psID, valid for ttl; every earlier code of the session stops working.
func (s *Store) CreatePortalLoginCode(ctx context.Context, tenantID, psID, codeHash string, ttl time.Duration) error {
	now := s.Now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.driver == "postgres" {
			// Concurrent requests for one portal session count its codes
			// one after another, so none passes the limit. (SQLite
			// transactions are already exclusive: _txlock=immediate.)
			var id string
			if err := tx.Model(&model.PortalSession{}).Clauses(clause.Locking{Strength: "UPDATE"}).
				Where("tenant_id = ? AND id = ?", tenantID, psID).Select("id").Take(&id).Error; err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Model(&portalLoginCode{}).Where("tenant_id = ? AND portal_session_id = ?", tenantID, psID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxPortalCodesPerSession {
			return ErrTooManyCodes
		}
		if err := tx.Model(&portalLoginCode{}).Where("tenant_id = ? AND portal_session_id = ? AND used_at IS NULL", tenantID, psID).
			Update("used_at", now).Error; err != nil {
			return err
		}
		return tx.Create(&portalLoginCode{ID: NewID(), TenantID: tenantID, PortalSessionID: psID, CodeHash: codeHash,
			CreatedAt: now, ExpiresAt: now.Add(ttl)}).Error
	})
	if errors.Is(err, ErrTooManyCodes) {
		return err
	}
	return translate(err, "create portal login code")
}

// ErrWrongCode is a code that does not match the session's live code; the
// attempt is counted.
var ErrWrongCode = errors.New("wrong or expired login code")

// LoginWithPortalCode checks codeHash against portal session psID's live
// code and, when it matches, uses the code up and creates login for the
// portal session's user (who must be active), recording it on the portal
// session and in the audit log, all in one transaction. A wrong code
// counts an attempt; after MaxPortalCodeAttempts, or after expiry, no code
// matches (ErrWrongCode).
func (s *Store) LoginWithPortalCode(ctx context.Context, tenantID, psID, codeHash string, login *model.Session, ip string) (*model.User, error) {
	var u model.User
	now := s.Now()
	wrong := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c portalLoginCode
		err := tx.Where("tenant_id = ? AND portal_session_id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?",
			tenantID, psID, now, MaxPortalCodeAttempts).Order("created_at DESC").Take(&c).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrWrongCode
		}
		if err != nil {
			return err
		}
		// The attempt is counted before the code is compared, by one
		// conditional UPDATE: concurrent attempts take the row's lock in
		// turn and each sees the count the one before left, so no more
		// than MaxPortalCodeAttempts are ever compared (a read of the
		// count followed by an increment let a burst of guesses through).
		res := tx.Model(&portalLoginCode{}).Where("id = ? AND used_at IS NULL AND attempts < ?", c.ID, MaxPortalCodeAttempts).
			Update("attempts", gorm.Expr("attempts + 1"))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrWrongCode
		}
		if subtle.ConstantTimeCompare([]byte(c.CodeHash), []byte(codeHash)) != 1 {
			wrong = true
			return nil // commits the counted attempt
		}
		res = tx.Model(&portalLoginCode{}).Where("id = ? AND used_at IS NULL", c.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrWrongCode
		}
		var p model.PortalSession
		if err := tx.Where("tenant_id = ? AND id = ?", tenantID, psID).Take(&p).Error; err != nil {
			return err
		}
		if !CodeLoginAllowed(&p, now) {
			return ErrWrongCode
		}
		if err := startLogin(tx, tenantID, &p, login, &u); err != nil {
			return err
		}
		// The link can no longer be opened, and a portal session the
		// company ended (or the customer left) stays ended.
		res = tx.Model(&model.PortalSession{}).Where("tenant_id = ? AND id = ? AND logged_out_at IS NULL AND "+keyNotRevoked, tenantID, psID).
			Updates(map[string]any{"login_session_id": login.ID, "opened_at": gorm.Expr("COALESCE(opened_at, ?)", now)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrWrongCode
		}
		return s.appendAudit(tx, tenantID, model.Actor{Type: "user", ID: u.ID, Label: u.Email, IP: ip},
			model.AuditPortalSessionCodeLogin, "portal_session", psID, nil, nil)
	})
	if wrong && err == nil {
		return nil, ErrWrongCode
	}
	if errors.Is(err, ErrWrongCode) {
		return nil, err
	}
	if err != nil {
		return nil, translate(err, "login with portal code")
	}
	return &u, nil
}

// MarkPortalSessionLoggedOut records that the customer ended the login of
// portal session id themselves ("Sair").
func (s *Store) MarkPortalSessionLoggedOut(ctx context.Context, tenantID, id string) error {
	err := s.db.WithContext(ctx).Model(&model.PortalSession{}).Where("tenant_id = ? AND id = ? AND logged_out_at IS NULL", tenantID, id).
		Update("logged_out_at", s.Now()).Error
	if err != nil {
		return fmt.Errorf("mark portal session logged out: %w", err)
	}
	return nil
}
