package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

const apiKeyNotFound = "api_key_not_found"

// GET /api-keys: every key, newest first, revoked ones included; never a
// hash.
func (a *API) listAPIKeys(c *fiber.Ctx) error {
	ks, err := a.store.APIKeys(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	out := make([]apiKeyView, len(ks))
	for i := range ks {
		out[i] = viewAPIKey(&ks[i])
	}
	return c.JSON(fiber.Map{"api_keys": out})
}

type apiKeyBody struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// POST /api-keys {"name","scopes":[…]}: 201 with the key, shown once.
func (a *API) createAPIKey(c *fiber.Ctx) error {
	var b apiKeyBody
	if err := web.DecodeJSON(c, &b); err != nil {
		return err
	}
	for _, s := range b.Scopes {
		// The service parses a comma-separated list; one element is one scope.
		if strings.Contains(s, ",") {
			v := &model.ValidationError{}
			v.Add("scopes", "invalid_choice")
			return web.Invalid(v)
		}
	}
	k, key, err := a.svc.NewAPIKey(c.UserContext(), web.Tenant(c).ID, b.Name, b.Scopes, actorOf(c))
	if err != nil {
		return fail(c, err, apiKeyNotFound)
	}
	v := viewAPIKey(k)
	v.Key = key
	return c.Status(fiber.StatusCreated).JSON(v)
}

// DELETE /api-keys/:id: revokes at once; 204.
func (a *API) revokeAPIKey(c *fiber.Ctx) error {
	id, err := idParam(c, apiKeyNotFound)
	if err != nil {
		return err
	}
	if err := a.svc.RevokeAPIKey(c.UserContext(), web.Tenant(c).ID, id, actorOf(c)); err != nil {
		return fail(c, err, apiKeyNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
