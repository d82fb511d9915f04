package launch

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
)

// Claims is the payload of a launch token.
type Claims struct {
	Issuer    string        `json:"iss"` // the tenant's portal origin
	Audience  string        `json:"aud"` // the plugin's client_id
	Subject   string        `json:"sub"` // the user's opaque, stable subject for this plugin (pairwise)
	IssuedAt  int64         `json:"iat"`
	NotBefore int64         `json:"nbf"`
	Expires   int64         `json:"exp"`
	ID        string        `json:"jti"` // 128 random bits; exchanged at most once
	Portico   PorticoClaims `json:"portico"`
}

// PorticoClaims is the launch context: which tenant and plugin, and as
// which role and in which language the user opened it.
type PorticoClaims struct {
	Tenant string `json:"tenant"` // tenant slug
	Plugin string `json:"plugin"` // plugin slug
	Role   string `json:"role"`   // cliente, sindico or gestor
	Locale string `json:"locale"` // pt-BR, es or en
}

// MintInput is what a launch token is made of.
type MintInput struct {
	Tenant *model.Tenant
	Plugin *model.Plugin
	User   *model.User
	Role   model.Role
	Locale string
	// Issuer is the tenant's portal origin the user is on, e.g.
	// "https://portal.acme.com.br"; the exchange must be called there.
	Issuer string
}

// Mint returns a signed launch token for in. It fails with
// ErrNotLaunchable for a plugin that takes no token, an inactive plugin or
// user, or records of different tenants.
func (s *Service) Mint(ctx context.Context, in MintInput) (string, error) {
	t, p, u := in.Tenant, in.Plugin, in.User
	if t == nil || p == nil || u == nil || p.TenantID != t.ID || u.TenantID != t.ID ||
		p.Type != model.PluginIframe || p.AuthType != model.AuthToken || p.ClientID == "" || !p.Active || !u.Active ||
		!u.HasRole(in.Role) || in.Issuer == "" {
		return "", ErrNotLaunchable
	}
	k, err := s.signingKey(ctx, t.ID)
	if err != nil {
		return "", err
	}
	sub, err := s.subject(ctx, t.ID, p.ID, u.ID)
	if err != nil {
		return "", err
	}
	now := s.now().Unix()
	c := Claims{Issuer: in.Issuer, Audience: p.ClientID, Subject: sub, IssuedAt: now, NotBefore: now,
		Expires: now + int64(ttlOf(p)/time.Second), ID: newJTI(),
		Portico: PorticoClaims{Tenant: t.Slug, Plugin: p.Slug, Role: string(in.Role), Locale: in.Locale}}
	return sign(k, &c), nil
}

// sign encodes c as a compact JWS with k's header. The claims are encoded
// on the stack (appendClaims), so the token is the only allocation.
func sign(k *key, c *Claims) string {
	var scratch [768]byte
	payload := appendClaims(scratch[:0], c)
	enc := base64.RawURLEncoding
	var out [1536]byte
	buf := out[:0]
	buf = append(buf, k.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig := ed25519.Sign(k.priv, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf)
}

// header is the JOSE header Portico accepts: exactly these members.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ,omitempty"`
}

// strictEncoding is the only spelling of a token segment Portico accepts:
// base64url without padding, unused trailing bits zero (RFC 7515 §2).
var strictEncoding = base64.RawURLEncoding.Strict()

// strictDecode decodes one segment of a compact token in its only spelling.
func strictDecode(seg string) ([]byte, error) {
	if strings.ContainsRune(seg, '=') {
		return nil, errors.New("base64 padding is not allowed")
	}
	// Strict still skips CR and LF; re-encoding catches them.
	b, err := strictEncoding.DecodeString(seg)
	if err != nil || strictEncoding.EncodeToString(b) != seg {
		return nil, errors.New("not canonical base64url")
	}
	return b, nil
}

// maxHeaderLength bounds the encoded header before it is decoded.
const maxHeaderLength = 512

// compact is a compact JWS split into its parts, each decoded from its
// only accepted spelling.
type compact struct {
	header  header
	payload []byte
	sig     []byte
	// signed is the signing input: the header and payload segments as
	// they appear in the token, joined by a dot.
	signed string
}

