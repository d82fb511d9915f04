// Package launch is the HTTP edge of iframe launch tokens (package
// internal/launch does the work):
//
//   - GET /.well-known/jwks.json: the tenant's published signing keys.
//   - GET /p/{slug}/launch: the document of a token plugin's iframe, which
//     posts a fresh token to the plugin's URL (field portico_token).
//   - POST /api/v1/launch/exchange: the plugin's back channel, HTTP Basic
//     with its client credentials and {"token": …}, answering the user.
//
// docs/design-launch.md explains the choices.
package launch

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/metrics"
	"github.com/portico-dev/portico/internal/model"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// TokenField is the form field (or query parameter) carrying the token.
const TokenField = "portico_token"

// ExchangePath is the exchange endpoint.
const ExchangePath = "/api/v1/launch/exchange"

// maxAuthorization bounds the Authorization header the exchange decodes.
const maxAuthorization = 1024

// Exchange throttle budgets: failed client authentications (a missing or
// malformed Basic header, an unknown client_id, a wrong or revoked secret)
// allowed per window, per tenant, client_id and client IP and per tenant
// and client IP, counted as the login counts failed passwords
// (auth.Throttle). A locked-out key is answered 429 rate_limited with
// Retry-After until its window ends, before any credential is checked.
// The client_id budget is per address because the client_id is public
// (it is every token's aud): a budget per client_id alone would let
// anyone hold a plugin's exchange at 429 from anywhere.
const (
	ExchangeClientFailures = 10
	ExchangeIPFailures     = 30
	ExchangeThrottleWindow = 15 * time.Minute
)

// Handler serves the launch routes.
type Handler struct {
	env    *web.Env
	svc    *launch.Service
	page   *template.Template
	assets *web.Assets
	// clients and ips throttle failed client authentication at the
	// exchange (see ExchangeClientFailures). They stay in this process on
	// purpose, unlike the login's: every exchange checks them, and client
	// secrets are 256-bit random, so they bound noise, not guessing
	// (docs/design-launch.md).
	clients, ips *auth.Throttle
	// Metrics counts the tokens minted and the exchanges by outcome; nil
	// counts nothing.
	Metrics *metrics.Metrics
}

// New parses the launch page and its assets; it fails if they are broken.
func New(env *web.Env, svc *launch.Service) (*Handler, error) {
	assets, err := web.NewAssets(assetFS, "assets", "/launch/assets")
	if err != nil {
		return nil, err
	}
	page, err := template.New("launch").Funcs(template.FuncMap{"asset": assets.URL}).ParseFS(templateFS, "templates/launch.html")
	if err != nil {
		return nil, fmt.Errorf("parse launch page: %w", err)
	}
	return &Handler{env: env, svc: svc, page: page, assets: assets,
		clients: auth.NewThrottle(ExchangeClientFailures, ExchangeThrottleWindow, env.Store.Now),
		ips:     auth.NewThrottle(ExchangeIPFailures, ExchangeThrottleWindow, env.Store.Now)}, nil
}

// Register mounts the routes on r, which already resolves the tenant, the
// session and the language. Mount it before the JSON API, whose /api/v1/*
// catch-all would shadow the exchange.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/.well-known/jwks.json", h.serveJWKS)
	r.Get("/launch/assets/:sum/:name", h.assets.Serve)
	r.Get("/p/:slug/launch", h.showLaunch)
	r.Post(ExchangePath, h.exchange)
}

// Issuer returns the portal origin a request came to: the token's iss.
func Issuer(c *fiber.Ctx) string {
	return web.Origin(c)
}

// serveJWKS publishes the tenant's keys. The cache lifetime is what the
// key lifecycle's publish-ahead and retirement periods are built on.
func (h *Handler) serveJWKS(c *fiber.Ctx) error {
	doc, err := h.svc.JWKS(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, fmt.Sprintf("public, max-age=%d", int(launch.JWKSMaxAge.Seconds())))
	c.Set(fiber.HeaderContentType, "application/jwk-set+json")
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	return c.Send(doc)
}

type queryField struct{ Name, Value string }

type launchView struct {
	L      any
	Title  string
	Method string
	Action string
	Query  []queryField
	Token  string
}

