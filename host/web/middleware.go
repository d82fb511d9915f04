package web

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
)

// ErrUnknownHost is answered with a plain 404 that names no tenant.
var ErrUnknownHost = Fail(fiber.StatusNotFound, "unknown_host")

// ResolveTenant finds the tenant from the Host header. An unknown or
// malformed host is a 404 that reveals nothing about any tenant.
func (e *Env) ResolveTenant() fiber.Handler {
	return func(c *fiber.Ctx) error {
		host, ok := model.NormalizeHost(c.Hostname())
		if !ok {
			return ErrUnknownHost
		}
		t, err := e.Registry.TenantByHost(c.UserContext(), host)
		if errors.Is(err, model.ErrNotFound) {
			return ErrUnknownHost
		}
		if err != nil {
			return err
		}
		c.Locals(keyTenant, t)
		return c.Next()
	}
}

// LoadSession attaches the session and user named by the session cookie,
// when there is a live one. It never rejects a request by itself.
func (e *Env) LoadSession() fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := c.Cookies(SessionCookie)
		t := Tenant(c)
		if token == "" || t == nil || len(token) > 128 {
			return c.Next()
		}
		sess, u, err := e.Store.SessionUser(c.UserContext(), t.ID, auth.HashToken(token))
		if errors.Is(err, model.ErrNotFound) {
			e.clearSessionCookie(c)
			return c.Next()
		}
		if err != nil {
			return err
		}
		now := e.Store.Now()
		if now.Sub(sess.LastSeenAt) > touchEvery {
			expires := minTime(now.Add(SessionIdle), sess.CreatedAt.Add(SessionAbsolute))
			if err := e.Store.TouchSession(c.UserContext(), t.ID, sess.ID, now, expires); err != nil {
				e.Log.Warn("touch session", "tenant", t.Slug, "err", err)
			}
		}
		c.Locals(keySession, sess)
		c.Locals(keyUser, u)
		return c.Next()
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Localize picks the request's language: the logged-in user's choice, then
// the language cookie, then Accept-Language, then the tenant's default.
func (e *Env) Localize() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(keyLocalizer, e.Catalog.Localizer(e.PickLocale(c)))
		return c.Next()
	}
}

// PickLocale applies Localize's order of preference to one request.
func (e *Env) PickLocale(c *fiber.Ctx) string {
	if u := User(c); u != nil && model.ValidLocale(u.Locale) {
		return u.Locale
	}
	if v := c.Cookies(LocaleCookie); model.ValidLocale(v) {
		return v
	}
	if m := e.Catalog.Match(c.Get(fiber.HeaderAcceptLanguage)); m != "" {
		return m
	}
	if t := Tenant(c); t != nil && model.ValidLocale(t.DefaultLocale) {
		return t.DefaultLocale
	}
	return model.SupportedLocales[0]
}

// EnsureLocalizer sets a localizer from Accept-Language when the request
// failed before Localize ran (e.g. an unknown host or an oversized body).
func (e *Env) EnsureLocalizer(c *fiber.Ctx) {
	if L(c) == nil {
		c.Locals(keyLocalizer, e.Catalog.Localizer(e.PickLocale(c)))
	}
}

func unsafeMethod(m string) bool {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// SameOrigin refuses state-changing requests that a browser marks as sent
// from another site. Browsers send Origin on every cross-origin POST, PUT,
// PATCH and DELETE; clients without Origin (curl, mobile apps) are not
// browsers and carry no ambient cookies worth forging.
func (e *Env) SameOrigin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !unsafeMethod(c.Method()) {
			return c.Next()
		}
		if c.Get("Sec-Fetch-Site") == "cross-site" {
			return Fail(fiber.StatusForbidden, "cross_origin")
		}
		if origin := c.Get(fiber.HeaderOrigin); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || !strings.EqualFold(u.Host, string(c.Request().Host())) {
				return Fail(fiber.StatusForbidden, "cross_origin")
			}
		}
		return c.Next()
	}
}

