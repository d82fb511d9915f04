package launch

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// KeyState is where a signing key is in its lifecycle at a given moment.
type KeyState string

// Key states, in lifecycle order.
const (
	// KeyNext is published in the JWKS but does not sign yet.
	KeyNext KeyState = "next"
	// KeyCurrent signs new tokens (one per tenant at a time).
	KeyCurrent KeyState = "current"
	// KeyPrevious no longer signs; it stays published and accepted until
	// the tokens it signed have expired plus a cache period.
	KeyPrevious KeyState = "previous"
	// KeyRetired is neither published nor accepted; its private key is
	// wiped at the next rotation.
	KeyRetired KeyState = "retired"
)

// KeyInfo describes a signing key for the admin page and the CLI.
type KeyInfo struct {
	KID         string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatesAt time.Time `json:"activates_at"`
	// SignsUntil is when the next key takes over; nil while none is
	// scheduled.
	SignsUntil *time.Time `json:"signs_until,omitempty"`
	// RetiresAt is when the key leaves the JWKS and stops verifying; nil
	// while it has no successor.
	RetiresAt *time.Time `json:"retires_at,omitempty"`
	State     KeyState   `json:"state"`
}

// key is a loaded signing key.
type key struct {
	row    storage.SigningKey
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey // nil when wiped or when it does not open
	header string             // base64url of the JOSE header, precomputed
	// signsUntil and retiresAt are zero while the key has no successor.
	signsUntil, retiresAt time.Time
}

// state returns the key's state at now.
func (k *key) state(now time.Time) KeyState {
	switch {
	case now.Before(k.row.ActivatesAt):
		return KeyNext
	case k.signsUntil.IsZero() || now.Before(k.signsUntil):
		return KeyCurrent
	case now.Before(k.retiresAt):
		return KeyPrevious
	}
	return KeyRetired
}

func (k *key) info(now time.Time) KeyInfo {
	ki := KeyInfo{KID: k.row.KID, Algorithm: k.row.Algorithm, CreatedBy: k.row.CreatedBy,
		CreatedAt: k.row.CreatedAt, ActivatesAt: k.row.ActivatesAt, State: k.state(now)}
	if !k.signsUntil.IsZero() {
		su, ra := k.signsUntil, k.retiresAt
		ki.SignsUntil, ki.RetiresAt = &su, &ra
	}
	return ki
}

// keyRing is one tenant's keys in activation order, as loaded at loaded.
type keyRing struct {
	loaded time.Time
	keys   []*key
}

// signer returns the key that signs at now: the last one activated.
func (r *keyRing) signer(now time.Time) *key {
	for i := len(r.keys) - 1; i >= 0; i-- {
		if k := r.keys[i]; !now.Before(k.row.ActivatesAt) {
			return k
		}
	}
	return nil
}

// verifier returns the key kid if it is published at now (next, current
// or previous).
func (r *keyRing) verifier(kid string, now time.Time) *key {
	for _, k := range r.keys {
		if k.row.KID == kid {
			if k.state(now) == KeyRetired {
				return nil
			}
			return k
		}
	}
	return nil
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of an Ed25519
// public key, base64url: Portico's kid.
func Thumbprint(pub ed25519.PublicKey) string {
	canon := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// headerFor returns the encoded JOSE header of tokens signed by kid.
func headerFor(kid string) string {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{Algorithm, kid, "JWT"})
	return base64.RawURLEncoding.EncodeToString(h)
}

// ring returns tenantID's keys, from memory when loaded within KeyCacheTTL.
func (s *Service) ring(ctx context.Context, tenantID string) (*keyRing, error) {
	now := s.now()
	s.mu.Lock()
	r := s.keys[tenantID]
	s.mu.Unlock()
	if r != nil && now.Sub(r.loaded) < KeyCacheTTL && !now.Before(r.loaded) {
		return r, nil
	}
	return s.reload(ctx, tenantID)
}

// reload reads tenantID's keys from the database and caches them, unless
// a change was announced meanwhile (the next call reads them again).
func (s *Service) reload(ctx context.Context, tenantID string) (*keyRing, error) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	rows, err := s.store.SigningKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	r := &keyRing{loaded: s.now()}
	for i := range rows {
		row := rows[i]
		if row.Algorithm != Algorithm || len(row.PublicKey) != ed25519.PublicKeySize {
			s.log.Error("signing key with an unknown algorithm or size is ignored", "tenant_id", tenantID, "kid", row.KID)
			continue
		}
		k := &key{row: row, pub: ed25519.PublicKey(row.PublicKey), header: headerFor(row.KID)}
		if len(row.PrivateKeySealed) > 0 && s.box != nil {
			priv, err := s.open(tenantID, row.KID, row.PrivateKeySealed)
			if err != nil {
				s.log.Error("signing key does not open (moved row or another PORTICO_SECRET_KEY)", "tenant_id", tenantID, "kid", row.KID)
			} else if !priv.Public().(ed25519.PublicKey).Equal(k.pub) {
				s.log.Error("signing key's private and public parts differ", "tenant_id", tenantID, "kid", row.KID)
			} else {
				k.priv = priv
			}
		}
		r.keys = append(r.keys, k)
	}
	for i := 0; i+1 < len(r.keys); i++ {
		r.keys[i].signsUntil = r.keys[i+1].row.ActivatesAt
		r.keys[i].retiresAt = r.keys[i+1].row.ActivatesAt.Add(RetireAfter)
	}
	s.mu.Lock()
	if s.gen == gen { // no change was announced while the rows were read
		s.keys[tenantID] = r
	}
	s.mu.Unlock()
	return r, nil
}

