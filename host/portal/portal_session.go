package portal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/portalsession"
	"github.com/portico-dev/portico/internal/storage"
)

// LoginCodeTTL is how long a one-time code e-mailed to a customer whose
// auth_url expired works.
const LoginCodeTTL = 10 * time.Minute

// maxLinkToken bounds the auth_url token looked up (auth.NewToken makes 43
// characters).
const maxLinkToken = 64

// linkPage is the data of portalLinkPage: the page a customer sees when
// an auth_url cannot be opened, and the one-time code forms.
type linkPage struct {
	*view
	// Reason is "expired", "used" or "unknown".
	Reason string
	// ReturnURL is the way back to the company's site; "" none.
	ReturnURL string
	// Token is the auth_url's token: it names the portal session in the
	// code forms' paths, and its possession is what the forms require
	// (they need no cookie, so they also work inside a frame).
	Token string
	// CanMail offers the one-time code by e-mail; CodeSent shows the code
	// form; MaskedEmail is where the code went.
	CanMail, CodeSent bool
	MaskedEmail       string
	Embed             bool
}

// forwardPath is the portal path a portal session's forward value lands on.
func forwardPath(forward string) string {
	switch forward {
	case model.ForwardAddress:
		return "/account/address"
	case model.ForwardProfile:
		return "/account/profile"
	case model.ForwardInvoices:
		return "/p/" + portalsession.InvoicesPlugin
	}
	if slug, ok := strings.CutPrefix(forward, model.ForwardPluginPrefix); ok && model.ValidSlug(slug) {
		return "/p/" + slug
	}
	return "/"
}

// wantsEmbed reports whether an auth_url is being opened to live in a
// frame: ?embed=1, or a browser saying the request loads a frame.
func wantsEmbed(c *fiber.Ctx) bool {
	return c.Query("embed") == "1" || c.FormValue("embed") == "1" || c.Get("Sec-Fetch-Dest") == "iframe"
}

// linkToken returns the auth_url token of the request's path, or "" when
// it cannot be one.
func linkToken(c *fiber.Ctx) string {
	t := c.Params("token")
	if t == "" || len(t) > maxLinkToken || strings.ContainsFunc(t, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return ""
	}
	return t
}

// openPortalSession: GET /portal-session/{token}, a portal session's
// auth_url. The first open before expiry starts an ordinary login (a
// cookie, or an embedded login when it opens in a frame) and lands on the
// forward page; any other open shows linkPage.
//
// A browser already logged in as another user is asked first (switchPage)
// and the link is not used: opened by that person, a link another
// customer sent them would otherwise silently swap their login for the
// sender's (login CSRF). confirmPortalSession takes the answer. Only a
// request the browser itself says loads a frame (Sec-Fetch-Dest, which a
// page cannot forge) skips the question: a frame's embedded login never
// touches the browser's own, and "?embed=1" is the link sender's to add.
func (p *Portal) openPortalSession(c *fiber.Ctx) error {
	t := web.Tenant(c)
	token := linkToken(c)
	if token == "" {
		return p.renderLink(c, nil, "unknown", "")
	}
	embed := wantsEmbed(c)
	if cur := web.User(c); cur != nil && c.Get("Sec-Fetch-Dest") != "iframe" {
		ps, err := p.env.Store.PortalSessionByToken(c.UserContext(), t.ID, auth.HashToken(token))
		now := p.env.Store.Now()
		switch {
		case err != nil && !errors.Is(err, model.ErrNotFound):
			return err
		case err == nil && ps.UserID != cur.ID && ps.OpenedAt == nil && ps.LoggedOutAt == nil && now.Before(ps.ExpiresAt):
			return p.renderSwitch(c, ps, token, cur, embed)
		}
	}
	return p.usePortalSession(c, token, embed)
}

// confirmPortalSession: POST /portal-session/{token}, the "log in with the
// other account" of switchPage (a form of the current login, so its CSRF
// token is checked): the link is used as a first open would.
func (p *Portal) confirmPortalSession(c *fiber.Ctx) error {
	token := linkToken(c)
	if token == "" {
		return p.renderLink(c, nil, "unknown", "")
	}
	return p.usePortalSession(c, token, wantsEmbed(c))
}

// switchPage asks a browser logged in as one user whether to use a link
// of another's.
type switchPage struct {
	*view
	Token, Current, Other string
	// Embed keeps an embedded opening's choice through the confirmation.
	Embed bool
}

// renderSwitch shows switchPage for portal session ps, whose customer is
// not cur; nothing is used or changed.
func (p *Portal) renderSwitch(c *fiber.Ctx, ps *model.PortalSession, token string, cur *model.User, embed bool) error {
	other, err := p.env.Store.UserByID(c.UserContext(), web.Tenant(c).ID, ps.UserID)
	if errors.Is(err, model.ErrNotFound) {
		return p.usePortalSession(c, token, embed) // it says why the link cannot be used
	}
	if err != nil {
		return err
	}
	sp := &switchPage{view: p.newView(c, "portal_link.switch_title"), Token: token, Current: cur.Name, Other: maskEmail(other.Email), Embed: embed}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return renderPage(c, fiber.StatusOK, portalSwitchPage(sp))
}

