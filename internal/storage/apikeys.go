package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
)

// APIKeySnapshot is the audited view of a key (never its hash).
func APIKeySnapshot(k *model.APIKey) map[string]any {
	return map[string]any{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "scopes": k.Scopes, "revoked": k.RevokedAt != nil}
}

// CreateAPIKey stores a key whose Hash and Prefix the caller computed. A
// key a gestor creates is theirs (CreatedByUserID); a key created with
// another key belongs to whoever that key belongs to, so that a person
// who leaves cannot keep the company's API open by minting a key with
// their own first.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID string, k *model.APIKey, a model.Actor) error {
	k.ID, k.TenantID, k.CreatedAt, k.CreatedBy = NewID(), tenantID, s.Now(), a.Label
	k.CreatedByUserID = nil
	if a.Type == "user" && a.ID != "" {
		id := a.ID
		k.CreatedByUserID = &id
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if a.Type == "api_key" && a.ID != "" {
			var parent model.APIKey
			if err := tx.Where("tenant_id = ? AND id = ?", tenantID, a.ID).Take(&parent).Error; err != nil {
				return err
			}
			if parent.RevokedAt != nil { // revoked while this request ran
				return model.ErrNotFound
			}
			k.CreatedByUserID = parent.CreatedByUserID
		}
		if err := tx.Create(k).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditAPIKeyCreate, "api_key", k.ID, nil, APIKeySnapshot(k))
	})
	return translate(err, "create api key")
}

// APIKeyByHash returns the unrevoked key of tenantID with hash; a key of
// another tenant is model.ErrNotFound.
//
// Keys found are cached while the store is Coherent; a revocation
// (ChangeAPIKeys) drops the tenant's.
func (s *Store) APIKeyByHash(ctx context.Context, tenantID, hash string) (*model.APIKey, error) {
	coherent, now, ck := s.Coherent(), s.Now(), cacheKey(tenantID, hash)
	if coherent {
		if k, ok := s.cache.keys.get(ck, now); ok {
			return cloneKey(k), nil
		}
	}
	epoch := s.cache.keys.begin()
	var k model.APIKey
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND hash = ? AND revoked_at IS NULL", tenantID, hash).Take(&k).Error
	if err != nil {
		return nil, translate(err, "api key by hash")
	}
	if coherent {
		s.cache.keys.put(ck, *cloneKey(k), epoch, now)
	}
	return &k, nil
}

// Errors of KeyFromHeader.
var (
	ErrInvalidAPIKey = errors.New("no such api key in this tenant")
	ErrMissingScope  = errors.New("the api key lacks the scope this call needs")
)

// KeyFromHeader returns the API key an Authorization header value carries
// (auth.APIKeyFromHeader: Bearer, or Basic with the key as user name) when
// it exists unrevoked in tenantID and holds scope; otherwise
// ErrInvalidAPIKey, ErrMissingScope or a storage error. Every API that
// takes keys checks them here: the admin API and the portal sessions API.
func (s *Store) KeyFromHeader(ctx context.Context, tenantID, header string, scope model.Scope) (*model.APIKey, error) {
	key, ok := auth.APIKeyFromHeader(header)
	if !ok {
		return nil, ErrInvalidAPIKey
	}
	k, err := s.APIKeyByHash(ctx, tenantID, auth.HashToken(key))
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrInvalidAPIKey
	}
	if err != nil {
		return nil, err
	}
	if !k.HasScope(scope) {
		return nil, ErrMissingScope
	}
	return k, nil
}

// TouchAPIKey records a use, at most once a minute per key; concurrent
// touches of one key in this process are one write (touchOnce).
func (s *Store) TouchAPIKey(ctx context.Context, k *model.APIKey) error {
	now := s.Now()
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < time.Minute {
		return nil
	}
	ck := cacheKey(k.TenantID, k.Hash)
	return s.cache.touchOnce("key\x00"+ck, func() error {
		err := s.db.WithContext(ctx).Model(&model.APIKey{}).Where("tenant_id = ? AND id = ?", k.TenantID, k.ID).Update("last_used_at", now).Error
		if err != nil {
			s.cache.keys.forget(ck)
			return translate(err, "touch api key")
		}
		s.cache.keys.update(ck, func(c *model.APIKey) {
			if c.LastUsedAt == nil || c.LastUsedAt.Before(now) {
				t := now
				c.LastUsedAt = &t
			}
		})
		return nil
	})
}

// APIKeys lists tenantID's keys, newest first, revoked ones included.
func (s *Store) APIKeys(ctx context.Context, tenantID string) ([]model.APIKey, error) {
	var out []model.APIKey
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("created_at DESC, id DESC").Find(&out).Error
	return out, translate(err, "list api keys")
}

// ErrAlreadyRevoked is returned when revoking a revoked key.
var ErrAlreadyRevoked = errors.New("api key already revoked")

