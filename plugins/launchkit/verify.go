// Package launchkit is the client side of Portico's launch tokens, shared
// by the first-party iframe apps (plugins/exampleapp, plugins/loyalty) and
// meant to be copied or imported by integrators' Go apps:
//
//  1. Verifier checks a token OFFLINE against the portal's JWKS (EdDSA
//     signature, iss = the portal, aud = the plugin's client_id, exp/nbf
//     with 10 s of leeway), refetching the keys once on an unknown kid.
//  2. Exchanger trades it, server to server, for the user's data. The
//     portal answers once per token: a replayed token gets token_used.
//  3. Client does both with the plugin's credentials (configured, or read
//     from a credentials file at each launch) and checks that the exchange
//     answered for the token's subject.
//
// docs/launch.md describes the protocol; the app keeps its own session
// afterwards (see plugins/exampleapp/app/session.go).
package launchkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Step 1 of a launch: check the token OFFLINE, with the portal's public
// keys, before spending a network call on it. This rejects garbage, tokens
// for another plugin and expired tokens cheaply. It does NOT prove the
// token was never used: only the exchange (step 2) knows that.

// Limits and tolerances of the verifier.
const (
	// MaxTokenLength bounds what we parse; a real token is about 600 bytes.
	MaxTokenLength = 4096
	// Leeway is the clock skew tolerated on exp, nbf and iat (the portal
	// uses the same).
	Leeway = 10 * time.Second
	// minRefetch is the least time between two JWKS fetches triggered by an
	// unknown kid, so that forged tokens cannot make us hammer the portal.
	minRefetch = 10 * time.Second
)

// Claims are the launch token's claims an app uses.
type Claims struct {
	Subject string // opaque, stable user id inside the tenant
	JTI     string // unique token id (the exchange consumes it)
	Expires time.Time
	Portico PorticoClaims
}

// PorticoClaims is the token's "portico" claim object.
type PorticoClaims struct {
	Tenant string `json:"tenant"` // tenant slug
	Plugin string `json:"plugin"` // plugin slug
	Role   string `json:"role"`   // cliente, sindico or gestor
	Locale string `json:"locale"` // pt-BR, es or en
}

