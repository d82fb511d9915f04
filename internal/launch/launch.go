// Package launch issues and redeems the tokens that tell an iframe plugin
// who opened it (flow 2 of the product; docs/design-launch.md).
//
// A launch token is a compact JWS (a JWT) signed with the tenant's current
// Ed25519 key (alg EdDSA, kid set). It carries only an opaque subject and
// the launch context; the plugin learns the user's profile by exchanging the
// token, once, over a back channel authenticated with its client
// credentials:
//
//	tok, _ := svc.Mint(ctx, launch.MintInput{Tenant: t, Plugin: p, User: u, Role: model.RoleCliente, Locale: "pt-BR", Issuer: "https://portal.acme.com.br"})
//	// … the browser posts tok to the plugin, which calls POST /api/v1/launch/exchange …
//	user, err := svc.Exchange(ctx, t, "https://portal.acme.com.br", clientID, clientSecret, tok)
//	// err carries a Code (token_expired, token_used, …) when it fails.
//
// The package knows nothing of HTTP; host/launch is its edge.
package launch

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
)

// Algorithm is the JWS algorithm of every launch token and published key.
const Algorithm = "EdDSA"

// Token lifetimes and tolerances.
const (
	// DefaultTTL is a token's lifetime when the plugin sets none.
	DefaultTTL = 60 * time.Second
	// MinTTL and MaxTTL bound model.Plugin.TokenTTLSeconds.
	MinTTL = 10 * time.Second
	MaxTTL = 300 * time.Second
	// Leeway is the clock skew tolerated on nbf and exp.
	Leeway = 10 * time.Second
	// MaxTokenLength bounds the token the exchange reads; a real one is
	// about 600 bytes.
	MaxTokenLength = 4096
)

// Key lifecycle timing (docs/design-launch.md, "Key lifecycle").
const (
	// JWKSMaxAge is the Cache-Control max-age of the JWKS document.
	JWKSMaxAge = 5 * time.Minute
	// KeyCacheTTL is how long a process keeps a tenant's keys in memory;
	// another process's rotation is seen within it.
	KeyCacheTTL = 30 * time.Second
	// PublishAhead is how long a rotated-in key is published before it
	// signs: every JWKS cache and every process's key cache has refreshed
	// by then.
	PublishAhead = JWKSMaxAge + KeyCacheTTL + 30*time.Second
	// RetireAfter is how long a key stays published and accepted after its
	// successor started signing: its last token's lifetime, the leeway and
	// one JWKS cache period.
	RetireAfter = MaxTTL + Leeway + JWKSMaxAge
	// jtiMargin keeps a consumed jti past its token's exp + Leeway, for
	// clocks that differ between processes.
	jtiMargin = time.Minute
	// sweepEvery is how often the exchange deletes expired jtis.
	sweepEvery = time.Minute
)

// Error codes of a failed exchange. The HTTP edge answers 401 with the code.
const (
	CodeTokenExpired  = "token_expired"
	CodeTokenUsed     = "token_used"
	CodeTokenInvalid  = "token_invalid"
	CodeWrongAudience = "wrong_audience"
	CodeInvalidClient = "invalid_client"
)

// Error is a refused exchange or verification: Code is one of the Code
// constants (safe to show the integrator), Reason the detail for logs.
type Error struct {
	Code   string
	Reason string
}

func (e *Error) Error() string { return "launch: " + e.Code + ": " + e.Reason }

func fail(code, reason string) *Error { return &Error{Code: code, Reason: reason} }

// CodeOf returns the Code of an *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrNotLaunchable is returned by Mint for a plugin that takes no token
// (authentication none, a wasm plugin, no client id), an inactive plugin or
// user, or records of different tenants.
var ErrNotLaunchable = errors.New("launch: plugin or user cannot be launched")

// Options tune NewService. The zero value is valid.
type Options struct {
	// Now is the clock; time.Now when nil. Tests move it.
	Now func() time.Time
	// Logger receives warnings; slog.Default() when nil.
	Logger *slog.Logger
}

// Service mints, verifies and exchanges launch tokens and manages the
// tenants' signing keys. It is safe for concurrent use; several processes
// may share one database.
type Service struct {
	store *storage.Store
	box   *secret.Box
	now   func() time.Time
	log   *slog.Logger

	mu   sync.Mutex
	keys map[string]*keyRing // tenant ID → cached keys
	// gen counts invalidations: a ring read from the store is cached only
	// if none happened while it was read (reload), so a rotation is never
	// overwritten by the ring it replaced.
	gen uint64

	lastSweep atomic.Int64
}

// NewService returns a Service over store. box seals the private keys; it
// may be nil only for a service that never creates or uses one (tests of
// the JWKS of stored keys).
func NewService(store *storage.Store, box *secret.Box, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{store: store, box: box, now: opts.Now, log: opts.Logger, keys: map[string]*keyRing{}}
	// A new or wiped signing key, on any node, is a tenant change: the
	// tenant's ring is read again (KeyCacheTTL is only a safety net).
	store.OnChange(func(ch storage.Change) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch ch.Kind {
		case storage.ChangeTenant:
			s.gen++
			delete(s.keys, ch.TenantID)
		case storage.ChangeAll:
			s.gen++
			clear(s.keys)
		}
	})
	return s
}

// ttlOf returns the plugin's token lifetime, clamped to [MinTTL, MaxTTL].
func ttlOf(p *model.Plugin) time.Duration {
	if p.TokenTTLSeconds <= 0 {
		return DefaultTTL
	}
	d := time.Duration(p.TokenTTLSeconds) * time.Second
	return min(max(d, MinTTL), MaxTTL)
}

// newJTI returns 128 random bits, base64url.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// subject returns the opaque subject under which the plugin knows the user
// (pairwise: storage.PluginSubject, which the store caches, bounded, while
// it hears every node's changes).
func (s *Service) subject(ctx context.Context, tenantID, pluginID, userID string) (string, error) {
	sub, err := s.store.PluginSubject(ctx, tenantID, pluginID, userID)
	if err != nil {
		return "", fmt.Errorf("launch subject: %w", err)
	}
	return sub, nil
}

// SealSlot is the "plugin" part of a sealed private key's binding (see
// secret.Box): the key is sealed for (tenant ID, SealSlot, kid). No real
// plugin ID takes this value.
const SealSlot = "launch-signing-key"

func (s *Service) seal(tenantID, kid string, priv ed25519.PrivateKey) ([]byte, error) {
	if s.box == nil {
		return nil, errors.New("launch: no secret box to seal signing keys")
	}
	return s.box.Seal(tenantID, SealSlot, kid, priv.Seed())
}

func (s *Service) open(tenantID, kid string, sealed []byte) (ed25519.PrivateKey, error) {
	if s.box == nil {
		return nil, errors.New("launch: no secret box to open signing keys")
	}
	seed, err := s.box.Open(tenantID, SealSlot, kid, sealed)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("launch: sealed signing key has the wrong size")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
