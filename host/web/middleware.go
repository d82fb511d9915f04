package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// ResolveTenant finds the tenant from the Host header. A repeated or
// malformed Host header is a 400 (RequestHost) before any tenant is looked
// up; an unknown host is a 404 that reveals nothing about any tenant.
func (e *Env) ResolveTenant() fiber.Handler {
	return func(c *fiber.Ctx) error {
		host, ok := RequestHost(&c.Request().Header)
		if !ok {
			return ErrBadHost
		}
		if host == "" {
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
		token := c.Cookies(CookieName(c, SessionCookie))
		embedded := EmbedToken(c)
		if embedded != "" {
			token = embedded // an embedded login never reads a cookie
		}
		t := Tenant(c)
		if token == "" || t == nil {
			return c.Next()
		}
		sess, u, err := e.LiveSession(c.UserContext(), t.ID, token)
		if err == nil && sess.Embedded != (embedded != "") {
			// An embedded login's token works only in the path, a
			// cookie's only as a cookie.
			sess, u, err = nil, nil, model.ErrNotFound
		}
		if errors.Is(err, model.ErrNotFound) {
			if embedded == "" && len(token) <= maxSessionToken {
				c.Locals(keySessionEnded, true)
				e.clearSessionCookie(c)
			}
			return c.Next()
		}
		if err != nil {
			return err
		}
		if embedded != "" && topLevelPage(c) {
			// A live embedded login's path is the login itself: opened
			// in a tab of its own, a link to it would put whoever opens
			// it inside its owner's account (a login CSRF: a customer
			// sends another their /e/… link). It works in a frame only.
			// A form it posts with target=_top (logout) still works: a
			// POST needs the login's CSRF token and changes only its
			// owner's account.
			return Fail(fiber.StatusForbidden, "embed_top_level")
		}
		now := e.Store.Now()
		if now.Sub(sess.LastSeenAt) > touchEvery {
			expires := minTime(now.Add(SessionIdle), AbsoluteEnd(t, sess))
			if err := e.Store.TouchSession(c.UserContext(), t.ID, sess.ID, now, expires); err != nil {
				e.Log.Warn("touch session", "tenant", t.Slug, "err", err)
			}
		}
		setLogin(c, sess, u)
		return c.Next()
	}
}

// AbsoluteEnd is when session sess of tenant t ends however active it is:
// SessionAbsolute after it began, or sooner for a login a portal session
// started (the tenant's PortalSessionMinutes).
func AbsoluteEnd(t *model.Tenant, sess *model.Session) time.Time {
	end := sess.CreatedAt.Add(SessionAbsolute)
	if sess.PortalSessionID != "" && t.PortalSessionMinutes > 0 {
		end = minTime(end, sess.CreatedAt.Add(time.Duration(t.PortalSessionMinutes)*time.Minute))
	}
	return end
}

// maxSessionToken bounds the session cookie value looked up.
const maxSessionToken = 128

// LiveSession returns the live session, and its user, of tenantID named by
// a session cookie value; model.ErrNotFound when there is none (an empty,
// oversized, unknown or expired token).
func (e *Env) LiveSession(ctx context.Context, tenantID, token string) (*model.Session, *model.User, error) {
	if token == "" || len(token) > maxSessionToken {
		return nil, nil, model.ErrNotFound
	}
	return e.Store.SessionUser(ctx, tenantID, auth.HashToken(token))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Localize picks the request's language: the login's own (a portal
// session's locale), the logged-in user's choice, then
// the language cookie, then Accept-Language, then the tenant's default.
func (e *Env) Localize() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(keyLocalizer, e.Catalog.Localizer(e.PickLocale(c)))
		return c.Next()
	}
}

// PickLocale applies Localize's order of preference to one request.
func (e *Env) PickLocale(c *fiber.Ctx) string {
	if s := Session(c); s != nil && model.ValidLocale(s.Locale) {
		return s.Locale // a portal session's locale outranks the user's
	}
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
// browsers and carry no ambient cookies worth forging. The whole origin is
// compared (SameOriginAs): scheme, host and port.
func (e *Env) SameOrigin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !unsafeMethod(c.Method()) {
			return c.Next()
		}
		if c.Get("Sec-Fetch-Site") == "cross-site" {
			return Fail(fiber.StatusForbidden, "cross_origin")
		}
		if origin := c.Get(fiber.HeaderOrigin); origin != "" && !SameOriginAs(c, origin) {
			return Fail(fiber.StatusForbidden, "cross_origin")
		}
		return c.Next()
	}
}

