package model

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// PortalSession is a one-click entry into the portal that a company's own
// site or app creates for a customer it has already authenticated (POST
// /api/v1/portal/sessions). Its auth_url carries a random token that the
// database keeps only as a SHA-256 (TokenHash); opening the URL once, before
// ExpiresAt, starts an ordinary portal login (LoginSessionID).
type PortalSession struct {
	ID        string `gorm:"primaryKey"` // "ps_…", the public identifier
	TenantID  string
	APIKeyID  string // the key that created it
	UserID    string
	TokenHash string
	ReturnURL string // where "Sair" goes; "" for the tenant's default
	Forward   string // a Forward value; "" for the portal home
	Locale    string // overrides the customer's language for the login; "" none
	Embed     bool   // the login was opened inside a frame (cookie-free)
	CreatedAt time.Time
	ExpiresAt time.Time // the auth_url's end
	OpenedAt  *time.Time
	OpenIP    string
	// LoginSessionID is the model.Session ID the open created.
	LoginSessionID string
	LoggedOutAt    *time.Time
}

// Portal session statuses, as the API reports them (PortalSessionStatus).
const (
	PortalSessionCreated   = "created"    // not opened yet, not expired
	PortalSessionLoggedIn  = "logged_in"  // opened; its login is live
	PortalSessionLoggedOut = "logged_out" // opened; its login was ended (API logout or "Sair")
	PortalSessionExpired   = "expired"    // never opened in time, or its login timed out
)

// Status returns the portal session's status at now; loginLive says
// whether the login session it created still exists unexpired.
func (p *PortalSession) Status(now time.Time, loginLive bool) string {
	switch {
	case p.LoggedOutAt != nil:
		return PortalSessionLoggedOut
	case p.OpenedAt == nil && now.Before(p.ExpiresAt):
		return PortalSessionCreated
	case p.OpenedAt == nil:
		return PortalSessionExpired
	case loginLive:
		return PortalSessionLoggedIn
	}
	return PortalSessionExpired
}

// Portal link lifetimes: how long an auth_url may be opened (the tenant's
// PortalLinkMinutes).
const (
	DefaultPortalLinkMinutes = 30
	MinPortalLinkMinutes     = 1
	MaxPortalLinkMinutes     = 60
)

// Forward targets of a portal session: the page its auth_url lands on.
const (
	ForwardAddress  = "customer_update_address"
	ForwardProfile  = "customer_profile"
	ForwardInvoices = "customer_invoices" // the tenant's finance plugin
	// ForwardPluginPrefix starts "plugin:{slug}".
	ForwardPluginPrefix = "plugin:"
)

// ForwardValues lists the forward values, for error messages and docs.
var ForwardValues = []string{ForwardAddress, ForwardProfile, ForwardInvoices, ForwardPluginPrefix + "{slug}"}

// ErrBadForward is a forward value that is not one of ForwardValues.
var ErrBadForward = errors.New("unknown forward value")

// ParseForward checks a forward value. It returns the value trimmed and,
// for "plugin:{slug}", the slug; "" is the portal home.
func ParseForward(s string) (forward, slug string, err error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", ForwardAddress, ForwardProfile, ForwardInvoices:
		return s, "", nil
	}
	if rest, ok := strings.CutPrefix(s, ForwardPluginPrefix); ok && ValidSlug(rest) {
		return s, rest, nil
	}
	return "", "", ErrBadForward
}

// Return URL errors; each names what the integrator must fix.
var (
	ErrReturnURLSyntax = errors.New("return_url is not an absolute https URL")
	ErrReturnURLOrigin = errors.New("return_url's origin is not one of the tenant's allowed origins")
)

// CheckReturnURL admits a URL Portico will send a browser to (a portal
// session's return_url, the tenant's default): an absolute https URL (http
// only for localhost when allowInsecureLocal) with no credentials, no
// backslash, no space or control character and no percent-encoding in its
// authority, whose origin, after normalisation (IDNA to ASCII as browsers
// map hosts, case, the default port, a trailing dot), equals one of
// allowed exactly. A look-alike
// ("evilexample.com" for "example.com", a homograph, another port) is
// refused: no suffix or pattern is ever matched. It returns the URL in
// canonical form (NormalizeURL).
func CheckReturnURL(raw string, allowed []string, allowInsecureLocal bool) (string, error) {
	if raw == "" || len(raw) > MaxURLLength {
		return "", ErrReturnURLSyntax
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return "", ErrReturnURLSyntax
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") {
		return "", ErrReturnURLSyntax
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if authority == "" || strings.ContainsAny(authority, "%@") {
		return "", ErrReturnURLSyntax
	}
	if host, port, _ := strings.Cut(authority, ":"); strings.HasSuffix(host, ".") && !strings.HasSuffix(host, "..") {
		// A fully qualified name's trailing dot names the same host.
		fixed := strings.TrimSuffix(host, ".")
		if port != "" || strings.HasSuffix(authority, ":") {
			fixed += ":" + port
		}
		raw = scheme + "://" + fixed + rest[len(authority):]
	}
	canon, err := NormalizeURL(raw, allowInsecureLocal)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrReturnURLSyntax, err)
	}
	origin, err := OriginOf(canon, allowInsecureLocal)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrReturnURLSyntax, err)
	}
	for _, a := range allowed {
		if n, err := NormalizeOrigin(a, allowInsecureLocal); err == nil && n == origin {
			return canon, nil
		}
	}
	return "", ErrReturnURLOrigin
}