// usePortalSession uses the auth_url token: the first use before expiry
// starts the login; any other shows linkPage.
func (p *Portal) usePortalSession(c *fiber.Ctx, token string, embed bool) error {
	t := web.Tenant(c)
	sessToken, login := p.env.NewLogin(nil)
	login.Embedded = embed
	capPortalLogin(t, login)
	ps, u, err := p.env.Store.OpenPortalSession(c.UserContext(), t.ID, auth.HashToken(token), login, p.env.ClientIP(c))
	switch {
	case errors.Is(err, storage.ErrPortalLinkUsed):
		return p.renderLink(c, ps, "used", token)
	case errors.Is(err, storage.ErrPortalLinkExpired):
		return p.renderLink(c, ps, "expired", token)
	case errors.Is(err, model.ErrNotFound):
		return p.renderLink(c, nil, "unknown", "")
	case err != nil:
		return err
	}
	p.env.Log.Info("portal session opened", "tenant", t.Slug, "portal_session", ps.ID, "user_id", u.ID, "embed", embed,
		"client_ip", p.env.ClientIP(c))
	return p.enterLogin(c, sessToken, login, u, ps.Forward)
}

// enterLogin makes a login started by a portal session the browser's and
// sends it to forward's page: through the cookie, or, embedded, into the
// login's own path.
func (p *Portal) enterLogin(c *fiber.Ctx, token string, login *model.Session, u *model.User, forward string) error {
	if !login.Embedded {
		if err := p.env.EndSession(c); err != nil { // a previous login of this browser
			return err
		}
	}
	p.env.UseLogin(c, token, login, u)
	c.Set(fiber.HeaderCacheControl, "no-store")
	target := forwardPath(forward)
	if login.Embedded {
		target = web.EmbedPrefix + token + target
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// capPortalLogin ends a login a portal session starts no later than the
// tenant's portal_session_minutes after it began (web.AbsoluteEnd keeps it
// there as it is used).
func capPortalLogin(t *model.Tenant, login *model.Session) {
	if t.PortalSessionMinutes > 0 {
		login.ExpiresAt = minTime(login.ExpiresAt, login.CreatedAt.Add(time.Duration(t.PortalSessionMinutes)*time.Minute))
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// renderLink shows why an auth_url cannot be opened, in the customer's
// language (the portal session's locale, else the customer's own), with
// the way back to the company's site and, when the tenant allows it, the
// offer of a one-time code by e-mail.
func (p *Portal) renderLink(c *fiber.Ctx, ps *model.PortalSession, reason, token string) error {
	t := web.Tenant(c)
	lp := &linkPage{Reason: reason, Token: token, Embed: wantsEmbed(c)}
	var u *model.User
	if ps != nil {
		if found, err := p.env.Store.UserByID(c.UserContext(), t.ID, ps.UserID); err == nil {
			u = found
		}
		p.localizeFor(c, ps, u)
		lp.ReturnURL = web.ReturnURL(t, &model.Session{PortalSessionID: ps.ID, ReturnURL: ps.ReturnURL})
		lp.CanMail = t.PortalLinkEmailLogin && p.mailer != nil && u != nil && storage.PortalSessionUser(u) &&
			storage.CodeLoginAllowed(ps, p.env.Store.Now())
	}
	lp.view = p.newView(c, "portal_link.title_"+reason)
	status := fiber.StatusGone
	if reason == "unknown" {
		status = fiber.StatusNotFound
	}
	if lp.Embed {
		p.env.AllowFraming(c)
	}
	return renderPage(c, status, portalLinkPage(lp))
}

// localizeFor switches the request's language to the portal session's
// locale, else its customer's own.
func (p *Portal) localizeFor(c *fiber.Ctx, ps *model.PortalSession, u *model.User) {
	loc := ps.Locale
	if loc == "" && u != nil {
		loc = u.Locale
	}
	if model.ValidLocale(loc) && p.env.Catalog != nil {
		web.SetLocalizer(c, p.env.Catalog.Localizer(loc))
	}
}

// codeLink returns the portal session of the request's token and its
// customer when a one-time code may be used for it (the tenant allows it,
// mail is configured, storage.CodeLoginAllowed, an active customer); any
// other request is the same 404. It switches the page to the customer's
// language.
func (p *Portal) codeLink(c *fiber.Ctx) (string, *model.PortalSession, *model.User, error) {
	t := web.Tenant(c)
	token := linkToken(c)
	if token == "" || !t.PortalLinkEmailLogin || p.mailer == nil {
		return "", nil, nil, web.Fail(fiber.StatusNotFound, "not_found")
	}
	ps, err := p.env.Store.PortalSessionByToken(c.UserContext(), t.ID, auth.HashToken(token))
	if err != nil {
		return "", nil, nil, web.Fail(fiber.StatusNotFound, "not_found")
	}
	u, err := p.env.Store.UserByID(c.UserContext(), t.ID, ps.UserID)
	if err != nil || !storage.PortalSessionUser(u) || !storage.CodeLoginAllowed(ps, p.env.Store.Now()) {
		return "", nil, nil, web.Fail(fiber.StatusNotFound, "not_found")
	}
	p.localizeFor(c, ps, u)
	return token, ps, u, nil
}

// codePage is the page of the one-time code forms for portal session ps.
func (p *Portal) codePage(c *fiber.Ctx, token string, ps *model.PortalSession, u *model.User) *linkPage {
	lp := &linkPage{Reason: "code", Token: token, Embed: wantsEmbed(c), ReturnURL: web.ReturnURL(web.Tenant(c),
		&model.Session{PortalSessionID: ps.ID, ReturnURL: ps.ReturnURL}), MaskedEmail: maskEmail(u.Email)}
	lp.view = p.newView(c, "portal_link.title_code")
	if lp.Embed {
		p.env.AllowFraming(c)
	}
	return lp
}

// sendLoginCode: POST /portal-session/{token}/code e-mails a one-time code
// to the customer of an expired or used auth_url, when the tenant allows
// it. Knowing the token is what the request must prove (no cookie is
// needed, so it works in a frame too); the code only ever goes to the
// customer's own address.
func (p *Portal) sendLoginCode(c *fiber.Ctx) error {
	token, ps, u, err := p.codeLink(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	lp := p.codePage(c, token, ps, u)
	code, err := newCode()
	if err != nil {
		return err
	}
	err = p.env.Store.CreatePortalLoginCode(c.UserContext(), t.ID, ps.ID, codeHash(ps.ID, code), LoginCodeTTL)
	if errors.Is(err, storage.ErrTooManyCodes) {
		lp.CodeSent = true
		lp.Problem = lp.L.T("portal_link.too_many_codes")
		return renderPage(c, fiber.StatusTooManyRequests, portalLinkPage(lp))
	}
	if err != nil {
		return err
	}
	if err := p.mailCode(c, t, u, code, lp.L); err != nil {
		p.env.Log.Error("send portal login code", "tenant", t.Slug, "portal_session", ps.ID, "err", err)
		lp.CanMail = true
		lp.Problem = lp.L.T("portal_link.mail_failed")
		return renderPage(c, fiber.StatusServiceUnavailable, portalLinkPage(lp))
	}
	p.env.Log.Info("portal login code sent", "tenant", t.Slug, "portal_session", ps.ID, "user_id", u.ID)
	lp.CodeSent = true
	return renderPage(c, fiber.StatusOK, portalLinkPage(lp))
}

// mailCode sends code to u in l's language.
func (p *Portal) mailCode(c *fiber.Ctx, t *model.Tenant, u *model.User, code string, l *i18n.Localizer) error {
	return p.mailer.Send(c.UserContext(), mail.Message{
		To:      u.Email,
		Subject: l.T("portal_link.mail_subject", "Brand", t.BrandName, "Code", code),
		Text: l.T("portal_link.mail_body", "Name", u.Name, "Brand", t.BrandName, "Code", code,
			"Minutes", int(LoginCodeTTL/time.Minute)),
	})
}

// verifyLoginCode: POST /portal-session/{token}/verify logs the customer
// in with the e-mailed code and lands on the portal session's forward page.
func (p *Portal) verifyLoginCode(c *fiber.Ctx) error {
	token, ps, u, err := p.codeLink(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	sessToken, login := p.env.NewLogin(nil)
	login.Embedded = wantsEmbed(c)
	capPortalLogin(t, login)
	code := strings.Join(strings.Fields(c.FormValue("code")), "")
	in, err := p.env.Store.LoginWithPortalCode(c.UserContext(), t.ID, ps.ID, codeHash(ps.ID, code), login, p.env.ClientIP(c))
	if errors.Is(err, storage.ErrWrongCode) {
		lp := p.codePage(c, token, ps, u)
		lp.CodeSent, lp.CanMail = true, true
		lp.Problem = lp.L.T("portal_link.wrong_code")
		return renderPage(c, fiber.StatusUnprocessableEntity, portalLinkPage(lp))
	}
	if err != nil {
		return err
	}
	p.env.Log.Info("portal session code login", "tenant", t.Slug, "portal_session", ps.ID, "user_id", in.ID, "client_ip", p.env.ClientIP(c))
	return p.enterLogin(c, sessToken, login, in, ps.Forward)
}

// newCode returns a random six-digit code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("login code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeHash is what the database keeps of a code: bound to its portal
// session, so equal codes of two sessions differ.
func codeHash(psID, code string) string { return auth.HashToken(psID + ":" + code) }

// maskEmail shows enough of an address for its owner to recognise it:
// "c****@example.com".
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return "…"
	}
	r := []rune(local)
	return string(r[0]) + strings.Repeat("•", min(len(r)-1, 6)) + "@" + domain
}

// returnURL is where "Sair" sends the browser after ending login s
// (web.ReturnURL).
func (p *Portal) returnURL(c *fiber.Ctx, s *model.Session) string {
	return web.ReturnURL(web.Tenant(c), s)
}