// SameOriginAs reports whether origin (an Origin header) is the request's
// own origin: the scheme the request came over (https directly or, from a
// trusted proxy, by X-Forwarded-Proto; see Secure), and the Host header's
// host and port, a default port (80 for http, 443 for https) being the
// same as none. "null" and anything with a path, query or credentials are
// never our origin.
func SameOriginAs(c *fiber.Ctx, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	scheme := "http"
	if Secure(c) {
		scheme = "https"
	}
	if !strings.EqualFold(u.Scheme, scheme) {
		return false
	}
	return strings.EqualFold(withoutDefaultPort(u.Host, scheme), withoutDefaultPort(HostHeader(c), scheme))
}

// FrameSandbox is the sandbox attribute of an iframe plugin's frame whose
// content comes from pluginOrigin. The frame may run scripts, send forms,
// open pop-ups (that escape the sandbox, for a bank's or an ERP's own
// pages) and download. It keeps its own origin (allow-same-origin: its
// cookies and storage work) only when that origin is not the portal's: a
// document of the portal's own origin with both allow-scripts and
// allow-same-origin could reach into the portal page and remove its own
// sandbox, so a plugin served from the portal's origin (the demo's frames,
// or an app mounted under the portal's host) runs in an opaque origin.
// Portico's launch page, which a token plugin's frame opens first, is the
// one same-origin document a cross-origin plugin's frame holds: it is
// Portico's own (no plugin content, no inline script) and posts the token
// on at once; see docs/design-launch.md.
func FrameSandbox(c *fiber.Ctx, pluginOrigin string) string {
	const base = "allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads"
	if SameOriginAs(c, pluginOrigin) {
		return base
	}
	return base + " allow-same-origin"
}

// withoutDefaultPort drops the scheme's default port from host[:port].
func withoutDefaultPort(hostport, scheme string) string {
	def := ":80"
	if scheme == "https" {
		def = ":443"
	}
	return strings.TrimSuffix(hostport, def)
}

// preLoginCSRFLabel separates the key that signs pre-login CSRF tokens
// from every other use of the server's secret key.
const preLoginCSRFLabel = "portico pre-login csrf v1"

// CSRFToken returns the token forms must echo in _csrf: the session's
// synchronizer token when logged in; before login, a server-issued token
// in a cookie (double submit) that protects the login form. The pre-login
// token is a random nonce and its HMAC-SHA-256 under a key derived from
// PORTICO_SECRET_KEY, bound to the tenant ("nonce.mac"): a cookie the
// server did not issue for this tenant (one planted by a sibling
// subdomain, or "x") is never accepted, and every process sharing the
// secret key verifies it without shared state.
func (e *Env) CSRFToken(c *fiber.Ctx) string {
	if s := Session(c); s != nil {
		return s.CSRFToken
	}
	t := Tenant(c)
	if v := c.Cookies(CookieName(c, CSRFCookie)); e.validPreLoginToken(t, v) {
		return v
	}
	nonce := auth.NewToken()
	v := nonce + "." + e.preLoginMAC(t, nonce)
	c.Cookie(&fiber.Cookie{Name: CookieName(c, CSRFCookie), Value: v, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: Secure(c)})
	c.Locals("csrf_fresh", v)
	return v
}

