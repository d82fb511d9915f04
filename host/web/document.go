package web

import "github.com/gofiber/fiber/v2"

// FixedFile answers with body, the same bytes for every request and host
// (an icon, an API's OpenAPI description), as contentType, cached by
// anyone for maxAge: the one handler for the server's fixed files.
func FixedFile(body []byte, contentType, maxAge string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, contentType)
		c.Set(fiber.HeaderCacheControl, "public, max-age="+maxAge)
		return c.Send(body)
	}
}
