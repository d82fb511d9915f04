package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/portico-dev/portico/internal/auth"
)

// Idempotency-Key rules of the point-of-sale API.
const (
	// MaxIdempotencyKey bounds a key, in bytes.
	MaxIdempotencyKey = 255
	// IdempotencyKeep is how long a key's answer is kept: a retry within
	// it returns the first answer. The sweeper deletes older keys.
	IdempotencyKeep = 48 * time.Hour
)

// Errors of BeginIdempotent.
var (
	// ErrKeyInFlight: a request with this key is still being processed.
	ErrKeyInFlight = errors.New("a request with this idempotency key is in progress")
	// ErrKeyReused: the key was used with a different request.
	ErrKeyReused = errors.New("the idempotency key was used with a different request")
)

type idempotencyKey struct {
	Scope       string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	RequestHash string
	Status      int
	Response    string
	CreatedAt   time.Time
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// Stored is the first answer to a request with an idempotency key.
type Stored struct {
	Status int
	Body   string
}

// RequestHash is the fingerprint a key is bound to: the method, the path
// and the body.
func RequestHash(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// BeginIdempotent claims key in scope (a store's token) for a request
// whose fingerprint is hash. The first claim returns nil, nil: the caller
// processes the request and then calls FinishIdempotent (or
// AbandonIdempotent when it failed without changing anything). A later
// claim returns the stored first answer, or ErrKeyInFlight while the first
// is still running, or ErrKeyReused for another request under the key.
func (s *Store) BeginIdempotent(ctx context.Context, scope, key, hash string) (*Stored, error) {
	now := s.Now()
	db := s.db.WithContext(ctx)
	// A key older than IdempotencyKeep is forgotten, as if swept.
	if err := db.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-IdempotencyKeep)).Delete(&idempotencyKey{}).Error; err != nil {
		return nil, translate(err, "expire idempotency key")
	}
	err := db.Create(&idempotencyKey{Scope: scope, Key: key, RequestHash: hash, CreatedAt: now}).Error
	if err == nil {
		return nil, nil
	}
	if !errors.Is(translate(err, ""), ErrConflict) {
		return nil, translate(err, "claim idempotency key")
	}
	var k idempotencyKey
	if err := db.Where("scope = ? AND key = ?", scope, key).Take(&k).Error; err != nil {
		return nil, translate(err, "read idempotency key")
	}
	switch {
	case k.RequestHash != hash:
		return nil, ErrKeyReused
	case k.Status == 0:
		return nil, ErrKeyInFlight
	}
	return &Stored{Status: k.Status, Body: k.Response}, nil
}

// FinishIdempotent stores the answer to the request that claimed key.
func (s *Store) FinishIdempotent(ctx context.Context, scope, key string, status int, body string) error {
	err := s.db.WithContext(ctx).Model(&idempotencyKey{}).Where("scope = ? AND key = ?", scope, key).
		Updates(map[string]any{"status": status, "response": body}).Error
	return translate(err, "finish idempotency key")
}

// AbandonIdempotent releases key after a failure that changed nothing, so
// a retry runs again.
func (s *Store) AbandonIdempotent(ctx context.Context, scope, key string) error {
	err := s.db.WithContext(ctx).Where("scope = ? AND key = ? AND status = 0", scope, key).Delete(&idempotencyKey{}).Error
	return translate(err, "abandon idempotency key")
}

// SweepIdempotency deletes keys older than IdempotencyKeep.
func (s *Store) SweepIdempotency(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("created_at < ?", s.Now().Add(-IdempotencyKeep)).Delete(&idempotencyKey{})
	return res.RowsAffected, translate(res.Error, "sweep idempotency keys")
}

// Shop is a store or point of sale whose token calls the API.
type Shop struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	TokenHash string
	CreatedBy string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// TableName maps Shop onto stores.
func (Shop) TableName() string { return "stores" }

// ShopTokenPrefix starts every point-of-sale token, so secret scanners
// and people recognise one.
const ShopTokenPrefix = "lyt_"

// NewShopToken returns a new point-of-sale token (shown once) and the
// hash the database keeps.
func NewShopToken() (token, hash string) {
	token = ShopTokenPrefix + auth.NewToken()
	return token, auth.HashToken(token)
}

// HashShopToken is the hash ShopByToken looks a presented token up by.
func HashShopToken(token string) string { return auth.HashToken(token) }

// CreateShop stores a shop whose token hashes to tokenHash.
func (s *Store) CreateShop(ctx context.Context, name, tokenHash, by string) (*Shop, error) {
	sh := &Shop{ID: NewID(), Name: name, TokenHash: tokenHash, CreatedBy: by, CreatedAt: s.Now()}
	return sh, translate(s.db.WithContext(ctx).Create(sh).Error, "create store")
}

// ShopByToken returns the unrevoked shop whose token hashes to tokenHash.
func (s *Store) ShopByToken(ctx context.Context, tokenHash string) (*Shop, error) {
	var sh Shop
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", tokenHash).Take(&sh).Error
	return &sh, translate(err, "store by token")
}

// Shops lists every shop, newest first.
func (s *Store) Shops(ctx context.Context) ([]Shop, error) {
	var out []Shop
	return out, translate(s.db.WithContext(ctx).Order("created_at DESC, id DESC").Find(&out).Error, "list stores")
}

// RevokeShop revokes shop id's token at once.
func (s *Store) RevokeShop(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Model(&Shop{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.Now())
	if res.Error != nil {
		return translate(res.Error, "revoke store")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke store: %w", ErrNotFound)
	}
	return nil
}