// showLaunch renders the iframe document of a token plugin: a form that
// delivers a fresh token to the plugin's registered URL. A plugin the user
// may not open, or one that takes no token, is the portal's 404.
func (h *Handler) showLaunch(c *fiber.Ctx) error {
	u, t := web.User(c), web.Tenant(c)
	if u == nil {
		return web.Fail(fiber.StatusUnauthorized, "unauthenticated")
	}
	// Only the portal's own page frames this document; a cross-site page
	// cannot have a token minted by navigating a victim here.
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return web.Fail(fiber.StatusForbidden, "cross_origin")
	}
	slug := c.Params("slug")
	p, err := h.env.OpenablePlugin(c, slug)
	if err != nil {
		return err
	}
	role := p.OpenAs(u, web.ActiveRole(c))
	if p.Type != model.PluginIframe || p.AuthType != model.AuthToken || role == "" {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	origin, err := model.OriginOf(p.URL, h.env.Config.Demo)
	if err != nil {
		h.env.Log.Error("stored plugin url is invalid", "tenant", t.Slug, "plugin", slug, "err", err)
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	target, err := url.Parse(p.URL)
	if err != nil {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	l := web.L(c)
	tok, err := h.svc.Mint(c.UserContext(), launch.MintInput{Tenant: t, Plugin: p, User: u, Role: role, Locale: l.Locale(), Issuer: Issuer(c)})
	if errors.Is(err, launch.ErrNotLaunchable) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	h.Metrics.TokenMinted()
	v := launchView{L: l, Title: p.TitleIn(l.Locale()), Method: "post", Action: p.URL, Token: tok}
	if p.LaunchMethod == model.LaunchGet {
		// A GET form replaces the action's query: carry it as fields.
		v.Method = "get"
		q := target.Query()
		names := make([]string, 0, len(q))
		for name := range q {
			if name != TokenField {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			for _, val := range q[name] {
				v.Query = append(v.Query, queryField{name, val})
			}
		}
		target.RawQuery, target.Fragment = "", ""
		v.Action = target.String()
	}
	hdr := &c.Response().Header
	hdr.Del("X-Frame-Options") // frame-ancestors 'self' below says who may frame it
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; script-src 'self'; style-src 'self'; form-action "+
		web.CSPSources(h.env.Config.Demo, origin)+"; frame-ancestors 'self'; base-uri 'none'; object-src 'none'")
	return web.RenderHTML(c, fiber.StatusOK, h.page, "launch", v)
}

// exchangeRequest is the exchange's JSON body.
type exchangeRequest struct {
	Token string `json:"token"`
}

// parseBasic decodes an HTTP Basic Authorization header. Credentials
// that model.CheckText refuses are no credentials (never a database query).
func parseBasic(h string) (id, secret string, ok bool) {
	if len(h) > maxAuthorization || len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	if !ok || id == "" || secret == "" || !model.ValidText(id, false) || !model.ValidText(secret, false) {
		return "", "", false
	}
	return id, secret, true
}

// parseToken reads the token of an exchange request; every failure is a
// Problem.
func parseToken(c *fiber.Ctx) (string, error) {
	var body exchangeRequest
	if err := web.DecodeJSON(c, &body); err != nil {
		return "", err
	}
	if body.Token == "" {
		p := web.Fail(fiber.StatusBadRequest, "validation_failed")
		p.Fields = map[string]string{"token": "validation.required"}
		return "", p
	}
	return body.Token, nil
}

func invalidClient(c *fiber.Ctx) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="portico-launch", charset="UTF-8"`)
	return web.Fail(fiber.StatusUnauthorized, launch.CodeInvalidClient)
}

// rateLimited answers a throttled exchange.
func rateLimited(wait time.Duration) error {
	p := web.Fail(fiber.StatusTooManyRequests, "rate_limited")
	p.RetryAfter = int(wait.Round(time.Second)/time.Second) + 1
	return p
}

// exchange redeems a launch token for the authenticated plugin. Failed
// client authentication counts against the client_id's and the client
// IP's budgets and is logged, as a failed login is.
func (h *Handler) exchange(c *fiber.Ctx) (err error) {
	defer func() { h.Metrics.Exchange(exchangeOutcome(err)) }()
	c.Set(fiber.HeaderCacheControl, "no-store")
	t := web.Tenant(c)
	ip := h.env.ClientIP(c)
	// An IPv6 client counts as its /64, as at login: it can send from any
	// address of it.
	ipKey := t.ID + "|ip|" + web.ClientNetwork(ip)
	if wait, blocked := h.ips.Blocked(ipKey); blocked {
		return rateLimited(wait)
	}
	id, secret, ok := parseBasic(c.Get(fiber.HeaderAuthorization))
	if !ok {
		h.ips.Fail(ipKey)
		h.env.Log.Info("launch exchange client authentication failed", "tenant", t.Slug, "reason", "no valid Basic credentials", "client_ip", ip)
		return invalidClient(c)
	}
	// The client_id is the caller's text: keyed by its hash, so a long
	// one costs the table no more than a short one.
	idSum := sha256.Sum256([]byte(id))
	clientKey := t.ID + "|client|" + base64.RawURLEncoding.EncodeToString(idSum[:]) + "|" + web.ClientNetwork(ip)
	if wait, blocked := h.clients.Blocked(clientKey); blocked {
		return rateLimited(wait)
	}
	token, err := parseToken(c)
	if err != nil {
		return err
	}
	u, err := h.svc.Exchange(c.UserContext(), t, Issuer(c), id, secret, token)
	if code := launch.CodeOf(err); code != "" {
		var le *launch.Error
		errors.As(err, &le)
		if code == launch.CodeInvalidClient {
			h.ips.Fail(ipKey)
			h.clients.Fail(clientKey)
			h.env.Log.Info("launch exchange client authentication failed", "tenant", t.Slug, "client_id", clip.Marked(id, 64), "reason", le.Reason, "client_ip", ip)
			return invalidClient(c)
		}
		h.env.Log.Info("launch exchange refused", "tenant", t.Slug, "client_id", clip.Marked(id, 64), "code", code, "reason", le.Reason, "client_ip", ip)
		return web.Fail(fiber.StatusUnauthorized, code)
	}
	if err != nil {
		return err
	}
	h.clients.Reset(clientKey)
	return c.JSON(u)
}

// exchangeOutcome names an exchange's answer for metrics, from a small
// fixed set: ok, a refusal's code (launch.Code*, rate_limited), bad_request
// for any other refused request (a malformed body, say) and error for a
// failure of the server.
func exchangeOutcome(err error) string {
	if err == nil {
		return metrics.OutcomeOK
	}
	var p *web.Problem
	if !errors.As(err, &p) || p.Status >= 500 {
		return "error"
	}
	switch p.Code {
	case launch.CodeTokenExpired, launch.CodeTokenUsed, launch.CodeTokenInvalid, launch.CodeWrongAudience,
		launch.CodeInvalidClient, "rate_limited":
		return p.Code
	}
	return "bad_request"
}
