// Package model holds Portico's domain types and the validation rules that
// apply to them wherever they come from (the portal, the APIs, the demo seed).
//
// The package has no dependency on storage or HTTP: it is plain data plus
// pure functions, so every rule here is unit-tested and fuzzed directly.
package model

import (
	"errors"
	"time"
)

// ErrNotFound is returned by lookups that found nothing inside the caller's
// tenant. A row that exists in another tenant is reported the same way.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write collides with an existing row, such as
// a duplicate e-mail or plugin slug inside one tenant.
var ErrConflict = errors.New("conflict")

// Tenant is a company running its own portal (an incorporadora, for example).
// Every other row in Portico belongs to exactly one tenant.
type Tenant struct {
	ID             string     `gorm:"primaryKey"`
	Slug           string     // URL-safe identifier used by the CLI and the APIs.
	Name           string     // The company's legal or display name.
	DefaultLocale  string     // One of SupportedLocales; the portal's fallback language.
	BrandName      string     // The name shown in the portal header.
	LogoURL        string     // An https URL or a path under the portal; empty for none.
	PrimaryColor   string     // A #rrggbb colour used by the portal theme.
	AllowedOrigins StringList `gorm:"type:text"` // Exact origins allowed to embed the portal or receive portal-session returns.
	Hostnames      []string   `gorm:"-"`         // Loaded from tenant_hosts.
	// PortalSessionMinutes is how long a login created through a portal
	// session (SSO from the company's site) lasts at most.
	PortalSessionMinutes int
	// PortalLinkMinutes is how long a portal session's auth_url may be
	// opened (MinPortalLinkMinutes to MaxPortalLinkMinutes).
	PortalLinkMinutes int
	// PortalLinkEmailLogin lets a customer whose auth_url expired or was
	// used get in with a one-time code sent to their e-mail.
	PortalLinkEmailLogin bool
	// DefaultReturnURL is where "Sair" sends a customer of a portal session
	// created without return_url; "" for the portal's login page. Its
	// origin is one of AllowedOrigins (CheckReturnURL).
	DefaultReturnURL string
	// TimeZone is the IANA name of the zone the admin shows times in
	// (DefaultTimeZone when empty); see Location.
	TimeZone  string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is a person who logs into one tenant's portal. The same e-mail in two
// tenants is two unrelated users.
type User struct {
	ID           string `gorm:"primaryKey"`
	TenantID     string
	Email        string // Normalised by NormalizeEmail: trimmed and lower-case.
	Name         string
	Document     string  // CPF (11 digits) or CNPJ (14 digits), digits only; may be empty.
	Phone        string  // E.164-like digits with an optional leading +; may be empty.
	Roles        Roles   `gorm:"type:text"`
	Locale       string  // The user's chosen language; empty means "follow the browser".
	Address      Address `gorm:"embedded;embeddedPrefix:address_"`
	PasswordHash string
	Active       bool
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// HasRole reports whether the user holds role r.
func (u *User) HasRole(r Role) bool { return u.Roles.Has(r) }

// PortalRoles returns the roles under which the user can browse the customer
// portal (cliente and síndico), in a stable order.
func (u *User) PortalRoles() []Role {
	var out []Role
	for _, r := range []Role{RoleCliente, RoleSindico} {
		if u.Roles.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Session is a server-side login session. The browser holds a random token;
// the database holds only its SHA-256 (ID), so a leaked database cannot be
// replayed as cookies.
type Session struct {
	ID        string `gorm:"primaryKey"` // hex SHA-256 of the cookie token
	TenantID  string
	UserID    string
	CSRFToken string `gorm:"column:csrf_token"`
	Role      Role   // The portal role the user is browsing as.
	// PortalSessionID names the portal session (SSO) that started this
	// login; "" for a password login.
	PortalSessionID string
	// Locale overrides the user's language for this login (a portal
	// session's locale); "" none.
	Locale string
	// ReturnURL is where "Sair" sends the browser after ending this login
	// (a portal session's); "" for the login page.
	ReturnURL string
	// Embedded marks a login that lives in a frame on the company's site:
	// its token travels in the URL path (/e/{token}/…), never in a cookie.
	Embedded   bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}
