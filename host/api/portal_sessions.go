package api

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/time/rate"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/portalsession"
	"github.com/portico-dev/portico/internal/storage"
)

// portalSessions serves /api/v1/portal/sessions: the company's systems
// create one-click entries into the portal for customers they have
// authenticated (docs/portal-sessions.md).
type portalSessions struct {
	env *web.Env
	svc *portalsession.Service
	// perMinute and limiters bound creations per API key on this node
	// (config PortalSessionRate).
	perMinute int
	mu        sync.Mutex
	limiters  map[string]*rate.Limiter
}

func (h *Handler) registerPortalSessions(v1 fiber.Router) {
	ps := &portalSessions{env: h.env, perMinute: h.env.Config.PortalSessionRate, limiters: map[string]*rate.Limiter{},
		svc: &portalsession.Service{Store: h.env.Store, Registry: h.env.Registry, AllowInsecureLocal: h.env.Config.Demo}}
	if ps.perMinute <= 0 {
		ps.perMinute = 600
	}
	g := v1.Group("/portal/sessions", ps.authenticate)
	g.Post("/", ps.create)
	g.Get("/:id", ps.show)
	g.Post("/:id/logout", ps.logout)
	links := v1.Group("/portal/links", ps.authenticate)
	links.Post("/", ps.createLink)
	links.Post("/verify", ps.verifyLink)
	v1.Get("/portal/link-key", ps.authenticate, ps.showLinkKey)
}

type keyLocal struct{}

