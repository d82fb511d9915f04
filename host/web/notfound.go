package web

import (
	"slices"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// NoRoute returns the handler for a request no route of the API took:
// 405 method_not_allowed, with an Allow header, when the path is a route
// of another method (a GET to an address that only takes POST), else 404
// not_found. Mount it as the API's catch-all; it reads the app's routes
// on its first miss, when every route is mounted.
func NoRoute() fiber.Handler {
	var once sync.Once
	var routes []routePattern
	return func(c *fiber.Ctx) error {
		once.Do(func() { routes = patterns(c.App()) })
		allowed := allowedMethods(routes, c.Path(), c.Method())
		if len(allowed) == 0 {
			return Fail(fiber.StatusNotFound, "not_found")
		}
		c.Set(fiber.HeaderAllow, strings.Join(allowed, ", "))
		return Fail(fiber.StatusMethodNotAllowed, "method_not_allowed")
	}
}

// routePattern is a route split into its path's segments.
type routePattern struct {
	method   string
	segments []string
}

func patterns(app *fiber.App) []routePattern {
	var out []routePattern
	for _, r := range app.GetRoutes(true) {
		if strings.HasSuffix(r.Path, "*") || r.Method == fiber.MethodHead { // catch-alls answer every method
			continue
		}
		out = append(out, routePattern{method: r.Method, segments: splitPath(r.Path)})
	}
	return out
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// allowedMethods lists, sorted, the methods other than method whose
// routes match path; GET brings HEAD along, as Fiber answers both.
func allowedMethods(routes []routePattern, path, method string) []string {
	segs := splitPath(path)
	var out []string
	for _, r := range routes {
		if r.method == method || !matchSegments(r.segments, segs) {
			continue
		}
		out = append(out, r.method)
		if r.method == fiber.MethodGet {
			out = append(out, fiber.MethodHead)
		}
	}
	if len(out) == 0 || slices.Contains(out, method) {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// matchSegments matches a route's segments (":name" is any one non-empty
// segment, as Fiber routes them; case-insensitive, as Fiber's default).
func matchSegments(route, path []string) bool {
	if len(route) != len(path) {
		return false
	}
	for i, s := range route {
		if strings.HasPrefix(s, ":") {
			if path[i] == "" {
				return false
			}
			continue
		}
		if !strings.EqualFold(s, path[i]) {
			return false
		}
	}
	return true
}
