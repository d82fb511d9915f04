package web

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/model"
)

// TestAllowFraming: only the tenant's allowed origins are added, exactly,
// to a page that forbade framing ('none') or allowed only the portal
// itself ('self', a page the portal frames, which inside an embedded
// login has the company's site as its top ancestor); X-Frame-Options goes
// only when the CSP took over; a tenant without origins stays unframeable.
func TestAllowFraming(t *testing.T) {
	for _, tc := range []struct {
		name    string
		origins model.StringList
		csp     string
		want    string
		xfo     string
	}{
		{"none", model.StringList{"https://www.construtora.com.br"}, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
			"default-src 'none'; frame-ancestors https://www.construtora.com.br; base-uri 'none'", ""},
		{"self", model.StringList{"https://a.example", "https://b.example:8443"}, "frame-ancestors 'self'; object-src 'none'",
			"frame-ancestors 'self' https://a.example https://b.example:8443; object-src 'none'", ""},
		{"no origins", nil, "frame-ancestors 'none'", "frame-ancestors 'none'", "DENY"},
		{"a stored origin that is not one", model.StringList{"https://a.example/*"}, "frame-ancestors 'none'", "frame-ancestors 'none'", "DENY"},
		{"no frame-ancestors to change", model.StringList{"https://a.example"}, "default-src 'none'", "default-src 'none'", "DENY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Env{Config: &config.Config{}}
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error {
				c.Locals(keyTenant, &model.Tenant{AllowedOrigins: tc.origins})
				c.Set(fiber.HeaderContentSecurityPolicy, tc.csp)
				c.Set(fiber.HeaderXFrameOptions, "DENY")
				e.AllowFraming(c)
				return c.SendString("ok")
			})
			res, err := app.Test(httptest.NewRequest("GET", "/", nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Header.Get(fiber.HeaderContentSecurityPolicy); got != tc.want {
				t.Errorf("CSP %q, want %q", got, tc.want)
			}
			if got := res.Header.Get(fiber.HeaderXFrameOptions); got != tc.xfo {
				t.Errorf("X-Frame-Options %q, want %q", got, tc.xfo)
			}
		})
	}
}
