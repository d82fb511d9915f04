package admin

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// registerAPI mounts the admin API's routes on r (/api/v1/admin). Every
// handler reads the tenant from the request (never from the path or the
// body) and names it in each store call; every write goes through the
// Service (or, for the few operations it has no wrapper for, the store's
// audited method), so validation and audit are the UI's.
//
// Path parameters are hostile: each is checked for its shape before any
// query, and a malformed one is the route's "not found", exactly like an
// unknown or another tenant's one.
func (a *Admin) registerAPI(r fiber.Router) {
	// /plugins/order first, so "order" is never taken for a slug.
	r.Put("/plugins/order", a.apiReorderPlugins)
	r.Get("/plugins", a.apiListPlugins)
	r.Post("/plugins", a.apiCreatePlugin)
	r.Get("/plugins/:slug", a.apiGetPlugin)
	r.Patch("/plugins/:slug", a.apiUpdatePlugin)
	r.Delete("/plugins/:slug", a.apiDeletePlugin)
	r.Put("/plugins/:slug/config", a.apiReplaceConfig)
	r.Put("/plugins/:slug/secrets/:name", a.apiPutSecret)
	r.Delete("/plugins/:slug/secrets/:name", a.apiDeleteSecret)

	r.Get("/users", a.apiListUsers)
	r.Post("/users", a.apiCreateUser)
	r.Get("/users/:id", a.apiGetUser)
	r.Patch("/users/:id", a.apiUpdateUser)
	r.Post("/users/:id/reset-link", a.apiResetLink)

	r.Get("/api-keys", a.apiListAPIKeys)
	r.Post("/api-keys", a.apiCreateAPIKey)
	r.Delete("/api-keys/:id", a.apiRevokeAPIKey)

	r.Get("/tenant", a.apiGetTenant)
	r.Patch("/tenant", a.apiUpdateTenant)

	r.Get("/audit", a.apiAuditLog)

	a.registerAccessAPI(r)
	a.registerVersionsAPI(r)
}

// Bounds of path and query parameters, checked before any query.
const (
	maxIDParam    = 64
	maxQueryParam = 254
)

// slugParam returns the :slug parameter, or the route's not-found Problem
// when it cannot be a slug.
func slugParam(c *fiber.Ctx) (string, error) {
	s := c.Params("slug")
	if !model.ValidSlug(s) {
		return "", web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	return s, nil
}

// idParam returns the :id parameter, or notFound when it cannot be an ID.
func idParam(c *fiber.Ctx, notFound string) (string, error) {
	id := c.Params("id")
	if id == "" || len(id) > maxIDParam || !printableASCII(id) {
		return "", web.Fail(fiber.StatusNotFound, notFound)
	}
	return id, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
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
