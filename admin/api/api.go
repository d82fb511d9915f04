// Package api is the admin's JSON API under /api/v1/admin, mounted by
// host/server. Every write goes through admin/service; errors are answered
// from admin.Classify, the table the admin UI reads too.
//
// Authentication: `Authorization: Bearer <api key>` with the admin scope,
// or a gestor's session cookie; a cookie-authenticated request that
// changes something must also send the session's CSRF token in the
// X-CSRF-Token header. The same check admits large module uploads before
// their body is read (UploadGate).
//
//	a := api.New(admin.Deps{Env: env, Store: store, Service: svc, Sandbox: engine})
//	a.Register(app) // before the public API's /api/v1/* catch-all
package api

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// API serves /api/v1/admin.
type API struct {
	env    *web.Env
	store  *storage.Store
	svc    *service.Service
	engine *sandbox.Engine
	run    *runner.Runner
	priv   func(tenantSlug string) bool
	keys   map[string]bool // every catalogue key (admin.ValidationKey)
}

// New returns the admin API over d.
func New(d admin.Deps) *API {
	a := &API{env: d.Env, store: d.Store, svc: d.Service, engine: d.Sandbox, run: d.Runner, priv: d.PrivateNetworkAvailable,
		keys: map[string]bool{}}
	keys, _ := i18n.Keys(model.SupportedLocales[0]) // the embedded catalogue: loaded at start-up already
	for _, k := range keys {
		a.keys[k] = true
	}
	return a
}

// Register mounts /api/v1/admin on r. It must run before the public API
// registers its catch-all.
func (a *API) Register(r fiber.Router) {
	// SameOrigin runs as its own middleware: it calls c.Next() itself, so
	// it cannot be called from inside authenticate.
	// The OpenAPI document needs no credential (it describes the routes,
	// not anyone's data; tools fetch it by URL): mounted before the group,
	// it answers before the group's authentication runs.
	r.Get("/api/v1/admin/openapi.json", web.FixedFile(openAPIDocument, fiber.MIMEApplicationJSON, "300"))
	g := r.Group("/api/v1/admin", a.env.SameOrigin(), a.authenticate)
	a.routes(g)
	g.All("/*", web.NoRoute())
}

// Challenge is the WWW-Authenticate header of the API's 401 answers
// (RFC 9110 requires one): an API key, sent as a bearer token.
const Challenge = `Bearer realm="portico-admin"`

type actorKey struct{}

// actorOf returns who is making the current admin request.
func actorOf(c *fiber.Ctx) model.Actor {
	act, _ := c.Locals(actorKey{}).(model.Actor)
	return act
}

// authenticate admits an API key with the admin scope or a gestor's
// session (with a CSRF header on changes), and records the actor.
func (a *API) authenticate(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	t := web.Tenant(c)
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		k, err := a.svc.AdminKey(c.UserContext(), t.ID, h)
		if err != nil {
			if f := admin.Classify(err, ""); f != nil && f.Status == fiber.StatusUnauthorized {
				c.Set(fiber.HeaderWWWAuthenticate, Challenge)
			}
			return fail(c, err, "")
		}
		if err := a.svc.UseAPIKey(c.UserContext(), k); err != nil {
			a.env.Log.Warn("touch api key", "tenant", t.Slug, "err", err)
		}
		c.Locals(actorKey{}, model.Actor{Type: "api_key", ID: k.ID, Label: k.Name, IP: a.env.ClientIP(c)})
		return c.Next()
	}
	u := web.User(c)
	if u == nil {
		c.Set(fiber.HeaderWWWAuthenticate, Challenge)
		return web.Fail(fiber.StatusUnauthorized, "unauthenticated")
	}
	if code := web.StaffAccess(c); code != "" {
		return web.Fail(fiber.StatusForbidden, code)
	}
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		s := web.Session(c)
		if got := c.Get(web.CSRFHeader); got == "" || !auth.EqualTokens(got, s.CSRFToken) {
			return web.Fail(fiber.StatusForbidden, "csrf")
		}
	}
	c.Locals(actorKey{}, model.Actor{Type: "user", ID: u.ID, Label: u.Email, IP: a.env.ClientIP(c)})
	return c.Next()
}