// preLoginMAC signs a pre-login nonce for tenant t.
func (e *Env) preLoginMAC(t *model.Tenant, nonce string) string {
	var secretKey []byte
	if e.Config != nil {
		secretKey = e.Config.SecretKey
	}
	kdf := hmac.New(sha256.New, secretKey)
	kdf.Write([]byte(preLoginCSRFLabel))
	m := hmac.New(sha256.New, kdf.Sum(nil))
	if t != nil {
		m.Write([]byte(t.ID))
	}
	m.Write([]byte{0})
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validPreLoginToken reports whether v is a pre-login token this server
// issued for tenant t (see CSRFToken).
func (e *Env) validPreLoginToken(t *model.Tenant, v string) bool {
	nonce, mac, ok := strings.Cut(v, ".")
	if !ok || len(nonce) != 43 || len(mac) != 43 {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(e.preLoginMAC(t, nonce)))
}

// CSRFHeader is the header that may carry the CSRF token instead of the
// _csrf form field.
const CSRFHeader = "X-CSRF-Token"

// csrfSent returns the CSRF token a request carries: the X-CSRF-Token
// header, else the _csrf field of a url-encoded or multipart form body.
// Never the query string: a token in a URL ends up in logs, history and
// Referer headers.
func csrfSent(c *fiber.Ctx) string {
	if v := c.Get(CSRFHeader); v != "" {
		return v
	}
	if v := c.Request().PostArgs().Peek("_csrf"); len(v) > 0 {
		return string(v)
	}
	if strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
		if form, err := c.MultipartForm(); err == nil && len(form.Value["_csrf"]) > 0 {
			return form.Value["_csrf"][0]
		}
	}
	return ""
}

// CheckCSRF verifies the CSRF token (csrfSent) of an unsafe portal request:
// the session's token when logged in, else the pre-login cookie, which
// must be one the server issued (validPreLoginToken).
func (e *Env) CheckCSRF() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !unsafeMethod(c.Method()) {
			return c.Next()
		}
		want := ""
		if s := Session(c); s != nil {
			want = s.CSRFToken
		} else if v := c.Cookies(CookieName(c, CSRFCookie)); e.validPreLoginToken(Tenant(c), v) {
			want = v
		}
		got := csrfSent(c)
		if want == "" || !auth.EqualTokens(got, want) {
			return Fail(fiber.StatusForbidden, "csrf")
		}
		return c.Next()
	}
}

// NewLogin returns a new session's token and row for user u (nil: the
// caller's store fills UserID) starting now; the caller stores it.
func (e *Env) NewLogin(u *model.User) (string, *model.Session) {
	token := auth.NewToken()
	now := e.Store.Now()
	sess := &model.Session{
		ID:         auth.HashToken(token),
		CSRFToken:  auth.NewToken(),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(SessionIdle),
	}
	if u != nil {
		sess.UserID = u.ID
		if rs := u.PortalRoles(); len(rs) > 0 {
			sess.Role = rs[0]
		}
	}
	return token, sess
}

// UseLogin makes a stored login the request's own: it sets the session
// cookie (not for an embedded login, whose token is in its path) and the
// request's session and user.
func (e *Env) UseLogin(c *fiber.Ctx, token string, sess *model.Session, u *model.User) {
	// Never under an embedded login's path either: the cookie is ignored
	// there, and setting one would log the browser in behind its back.
	if !sess.Embedded && EmbedToken(c) == "" {
		c.Cookie(&fiber.Cookie{
			Name: CookieName(c, SessionCookie), Value: token, Path: "/", HTTPOnly: true,
			SameSite: fiber.CookieSameSiteLaxMode, Secure: Secure(c),
		})
	}
	setLogin(c, sess, u)
}

// setLogin makes sess and its user (as LoginUser says it acts) the
// request's.
func setLogin(c *fiber.Ctx, sess *model.Session, u *model.User) {
	u, withheld := LoginUser(sess, u)
	c.Locals(keySession, sess)
	c.Locals(keyUser, u)
	if withheld {
		c.Locals(keyGestorWithheld, true)
	}
}

