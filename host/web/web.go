// Package web is the HTTP edge shared by the portal pages and the JSON API:
// tenant resolution from the Host header, sessions, language choice, CSRF
// and origin checks, security headers, and the one error shape.
//
// Handlers read what the middleware resolved through the accessors here
// (Tenant, User, Session, L); nothing below this package knows about Fiber.
package web

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
	"github.com/portico-dev/portico/internal/storage"
)

// Env is what the HTTP layer needs from the rest of the process.
type Env struct {
	Config   *config.Config
	Store    *storage.Store
	Registry *registry.Registry
	Catalog  *i18n.Catalog
	Log      *slog.Logger
	// AccountThrottle limits failed logins per tenant and e-mail, and
	// IPThrottle per tenant and client address (LoginIPKey): shared by
	// every node through the database (storage.Throttle) in a server,
	// auth.Local in tests that build an Env by hand.
	AccountThrottle auth.Limiter
	IPThrottle      auth.Limiter
	// NetThrottle limits failed logins per tenant and IPv6 /48
	// (LoginNetKey), above IPThrottle's /64: a /48 holds 65,536 /64s,
	// each with a budget of its own. nil: none (tests).
	NetThrottle auth.Limiter
	// LoginGate bounds the password verifications running and waiting at
	// once, per client and in all (auth.Gate); nil: unbounded (tests).
	LoginGate *auth.Gate
	// Proxies are the trusted proxies (PORTICO_TRUSTED_PROXIES, see
	// ParseProxies) whose X-Forwarded-For entries ClientIP walks.
	Proxies []netip.Prefix
}

// Session cookie and lifetime settings. Over https the session and CSRF
// cookies carry the __Host- prefix (CookieName).
const (
	SessionCookie   = "portico_session"
	CSRFCookie      = "portico_csrf"
	LocaleCookie    = "portico_lang"
	SessionIdle     = 2 * time.Hour
	SessionAbsolute = 12 * time.Hour
	// touchEvery is how stale last_seen_at may get before a request slides
	// the idle expiry forward; it keeps reads from turning into writes.
	touchEvery = time.Minute
)

type localsKey int

const (
	keyTenant localsKey = iota
	keySession
	keyUser
	keyLocalizer
	keyGestorWithheld
	keySessionEnded
)

// Tenant returns the tenant resolved from the Host header. Every route
// behind ResolveTenant has one.
func Tenant(c *fiber.Ctx) *model.Tenant {
	t, _ := c.Locals(keyTenant).(*model.Tenant)
	return t
}

// User returns the logged-in user, or nil.
func User(c *fiber.Ctx) *model.User {
	u, _ := c.Locals(keyUser).(*model.User)
	return u
}

// Session returns the current session, or nil.
func Session(c *fiber.Ctx) *model.Session {
	s, _ := c.Locals(keySession).(*model.Session)
	return s
}

// SessionEnded reports whether the request presented a session cookie
// that names no live session any more (it expired, or ended by a logout
// or a password change elsewhere): LoadSession then clears the cookie.
// A request without one (a first visit) never has an ended session.
func SessionEnded(c *fiber.Ctx) bool {
	return c.Locals(keySessionEnded) == true
}

// StaffAccess says whether the request's login may open the gestores'
// pages and the admin (the UI, the panel, the admin API by session): ""
// when it may, else the refusal's code: gestor_only for someone who is
// not a gestor, staff_password_login for a gestor whose login a portal
// session started (see LoginUser).
func StaffAccess(c *fiber.Ctx) string {
	return StaffRefusal(User(c), c.Locals(keyGestorWithheld) == true)
}

// StaffRefusal is StaffAccess for a login's user u (as LoginUser returns
// it) and whether LoginUser withheld the gestor role.
func StaffRefusal(u *model.User, withheld bool) string {
	switch {
	case u != nil && u.HasRole(model.RoleGestor):
		return ""
	case withheld:
		return "staff_password_login"
	}
	return "gestor_only"
}

// LoginUser returns the user a login of session sess acts as: u, or,
// for a login a portal session started (a customer's one-click link from
// the company's site, or an embedded login framed there), a copy of u
// without the gestor role, and whether it withheld it. Such a login was
// made for a customer's pages; a customer made gestor later logs in with
// their password to reach the staff's. Withholding the role where the
// login is loaded, rather than checking at each staff entry point, keeps
// every place that asks for the role (the admin, the panel and its
// plugins, the menus, launch tokens) in step.
func LoginUser(sess *model.Session, u *model.User) (*model.User, bool) {
	if (sess.PortalSessionID == "" && !sess.Embedded) || !u.HasRole(model.RoleGestor) {
		return u, false
	}
	cp := *u
	cp.Roles = slices.DeleteFunc(slices.Clone(u.Roles), func(r model.Role) bool { return r == model.RoleGestor })
	return &cp, true
}

// L returns the request's localizer.
func L(c *fiber.Ctx) *i18n.Localizer {
	l, _ := c.Locals(keyLocalizer).(*i18n.Localizer)
	return l
}

