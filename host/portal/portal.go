// Package portal serves the customer portal's HTML pages: login, the menu
// for the active role, plugin pages, the manager panel, language and role
// switches. Pages are templ components (*.templ, compiled to Go in
// *_templ.go by `go tool templ generate`); no page runs script, and every
// form carries a CSRF token.
package portal

import (
	"context"
	"embed"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/inflight"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
)

//go:embed assets
var assetFS embed.FS

// Portal renders and serves the portal pages.
type Portal struct {
	env *web.Env
	// runner runs wasm plugins' renders and actions; nil: none here.
	runner *runner.Runner
	// mailer sends password reset links; nil: no self-service reset.
	mailer *mail.Sender
	// forgotIP and forgotEmail bound reset requests per client address
	// and per account (ForgotPerIP, ForgotPerEmail in ForgotWindow),
	// shared by every node through the database (in memory without a
	// store: tests).
	forgotIP, forgotEmail auth.Limiter
	assets                *web.Assets
	// cards keeps the home cards of wasm plugins (cards.go).
	cards *cards
	// background counts the work a request started and left running (a
	// reset link's mail); Wait lets shutdown finish it. A request still
	// answered during the shutdown may add to it while Wait waits.
	background inflight.Counter
}

// Wait waits, until ctx ends, for the work requests left running (the
// mails of password reset links) so that a shutdown does not cut a mail
// a person was told to expect.
func (p *Portal) Wait(ctx context.Context) error {
	if err := p.background.Wait(ctx); err != nil {
		return fmt.Errorf("background work: %w", err)
	}
	return nil
}

// New fingerprints the assets. The pages are compiled Go (the templ
// components), so there is nothing to parse at start.
func New(env *web.Env, run *runner.Runner, mailer *mail.Sender) (*Portal, error) {
	assets, err := web.NewAssets(assetFS, "assets", "/assets")
	if err != nil {
		return nil, err
	}
	forgotIP, forgotEmail, err := forgotThrottles(env)
	if err != nil {
		return nil, err
	}
	return &Portal{env: env, runner: run, mailer: mailer, assets: assets, cards: newCards(),
		forgotIP: forgotIP, forgotEmail: forgotEmail}, nil
}

// RegisterAssets mounts the portal's static files on r, before the
// tenant is resolved: they are the same for every tenant, and the page
// that answers an unknown host (plainPage) uses the style sheet too.
func (p *Portal) RegisterAssets(r fiber.Router) {
	r.Get("/assets/:sum/:name", p.assets.Serve)
}

// Register mounts the portal routes on r, which already resolves the tenant,
// the session and the language.
func (p *Portal) Register(r fiber.Router) {
	r.Get("/theme.css", p.serveTheme)
	r.Get("/icon.svg", p.serveIcon)
	if p.env.Config.Demo {
		r.Get("/demo/frame/:name", p.showDemoFrame)
	}
	// A portal session's auth_url and its one-time code forms: the token
	// in the path is what they require, not a cookie (they must work in a
	// frame on the company's site, where the browser may keep none).
	// None of them, nor the login forms, is served under an embedded
	// login's path (web.NotEmbedded): there the browser's own login is not
	// seen, so "Trocar de conta?" would be skipped.
	links := r.Group("/portal-session", web.NotEmbedded, p.env.SameOrigin())
	links.Get("/:token", p.openPortalSession)
	links.Post("/:token/code", p.sendLoginCode)
	links.Post("/:token/verify", p.verifyLoginCode)
	forms := r.Group("/", p.env.SameOrigin(), p.env.CheckCSRF())
	forms.Post("/portal-session/:token", web.NotEmbedded, p.requireUser, p.confirmPortalSession)
	forms.Get("/login", web.NotEmbedded, p.showLogin)
	forms.Post("/login", web.NotEmbedded, p.submitLogin)
	forms.Get("/forgot", web.NotEmbedded, p.showForgot)
	forms.Post("/forgot", web.NotEmbedded, p.submitForgot)
	forms.Post("/logout", p.submitLogout)
	forms.Post("/locale", p.submitLocale)
	forms.Post("/role", p.requireUser, p.submitRole)
	forms.Get("/", p.requireUser, p.showHome)
	forms.Get("/gestor", p.requireUser, p.showGestor)
	forms.Get("/account/profile", p.requireUser, p.showProfile)
	forms.Post("/account/profile", p.requireUser, p.submitProfile)
	forms.Get("/account/address", p.requireUser, p.showAddress)
	forms.Post("/account/address", p.requireUser, p.submitAddress)
	forms.Get("/account/password", p.requireUser, p.showPassword)
	forms.Post("/account/password", p.requireUser, p.submitPassword)
	forms.Get("/p/:slug", p.requireUser, p.showPlugin)
	forms.Post("/p/:slug/actions/:action", p.requireUser, p.submitWasmAction)
	forms.Get("/p/:slug/actions/:action", p.requireUser, p.redirectWasmAction)
}

