package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// DefaultCSP is the Content-Security-Policy of every portal page; pages that
// frame a plugin add the plugin's exact origin to frame-src (FrameCSP).
// Portico's pages run no script at all.
const DefaultCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// FrameCSP returns DefaultCSP with frame-src set to origin.
func FrameCSP(origin string) string {
	return strings.Replace(DefaultCSP, "frame-src 'none'", "frame-src "+origin, 1)
}

// SecurityHeaders sets the headers every response carries.
func SecurityHeaders() fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := &c.Response().Header
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set(fiber.HeaderContentSecurityPolicy, DefaultCSP)
		if Secure(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return c.Next()
	}
}