// parseCompact decodes and checks a compact token without trusting
// anything in it: three segments, each in its only spelling, a header with
// alg exactly EdDSA, a kid, typ JWT if present and no other member (no
// crit, b64, jku, jwk, x5u…), and a signature of Ed25519's size. It does
// not verify the signature.
func parseCompact(token string) (*compact, error) {
	if len(token) == 0 || len(token) > MaxTokenLength {
		return nil, errors.New("token empty or too long")
	}
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || first == last || strings.IndexByte(token[first+1:last], '.') >= 0 {
		return nil, errors.New("not a compact JWS")
	}
	if first > maxHeaderLength {
		return nil, errors.New("header too long")
	}
	var t compact
	var err error
	raw, err := strictDecode(token[:first])
	if err != nil {
		return nil, fmt.Errorf("segment 1: %w", err)
	}
	if t.payload, err = strictDecode(token[first+1 : last]); err != nil {
		return nil, fmt.Errorf("segment 2: %w", err)
	}
	if t.sig, err = strictDecode(token[last+1:]); err != nil {
		return nil, fmt.Errorf("segment 3: %w", err)
	}
	if err := decodeStrict(raw, &t.header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	h := &t.header
	if h.Alg != Algorithm {
		return nil, fmt.Errorf("alg %q is not %s", h.Alg, Algorithm)
	}
	if h.Kid == "" || len(h.Kid) > 64 {
		return nil, errors.New("missing or oversized kid")
	}
	if h.Typ != "" && h.Typ != "JWT" {
		return nil, fmt.Errorf("typ %q", h.Typ)
	}
	if len(t.sig) != ed25519.SignatureSize {
		return nil, errors.New("signature is not an Ed25519 signature")
	}
	t.signed = token[:last]
	return &t, nil
}

// decodeStrict decodes exactly one JSON object into v, refusing members v
// does not name and anything after the object.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// signedClaims is how a launch token's payload is decoded: Claims with
// every member a pointer, so that a missing claim is told from a zero one.
type signedClaims struct {
	Issuer    *string        `json:"iss"`
	Audience  *string        `json:"aud"`
	Subject   *string        `json:"sub"`
	IssuedAt  *int64         `json:"iat"`
	NotBefore *int64         `json:"nbf"`
	Expires   *int64         `json:"exp"`
	ID        *string        `json:"jti"`
	Portico   *PorticoClaims `json:"portico"`
}

// claims returns the decoded claims, or false when one is missing.
func (sc *signedClaims) claims() (*Claims, bool) {
	if sc.Issuer == nil || sc.Audience == nil || sc.Subject == nil || sc.IssuedAt == nil ||
		sc.NotBefore == nil || sc.Expires == nil || sc.ID == nil || sc.Portico == nil {
		return nil, false
	}
	return &Claims{Issuer: *sc.Issuer, Audience: *sc.Audience, Subject: *sc.Subject, IssuedAt: *sc.IssuedAt,
		NotBefore: *sc.NotBefore, Expires: *sc.Expires, ID: *sc.ID, Portico: *sc.Portico}, true
}

// Verify checks token offline, as an integrator's own verifier would, and
// returns its claims: the signature by one of tenantID's published keys,
// iss equal to issuer, aud equal to audience, exp and nbf within Leeway,
// and every claim present. It does not consume the token. Failures are
// *Error with CodeTokenExpired, CodeWrongAudience or CodeTokenInvalid.
//
// The token format is Portico's own (one algorithm, one header shape, the
// claims of Claims and nothing else), so it is checked here directly with
// crypto/ed25519 rather than through a general JOSE library: the strict
// parse already refuses everything such a library would have to decide
// about (alg, crit, embedded keys, lenient base64), and the exchange's CPU
// is then the signature check itself (docs/benchmarks.md). Integrators
// verify the same tokens with any JOSE library and the published JWKS;
// the tests do so with jwx and PyJWT.
func (s *Service) Verify(ctx context.Context, tenantID, issuer, audience, token string) (*Claims, error) {
	t, err := parseCompact(token)
	if err != nil {
		return nil, fail(CodeTokenInvalid, err.Error())
	}
	r, err := s.ring(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	k := r.verifier(t.header.Kid, now)
	if k == nil && now.Sub(r.loaded) >= time.Second {
		// Another process may have created the tenant's first key since we
		// loaded; look again, at most once a second per tenant.
		if r, err = s.reload(ctx, tenantID); err != nil {
			return nil, err
		}
		k = r.verifier(t.header.Kid, now)
	}
	if k == nil {
		return nil, fail(CodeTokenInvalid, "unknown or retired kid")
	}
	if !ed25519.Verify(k.pub, []byte(t.signed), t.sig) {
		return nil, fail(CodeTokenInvalid, "signature does not verify")
	}
	// Only signed bytes are decoded from here on, strictly: every claim
	// we act on is one the key's holder wrote.
	var sc signedClaims
	if err := decodeStrict(t.payload, &sc); err != nil {
		return nil, fail(CodeTokenInvalid, "payload: "+err.Error())
	}
	c, ok := sc.claims()
	if !ok {
		return nil, fail(CodeTokenInvalid, "a required claim is missing")
	}
	sec := now.Unix()
	lw := int64(Leeway / time.Second)
	switch {
	case c.Expires+lw <= sec:
		return nil, fail(CodeTokenExpired, "exp passed")
	case c.Audience != audience:
		return nil, fail(CodeWrongAudience, "aud is another client")
	case c.Issuer != issuer || c.NotBefore > sec+lw || c.IssuedAt > sec+lw ||
		c.Expires-c.IssuedAt > int64(MaxTTL/time.Second) || c.ID == "" || len(c.ID) > 64 || c.Subject == "" || len(c.Subject) > 64:
		return nil, fail(CodeTokenInvalid, "claims out of bounds")
	}
	return c, nil
}

// ExchangeUser is what the exchange returns: the user as the plugin is
// granted to see them. ID, Role, Locale and Tenant are always there; each
// profile field is present (possibly empty) only when the plugin holds its
// grant (model.Plugin.UserFields).
type ExchangeUser struct {
	ID       string  `json:"id"` // the token's sub
	Name     *string `json:"name,omitempty"`
	Email    *string `json:"email,omitempty"`
	Document *string `json:"document,omitempty"`
	Phone    *string `json:"phone,omitempty"`
	Role     string  `json:"role"`
	Locale   string  `json:"locale"`
	Tenant   string  `json:"tenant"` // tenant slug
}

// Limits of the client credentials the exchange reads.
const (
	MaxClientIDLength     = 128
	MaxClientSecretLength = 256
)

// Exchange redeems token for the plugin authenticated by clientID and
// clientSecret, at tenant's portal origin issuer. It succeeds at most once
// per token, across processes. Failures are *Error with one of the Code
// constants; any other error is an internal failure.
func (s *Service) Exchange(ctx context.Context, tenant *model.Tenant, issuer, clientID, clientSecret, token string) (*ExchangeUser, error) {
	if clientID == "" || clientSecret == "" || len(clientID) > MaxClientIDLength || len(clientSecret) > MaxClientSecretLength {
		return nil, fail(CodeInvalidClient, "missing or oversized credentials")
	}
	p, err := s.store.PluginByClientID(ctx, tenant.ID, clientID)
	if errors.Is(err, model.ErrNotFound) {
		// Spend the same hashing time as for a known client.
		_ = auth.HashToken(clientSecret)
		return nil, fail(CodeInvalidClient, "unknown client_id")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !p.ClientSecretMatches(auth.HashToken(clientSecret), now) {
		return nil, fail(CodeInvalidClient, "wrong or revoked client secret")
	}
	if !p.Active || p.AuthType != model.AuthToken || p.Type != model.PluginIframe {
		return nil, fail(CodeInvalidClient, "plugin inactive or not token-authenticated")
	}
	c, err := s.Verify(ctx, tenant.ID, issuer, clientID, token)
	if err != nil {
		return nil, err
	}
	if c.Portico.Tenant != tenant.Slug || c.Portico.Plugin != p.Slug {
		return nil, fail(CodeTokenInvalid, "portico claims name another tenant or plugin")
	}
	ok, err := s.store.ConsumeJTI(ctx, tenant.ID, c.ID, time.Unix(c.Expires, 0).Add(Leeway+jtiMargin))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fail(CodeTokenUsed, "jti already exchanged")
	}
	s.maybeSweep(ctx)
	u, err := s.store.UserBySubject(ctx, tenant.ID, p.ID, c.Subject)
	if errors.Is(err, model.ErrNotFound) {
		return nil, fail(CodeTokenInvalid, "subject unknown")
	}
	if err != nil {
		return nil, err
	}
	role := model.Role(c.Portico.Role)
	if !u.Active || !u.HasRole(role) {
		return nil, fail(CodeTokenInvalid, "user deactivated or no longer holds the role")
	}
	out := &ExchangeUser{ID: c.Subject, Role: string(role), Locale: c.Portico.Locale, Tenant: tenant.Slug}
	grant := func(field, value string) *string {
		if !p.HasUserField(field) {
			return nil
		}
		return &value
	}
	out.Name = grant(model.UserFieldName, u.Name)
	out.Email = grant(model.UserFieldEmail, u.Email)
	out.Document = grant(model.UserFieldDocument, u.Document)
	out.Phone = grant(model.UserFieldPhone, u.Phone)
	return out, nil
}

// maybeSweep deletes expired jtis at most once per sweepEvery per process.
func (s *Service) maybeSweep(ctx context.Context) {
	now := s.now()
	last := s.lastSweep.Load()
	if now.Unix()-last < int64(sweepEvery/time.Second) || !s.lastSweep.CompareAndSwap(last, now.Unix()) {
		return
	}
	n, err := s.store.DeleteExpiredJTIs(ctx, now)
	if err != nil {
		s.log.Warn("sweep launch jtis", "err", err)
		return
	}
	if n > 0 {
		s.log.Debug("swept launch jtis", "count", n)
	}
}
