package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// GET /signing-keys: {"keys":[…]} newest first, with each key's status
// (next, current, previous, retired) and its schedule.
func (a *API) signingKeys(c *fiber.Ctx) error {
	keys, err := a.svc.SigningKeys(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"keys": keys})
}

// rotateKeyBody is the rotation's body: a tenant-wide change that every
// token plugin notices, so it must be asked for explicitly.
type rotateKeyBody struct {
	Confirm bool `json:"confirm"`
}

// POST /signing-keys {"confirm": true}: 201 with the new key. It is
// published at once and signs from activates_at; the key it replaces stays
// accepted until its retires_at.
func (a *API) rotateSigningKey(c *fiber.Ctx) error {
	var b rotateKeyBody
	if err := web.DecodeJSON(c, &b); err != nil {
		return err
	}
	if !b.Confirm {
		v := &model.ValidationError{}
		v.Add("confirm", "required")
		return web.Invalid(v)
	}
	k, err := a.svc.RotateSigningKey(c.UserContext(), web.Tenant(c).ID, actorOf(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(k)
}
