// Package api is Portico's JSON API for the companies' mobile apps and for
// integrators: sessions, the logged-in user and their menus.
//
// Every route is tenant-scoped by the Host header (see package web). Errors
// are always {"error":{"code":"…","message":"…"}} in the request's language.
package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/web"
)

// Handler serves /api/v1.
type Handler struct {
	env *web.Env
	// runner runs wasm plugins' renders and actions; nil: none here.
	runner *runner.Runner
}

// Register mounts the API's routes on r, which already resolves the tenant,
// the session and the language.
func Register(r fiber.Router, env *web.Env, run *runner.Runner) {
	h := &Handler{env: env, runner: run}
	v1 := r.Group("/api/v1", env.SameOrigin())
	v1.Post("/session", h.createSession)
	v1.Delete("/session", h.deleteSession)
	v1.Get("/me", h.requireUser, h.showMe)
	v1.Get("/me/menu", h.requireUser, h.showMenu)
	v1.Get("/me/plugins/:slug/view", h.requireUser, h.showPluginView)
	v1.Post("/me/plugins/:slug/actions/:action", h.requireUser, h.runPluginAction)
	h.registerPortalSessions(v1)
	v1.Get("/openapi.json", web.FixedFile(openAPIDocument, fiber.MIMEApplicationJSON, "300"))
	v1.All("/*", web.NoRoute())
}

func (h *Handler) requireUser(c *fiber.Ctx) error {
	if web.User(c) == nil {
		return web.Fail(fiber.StatusUnauthorized, "unauthenticated")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}
