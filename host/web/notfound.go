package web

import (
	"slices"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// NoRoute answers a request no route of the API took: 405
// method_not_allowed, with an Allow header, when the path is a route of
// another method (a GET to an address that only takes POST), else 404
// not_found. Mount it as the API's catch-all, after every route.
func NoRoute(c *fiber.Ctx) error {
	allowed := allowedMethods(c.App(), c.Path(), c.Method())
	if len(allowed) == 0 {
		return Fail(fiber.StatusNotFound, "not_found")
	}
	c.Set(fiber.HeaderAllow, strings.Join(allowed, ", "))
	return Fail(fiber.StatusMethodNotAllowed, "method_not_allowed")
}

// routePatterns are an app's routes, split into segments once: the routes
// are all mounted before the server starts to listen.
var routePatterns sync.Map // *fiber.App → []routePattern

type routePattern struct {
	method   string
	segments []string
}

func patterns(app *fiber.App) []routePattern {
	if p, ok := routePatterns.Load(app); ok {
		return p.([]routePattern)
	}
	var out []routePattern
	for _, r := range app.GetRoutes(true) {
		if strings.HasSuffix(r.Path, "*") || r.Method == fiber.MethodHead { // catch-alls answer every method
			continue
		}
		out = append(out, routePattern{method: r.Method, segments: splitPath(r.Path)})
	}
	routePatterns.Store(app, out)
	return out
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// allowedMethods lists, sorted, the methods other than method whose
// routes match path; GET brings HEAD along, as Fiber answers both.
func allowedMethods(app *fiber.App, path, method string) []string {
	segs := splitPath(path)
	var out []string
	for _, r := range patterns(app) {
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
