package portalsession

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/model"
)

// Signed links let a notification (an e-mail, an SMS) point at the
// company's own page, where the customer is logged in, instead of at the
// portal: ProAbono's "crylk". The link carries a forward value, an expiry
// and an HMAC-SHA-256 over both:
//
//	https://www.construtora.com.br/minha-conta?portico_forward=customer_invoices&portico_exp=1767225600&portico_sig=…
//
// The company's page checks the signature (LinkMessage under the tenant's
// link key, or POST /api/v1/portal/links/verify) and then creates a portal
// session with that forward for the customer it has logged in, and frames
// or opens the auth_url it got back. It never frames a URL taken from the
// request, so there is no domain to string-match and nothing to inject.

// Query parameters of a signed link.
const (
	LinkForwardParam = "portico_forward"
	LinkExpiryParam  = "portico_exp"
	LinkSigParam     = "portico_sig"
)

// Signed link lifetimes.
const (
	DefaultLinkDays = 30
	MaxLinkDays     = 365
)

// linkKeyLabel separates the link key from every other use of the
// server's secret key.
const linkKeyLabel = "portico signed links v1"

// LinkKey is tenantID's key for signed links, derived from the server's
// secret key (HMAC-SHA-256 of a label and the tenant), so every node
// computes the same key and no table holds it.
func LinkKey(secretKey []byte, tenantID string) []byte {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte(linkKeyLabel))
	m.Write([]byte{0})
	m.Write([]byte(tenantID))
	return m.Sum(nil)
}

// LinkMessage is the exact text a link's signature covers: the forward
// value, a line feed and the expiry in Unix seconds.
func LinkMessage(forward string, exp int64) string {
	return forward + "\n" + strconv.FormatInt(exp, 10)
}

// SignLink returns the signature of (forward, exp) under key: base64url
// without padding of HMAC-SHA-256(key, LinkMessage).
func SignLink(key []byte, forward string, exp int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(LinkMessage(forward, exp)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Errors of VerifyLink.
var (
	ErrLinkInvalid = errors.New("the link's signature does not match")
	ErrLinkExpired = errors.New("the link has expired")
)

// VerifyLink checks a signed link as the company's page received it (its
// full URL, or only its query string) and returns its forward value and
// expiry. A missing or altered parameter is ErrLinkInvalid; a link past
// its expiry ErrLinkExpired.
func VerifyLink(key []byte, raw string, now time.Time) (string, time.Time, error) {
	q := raw
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		q = raw[i+1:]
	}
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	vals, err := url.ParseQuery(q)
	if err != nil || len(vals[LinkForwardParam]) != 1 || len(vals[LinkExpiryParam]) != 1 || len(vals[LinkSigParam]) != 1 {
		return "", time.Time{}, ErrLinkInvalid
	}
	forward, sig := vals.Get(LinkForwardParam), vals.Get(LinkSigParam)
	exp, err := strconv.ParseInt(vals.Get(LinkExpiryParam), 10, 64)
	if err != nil || exp <= 0 {
		return "", time.Time{}, ErrLinkInvalid
	}
	if !hmac.Equal([]byte(sig), []byte(SignLink(key, forward, exp))) {
		return "", time.Time{}, ErrLinkInvalid
	}
	if _, _, err := model.ParseForward(forward); err != nil {
		return "", time.Time{}, ErrLinkInvalid
	}
	at := time.Unix(exp, 0).UTC()
	if !now.Before(at) {
		return forward, at, ErrLinkExpired
	}
	return forward, at, nil
}

// BuildLink returns pageURL (a checked return URL of the tenant) with the
// signed parameters for forward, valid until exp, appended to its query.
func BuildLink(key []byte, pageURL, forward string, exp time.Time) (string, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return "", fmt.Errorf("page url: %w", err)
	}
	q := u.Query()
	for _, p := range []string{LinkForwardParam, LinkExpiryParam, LinkSigParam} {
		q.Del(p)
	}
	q.Set(LinkForwardParam, forward)
	q.Set(LinkExpiryParam, strconv.FormatInt(exp.Unix(), 10))
	q.Set(LinkSigParam, SignLink(key, forward, exp.Unix()))
	u.RawQuery = q.Encode()
	return u.String(), nil
}
