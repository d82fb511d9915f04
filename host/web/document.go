package web

import "github.com/gofiber/fiber/v2"

// JSONDocument answers with doc, a fixed JSON document (an API's OpenAPI
// description), under the given Cache-Control: "public, max-age=300" for
// one anyone may read, "private, max-age=300" for one served behind a
// credential.
func JSONDocument(doc []byte, cacheControl string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		c.Set(fiber.HeaderCacheControl, cacheControl)
		return c.Send(doc)
	}
}
