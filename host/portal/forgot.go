package portal

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
)

// Self-service password reset limits.
const (
	// ForgotLinkTTL is how long an e-mailed reset link works (a link a
	// gestor creates in the admin works 24 hours).
	ForgotLinkTTL = time.Hour
	// ForgotPerIP and ForgotPerEmail bound the requests of one client
	// address and for one account in ForgotWindow; beyond them the page
	// answers 429 whether or not the account exists.
	ForgotPerIP    = 10
	ForgotPerEmail = 3
	ForgotWindow   = time.Hour
)

// showForgot renders the "forgot my password" form (only when mail is
// configured).
func (p *Portal) showForgot(c *fiber.Ctx) error {
	if p.mailer == nil {
		return web.Fail(fiber.StatusNotFound, "not_found")
	}
	if web.User(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return p.render(c, fiber.StatusOK, "forgot", p.newView(c, "forgot.title"))
}

// submitForgot e-mails a one-time reset link to the address, if it is an
// active account of this tenant. The answer is the same page whether or
// not it is, and comes before the mail is sent (in the background), so
// neither the words nor the time tell who has an account. Requests are
// throttled per client address and per address asked for.
func (p *Portal) submitForgot(c *fiber.Ctx) error {
	if p.mailer == nil {
		return web.Fail(fiber.StatusNotFound, "not_found")
	}
	t := web.Tenant(c)
	v := p.newView(c, "forgot.title")
	email, err := model.NormalizeEmail(strings.TrimSpace(c.FormValue("email")))
	if err != nil {
		v.Email = truncate(c.FormValue("email"), model.MaxEmailLength)
		v.Problem = v.L.T("forgot.invalid_email")
		return p.render(c, fiber.StatusUnprocessableEntity, "forgot", v)
	}
	ipKey, emailKey := p.env.LoginIPKey(c), t.ID+"|"+email
	for _, th := range []struct {
		t   *auth.Throttle
		key string
	}{{p.forgotIP, ipKey}, {p.forgotEmail, emailKey}} {
		if wait, blocked := th.t.Blocked(th.key); blocked {
			v.Email = email
			v.Problem = v.L.T("forgot.rate_limited", "Count", int(wait.Minutes())+1)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
			return p.render(c, fiber.StatusTooManyRequests, "forgot", v)
		}
	}
	p.forgotIP.Fail(ipKey)
	p.forgotEmail.Fail(emailKey)
	u, err := p.env.Store.UserByEmail(c.UserContext(), t.ID, email)
	if err == nil && u.Active {
		l := v.L // the page's language, unless the account has its own
		if u.Locale != "" && p.env.Catalog != nil {
			l = p.env.Catalog.Localizer(u.Locale)
		}
		// Everything the mail needs is read from the request now: the
		// request's context and buffers are reused once it is answered.
		ctx, origin := context.WithoutCancel(c.UserContext()), web.Origin(c)
		p.background.Add(1)
		go func() {
			defer p.background.Done()
			p.sendResetLink(ctx, t, u, origin, l)
		}()
	}
	v.Sent = true
	return p.render(c, fiber.StatusOK, "forgot", v)
}

// sendResetLink creates the reset token and mails the link; failures are
// logged (the person was already told to check their mail).
func (p *Portal) sendResetLink(ctx context.Context, t *model.Tenant, u *model.User, base string, l *i18n.Localizer) {
	token := auth.NewToken()
	err := p.env.Store.CreatePasswordReset(ctx, t.ID, u.ID, auth.HashToken(token), ForgotLinkTTL, model.SystemActor("forgot-password"))
	if err == nil {
		err = p.mailer.Send(ctx, mail.Message{
			To:      u.Email,
			Subject: l.T("forgot.mail_subject", "Brand", t.BrandName),
			Text: l.T("forgot.mail_body", "Name", u.Name, "Brand", t.BrandName, "Link", base+"/reset/"+token,
				"Minutes", int(ForgotLinkTTL/time.Minute)),
		})
	}
	if err != nil {
		p.env.Log.Error("send password reset link", "tenant", t.Slug, "user_id", u.ID, "err", err)
		return
	}
	p.env.Log.Info("password reset link sent", "tenant", t.Slug, "user_id", u.ID)
}
