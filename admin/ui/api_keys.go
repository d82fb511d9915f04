package ui

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

type keysPage struct {
	Keys   []model.APIKey
	Scopes []model.Scope
	Name   string
	Picked map[string]bool
}

// showAPIKeys lists the tenant's keys above the form for a new one. The
// form ticks no scope: a key gets only the permissions its creator picks
// (least privilege), and one with none is refused with a field error.
func (u *UI) showAPIKeys(c *fiber.Ctx) error {
	return u.renderAPIKeys(c, fiber.StatusOK, "", nil, nil)
}

func (u *UI) renderAPIKeys(c *fiber.Ctx, status int, name string, picked map[string]bool, out *outcome) error {
	keys, err := u.store.APIKeys(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	v := u.newView(c, "api-keys", "admin.keys.title")
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, func(f string) string {
			return map[string]string{"name": "admin.keys.name", "scopes": "admin.keys.scopes"}[f]
		})
	}
	v.D = &keysPage{Keys: keys, Scopes: model.AllScopes, Name: name, Picked: picked}
	return u.render(c, status, "api_keys", v)
}

// createAPIKey creates a key through the Service and shows it once.
func (u *UI) createAPIKey(c *fiber.Ctx) error {
	name := formText(c, "name")
	picked := map[string]bool{}
	var scopes []string
	for _, s := range formValues(c, "scopes") {
		if len(scopes) <= len(model.AllScopes) {
			scopes = append(scopes, cut(s))
			picked[s] = true
		}
	}
	k, key, err := u.svc.NewAPIKey(c.UserContext(), web.Tenant(c).ID, name, scopes, u.actor(c))
	if err != nil {
		out, err := u.explain(c, err, "", "api_key_not_found")
		if err != nil {
			return err
		}
		return u.renderAPIKeys(c, out.status, name, picked, out)
	}
	v := u.newView(c, "api-keys", "admin.keys.created_title")
	v.D = struct {
		Key    *model.APIKey
		Secret string
	}{k, key}
	return u.render(c, fiber.StatusCreated, "api_key_created", v)
}

// revokeAPIKey revokes at once.
func (u *UI) revokeAPIKey(c *fiber.Ctx) error {
	id := c.Params("id")
	if id == "" || len(id) > 64 || strings.ContainsAny(id, " /\\") {
		return web.Fail(fiber.StatusNotFound, "api_key_not_found")
	}
	err := u.svc.RevokeAPIKey(c.UserContext(), web.Tenant(c).ID, id, u.actor(c))
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "api_key_not_found")
	}
	if err != nil {
		out, err := u.explain(c, err, "", "api_key_not_found")
		if err != nil {
			return err
		}
		return u.renderAPIKeys(c, out.status, "", map[string]bool{string(model.ScopeAdmin): true}, out)
	}
	return redirect(c, "/admin/api-keys", "revoked")
}
