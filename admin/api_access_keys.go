package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
)

// registerSigningKeysAPI mounts the tenant's signing-key routes: the list
// and a rotation. Keys are tenant-wide: every token plugin verifies with
// the same JWKS.
func (a *Admin) registerSigningKeysAPI(r fiber.Router) {
	r.Get("/signing-keys", a.apiSigningKeys)
	r.Post("/signing-keys", a.apiRotateSigningKey)
}

// GET /signing-keys: {"keys":[…]} newest first, with each key's status
// (next, current, previous, retired) and its schedule.
func (a *Admin) apiSigningKeys(c *fiber.Ctx) error {
	keys, err := a.svc.SigningKeys(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"keys": keys})
}

// POST /signing-keys: 201 with the new key. It is published at once and
// signs from activates_at; the key it replaces stays accepted until its
// retires_at.
func (a *Admin) apiRotateSigningKey(c *fiber.Ctx) error {
	if len(c.Body()) > 0 {
		// The rotation takes no input: {} at most.
		var none struct{}
		if err := web.DecodeJSON(c, &none); err != nil {
			return err
		}
	}
	k, err := a.svc.RotateSigningKey(c.UserContext(), web.Tenant(c).ID, ActorOf(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(k)
}
