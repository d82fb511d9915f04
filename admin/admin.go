// Package admin is the managers' side of Portico: the admin API under
// /api/v1/admin and the server-rendered admin UI under /admin, mounted by the
// host. Both call one Service, so validation, versioning and auditing are
// the same whichever a gestor uses.
//
// Authentication: the API takes `Authorization: Bearer <api key>` with the
// admin scope, or a gestor's session cookie; a cookie-authenticated request
// that changes something must also send the session's CSRF token in the
// X-CSRF-Token header (the UI's forms send it as _csrf).
package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// Admin serves the admin API and UI.
type Admin struct {
	env *web.Env
	svc *Service
	ui  *ui
}

// New builds the admin from the host's environment and the service.
func New(env *web.Env, svc *Service) (*Admin, error) {
	a := &Admin{env: env, svc: svc}
	u, err := newUI(a)
	if err != nil {
		return nil, err
	}
	a.ui = u
	return a, nil
}

// Register mounts /api/v1/admin and /admin on r. It must run before the
// public API registers its catch-all.
func (a *Admin) Register(r fiber.Router) {
	// SameOrigin runs as its own middleware: it calls c.Next() itself, so
	// it cannot be called from inside authenticateAPI.
	api := r.Group("/api/v1/admin", a.env.SameOrigin(), a.authenticateAPI)
	a.registerAPI(api)
	api.All("/*", func(c *fiber.Ctx) error { return web.Fail(fiber.StatusNotFound, "not_found") })
	a.ui.register(r)
}

type actorKey struct{}

// ActorOf returns who is making the current admin request.
func ActorOf(c *fiber.Ctx) model.Actor {
	act, _ := c.Locals(actorKey{}).(model.Actor)
	return act
}

// maxAuthorization bounds the Authorization header we look at.
const maxAuthorization = 256

// authenticateAPI admits an API key with the admin scope or a gestor's
// session (with a CSRF header on changes), and records the actor.
func (a *Admin) authenticateAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	t := web.Tenant(c)
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		k, err := a.adminKey(c.UserContext(), t.ID, h)
		if err != nil {
			return err
		}
		if err := a.env.Store.TouchAPIKey(c.UserContext(), k); err != nil {
			a.env.Log.Warn("touch api key", "tenant", t.Slug, "err", err)
		}
		c.Locals(actorKey{}, model.Actor{Type: "api_key", ID: k.ID, Label: k.Name, IP: a.env.ClientIP(c)})
		return c.Next()
	}
	u := web.User(c)
	if u == nil {
		return web.Fail(fiber.StatusUnauthorized, "unauthenticated")
	}
	if !u.HasRole(model.RoleGestor) {
		return web.Fail(fiber.StatusForbidden, "gestor_only")
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

// adminKey returns the API key named by an Authorization header value
// ("Bearer <key>", the scheme case-insensitive per RFC 9110, section 11.1)
// when it exists in tenantID and holds the admin scope; otherwise a 401
// invalid_api_key or 403 missing_scope Problem, or a storage error.
func (a *Admin) adminKey(ctx context.Context, tenantID, header string) (*model.APIKey, error) {
	scheme, key, ok := strings.Cut(header, " ")
	ok = ok && strings.EqualFold(scheme, "Bearer")
	key = strings.TrimSpace(key)
	if !ok || key == "" || len(header) > maxAuthorization {
		return nil, web.Fail(fiber.StatusUnauthorized, "invalid_api_key")
	}
	k, err := a.env.Store.APIKeyByHash(ctx, tenantID, auth.HashToken(key))
	if errors.Is(err, model.ErrNotFound) {
		return nil, web.Fail(fiber.StatusUnauthorized, "invalid_api_key")
	}
	if err != nil {
		return nil, err
	}
	if !k.HasScope(model.ScopeAdmin) {
		return nil, web.Fail(fiber.StatusForbidden, "missing_scope")
	}
	return k, nil
}

// problem maps a service error onto the API's error shape. notFound is the
// code for model.ErrNotFound on this route.
func problem(err error, notFound string) error {
	var p *web.Problem
	if errors.As(err, &p) {
		return p
	}
	if v, ok := model.AsValidation(err); ok {
		return web.Invalid(v)
	}
	switch {
	case errors.Is(err, ErrSlugTaken):
		return field(fiber.StatusConflict, "slug_taken", "slug", "validation.slug_taken")
	case errors.Is(err, ErrEmailTaken):
		return field(fiber.StatusConflict, "email_taken", "email", "validation.email_taken")
	case errors.Is(err, ErrVersionNeeded):
		return field(fiber.StatusUnprocessableEntity, "version_required", "version", "validation.required")
	case errors.Is(err, storage.ErrStale):
		return web.Fail(fiber.StatusConflict, "stale_version")
	case errors.Is(err, storage.ErrOrderMismatch):
		return field(fiber.StatusUnprocessableEntity, "order_mismatch", "slugs", "validation.order_mismatch")
	case errors.Is(err, storage.ErrAlreadyRevoked):
		return web.Fail(fiber.StatusConflict, "already_revoked")
	case errors.Is(err, model.ErrNotFound):
		return web.Fail(fiber.StatusNotFound, notFound)
	case errors.Is(err, model.ErrConflict):
		return web.Fail(fiber.StatusConflict, "conflict")
	}
	return err
}

func field(status int, code, name, key string) *web.Problem {
	p := web.Fail(status, code)
	p.Fields = map[string]string{name: key}
	return p
}