func (p *Portal) requireUser(c *fiber.Ctx) error {
	if web.User(c) == nil && web.EmbedToken(c) != "" {
		// An embedded login that ended: there is no login form to show in
		// a frame (it would need a cookie), so say so and offer the portal
		// in a tab of its own.
		lp := &linkPage{Reason: "embed_ended", Embed: true}
		lp.view = p.newView(c, "portal_link.title_embed_ended")
		lp.Base, lp.Embedded = "", true
		p.env.AllowFraming(c) // it is shown in the company's frame
		return renderPage(c, fiber.StatusUnauthorized, portalLinkPage(lp))
	}
	if web.User(c) == nil {
		target := "/login"
		if path := c.OriginalURL(); path != "/" && safeNext(path) != "/" {
			target += "?next=" + url.QueryEscape(path)
		}
		web.KeepEndedSessionCookie(c) // for the login page to say the session ended
		return c.Redirect(target, fiber.StatusSeeOther)
	}
	return c.Next()
}

// view is the data every page component receives.
type view struct {
	// assets resolves the fingerprinted URLs of the portal's static files
	// (the asset method).
	assets *web.Assets
	L      *i18n.Localizer
	Tenant *model.Tenant
	User   *model.User
	CSRF   string
	Title  string
	Path   string
	// Here is the page's own path with its query (a slip's ?r=, a
	// login's ?next=), as safeNext keeps it: where the language switch
	// comes back to.
	Here     string
	Role     model.Role
	Roles    []model.Role
	IsGestor bool
	Locales  []web.LocaleOption

	Menu   []registry.MenuEntry
	Plugin *model.Plugin
	Back   string
	// FrameOrigin is an iframe plugin's origin: the only sender whose
	// height messages resize its frame (assets/frame.js).
	FrameOrigin string
	// FrameSandbox is an iframe plugin's sandbox attribute (web.FrameSandbox).
	FrameSandbox string
	Problem      string
	ErrorTitle   string
	// ShowsError says the page shows a failure or an error of a form
	// besides Problem (a wasm plugin's): see docTitle.
	ShowsError bool
	// BackToForm is the page whose form was refused as expired (csrf),
	// when the browser said it: the error page links back to it.
	BackToForm string
	Email      string
	Next       string
	// EmailInvalid and PasswordInvalid mark the login or forgot form's
	// fields that Problem is about: a missing or malformed e-mail, a
	// missing password, both for wrong credentials; neither for a refusal
	// no field can fix (a lock-out, a busy or unreachable database).
	EmailInvalid, PasswordInvalid bool
	// ForgotEnabled says reset links can be mailed (SMTP is configured):
	// without it the forgot page tells the customer to ask the company
	// for one. Sent is the forgot page's answer.
	ForgotEnabled, Sent bool
	// PasswordReset is the login page after a password was set through
	// a reset link, LoggedOut the one after a logout, SessionEnded the
	// one a browser reached with the cookie of a session that ended
	// (web.SessionEnded): each says so.
	PasswordReset, LoggedOut, SessionEnded bool
	// Base prefixes every portal path the page links to: "/e/{token}"
	// inside an embedded login (web.EmbedBase), else "". Embedded pages
	// also drop the portal's header and footer.
	Base     string
	Embedded bool
	// BackToSite is the return URL of a portal session's login: "Sair"
	// reads "Voltar ao site" and goes there.
	BackToSite string
}

// docTitle is the page's <title>, the page's title and the brand, with
// "Erro: " before them when the page shows a form's error or a failure
// (a refused login, an account form with errors, a failed plugin): after
// a submit the title is the first thing a screen reader reads. An error
// page's title already names the refusal.
func (v *view) docTitle() string {
	title := v.Title
	if v.ShowsError || v.Problem != "" && v.ErrorTitle == "" {
		title = v.L.T("a11y.title_error", "Title", title)
	}
	return title + " · " + v.Tenant.BrandName
}