// authenticate admits an API key of the tenant with the portal_sessions
// scope, as Bearer or as HTTP Basic (auth.APIKeyFromHeader).
func (h *portalSessions) authenticate(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	k, err := h.env.Store.KeyFromHeader(c.UserContext(), web.Tenant(c).ID, c.Get(fiber.HeaderAuthorization), model.ScopePortalSessions)
	switch {
	case errors.Is(err, storage.ErrInvalidAPIKey):
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="portico", charset="UTF-8"`)
		return web.Fail(fiber.StatusUnauthorized, "invalid_api_key")
	case errors.Is(err, storage.ErrMissingScope):
		return web.Fail(fiber.StatusForbidden, "missing_scope")
	case err != nil:
		return err
	}
	if err := h.env.Store.TouchAPIKey(c.UserContext(), k); err != nil {
		h.env.Log.Warn("touch api key", "err", err)
	}
	c.Locals(keyLocal{}, k)
	return c.Next()
}

func (h *portalSessions) actor(c *fiber.Ctx) (*model.APIKey, model.Actor) {
	k := c.Locals(keyLocal{}).(*model.APIKey)
	return k, model.Actor{Type: "api_key", ID: k.ID, Label: k.Name, IP: h.env.ClientIP(c)}
}

// allow takes one creation from key id's budget, or says how long to wait.
func (h *portalSessions) allow(id string) (time.Duration, bool) {
	h.mu.Lock()
	l, ok := h.limiters[id]
	if !ok {
		l = rate.NewLimiter(rate.Limit(float64(h.perMinute)/60), max(h.perMinute/6, 1))
		h.limiters[id] = l
	}
	h.mu.Unlock()
	r := l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d, false
	}
	return 0, true
}

// portalSessionJSON is a portal session as the API shows it. AuthURL is
// only in the answer to the creation: the database keeps no token.
type portalSessionJSON struct {
	ID        string    `json:"id"`
	Object    string    `json:"object"`
	AuthURL   *string   `json:"auth_url"`
	ExpiresAt time.Time `json:"expires_at"`
	ReturnURL *string   `json:"return_url"`
	Forward   *string   `json:"forward"`
	Locale    *string   `json:"locale"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Customer  struct {
		ID      string `json:"id"`
		Created bool   `json:"created"`
	} `json:"customer"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func viewPortalSession(p *model.PortalSession, status, authURL string, created bool) portalSessionJSON {
	out := portalSessionJSON{ID: p.ID, Object: "portal_session", AuthURL: nullable(authURL), ExpiresAt: p.ExpiresAt.UTC(),
		ReturnURL: nullable(p.ReturnURL), Forward: nullable(p.Forward), Locale: nullable(p.Locale), Status: status,
		CreatedAt: p.CreatedAt.UTC()}
	out.Customer.ID, out.Customer.Created = p.UserID, created
	return out
}

// create: POST /api/v1/portal/sessions.
func (h *portalSessions) create(c *fiber.Ctx) error {
	k, a := h.actor(c)
	if wait, ok := h.allow(k.ID); !ok {
		p := web.Fail(fiber.StatusTooManyRequests, "portal_session_rate")
		p.RetryAfter = int(wait/time.Second) + 1
		return p
	}
	var in portalsession.Input
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	t := web.Tenant(c)
	out, err := h.svc.Create(c.UserContext(), t, k, in, a)
	if err != nil {
		return portalSessionProblem(err)
	}
	h.env.Log.Info("portal session created", "tenant", t.Slug, "portal_session", out.Session.ID, "api_key", k.Prefix,
		"forward", out.Session.Forward, "client_ip", a.IP)
	authURL := web.Origin(c) + portalsession.OpenPath + out.Token
	return c.Status(fiber.StatusCreated).JSON(viewPortalSession(out.Session, model.PortalSessionCreated, authURL, out.CustomerCreated))
}

// show: GET /api/v1/portal/sessions/{id}; another tenant's is a 404.
func (h *portalSessions) show(c *fiber.Ctx) error {
	p, status, err := h.svc.Status(c.UserContext(), web.Tenant(c).ID, c.Params("id"))
	if err != nil {
		return portalSessionProblem(err)
	}
	return c.JSON(viewPortalSession(p, status, "", false))
}

// logout: POST /api/v1/portal/sessions/{id}/logout ends the login the
// portal session started (and its link); repeating it changes nothing.
func (h *portalSessions) logout(c *fiber.Ctx) error {
	_, a := h.actor(c)
	tid, id := web.Tenant(c).ID, c.Params("id")
	if err := h.svc.End(c.UserContext(), tid, id, a); err != nil {
		return portalSessionProblem(err)
	}
	p, status, err := h.svc.Status(c.UserContext(), tid, id)
	if err != nil {
		return portalSessionProblem(err)
	}
	return c.JSON(viewPortalSession(p, status, "", false))
}

// portalSessionProblem maps the service's errors onto the API's.
func portalSessionProblem(err error) error {
	if v, ok := model.AsValidation(err); ok {
		return web.Invalid(v)
	}
	switch {
	case errors.Is(err, portalsession.ErrCustomerNotFound):
		return web.Fail(fiber.StatusNotFound, "customer_not_found")
	case errors.Is(err, portalsession.ErrNotACustomer):
		return web.Fail(fiber.StatusUnprocessableEntity, "customer_not_allowed")
	case errors.Is(err, model.ErrNotFound):
		return web.Fail(fiber.StatusNotFound, "portal_session_not_found")
	}
	return err
}

// linkKey is the tenant's key for signed links.
func (h *portalSessions) linkKey(c *fiber.Ctx) []byte {
	return portalsession.LinkKey(h.env.Config.SecretKey, web.Tenant(c).ID)
}

type linkInput struct {
	PageURL      string `json:"page_url"`
	Forward      string `json:"forward"`
	ExpiresInDay *int   `json:"expires_in_days"`
}

type linkJSON struct {
	Object    string    `json:"object"`
	URL       string    `json:"url,omitempty"`
	Valid     *bool     `json:"valid,omitempty"`
	Forward   string    `json:"forward"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createLink: POST /api/v1/portal/links signs a link to the company's own
// page (page_url, on one of the tenant's allowed origins) that carries a
// forward value, for a notification.
func (h *portalSessions) createLink(c *fiber.Ctx) error {
	var in linkInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	t := web.Tenant(c)
	v := &model.ValidationError{}
	page, err := model.CheckReturnURL(strings.TrimSpace(in.PageURL), t.AllowedOrigins, h.env.Config.Demo)
	switch {
	case strings.TrimSpace(in.PageURL) == "":
		v.Add("page_url", "required")
	case errors.Is(err, model.ErrReturnURLOrigin):
		v.Add("page_url", "return_url_origin")
	case err != nil:
		v.Add("page_url", "return_url_syntax")
	}
	forward, _, ferr := model.ParseForward(in.Forward)
	if ferr != nil {
		v.Add("forward", "forward_values")
	}
	days := portalsession.DefaultLinkDays
	if in.ExpiresInDay != nil {
		days = *in.ExpiresInDay
		if days < 1 || days > portalsession.MaxLinkDays {
			v.Add("expires_in_days", "out_of_range")
		}
	}
	if err := v.Err(); err != nil {
		return web.Invalid(v)
	}
	exp := h.env.Store.Now().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
	link, err := portalsession.BuildLink(h.linkKey(c), page, forward, exp)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(linkJSON{Object: "portal_link", URL: link, Forward: forward, ExpiresAt: exp.UTC()})
}

// verifyLink: POST /api/v1/portal/links/verify {"url"} checks a signed
// link as the company's page received it: 200 with its forward value, or
// 422 link_invalid / link_expired.
func (h *portalSessions) verifyLink(c *fiber.Ctx) error {
	var in struct {
		URL string `json:"url"`
	}
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	if len(in.URL) > model.MaxURLLength*2 {
		return web.Fail(fiber.StatusUnprocessableEntity, "link_invalid")
	}
	forward, exp, err := portalsession.VerifyLink(h.linkKey(c), in.URL, h.env.Store.Now())
	switch {
	case errors.Is(err, portalsession.ErrLinkExpired):
		return web.Fail(fiber.StatusUnprocessableEntity, "link_expired")
	case err != nil:
		return web.Fail(fiber.StatusUnprocessableEntity, "link_invalid")
	}
	valid := true
	return c.JSON(linkJSON{Object: "portal_link", Valid: &valid, Forward: forward, ExpiresAt: exp})
}

// showLinkKey: GET /api/v1/portal/link-key returns the tenant's key for
// signed links, for a company page that checks them itself
// (docs/portal-sessions.md shows the check).
func (h *portalSessions) showLinkKey(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"object": "portal_link_key", "algorithm": "HMAC-SHA256",
		"key": base64.RawURLEncoding.EncodeToString(h.linkKey(c)), "message": "forward + \"\\n\" + exp"})
}
