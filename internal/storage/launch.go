package storage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
)

// SigningKey is one Ed25519 key a tenant signs launch tokens with. The
// private key is stored only sealed (see package secret), bound to the
// tenant and the kid. A key signs from ActivatesAt until the next key
// activates; package launch derives every other state from that order.
type SigningKey struct {
	TenantID         string `gorm:"primaryKey"`
	KID              string `gorm:"primaryKey;column:kid"`
	Algorithm        string
	PublicKey        []byte
	PrivateKeySealed []byte
	CreatedBy        string
	CreatedAt        time.Time
	ActivatesAt      time.Time
}

// TableName maps SigningKey onto signing_keys.
func (SigningKey) TableName() string { return "signing_keys" }

// signingKeySnapshot is the audited view of a key: never its private part.
func signingKeySnapshot(k *SigningKey) map[string]any {
	return map[string]any{"kid": k.KID, "algorithm": k.Algorithm, "activates_at": k.ActivatesAt}
}

// prepareSigningKey sets k's tenant and creation time (now, when unset)
// and stores its times in UTC.
func (s *Store) prepareSigningKey(tenantID string, k *SigningKey) {
	k.TenantID = tenantID
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.Now()
	}
	k.CreatedAt, k.ActivatesAt = k.CreatedAt.UTC(), k.ActivatesAt.UTC()
}

// CreateSigningKey stores k. With a non-nil actor the creation is written to
// the audit log (action model.AuditSigningKeyRotate) in the same transaction.
func (s *Store) CreateSigningKey(ctx context.Context, tenantID string, k *SigningKey, a *model.Actor) error {
	s.prepareSigningKey(tenantID, k)
	// Announced as a tenant change: every node's launch service reloads
	// the tenant's key ring (launch.Service subscribes).
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(k).Error; err != nil {
			return err
		}
		if a == nil {
			return nil
		}
		return s.appendAudit(tx, tenantID, *a, model.AuditSigningKeyRotate, "signing_key", k.KID, nil, signingKeySnapshot(k))
	}, TenantChange(tenantID))
	return translate(err, "create signing key")
}

// RotateSigningKey stores k, a tenant's next key, in place of any key
// still waiting to sign (activating after k.CreatedAt): a second rotation
// before the first key signs replaces it rather than adding one more to
// the published set, so rotating again and again keeps that set small.
// A pending key never signed a token, so nothing issued is lost. The
// rotation is audited as a, naming the keys it replaced.
func (s *Store) RotateSigningKey(ctx context.Context, tenantID string, k *SigningKey, a model.Actor) error {
	s.prepareSigningKey(tenantID, k)
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		var pending []string
		if err := tx.Model(&SigningKey{}).Where("tenant_id = ? AND activates_at > ?", tenantID, k.CreatedAt).
			Order("activates_at, kid").Pluck("kid", &pending).Error; err != nil {
			return err
		}
		if len(pending) > 0 {
			if err := tx.Where("tenant_id = ? AND kid IN ?", tenantID, pending).Delete(&SigningKey{}).Error; err != nil {
				return err
			}
		}
		if err := tx.Create(k).Error; err != nil {
			return err
		}
		snap := signingKeySnapshot(k)
		if len(pending) > 0 {
			snap["replaces"] = pending
		}
		return s.appendAudit(tx, tenantID, a, model.AuditSigningKeyRotate, "signing_key", k.KID, nil, snap)
	}, TenantChange(tenantID))
	return translate(err, "rotate signing key")
}

// SigningKeys lists tenantID's keys in activation order (ties by kid).
func (s *Store) SigningKeys(ctx context.Context, tenantID string) ([]SigningKey, error) {
	var out []SigningKey
	err := s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("activates_at, kid").Find(&out).Error
	if err != nil {
		return nil, translate(err, "list signing keys")
	}
	return out, nil
}

// WipeSigningKeys erases the private part of tenantID's keys named by kids
// (keys that were retired): their public part stays for the record.
func (s *Store) WipeSigningKeys(ctx context.Context, tenantID string, kids []string) error {
	if len(kids) == 0 {
		return nil
	}
	err := s.changeTx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&SigningKey{}).Where("tenant_id = ? AND kid IN ?", tenantID, kids).
			Update("private_key_sealed", []byte{}).Error
	}, TenantChange(tenantID))
	return translate(err, "wipe signing keys")
}