// StartSession creates a session for u and sets the cookie.
func (e *Env) StartSession(c *fiber.Ctx, u *model.User) error {
	token, sess := e.NewLogin(u)
	if err := e.Store.CreateSession(c.UserContext(), Tenant(c).ID, sess); err != nil {
		return err
	}
	e.UseLogin(c, token, sess, u)
	return nil
}

// EndSession deletes the current session, if any, and clears the cookie;
// the end of a portal session's login is recorded on the portal session.
func (e *Env) EndSession(c *fiber.Ctx) error {
	if s := Session(c); s != nil {
		if err := e.Store.DeleteSession(c.UserContext(), s.TenantID, s.ID); err != nil {
			return err
		}
		if s.PortalSessionID != "" {
			if err := e.Store.MarkPortalSessionLoggedOut(c.UserContext(), s.TenantID, s.PortalSessionID); err != nil {
				return err
			}
		}
		if s.Embedded {
			return nil // no cookie of its own to clear
		}
	}
	e.clearSessionCookie(c)
	return nil
}

// KeepEndedSessionCookie takes back LoadSession's clearing of an ended
// session's cookie (SessionEnded) from a response that sends the browser
// to the login page: the login page then receives the cookie itself, so
// it can say that the session ended (and clears it). The cookie logs no
// one in meanwhile: it names no live session.
func KeepEndedSessionCookie(c *fiber.Ctx) {
	if SessionEnded(c) {
		c.Response().Header.DelCookie(CookieName(c, SessionCookie))
	}
}

func (e *Env) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: CookieName(c, SessionCookie), Value: "", Path: "/", HTTPOnly: true, MaxAge: -1,
		Expires: time.Unix(0, 0), SameSite: fiber.CookieSameSiteLaxMode, Secure: Secure(c)})
}

