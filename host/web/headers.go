package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/model"
)

// DefaultCSP is the Content-Security-Policy of every portal page; pages that
// frame a plugin add the plugin's exact origin to frame-src (FrameCSP).
// Portico's pages run no script at all.
const DefaultCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// FrameCSP returns DefaultCSP with frame-src set to CSPSources(sources).
func FrameCSP(allowInsecureLocal bool, sources ...string) string {
	return strings.Replace(DefaultCSP, "frame-src 'none'", "frame-src "+CSPSources(allowInsecureLocal, sources...), 1)
}

// CSPSources is the one way stored text becomes a source list of a
// Content-Security-Policy directive (the plugin page's frame-src, the launch
// page's form-action). Each source is either the keyword 'self' or an
// origin that model.NormalizeOrigin returns unchanged — a canonical https
// origin (http on localhost when allowInsecureLocal) built only from a
// checked host and port. Anything else is dropped, so no stored value can
// add a directive (';'), a second policy (','), or a wildcard. With nothing
// left the list is 'none'.
func CSPSources(allowInsecureLocal bool, sources ...string) string {
	out := make([]string, 0, len(sources))
	for _, s := range sources {
		if s == "'self'" {
			out = append(out, s)
			continue
		}
		if o, err := model.NormalizeOrigin(s, allowInsecureLocal); err == nil && o == s {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return "'none'"
	}
	return strings.Join(out, " ")
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