// fail answers err from admin.Classify, the table the UI reads too: a
// Problem for the server's error handler to render, or, for a failure
// that carries the runtime's detail or is the runtime's to fix (5xx, which
// the error handler would log as the server's own failure), the body
// {"error":{"code","message","fields"[,"detail"]}} written here. Problems
// pass through; errors that are not the client's are returned as they
// are. notFound is the code for model.ErrNotFound on this route.
func fail(c *fiber.Ctx, err error, notFound string) error {
	var p *web.Problem
	if errors.As(err, &p) {
		return p
	}
	f := admin.Classify(err, notFound)
	if f == nil {
		return err
	}
	if f.Detail == "" && f.Status < 500 {
		return f.Problem()
	}
	l := web.L(c)
	body := failureError{APIError: web.APIError{Code: f.Code, Message: f.Message(l)}, Detail: f.Detail}
	if f.Field != "" {
		body.Fields = map[string]string{f.Field: f.FieldMessage(l)}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(f.Status).JSON(fiber.Map{"error": body})
}

// failureError is the API's error body with the runtime's detail added
// for a refused module (English, technical: which export is missing, what
// the compiler said).
type failureError struct {
	web.APIError
	Detail string `json:"detail,omitempty"`
}

// routes mounts the admin API's routes on r (/api/v1/admin): the whole
// route table. Every handler reads the tenant from the request (never from
// the path or the body) and names it in each store call; every write goes
// through the service, so validation and audit are the UI's.
//
// Path parameters are hostile: each is checked for its shape before any
// query, and a malformed one is the route's "not found", exactly like an
// unknown or another tenant's one.
func (a *API) routes(r fiber.Router) {
	// /plugins/order first, so "order" is never taken for a slug.
	r.Put("/plugins/order", a.reorderPlugins)
	r.Get("/plugins", a.listPlugins)
	r.Post("/plugins", a.createPlugin)
	r.Get("/plugins/:slug", a.getPlugin)
	r.Patch("/plugins/:slug", a.updatePlugin)
	r.Delete("/plugins/:slug", a.deletePlugin)
	r.Put("/plugins/:slug/config", a.replaceConfig)
	r.Put("/plugins/:slug/secrets/:name", a.putSecret)
	r.Delete("/plugins/:slug/secrets/:name", a.deleteSecret)

	r.Get("/users", a.listUsers)
	r.Post("/users", a.createUser)
	r.Post("/users/import", a.importUsers)
	r.Get("/users/:id", a.getUser)
	r.Patch("/users/:id", a.updateUser)
	r.Post("/users/:id/reset-link", a.resetLink)

	r.Get("/api-keys", a.listAPIKeys)
	r.Post("/api-keys", a.createAPIKey)
	r.Delete("/api-keys/:id", a.revokeAPIKey)

	r.Get("/tenant", a.getTenant)
	r.Patch("/tenant", a.updateTenant)

	r.Get("/audit", a.auditLog)

	r.Get("/plugins/:slug/access", a.getAccess)
	r.Patch("/plugins/:slug/access", a.updateAccess)
	r.Post("/plugins/:slug/client-secret", a.rotateClientSecret)
	r.Get("/signing-keys", a.signingKeys)
	r.Post("/signing-keys", a.rotateSigningKey)

	r.Get("/plugins/:slug/versions", a.listVersions)
	r.Post("/plugins/:slug/versions", a.uploadVersion)
	r.Post("/plugins/:slug/versions/:id/activate", a.activateVersion)
	r.Post("/plugins/:slug/rollback", a.rollback)
	r.Get("/plugins/:slug/health", a.health)
	r.Get("/plugins/:slug/settings", a.settings)

	r.Get("/plugins/:slug/data", a.pluginData)
	r.Delete("/plugins/:slug/data", a.clearPluginData)
	r.Delete("/plugins/:slug/data/:key", a.deletePluginKey)
}

// Bounds of path and query parameters, checked before any query.
const maxQueryParam = 254

// idParam returns the :id parameter, or notFound when it cannot be an ID.
func idParam(c *fiber.Ctx, notFound string) (string, error) {
	id := c.Params("id")
	if !admin.ValidID(id) {
		return "", web.Fail(fiber.StatusNotFound, notFound)
	}
	return id, nil
}

// badParam is a 400 naming the query parameter at fault.
func badParam(name, code string) *web.Problem {
	p := web.Fail(fiber.StatusBadRequest, "invalid_parameter")
	p.Fields = map[string]string{name: "validation." + code}
	return p
}

// queryText returns a query parameter trimmed and bounded to max bytes,
// refusing what model.CheckText refuses (a 400, never a query the
// database would fail on).
func queryText(c *fiber.Ctx, name string, max int) (string, error) {
	v := strings.TrimSpace(c.Query(name))
	if len(v) > max {
		return "", badParam(name, "too_long")
	}
	if !model.ValidText(v, false) {
		return "", badParam(name, model.TextCodeInvalid)
	}
	return v, nil
}

// queryInt parses an optional integer query parameter within [min, max];
// def when absent.
func queryInt(c *fiber.Ctx, name string, def, min, max int) (int, error) {
	raw := strings.TrimSpace(c.Query(name))
	if raw == "" {
		return def, nil
	}
	if len(raw) > 12 {
		return 0, badParam(name, "out_of_range")
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, badParam(name, "wrong_type")
	}
	if n < min || n > max {
		return 0, badParam(name, "out_of_range")
	}
	return n, nil
}

// notAllowed is a 422 for a field a route does not take.
func notAllowed(name string) error {
	v := &model.ValidationError{}
	v.Add(name, "not_allowed")
	return web.Invalid(v)
}

// changedKeys lists, in order, the keys whose values differ between two
// audited snapshots of the same record.
func changedKeys(before, after map[string]any, order []string) []string {
	out := []string{}
	for _, k := range order {
		if !reflect.DeepEqual(before[k], after[k]) {
			out = append(out, k)
		}
	}
	return out
}