// CSRFToken returns the token forms must echo in _csrf: the session's
// synchronizer token when logged in, else a random token in a cookie
// (double submit) that protects the login form.
func (e *Env) CSRFToken(c *fiber.Ctx) string {
	if s := Session(c); s != nil {
		return s.CSRFToken
	}
	if v := c.Cookies(CSRFCookie); len(v) == 43 {
		return v
	}
	v := auth.NewToken()
	c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: v, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: Secure(c)})
	c.Locals("csrf_fresh", v)
	return v
}

// CheckCSRF verifies the _csrf form field of an unsafe portal request.
func (e *Env) CheckCSRF() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !unsafeMethod(c.Method()) {
			return c.Next()
		}
		want := ""
		if s := Session(c); s != nil {
			want = s.CSRFToken
		} else {
			want = c.Cookies(CSRFCookie)
		}
		got := c.FormValue("_csrf")
		if want == "" || !auth.EqualTokens(got, want) {
			return Fail(fiber.StatusForbidden, "csrf")
		}
		return c.Next()
	}
}

// StartSession creates a session for u and sets the cookie.
func (e *Env) StartSession(c *fiber.Ctx, u *model.User) error {
	t := Tenant(c)
	token := auth.NewToken()
	now := e.Store.Now()
	sess := &model.Session{
		ID:         auth.HashToken(token),
		UserID:     u.ID,
		CSRFToken:  auth.NewToken(),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(SessionIdle),
	}
	if rs := u.PortalRoles(); len(rs) > 0 {
		sess.Role = rs[0]
	}
	if err := e.Store.CreateSession(c.UserContext(), t.ID, sess); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: Secure(c),
	})
	c.Locals(keySession, sess)
	c.Locals(keyUser, u)
	return nil
}

// EndSession deletes the current session, if any, and clears the cookie.
func (e *Env) EndSession(c *fiber.Ctx) error {
	if s := Session(c); s != nil {
		if err := e.Store.DeleteSession(c.UserContext(), s.TenantID, s.ID); err != nil {
			return err
		}
	}
	e.clearSessionCookie(c)
	return nil
}

func (e *Env) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", HTTPOnly: true, MaxAge: -1,
		Expires: time.Unix(0, 0), SameSite: fiber.CookieSameSiteLaxMode, Secure: Secure(c)})
}

// Login checks credentials with the login throttle. It returns the user, or
// a Problem: 401 invalid_credentials or 429 rate_limited.
func (e *Env) Login(ctx context.Context, c *fiber.Ctx, email, password string) (*model.User, error) {
	t := Tenant(c)
	ipKey := t.ID + "|ip|" + c.IP()
	norm, normErr := model.NormalizeEmail(email)
	acctKey := t.ID + "|acct|" + norm
	for _, k := range []struct {
		th  *auth.Throttle
		key string
	}{{e.IPThrottle, ipKey}, {e.AccountThrottle, acctKey}} {
		if wait, blocked := k.th.Blocked(k.key); blocked {
			p := Fail(fiber.StatusTooManyRequests, "rate_limited")
			p.RetryAfter = int(wait.Round(time.Second)/time.Second) + 1
			return nil, p
		}
	}
	var u *model.User
	hash := ""
	if normErr == nil {
		found, err := e.Store.UserByEmail(ctx, t.ID, norm)
		switch {
		case err == nil && found.Active:
			u, hash = found, found.PasswordHash
		case err != nil && !errors.Is(err, model.ErrNotFound):
			return nil, err
		}
	}
	// Verify even when no user matched, against a dummy hash, so timing does
	// not reveal which accounts exist.
	if err := auth.VerifyPassword(ctx, hash, password); err != nil || u == nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e.IPThrottle.Fail(ipKey)
		if normErr == nil {
			e.AccountThrottle.Fail(acctKey)
		}
		e.Log.Info("login failed", "tenant", t.Slug, "client_ip", c.IP())
		return nil, Fail(fiber.StatusUnauthorized, "invalid_credentials")
	}
	e.AccountThrottle.Reset(acctKey)
	return u, nil
}
