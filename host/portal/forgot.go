package portal

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
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

// showForgot renders the "forgot my password" page: the form when mail is
// configured, else whom to ask for a reset link (renderForgot).
func (p *Portal) showForgot(c *fiber.Ctx) error {
	if web.User(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return p.renderForgot(c, fiber.StatusOK, p.newView(c, "forgot.title"))
}

// renderForgot renders the forgot page; without SMTP it says that a reset
// link is asked of the company (a gestor creates one in the admin), rather
// than offering a form whose mail would never leave.
func (p *Portal) renderForgot(c *fiber.Ctx, status int, v *view) error {
	v.ForgotEnabled = p.mailer != nil
	return renderPage(c, status, forgotPage(v))
}

// submitForgot e-mails a one-time reset link to the address, if it is an
// active account of this tenant. The answer is the same page whether or
// not it is, and comes before the mail is sent (in the background), so
// neither the words nor the time tell who has an account. Requests are
// throttled per client address and per address asked for.
func (p *Portal) submitForgot(c *fiber.Ctx) error {
	if p.mailer == nil {
		return p.renderForgot(c, fiber.StatusOK, p.newView(c, "forgot.title"))
	}
	t := web.Tenant(c)
	v := p.newView(c, "forgot.title")
	email, err := model.NormalizeEmail(strings.TrimSpace(c.FormValue("email")))
	if err != nil {
		v.Email = clip.Bytes(c.FormValue("email"), model.MaxEmailLength)
		v.Problem, v.EmailInvalid = v.L.T("forgot.invalid_email"), true
		return p.renderForgot(c, fiber.StatusUnprocessableEntity, v)
	}
	// Each request takes a place in both budgets and spends it (settled as
	// a failure): one statement each, so concurrent requests on any node
	// cannot pass a budget together. A refusal by the second budget
	// gives the first its place back.
	ipKey, emailKey := p.env.LoginIPKey(c), t.ID+"|"+email
	ctx := context.WithoutCancel(c.UserContext())
	var taken []*auth.Reservation
	defer func() {
		for _, r := range taken {
			if err := r.Settle(ctx, false); err != nil { // not spent below: released
				p.env.Log.Warn("release forgot-password throttle", "tenant", t.Slug, "err", err)
			}
		}
	}()
	for _, th := range []struct {
		l   auth.Limiter
		key string
	}{{p.forgotIP, ipKey}, {p.forgotEmail, emailKey}} {
		r, err := th.l.Reserve(c.UserContext(), th.key)
		if err != nil {
			p.env.Log.Error("forgot-password throttle unavailable: request refused", "tenant", t.Slug, "client_ip", p.env.ClientIP(c), "err", err)
			v.Email = email
			v.Problem = v.L.T("error.database_unavailable")
			c.Set(fiber.HeaderRetryAfter, "5")
			return p.renderForgot(c, fiber.StatusServiceUnavailable, v)
		}
		if !r.OK {
			v.Email = email
			v.Problem = v.L.T("forgot.rate_limited", "Count", int(r.Wait.Minutes())+1)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(r.Wait.Seconds())+1))
			return p.renderForgot(c, fiber.StatusTooManyRequests, v)
		}
		taken = append(taken, r)
	}
	for _, r := range taken {
		if err := r.Settle(ctx, true); err != nil {
			p.env.Log.Warn("count forgot-password request", "tenant", t.Slug, "err", err)
		}
	}
	u, err := p.env.Store.UserByEmail(c.UserContext(), t.ID, email)
	if err == nil && u.Active {
		l := v.L // the page's language, unless the account has its own
		if u.Locale != "" && p.env.Catalog != nil {
			l = p.env.Catalog.Localizer(u.Locale)
		}
		// Everything the mail needs is read from the request now: the
		// request's context and buffers are reused once it is answered.
		ctx, origin := context.WithoutCancel(c.UserContext()), web.LinkOrigin(c)
		p.background.Add()
		go func() {
			defer p.background.Done()
			p.sendResetLink(ctx, t, u, origin, l)
		}()
	}
	v.Sent = true
	return p.renderForgot(c, fiber.StatusOK, v)
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

// forgotThrottles returns the forgot-password budgets: in the database,
// shared by every node, or in memory for an Env without a store (tests).
func forgotThrottles(env *web.Env) (ip, email auth.Limiter, err error) {
	if env.Store == nil {
		return auth.Local{T: auth.NewThrottle(ForgotPerIP, ForgotWindow, nil)},
			auth.Local{T: auth.NewThrottle(ForgotPerEmail, ForgotWindow, nil)}, nil
	}
	var secret []byte
	if env.Config != nil {
		secret = env.Config.SecretKey
	}
	ipT, err := env.Store.Throttle(storage.ThrottleOptions{Name: "forgot-ip", Limit: ForgotPerIP, Window: ForgotWindow, Secret: secret})
	if err != nil {
		return nil, nil, err
	}
	emailT, err := env.Store.Throttle(storage.ThrottleOptions{Name: "forgot-email", Limit: ForgotPerEmail, Window: ForgotWindow, Secret: secret})
	if err != nil {
		return nil, nil, err
	}
	return ipT, emailT, nil
}
