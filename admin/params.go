package admin

import (
	"github.com/gofiber/fiber/v2"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// MaxIDParam bounds an ID taken from a path, checked before any query.
const MaxIDParam = 64

// ValidID reports whether a path parameter can be a record's ID: 1 to
// MaxIDParam printable ASCII characters. Anything else is the route's
// "not found", exactly like an unknown ID or another tenant's.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDParam {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// SlugParam returns the :slug parameter, or the 404 plugin_not_found
// Problem when it cannot be a slug.
func SlugParam(c *fiber.Ctx) (string, error) {
	s := c.Params("slug")
	if !model.ValidSlug(s) {
		return "", web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	return s, nil
}
