package web

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/portico-dev/portico/internal/model"
)

// EmbedPrefix starts the path of every page of an embedded login: the
// portal shown inside a frame on the company's own site.
//
// An embedded login carries no cookie. Safari and Firefox keep no
// third-party cookies for a frame of another site (and partitioned
// cookies, CHIPS, are Chromium's only), so a frame on the company's site
// could never rely on one. The login's token travels in the frame's URL
// path instead — /e/{token}/p/financeiro — stripped before routing, so
// handlers see the ordinary path. It works the same in every
// browser (EmbedRewrite). Forms stay protected by the session's synchronizer CSRF token,
// which needs no cookie either; the token never reaches another origin
// (Referrer-Policy same-origin) and is not logged (handlers and the error
// log see the stripped path). docs/portal-sessions.md ("Embedding").
const EmbedPrefix = "/e/"

// embedKey is the fasthttp user value holding an embedded login's token.
const embedKey = "portico_embed_token"

// EmbedRewrite wraps the server's handler: a request whose path starts
// with EmbedPrefix and a token is routed as the path without them, the
// token kept for LoadSession (EmbedToken); on the way out a redirect to a
// path of the portal gets the prefix back, so the browser stays inside the
// embedded login. It runs before Fiber routes anything, so every route
// serves embedded logins unchanged.
func EmbedRewrite(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	prefix := []byte(EmbedPrefix)
	return func(ctx *fasthttp.RequestCtx) {
		path := ctx.URI().Path()
		if !bytes.HasPrefix(path, prefix) {
			next(ctx)
			return
		}
		token, rest, _ := strings.Cut(string(path[len(prefix):]), "/")
		if token == "" || len(token) > maxSessionToken || strings.ContainsAny(token, "%;") {
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		ctx.SetUserValue(embedKey, token)
		ctx.URI().SetPath("/" + rest)
		next(ctx)
		h := &ctx.Response.Header
		if loc := string(h.Peek(fasthttp.HeaderLocation)); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
			h.Set(fasthttp.HeaderLocation, EmbedPrefix+token+loc)
		}
	}
}

// Embed lets the tenant's allowed origins frame every response of an
// embedded login (AllowFraming). It runs after ResolveTenant.
func (e *Env) Embed() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if EmbedToken(c) == "" {
			return c.Next()
		}
		err := c.Next()
		// Only a live embedded login's pages: any other token in the
		// path (made up, or of a login that ended) must not let the
		// allowed origins frame whatever page it reaches. The page that
		// says an embedded login ended allows framing itself.
		if s := Session(c); s != nil && s.Embedded {
			e.AllowFraming(c)
		}
		return err
	}
}

// NotEmbedded refuses (404) a request under an embedded login's path
// prefix to a page that never belongs inside one: the login and reset
// forms, and the portal-session links that start a login. Under the
// prefix the session cookie is ignored (LoadSession), so such a page
// would neither see the browser's own login nor belong in a frame.
func NotEmbedded(c *fiber.Ctx) error {
	if EmbedToken(c) != "" {
		return Fail(fiber.StatusNotFound, "not_found")
	}
	return c.Next()
}

// EmbedToken returns the token of the embedded login the request's path
// names (EmbedRewrite); "" outside one.
func EmbedToken(c *fiber.Ctx) string {
	s, _ := c.Context().UserValue(embedKey).(string)
	return s
}

// EmbedBase is the path prefix of the request's embedded login
// (EmbedPrefix and the token, no trailing slash); "" outside one. Pages
// put it before every path of the portal they link to.
func EmbedBase(c *fiber.Ctx) string {
	if t := EmbedToken(c); t != "" {
		return EmbedPrefix + t
	}
	return ""
}

// AllowFraming lets the tenant's allowed origins, and only them, frame this
// response: the Content-Security-Policy's frame-ancestors 'none' becomes
// the list of allowed origins (CSPSources: exact origins only, never a
// wildcard), and X-Frame-Options, which could only contradict it, goes.
// A tenant without allowed origins stays unframeable.
func (e *Env) AllowFraming(c *fiber.Ctx) {
	t := Tenant(c)
	if t == nil || len(t.AllowedOrigins) == 0 {
		return
	}
	sources := CSPSources(e.Config != nil && e.Config.Demo, t.AllowedOrigins...)
	if sources == "'none'" {
		return
	}
	h := &c.Response().Header
	csp := string(h.Peek(fiber.HeaderContentSecurityPolicy))
	switch {
	case strings.Contains(csp, "frame-ancestors 'none'"):
		csp = strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors "+sources, 1)
	case strings.Contains(csp, "frame-ancestors 'self'"):
		// A page the portal frames itself (an iframe plugin's launch
		// page): frame-ancestors is checked against every ancestor, and
		// inside an embedded login the top one is the company's site.
		csp = strings.Replace(csp, "frame-ancestors 'self'", "frame-ancestors 'self' "+sources, 1)
	default:
		return
	}
	h.Set(fiber.HeaderContentSecurityPolicy, csp)
	h.Del(fiber.HeaderXFrameOptions)
}

// ReturnURL is where "Sair" sends the browser after ending login s of
// tenant t: a portal session's return_url, else the tenant's default for a
// portal session's login; "" for an ordinary login (the login page).
func ReturnURL(t *model.Tenant, s *model.Session) string {
	if s == nil || s.PortalSessionID == "" {
		return ""
	}
	if s.ReturnURL != "" {
		return s.ReturnURL
	}
	return t.DefaultReturnURL
}

// AllowReturn lets the pages of a portal session's login send their
// logout form on to the return URL: Content-Security-Policy's form-action
// applies to a form's redirects too, so 'self' alone would stop "Voltar ao
// site" at the portal's own redirect. Only that one origin is added.
func (e *Env) AllowReturn() fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		back := ReturnURL(Tenant(c), Session(c))
		if back == "" {
			return err
		}
		origin, oerr := model.OriginOf(back, e.Config != nil && e.Config.Demo)
		if oerr != nil {
			return err
		}
		src := CSPSources(e.Config != nil && e.Config.Demo, origin)
		h := &c.Response().Header
		if csp := string(h.Peek(fiber.HeaderContentSecurityPolicy)); src != "'none'" && strings.Contains(csp, "form-action 'self'") {
			h.Set(fiber.HeaderContentSecurityPolicy, strings.Replace(csp, "form-action 'self'", "form-action 'self' "+src, 1))
		}
		return err
	}
}

// topLevelPage reports whether the browser says the request loads a page
// in a tab of its own: a GET or HEAD with Sec-Fetch-Dest: document. In a
// frame it says iframe, for a fetch or a stylesheet their own kind; a
// browser without Fetch Metadata (before 2020–2023) says nothing.
func topLevelPage(c *fiber.Ctx) bool {
	return (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) && c.Get("Sec-Fetch-Dest") == "document"
}
