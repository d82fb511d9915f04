package web

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestNoRoute(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		p := err.(*Problem)
		return c.Status(p.Status).SendString(p.Code)
	}})
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	api := app.Group("/api/v1")
	api.Post("/session", ok)
	api.Delete("/session", ok)
	api.Get("/me/plugins/:slug/view", ok)
	api.Post("/me/plugins/:slug/actions/:action", ok)
	api.All("/*", NoRoute())
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/session", 405, "DELETE, POST"},
		{"PUT", "/api/v1/Session/", 405, "DELETE, POST"},
		{"POST", "/api/v1/me/plugins/ola/view", 405, "GET, HEAD"},
		{"GET", "/api/v1/me/plugins/ola/actions/emitir", 405, "POST"},
		{"POST", "/api/v1/me/plugins/ola/view/extra", 404, ""},
		{"GET", "/api/v1/me/plugins//view", 404, ""},
		{"GET", "/api/v1/nada", 404, ""},
		{"DELETE", "/api/v1/session", 200, ""},
	} {
		res, err := app.Test(httptest.NewRequest(tt.method, tt.path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tt.status || res.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", tt.method, tt.path, res.StatusCode, res.Header.Get("Allow"), tt.status, tt.allow)
		}
	}
}
