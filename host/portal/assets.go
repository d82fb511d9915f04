package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// serveTheme serves the tenant's colours as CSS custom properties. The
// colour was validated as #rrggbb on write and is checked again here, since
// it is written into CSS unescaped.
func (p *Portal) serveTheme(c *fiber.Ctx) error {
	color := tenantColor(web.Tenant(c))
	css := fmt.Sprintf(":root{--primary:%s;--primary-contrast:%s}\n", color, contrastOf(color))
	return sendTenantFile(c, []byte(css), "text/css; charset=utf-8")
}

// serveIcon: GET /icon.svg, the tenant's page icon: Portico's drawing on
// the tenant's colour (the portico in the colour theme.css writes on it),
// so a customer's browser tab shows the company's colour. Pages link it
// with the tenant's version, so a new colour is fetched at once.
func (p *Portal) serveIcon(c *fiber.Ctx) error {
	color := tenantColor(web.Tenant(c))
	return sendTenantFile(c, web.FaviconSVG(color, contrastOf(color)), "image/svg+xml")
}

// sendTenantFile answers with body, a small file made from the tenant's
// settings: cached for five minutes (pages link it with the tenant's
// version, so a change is fetched at once anyway) and revalidated by its
// ETag.
func sendTenantFile(c *fiber.Ctx, body []byte, contentType string) error {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderContentType, contentType)
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(body)
}

// tenantColor is the tenant's primary colour, or Portico's blue when it
// has none (or, from an older version, one that is not #rrggbb).
func tenantColor(t *model.Tenant) string {
	if model.ValidColor(t.PrimaryColor) {
		return t.PrimaryColor
	}
	return web.PorticoBlue
}

// contrastOf picks black or white text for a #rrggbb background by its
// relative luminance, so any tenant colour stays readable.
func contrastOf(hexColor string) string {
	var r, g, b int
	if _, err := fmt.Sscanf(hexColor, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return "#ffffff"
	}
	lum := 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	if lum > 0.179 {
		return "#111111"
	}
	return "#ffffff"
}

func lin(c int) float64 {
	v := float64(c) / 255
	if v <= 0.03928 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}