// RevokeAPIKey revokes a key at once: the next request with it fails.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, id string, a model.Actor) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var k model.APIKey
		if err := tx.Where("tenant_id = ? AND id = ?", tenantID, id).Take(&k).Error; err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return ErrAlreadyRevoked
		}
		before := APIKeySnapshot(&k)
		now := s.Now()
		k.RevokedAt = &now
		if err := tx.Model(&model.APIKey{}).Where("tenant_id = ? AND id = ?", tenantID, id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		after, err := s.endKeysPortalSessions(tx, tenantID, &k)
		if err != nil {
			return err
		}
		if err := s.announce(tx, Change{Kind: ChangeAPIKeys, TenantID: tenantID}); err != nil {
			return err
		}
		return s.appendAudit(tx, tenantID, a, model.AuditAPIKeyRevoke, "api_key", id, before, after)
	})
	if errors.Is(err, ErrAlreadyRevoked) {
		return err
	}
	if err == nil {
		s.notify(Change{Kind: ChangeAPIKeys, TenantID: tenantID})
	}
	return translate(err, "revoke api key")
}

// ActiveAPIKeysBy lists the unrevoked keys userID created in tenantID,
// oldest first: those a deactivation or the loss of the gestor role would
// revoke (revokeKeysBy).
func (s *Store) ActiveAPIKeysBy(ctx context.Context, tenantID, userID string) ([]model.APIKey, error) {
	out, err := activeKeysBy(s.db.WithContext(ctx), tenantID, userID)
	return out, translate(err, "list a user's api keys")
}

// activeKeysBy lists, through db, the unrevoked keys userID created,
// oldest first.
func activeKeysBy(db *gorm.DB, tenantID, userID string) ([]model.APIKey, error) {
	var out []model.APIKey
	err := db.Where("tenant_id = ? AND created_by_user_id = ? AND revoked_at IS NULL", tenantID, userID).Order("created_at, id").Find(&out).Error
	return out, err
}

// revokeKeysBy revokes the keys userID created, in tx, auditing each as
// revoked by a: it is called when userID is deactivated or stops being a
// gestor, so that a copy of a key kept by someone who left does not keep
// the company's API open to them. It reports whether it revoked any.
func (s *Store) revokeKeysBy(tx *gorm.DB, tenantID, userID string, now time.Time, a model.Actor) (bool, error) {
	keys, err := activeKeysBy(tx, tenantID, userID)
	if err != nil {
		return false, err
	}
	for i := range keys {
		k := &keys[i]
		before := APIKeySnapshot(k)
		k.RevokedAt = &now
		if err := tx.Model(&model.APIKey{}).Where("tenant_id = ? AND id = ?", tenantID, k.ID).Update("revoked_at", now).Error; err != nil {
			return false, err
		}
		after, err := s.endKeysPortalSessions(tx, tenantID, k)
		if err != nil {
			return false, err
		}
		if err := s.appendAudit(tx, tenantID, a, model.AuditAPIKeyRevoke, "api_key", k.ID, before, after); err != nil {
			return false, err
		}
	}
	if len(keys) == 0 {
		return false, nil
	}
	return true, s.announce(tx, Change{Kind: ChangeAPIKeys, TenantID: tenantID})
}

// endKeysPortalSessions ends, in tx, what revoked key k's portal sessions
// started: every login they opened (by their link or a one-time code) is
// deleted, whether or not the portal session was marked ended (a customer
// who left one login may hold another). Their links and codes need no
// change: opening a link and logging in with a code both require the
// key to be unrevoked (keyNotRevoked), checked in the statement that
// claims the portal session, so a link created while the key was being
// revoked is refused too. A revoked key is how a company answers a leaked
// key or an employee who kept a copy, so nothing it made may outlive it.
// The cost does not grow with the key's history: one indexed delete of
// the live logins. It returns the key's audited snapshot with the number
// of logins ended. The cached sessions go with the key's ChangeAPIKeys
// (storeCache.apply).
func (s *Store) endKeysPortalSessions(tx *gorm.DB, tenantID string, k *model.APIKey) (map[string]any, error) {
	// "<> ''" lets the partial index sessions_portal_session serve it.
	res := tx.Where("tenant_id = ? AND portal_session_id <> '' AND portal_session_id IN (?)", tenantID,
		tx.Model(&model.PortalSession{}).Select("id").Where("tenant_id = ? AND api_key_id = ?", tenantID, k.ID)).
		Delete(&model.Session{})
	if res.Error != nil {
		return nil, res.Error
	}
	snap := APIKeySnapshot(k)
	if res.RowsAffected > 0 {
		snap["logins_ended"] = res.RowsAffected
	}
	return snap, nil
}

// APIKeyByID returns one key of tenantID, revoked or not; a key of another
// tenant is model.ErrNotFound.
func (s *Store) APIKeyByID(ctx context.Context, tenantID, id string) (*model.APIKey, error) {
	var k model.APIKey
	if err := s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id).Take(&k).Error; err != nil {
		return nil, translate(err, "api key by id")
	}
	return &k, nil
}