// InPanel reports whether the page is the gestor's panel or a plugin
// opened from it (its way back is the panel): the footer then names the
// panel, not the customer portal.
func (v *view) InPanel() bool {
	return v.ErrorTitle == "" && (v.Path == "/gestor" || v.Back == "/gestor") // an error page is nobody's panel
}

func (p *Portal) newView(c *fiber.Ctx, titleKey string) *view {
	l := web.L(c)
	v := &view{
		assets: p.assets,
		L:      l,
		Tenant: web.Tenant(c),
		User:   web.User(c),
		CSRF:   p.env.CSRFToken(c),
		Title:  l.T(titleKey),
		Path:   safeNext(c.Path()),
		Base:   web.EmbedBase(c),
	}
	v.Here = hereOf(c.Path(), string(c.Request().URI().QueryString()))
	v.Embedded = v.Base != ""
	if s := web.Session(c); s != nil {
		v.BackToSite = p.returnURL(c, s)
	}
	if v.User != nil {
		v.Role = web.ActiveRole(c)
		if rs := v.User.PortalRoles(); len(rs) > 1 {
			v.Roles = rs
		}
		v.IsGestor = v.User.HasRole(model.RoleGestor)
	}
	v.Locales = web.LocaleOptions(l)
	return v
}

// hereOf is a page's path with its query, for a link back to the same
// page: the query is kept only when the path is one safeNext keeps and
// the whole still is (a query too long, or with a control character, is
// dropped, not the path).
func hereOf(path, query string) string {
	if safe := safeNext(path); safe != path || query == "" {
		return safe
	}
	if here := safeNext(path + "?" + query); here != "/" {
		return here
	}
	return path
}

// RenderError renders a Problem as an HTML page. A request without a
// tenant (an unknown host, or one refused before routing) gets a plain page
// that names no tenant.
func (p *Portal) RenderError(c *fiber.Ctx, prob *web.Problem) error {
	l := web.L(c)
	msgID := prob.MsgID
	if msgID == "" {
		msgID = "error." + prob.Code
	}
	if prob.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, fmt.Sprint(prob.RetryAfter))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if web.Tenant(c) == nil {
		// A request refused before its tenant was known (a body over the
		// limit) may still come from a portal: it gets a way back; an
		// unknown host does not (its start page is this page again).
		home := prob.Code != "unknown_host"
		return sendHTML(c, prob.Status, plainPage(l, p.assets, l.T(errorTitle(prob)), l.T(msgID, prob.Args...), home))
	}
	v := p.newView(c, "error.title")
	v.Problem = l.T(msgID, prob.Args...)
	v.ErrorTitle = errorTitle(prob)
	v.Title = l.T(v.ErrorTitle)
	if prob.Code == "csrf" {
		v.BackToForm = sameOriginReferer(c)
	}
	return renderPage(c, prob.Status, errorPage(v))
}

// sameOriginReferer is the path (and query) of the request's Referer when
// it is a page of this portal, for a link back to it; "" otherwise.
func sameOriginReferer(c *fiber.Ctx) string {
	ref, err := url.Parse(c.Get(fiber.HeaderReferer))
	if err != nil || ref.Scheme+"://"+ref.Host != web.Origin(c) || !strings.HasPrefix(ref.Path, "/") || strings.HasPrefix(ref.Path, "//") {
		return ""
	}
	out := ref.EscapedPath()
	if ref.RawQuery != "" {
		out += "?" + ref.RawQuery
	}
	if len(out) > 512 {
		return ""
	}
	return out
}

// errorTitle is the catalogue key of an error page's title (and heading):
// it names the kind of refusal, as the message under it explains it, so a
// cliente who opens /admin reads "Acesso restrito", not "Algo deu errado".
func errorTitle(prob *web.Problem) string {
	status := prob.Status
	switch {
	case prob.Code == "csrf":
		return "error.form_expired_title"
	case status == fiber.StatusRequestEntityTooLarge:
		return "error.too_large_title"
	case status == fiber.StatusNotFound:
		return "error.not_found_title"
	case status == fiber.StatusForbidden:
		return "error.forbidden_title"
	case status == fiber.StatusTooManyRequests:
		return "error.too_many_title"
	case status == fiber.StatusServiceUnavailable:
		return "error.unavailable_title"
	}
	return "error.title"
}
