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
	// Claim is the token of the request that holds the key while it is in
	// flight (status 0); a takeover gives it a new one.
	Claim     string
	CreatedAt time.Time
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// Stored is the first answer to a request with an idempotency key.
type Stored struct {
	Status int
	Body   string
}

// Claim is an idempotency key a request holds: it records its answer
// (FinishIdempotent) or releases the key (AbandonIdempotent).
type Claim struct {
	Scope, Key string
	token      string
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
// whose fingerprint is hash. The first claim returns the Claim: the caller
// processes the request and then calls FinishIdempotent (or
// AbandonIdempotent when it failed without changing anything). A later
// claim returns the stored first answer, or ErrKeyInFlight while the first
// is still running, or ErrKeyReused for another request under the key.
//
// A key still in flight staleAfter after its claim was left by a request
// that can no longer be running (its process died, or it could record
// neither its answer nor the key's release): the same request (same hash)
// takes it over, with a new claim, and runs again — the caller's work must
// make that safe (the ledger's and the customers' source keys do). Only
// one of several retries at once takes it over. staleAfter <= 0 never
// takes a key over.
func (s *Store) BeginIdempotent(ctx context.Context, scope, key, hash string, staleAfter time.Duration) (*Claim, *Stored, error) {
	now := s.Now()
	db := s.db.WithContext(ctx)
	// A key older than IdempotencyKeep is forgotten, as if swept.
	if err := db.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-IdempotencyKeep)).Delete(&idempotencyKey{}).Error; err != nil {
		return nil, nil, translate(err, "expire idempotency key")
	}
	c := &Claim{Scope: scope, Key: key, token: NewID()}
	err := db.Create(&idempotencyKey{Scope: scope, Key: key, RequestHash: hash, Claim: c.token, CreatedAt: now}).Error
	if err == nil {
		return c, nil, nil
	}
	if !errors.Is(translate(err, ""), ErrConflict) {
		return nil, nil, translate(err, "claim idempotency key")
	}
	var k idempotencyKey
	if err := db.Where("scope = ? AND key = ?", scope, key).Take(&k).Error; err != nil {
		return nil, nil, translate(err, "read idempotency key")
	}
	switch {
	case k.RequestHash != hash:
		return nil, nil, ErrKeyReused
	case k.Status != 0:
		return nil, &Stored{Status: k.Status, Body: k.Response}, nil
	case staleAfter <= 0 || !k.CreatedAt.Before(now.Add(-staleAfter)):
		return nil, nil, ErrKeyInFlight
	}
	// Take the stale claim over: the claim read is the one replaced, so of
	// two retries at once one wins and the other finds the key in flight.
	res := db.Model(&idempotencyKey{}).Where("scope = ? AND key = ? AND status = 0 AND claim = ?", scope, key, k.Claim).
		Updates(map[string]any{"claim": c.token, "created_at": now})
	if res.Error != nil {
		return nil, nil, translate(res.Error, "take over idempotency key")
	}
	if res.RowsAffected != 1 {
		return nil, nil, ErrKeyInFlight
	}
	s.log.Warn("idempotency key taken over: its first request left it in flight", "scope", scope, "key", key,
		"claimed_at", k.CreatedAt, "after", now.Sub(k.CreatedAt).Round(time.Second))
	return c, nil, nil
}

// ErrClaimLost is FinishIdempotent or AbandonIdempotent for a claim a retry
// took over (see BeginIdempotent): nothing is written.
var ErrClaimLost = errors.New("the idempotency key was taken over by a retry")

// FinishIdempotent stores the answer to the request that holds claim c.
func (s *Store) FinishIdempotent(ctx context.Context, c *Claim, status int, body string) error {
	res := s.db.WithContext(ctx).Model(&idempotencyKey{}).Where("scope = ? AND key = ? AND status = 0 AND claim = ?", c.Scope, c.Key, c.token).
		Updates(map[string]any{"status": status, "response": body})
	if res.Error != nil {
		return translate(res.Error, "finish idempotency key")
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("finish idempotency key: %w", ErrClaimLost)
	}
	return nil
}

// AbandonIdempotent releases claim c's key after a failure that changed
// nothing, so a retry runs again.
func (s *Store) AbandonIdempotent(ctx context.Context, c *Claim) error {
	res := s.db.WithContext(ctx).Where("scope = ? AND key = ? AND status = 0 AND claim = ?", c.Scope, c.Key, c.token).Delete(&idempotencyKey{})
	if res.Error != nil {
		return translate(res.Error, "abandon idempotency key")
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("abandon idempotency key: %w", ErrClaimLost)
	}
	return nil
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