// newKey generates a key for tenantID that activates at activates.
func (s *Service) newKey(tenantID string, activates time.Time, createdBy string) (*storage.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	kid := Thumbprint(pub)
	sealed, err := s.seal(tenantID, kid, priv)
	if err != nil {
		return nil, err
	}
	return &storage.SigningKey{KID: kid, Algorithm: Algorithm, PublicKey: pub, PrivateKeySealed: sealed,
		CreatedBy: createdBy, CreatedAt: s.now().UTC(), ActivatesAt: activates.UTC()}, nil
}

// signingKey returns the key that signs for tenantID now, creating the
// tenant's first key (active at once: nobody can have cached it yet) when
// it has none.
func (s *Service) signingKey(ctx context.Context, tenantID string) (*key, error) {
	r, err := s.ring(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	k := r.signer(s.now())
	if k == nil {
		if r, err = s.ensureFirstKey(ctx, tenantID); err != nil {
			return nil, err
		}
		k = r.signer(s.now())
	}
	if k == nil || k.priv == nil {
		return nil, errors.New("launch: the tenant's current signing key is unusable (see earlier errors); rotate the keys")
	}
	return k, nil
}

// ensureFirstKey creates a key when tenantID has none with an activation in
// the past. Two processes doing so at once create two keys; both are
// published and the later one (by activation, then kid) signs.
func (s *Service) ensureFirstKey(ctx context.Context, tenantID string) (*keyRing, error) {
	r, err := s.reload(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if r.signer(s.now()) != nil {
		return r, nil
	}
	row, err := s.newKey(tenantID, s.now(), model.ActorSystem)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateSigningKey(ctx, tenantID, row, nil); err != nil {
		return nil, err
	}
	s.log.Info("first launch signing key created", "tenant_id", tenantID, "kid", row.KID)
	return s.reload(ctx, tenantID)
}

// Rotate schedules a new signing key for tenantID and records it in the
// audit log as actor. The new key is published at once and signs from
// PublishAhead on (at once when the tenant had no key); the key it replaces
// stays published and accepted for RetireAfter more. A key an earlier
// rotation scheduled that has not signed yet is replaced, not kept, so at
// most one key waits at a time. Private keys of keys already retired are
// wiped.
func (s *Service) Rotate(ctx context.Context, tenantID string, actor model.Actor) (*KeyInfo, error) {
	r, err := s.reload(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	activates := now.Add(PublishAhead)
	if len(r.keys) == 0 {
		activates = now
	}
	label := actor.Label
	if label == "" {
		label = actor.Type
	}
	row, err := s.newKey(tenantID, activates, label)
	if err != nil {
		return nil, err
	}
	row.CreatedAt = now.UTC()
	if err := s.store.RotateSigningKey(ctx, tenantID, row, actor); err != nil {
		return nil, err
	}
	var wipe []string
	for _, k := range r.keys {
		if k.state(now) == KeyRetired && len(k.row.PrivateKeySealed) > 0 {
			wipe = append(wipe, k.row.KID)
		}
	}
	if err := s.store.WipeSigningKeys(ctx, tenantID, wipe); err != nil {
		return nil, err
	}
	r, err = s.reload(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, k := range r.keys {
		if k.row.KID == row.KID {
			ki := k.info(s.now())
			return &ki, nil
		}
	}
	return nil, errors.New("launch: rotated key not found after saving it")
}

// Keys lists tenantID's signing keys, oldest first, with their state now.
// It creates nothing.
func (s *Service) Keys(ctx context.Context, tenantID string) ([]KeyInfo, error) {
	r, err := s.reload(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]KeyInfo, 0, len(r.keys))
	for _, k := range r.keys {
		out = append(out, k.info(now))
	}
	return out, nil
}

// JWKS returns tenantID's JSON Web Key Set: every key that is next,
// current or previous, each with kid, alg EdDSA and use sig. A tenant
// without keys gets its first key here, so the first JWKS fetch already
// holds the key that will sign.
//
// Publishing needs only the public halves: a key whose private half cannot
// be opened (a changed PORTICO_SECRET_KEY) stays published, so tokens it
// signed earlier can still be verified.
func (s *Service) JWKS(ctx context.Context, tenantID string) ([]byte, error) {
	r, err := s.ring(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if r.signer(now) == nil {
		if r, err = s.ensureFirstKey(ctx, tenantID); err != nil {
			return nil, err
		}
	}
	set := jwk.NewSet()
	for _, k := range r.keys {
		if k.state(now) == KeyRetired {
			continue
		}
		jk, err := jwk.Import(k.pub)
		if err != nil {
			return nil, fmt.Errorf("import public key: %w", err)
		}
		for name, v := range map[string]any{jwk.KeyIDKey: k.row.KID, jwk.AlgorithmKey: jwa.EdDSA(), jwk.KeyUsageKey: jwk.ForSignature} {
			if err := jk.Set(name, v); err != nil {
				return nil, fmt.Errorf("set %s: %w", name, err)
			}
		}
		if err := set.AddKey(jk); err != nil {
			return nil, fmt.Errorf("add key: %w", err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode jwks: %w", err)
	}
	return b, nil
}