// Login checks credentials with the login throttle. It returns the user, or
// a Problem: 401 invalid_credentials, 429 rate_limited, or 503
// database_unavailable when the throttle's counters cannot be reached (the
// attempt is refused: it never goes on unthrottled).
func (e *Env) Login(ctx context.Context, c *fiber.Ctx, email, password string) (*model.User, error) {
	t := Tenant(c)
	ipKey := e.LoginIPKey(c)
	norm, normErr := model.NormalizeEmail(email)
	acctKey := t.ID + "|acct|" + norm
	// Both budgets are reserved before the password is hashed, so a
	// concurrent burst cannot pass them together, on this node or on any
	// other (the budgets live in the database); each reservation is
	// settled with the outcome. A browser where this account logged in
	// before (DeviceCookie) does not use the client address's budget.
	type budget struct {
		l      auth.Limiter
		key    string
		client bool // the client's (its address, its network), not the account's
	}
	// The account is read once: before the budgets when the request
	// carries a device cookie (it is bound to the account's password,
	// deviceValue), after them otherwise, so a refused attempt without
	// one reads nothing. Nothing is hashed before the budgets.
	var u *model.User
	hash, loaded := "", false
	load := func() error {
		if loaded || normErr != nil {
			return nil
		}
		loaded = true
		found, err := e.Store.UserByEmail(ctx, t.ID, norm)
		switch {
		case err == nil && found.Active:
			u, hash = found, found.PasswordHash
		case err != nil && !errors.Is(err, model.ErrNotFound):
			return err
		}
		return nil
	}
	if c.Cookies(DeviceCookie) != "" {
		if err := load(); err != nil {
			return nil, err
		}
	}
	budgets := []budget{{e.IPThrottle, ipKey, true}}
	if netKey, ok := e.LoginNetKey(c); ok && e.NetThrottle != nil {
		budgets = append(budgets, budget{e.NetThrottle, netKey, true})
	}
	budgets = append(budgets, budget{e.AccountThrottle, acctKey, false})
	ipExempt := u != nil && e.knownDevice(c, t.ID, norm, hash)
	if ipExempt {
		// A browser where this account logged in before has a budget of
		// its own, for the address and for the account: whoever sprays
		// the address or guesses the account's password elsewhere locks
		// neither against the account's owner.
		acctKey += "|known"
		budgets = []budget{{e.AccountThrottle, acctKey, false}}
	}
	// Settling outlives the request: a client that went away must not
	// leave its reservations holding places.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	settle := func(r *auth.Reservation, failed bool) {
		if err := r.Settle(sctx, failed); err != nil {
			e.Log.Warn("settle login throttle", "tenant", t.Slug, "err", err)
		}
	}
	type reservation struct {
		r      *auth.Reservation
		client bool
	}
	var held []reservation
	defer func() {
		for _, h := range held {
			settle(h.r, false) // anything not settled below (an error) counts nothing
		}
	}()
	for _, k := range budgets {
		r, err := k.l.Reserve(ctx, k.key)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			e.Log.Error("login throttle unavailable: login refused", "tenant", t.Slug, "client_ip", e.ClientIP(c), "err", err)
			p := Fail(fiber.StatusServiceUnavailable, "database_unavailable")
			p.RetryAfter = 5
			return nil, p
		}
		if !r.OK {
			p := Fail(fiber.StatusTooManyRequests, "rate_limited")
			p.RetryAfter = int(r.Wait.Round(time.Second)/time.Second) + 1
			return nil, p
		}
		held = append(held, reservation{r, k.client})
	}
	if err := load(); err != nil {
		return nil, err
	}
	// A bounded, fair queue in front of the hash (auth.Gate): during a
	// flood, a client that already has logins in flight, or a full queue,
	// is turned away at once instead of starving everyone else. A browser
	// known to this account has a lane of its own, not its address's, and
	// places the others cannot take. A turned-away attempt counts nothing
	// in any budget: a refusal is not a failure of the password, and
	// counting it would let a burst (or three colleagues behind one NAT
	// logging in at once) spend an address's budget without a wrong
	// password. One client holds at most two places, so a burst from one
	// address cannot hold the queue either way.
	if e.LoginGate != nil {
		lane := auth.Lane{Client: ipKey, Tenant: t.ID}
		if ipExempt {
			lane = auth.Lane{Client: acctKey, Tenant: t.ID, Known: true}
		}
		release, err := e.LoginGate.Enter(ctx, lane)
		if errors.Is(err, auth.ErrGateKey) || errors.Is(err, auth.ErrGateFull) {
			p := Fail(fiber.StatusServiceUnavailable, "login_busy")
			if errors.Is(err, auth.ErrGateKey) {
				p = Fail(fiber.StatusTooManyRequests, "login_busy")
			}
			p.RetryAfter = 2
			return nil, p
		}
		if err != nil {
			return nil, err
		}
		defer release()
	}
	// Verify even when no user matched, against a dummy hash, so timing does
	// not reveal which accounts exist.
	if err := auth.VerifyPassword(ctx, hash, password); err != nil || u == nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Every budget taken pays for the failure; a malformed address
		// names no account, so only the client's budget pays for it.
		for _, h := range held {
			settle(h.r, normErr == nil || h.client)
		}
		e.Log.Info("login failed", "tenant", t.Slug, "client_ip", e.ClientIP(c))
		return nil, Fail(fiber.StatusUnauthorized, "invalid_credentials")
	}
	// The right password clears the account's failures (the deferred
	// settlement then releases the address's place). Were that to fail,
	// the login still succeeds: the count only lasts its window.
	if err := e.AccountThrottle.Reset(sctx, acctKey); err != nil {
		e.Log.Warn("reset login throttle", "tenant", t.Slug, "user_id", u.ID, "err", err)
	}
	e.rememberDevice(c, t.ID, norm, u.PasswordHash)
	return u, nil
}