// ConsumeJTI records that the token jti of tenantID was exchanged. It
// reports true exactly once per (tenant, jti), whatever the number of
// concurrent callers and processes sharing the database: the insert is one
// statement against the primary key, and only the caller whose row went in
// gets true. expires is when the row may be swept (after the token can no
// longer pass its exp check). Concurrent calls in this process share one
// multi-row insert (jtiCombiner).
func (s *Store) ConsumeJTI(ctx context.Context, tenantID, jti string, expires time.Time) (bool, error) {
	return s.consumeCombined(ctx, tenantID, jti, expires.Unix())
}

// DeleteExpiredJTIs removes consumed token ids whose tokens expired before
// now (every tenant's) and returns how many went.
func (s *Store) DeleteExpiredJTIs(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec("DELETE FROM launch_jtis WHERE expires_unix < ?", now.Unix())
	if res.Error != nil {
		return 0, translate(res.Error, "delete expired jtis")
	}
	return res.RowsAffected, nil
}

type pluginSubject struct {
	TenantID  string `gorm:"primaryKey"`
	PluginID  string `gorm:"primaryKey"`
	UserID    string `gorm:"primaryKey"`
	Subject   string
	CreatedAt time.Time
}

func (pluginSubject) TableName() string { return "plugin_subjects" }

// PluginSubject returns the opaque, stable id under which pluginID knows
// userID in tenantID (the launch token's sub, the wasm input's user id),
// creating it (128 random bits, base64url) on first use. It is pairwise,
// as OpenID Connect's pairwise subjects are: every plugin gets a different
// id for the same user, so two plugins cannot correlate a customer by it,
// and it depends on nothing else (not the signing keys, not the plugin's
// credentials), so it never changes for a (plugin, user). Concurrent first
// uses agree on one value. A user or plugin of another tenant is
// model.ErrNotFound.
func (s *Store) PluginSubject(ctx context.Context, tenantID, pluginID, userID string) (string, error) {
	// A subject never changes once made, so it is cached while the store
	// is Coherent (a tenant change drops the tenant's, to bound memory).
	coherent, now, ck := s.Coherent(), s.Now(), cacheKey(tenantID, pluginID, userID)
	if coherent {
		if sub, ok := s.cache.subjects.get(ck, now); ok {
			return sub, nil
		}
	}
	epoch := s.cache.subjects.begin()
	sub, err := s.pluginSubject(ctx, tenantID, pluginID, userID)
	if err == nil && coherent {
		s.cache.subjects.put(ck, sub, epoch, now)
	}
	return sub, err
}

func (s *Store) pluginSubject(ctx context.Context, tenantID, pluginID, userID string) (string, error) {
	where := "tenant_id = ? AND plugin_id = ? AND user_id = ?"
	var row pluginSubject
	err := s.db.WithContext(ctx).Where(where, tenantID, pluginID, userID).Take(&row).Error
	if err == nil {
		return row.Subject, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", translate(err, "plugin subject")
	}
	if _, err := s.UserByID(ctx, tenantID, userID); err != nil {
		return "", err
	}
	var plugins int64
	if err := s.db.WithContext(ctx).Model(&model.Plugin{}).Where("tenant_id = ? AND id = ?", tenantID, pluginID).Count(&plugins).Error; err != nil {
		return "", translate(err, "plugin subject")
	}
	if plugins == 0 {
		return "", translate(gorm.ErrRecordNotFound, "plugin subject")
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", translate(err, "plugin subject")
	}
	res := s.db.WithContext(ctx).Exec(
		"INSERT INTO plugin_subjects (tenant_id, plugin_id, user_id, subject, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		tenantID, pluginID, userID, base64.RawURLEncoding.EncodeToString(b), s.Now())
	if res.Error != nil {
		return "", translate(res.Error, "create plugin subject")
	}
	err = s.db.WithContext(ctx).Where(where, tenantID, pluginID, userID).Take(&row).Error
	return row.Subject, translate(err, "plugin subject")
}