// TokenError is a refused token; Code uses the exchange's vocabulary
// (token_expired, token_invalid, wrong_audience, …).
type TokenError struct {
	Code string
	Err  error
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

func refuse(code string, err error) *TokenError { return &TokenError{Code: code, Err: err} }

// Verifier checks launch tokens against the portal's JWKS, which it keeps
// in a jwk.Cache (refreshed in the background, and at once when a token
// names a key id we have not seen: the portal publishes a new key a few
// minutes before it signs with it, but a cache can still be older).
type Verifier struct {
	jwksURL string
	issuer  string
	cache   *jwk.Cache

	mu          sync.Mutex
	lastRefetch time.Time     // when the last refetch started
	refetching  chan struct{} // closed when the refetch under way ends; nil when none is
	now         func() time.Time
}

// SetClock replaces the clock the verifier checks exp and nbf against
// (time.Now by default); apps pass their configured clock, tests a fixed
// one. Call it before the first Verify.
func (v *Verifier) SetClock(now func() time.Time) {
	if now != nil {
		v.now = now
	}
}

// JWKSFetchTimeout bounds one fetch of the portal's JWKS.
const JWKSFetchTimeout = 10 * time.Second

// NewVerifier starts a JWKS cache for issuer's /.well-known/jwks.json.
// It does not wait for the portal: the first launch fetches the keys if
// the background fetch has not yet succeeded. ctx bounds the cache's life.
func NewVerifier(ctx context.Context, issuer string) (*Verifier, error) {
	jwksURL := issuer + "/.well-known/jwks.json"
	// Only ever fetch that one URL.
	// A portal that hangs must not hold the cache's fetchers (and the
	// launches waiting on a first fetch) without end.
	client := httprc.NewClient(httprc.WithWhitelist(httprc.WhitelistFunc(func(u string) bool { return u == jwksURL })),
		httprc.WithHTTPClient(&http.Client{Timeout: JWKSFetchTimeout}))
	cache, err := jwk.NewCache(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("start jwks cache: %w", err)
	}
	err = cache.Register(ctx, jwksURL,
		jwk.WithMinInterval(time.Minute),    // background refresh at most once a minute…
		jwk.WithMaxInterval(15*time.Minute), // …and at least every 15 minutes
		jwk.WithWaitReady(false),            // do not fail the start when the portal is not up yet
		jwk.WithMaxFetchBodySize(64<<10),    // a JWKS is a few hundred bytes
	)
	if err != nil {
		return nil, fmt.Errorf("register jwks url: %w", err)
	}
	return &Verifier{jwksURL: jwksURL, issuer: issuer, cache: cache, now: time.Now}, nil
}

// keyFor returns the public key named kid, refetching the JWKS when the
// kid is unknown or no keys are loaded yet. One refetch runs at a time
// (launches that need it meanwhile wait for it and look again), and
// refetches start at least minRefetch apart: within it, an unknown kid is
// refused and, with no keys loaded (the portal was unreachable), the token
// cannot be checked. So tokens with made-up kids, valid or not, never make
// us fetch more than once per minRefetch.
func (v *Verifier) keyFor(ctx context.Context, kid string) (jwk.Key, error) {
	set, err := v.cache.Lookup(ctx, v.jwksURL)
	if err == nil {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	v.mu.Lock()
	if wait := v.refetching; wait != nil {
		v.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		set, err = v.cache.Lookup(ctx, v.jwksURL)
		return v.pick(set, err, kid)
	}
	if v.now().Sub(v.lastRefetch) < minRefetch {
		v.mu.Unlock()
		return v.pick(set, err, kid)
	}
	done := make(chan struct{})
	v.lastRefetch, v.refetching = v.now(), done
	v.mu.Unlock()
	set, err = v.cache.Refresh(ctx, v.jwksURL)
	v.mu.Lock()
	v.refetching = nil
	close(done)
	v.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("fetch the portal's keys (%s): %w", v.jwksURL, err)
	}
	return v.pick(set, nil, kid)
}

// pick returns key kid of set, which a lookup without a refetch returned
// (with lookupErr when no keys are loaded).
func (v *Verifier) pick(set jwk.Set, lookupErr error, kid string) (jwk.Key, error) {
	if lookupErr != nil {
		return nil, fmt.Errorf("the portal's keys (%s) are not loaded and were fetched less than %v ago: %w", v.jwksURL, minRefetch, lookupErr)
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, refuse("token_invalid", fmt.Errorf("unknown key id %q", kid))
}

// Verify checks token's signature, algorithm, issuer, times, and that its
// audience is ours (audience: our client_id). A *TokenError means the token
// is bad; any other error means we could not check it (the portal's JWKS
// was unreachable).
func (v *Verifier) Verify(ctx context.Context, token, audience string) (*Claims, error) {
	if token == "" || len(token) > MaxTokenLength {
		return nil, refuse("token_invalid", errors.New("empty or oversized token"))
	}
	// Read the header WITHOUT trusting it, to pick the key. The algorithm
	// is fixed: never let the token choose it ("alg": "none", HS256 with
	// the public key as secret, …).
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		return nil, refuse("token_invalid", fmt.Errorf("not a JWS: %w", err))
	}
	if len(msg.Signatures()) != 1 {
		return nil, refuse("token_invalid", errors.New("not exactly one signature"))
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	if alg, ok := hdr.Algorithm(); !ok || alg.String() != jwa.EdDSA().String() {
		return nil, refuse("token_invalid", errors.New("algorithm is not EdDSA"))
	}
	kid, ok := hdr.KeyID()
	if !ok || kid == "" {
		return nil, refuse("token_invalid", errors.New("no key id"))
	}
	key, err := v.keyFor(ctx, kid)
	if err != nil {
		return nil, err
	}
	tok, err := jwt.Parse([]byte(token),
		jwt.WithKey(jwa.EdDSA(), key), // signature with exactly this key and algorithm
		jwt.WithIssuer(v.issuer),      // the portal we trust
		jwt.WithAudience(audience),    // this plugin's client_id: a token for another plugin is refused
		jwt.WithAcceptableSkew(Leeway),
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithRequiredClaim("exp"),
		jwt.WithRequiredClaim("nbf"),
		jwt.WithRequiredClaim("sub"),
		jwt.WithRequiredClaim("jti"),
		jwt.WithTypedClaim("portico", PorticoClaims{}),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.TokenExpiredError()):
		return nil, refuse("token_expired", err)
	case errors.Is(err, jwt.InvalidAudienceError()):
		return nil, refuse("wrong_audience", err)
	default:
		return nil, refuse("token_invalid", err)
	}
	c := &Claims{}
	c.Subject, _ = tok.Subject()
	c.JTI, _ = tok.JwtID()
	c.Expires, _ = tok.Expiration()
	if err := tok.Get("portico", &c.Portico); err != nil {
		return nil, refuse("token_invalid", fmt.Errorf("portico claim: %w", err))
	}
	return c, nil
}
