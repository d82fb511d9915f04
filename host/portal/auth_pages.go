package portal

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/internal/model"
)

// showLogin renders the login form; a logged-in user goes straight home.
func (p *Portal) showLogin(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if web.User(c) != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	v := p.newView(c, "login.title")
	v.Next, v.ForgotEnabled, v.PasswordReset, v.LoggedOut = next, p.mailer != nil, c.Query("reset") == "1", c.Query("bye") == "1"
	v.SessionEnded = web.SessionEnded(c)
	v.Here = loginHere(next)
	return renderPage(c, fiber.StatusOK, loginPage(v))
}

// submitLogin checks the form and starts a session. A failure re-renders the
// form with the e-mail kept and a message; the password is never echoed.
func (p *Portal) submitLogin(c *fiber.Ctx) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	if email == "" || password == "" {
		// The form's fields are required; a browser that sent it anyway
		// is told what is missing, not that a password was wrong (and no
		// attempt is counted or hashed).
		v := p.refusedLogin(c, email, next)
		v.Problem = web.L(c).T("login.missing")
		v.EmailInvalid, v.PasswordInvalid = email == "", password == ""
		return renderPage(c, fiber.StatusUnprocessableEntity, loginPage(v))
	}
	u, err := p.env.Login(c.UserContext(), c, email, password)
	if err != nil {
		var prob *web.Problem
		if !errors.As(err, &prob) {
			return err
		}
		v := p.refusedLogin(c, email, next)
		v.Problem = web.L(c).T("error." + prob.Code)
		// Wrong credentials are the pair's fault (which one is not told);
		// a lock-out or a busy login queue is no field's.
		v.EmailInvalid = prob.Code == "invalid_credentials"
		v.PasswordInvalid = v.EmailInvalid
		if prob.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(prob.RetryAfter))
		}
		if prob.Code == "rate_limited" {
			v.Problem = web.L(c).T("login.rate_limited", "Count", (prob.RetryAfter+59)/60)
		}
		return renderPage(c, prob.Status, loginPage(v))
	}
	if err := p.env.EndSession(c); err != nil {
		return err
	}
	if err := p.env.StartSession(c, u); err != nil {
		return err
	}
	p.env.Log.Info("login", "tenant", web.Tenant(c).Slug, "user_id", u.ID, "client_ip", p.env.ClientIP(c))
	if next == "/" && !u.Roles.Has(model.RoleCliente) && !u.Roles.Has(model.RoleSindico) && u.HasRole(model.RoleGestor) {
		next = "/gestor"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// refusedLogin is the view of the login form sent back with a problem:
// the e-mail kept, and the page it leads to after the login (next) kept
// for the form and for the language switch, which would otherwise come
// back to a bare /login (the form's POST has no query).
func (p *Portal) refusedLogin(c *fiber.Ctx, email, next string) *view {
	v := p.newView(c, "login.title")
	v.Email, v.Next, v.ForgotEnabled = clip.Bytes(email, model.MaxEmailLength), next, p.mailer != nil
	v.Here = loginHere(next)
	return v
}

// loginHere is the login page as the language switch comes back to it:
// with where the login leads (next), never with the one-time notices
// (bye, reset), which would show again in the new language.
func loginHere(next string) string {
	if next == "/" {
		return "/login"
	}
	return hereOf("/login", "next="+url.QueryEscape(next))
}

// submitLogout ends the session. A portal session's login goes back to
// the company's site (its return URL); any other to the login page, out
// of an embedded login's path.
func (p *Portal) submitLogout(c *fiber.Ctx) error {
	target := web.Origin(c) + "/login?bye=1"
	if s := web.Session(c); s != nil {
		if back := p.returnURL(c, s); back != "" {
			target = back
		}
	}
	if err := p.env.EndSession(c); err != nil {
		return err
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: an absolute path that
// is not protocol-relative ("//evil") and has no backslash or control
// character. Anything else becomes "/".
func safeNext(next string) string {
	if next == "" || len(next) > 1024 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