// SetLocalizer makes l the request's language, for a page that knows
// better than the request (the customer of a portal session's link).
func SetLocalizer(c *fiber.Ctx, l *i18n.Localizer) { c.Locals(keyLocalizer, l) }

// IsAPI reports whether the request is for the JSON API or for a
// /.well-known document (the JWKS): both answer errors as JSON. The raw request
// URI counts too: a request refused before routing (a malformed Host can
// leave Fiber's parsed path empty) still gets the API's error shape.
func IsAPI(c *fiber.Ctx) bool {
	for _, prefix := range []string{"/api/", "/.well-known/"} {
		if strings.HasPrefix(c.Path(), prefix) || strings.HasPrefix(string(c.Request().Header.RequestURI()), prefix) {
			return true
		}
	}
	return false
}

// HostCookiePrefix marks a cookie the browser accepts only when it is
// Secure, has Path=/ and no Domain: one that no sibling subdomain can set
// or overwrite.
const HostCookiePrefix = "__Host-"

// CookieName is the name cookie name has on this request: over https
// (Secure) it carries HostCookiePrefix, so that a page on another host of
// the same site (the company's www with an XSS, an app on a sibling
// subdomain) cannot plant its own session cookie with Domain=.parent and
// a longer Path, which the browser would send first and log the customer
// in as the planter (a login CSRF). Plain http, as in the demo, cannot
// use the prefix and keeps the bare name; a node moved to https drops its
// old bare-named logins once.
func CookieName(c *fiber.Ctx, name string) string {
	if Secure(c) {
		return HostCookiePrefix + name
	}
	return name
}

// Secure reports whether the request reached us over https (directly or
// through a trusted proxy).
func Secure(c *fiber.Ctx) bool { return c.Protocol() == "https" }

// Origin is the portal's origin as this request reached it
// (scheme://host[:port], the host lowercased): the launch token's issuer
// and the base of every absolute link Portico hands out (mailed reset
// links, portal sessions' auth_url, redirects). The host is the Host
// header's, which named one of the tenant's hostnames (ResolveTenant), so
// it cannot point elsewhere; it is never the host of an absolute-form
// request target, which fasthttp's Request.Host prefers (and which
// OriginFormOnly refuses anyway). It is never X-Forwarded-Host, which Fiber's
// Hostname and BaseURL believe from a trusted proxy: proxies pass a
// client's X-Forwarded-Host on unchanged unless told otherwise, and a
// reset link mailed to a victim would then lead to the attacker's site.
// Only the scheme is taken from a trusted proxy (X-Forwarded-Proto, see
// Secure).
func Origin(c *fiber.Ctx) string {
	return c.Protocol() + "://" + strings.ToLower(HostHeader(c))
}

// LinkOrigin is the origin of a link handed to someone other than the
// requester (a mailed reset link, one a gestor passes on): Origin, except
// that the Host header's port is kept only when it is the port the
// connection reached and the connection is not a trusted proxy's (a
// request straight to the listener, as in development); any other port is
// dropped, leaving the scheme's default, where a proxy in front serves.
// The tenant is found by the host name alone, so otherwise `Host:
// portal.example:6666` would have a customer's reset link mailed pointing
// at a port of the requester's choosing. A
// proxy serving on a non-default public port must therefore pass the Host
// without its port (nginx's $host, not $http_host): its mailed links then
// use the default port.
func LinkOrigin(c *fiber.Ctx) string {
	host := strings.ToLower(HostHeader(c))
	if name, port, err := net.SplitHostPort(host); err == nil {
		local := ""
		if a, ok := c.Context().LocalAddr().(*net.TCPAddr); ok && !c.IsProxyTrusted() {
			local = strconv.Itoa(a.Port)
		}
		if port != local {
			host = name
			if strings.Contains(name, ":") {
				host = "[" + name + "]"
			}
		}
	}
	return c.Protocol() + "://" + host
}

// HostHeader is the request's Host header as sent (host[:port]): the one
// ResolveTenant checked.
func HostHeader(c *fiber.Ctx) string { return string(c.Request().Header.Host()) }

// ActiveRole returns the portal role the user is browsing as: the session's
// choice when the user still holds it, else the first portal role held.
func ActiveRole(c *fiber.Ctx) model.Role {
	u := User(c)
	if u == nil {
		return ""
	}
	if s := Session(c); s != nil && s.Role.IsPortalRole() && u.HasRole(s.Role) {
		return s.Role
	}
	if rs := u.PortalRoles(); len(rs) > 0 {
		return rs[0]
	}
	return ""
}

// OpenablePlugin returns the plugin slug of the current tenant when the
// current user may open it. A malformed slug, an unknown plugin and one the
// user may not see all answer the same 404 "plugin_not_found", so guessing
// slugs reveals nothing.
func (e *Env) OpenablePlugin(c *fiber.Ctx, slug string) (*model.Plugin, error) {
	if !model.ValidSlug(slug) {
		return nil, Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	p, err := e.Registry.Plugin(c.UserContext(), Tenant(c).ID, slug, User(c))
	if errors.Is(err, model.ErrNotFound) || errors.Is(err, registry.ErrHidden) {
		return nil, Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}
