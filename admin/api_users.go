package admin

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

const (
	userNotFound   = "user_not_found"
	apiKeyNotFound = "api_key_not_found"
)

// maxUserOffset bounds paging through users.
const maxUserOffset = 1_000_000

// userOf loads the user named by :id in the request's tenant.
func (a *Admin) userOf(c *fiber.Ctx) (*model.User, error) {
	id, err := idParam(c, userNotFound)
	if err != nil {
		return nil, err
	}
	u, err := a.env.Store.UserByID(c.UserContext(), web.Tenant(c).ID, id)
	if err != nil {
		return nil, problem(err, userNotFound)
	}
	return u, nil
}

// GET /users?q=&limit=&offset=: the tenant's users whose name, e-mail or
// document contains q, by name.
func (a *Admin) apiListUsers(c *fiber.Ctx) error {
	q, err := queryText(c, "q", maxQueryParam)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, storage.MaxUserPage)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0, 0, maxUserOffset)
	if err != nil {
		return err
	}
	us, err := a.env.Store.Users(c.UserContext(), web.Tenant(c).ID, q, limit, offset)
	if err != nil {
		return err
	}
	out := make([]userView, len(us))
	for i := range us {
		out[i] = viewUser(&us[i])
	}
	return c.JSON(fiber.Map{"users": out, "limit": limit, "offset": offset})
}

// POST /users: 201 with the new user. Without a password the user logs in
// after following a reset link.
func (a *Admin) apiCreateUser(c *fiber.Ctx) error {
	var in UserInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return notAllowed("version")
	}
	u, err := a.svc.CreateUser(c.UserContext(), web.Tenant(c).ID, ActorOf(c), in)
	if err != nil {
		return problem(err, userNotFound)
	}
	return c.Status(fiber.StatusCreated).JSON(viewUser(u))
}

// GET /users/:id.
func (a *Admin) apiGetUser(c *fiber.Ctx) error {
	u, err := a.userOf(c)
	if err != nil {
		return err
	}
	return c.JSON(viewUser(u))
}

// PATCH /users/:id: a partial update guarded by version. Deactivating ends
// the user's sessions in the same transaction.
func (a *Admin) apiUpdateUser(c *fiber.Ctx) error {
	before, err := a.userOf(c)
	if err != nil {
		return err
	}
	var in UserInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(c.UserContext(), web.Tenant(c).ID, before.ID, ActorOf(c), in)
	if err != nil {
		return problem(err, userNotFound)
	}
	var changed []string
	if before.Version == *in.Version {
		changed = changedKeys(storage.UserSnapshot(before), storage.UserSnapshot(u), userSnapshotKeys)
	} else {
		changed = userInputChanged(&in)
	}
	v := viewUser(u)
	v.Changed = &changed
	return c.JSON(v)
}

func userInputChanged(in *UserInput) []string {
	out := []string{}
	for _, f := range []struct {
		set  bool
		name string
	}{{in.Email != nil, "email"}, {in.Name != nil, "name"}, {in.Document != nil, "document"}, {in.Phone != nil, "phone"},
		{in.Roles != nil, "roles"}, {in.Locale != nil, "locale"}, {in.Active != nil, "active"}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// POST /users/:id/reset-link: 201 {"path":"/reset/…","expires_in_seconds":N}.
// The path is shown to the gestor once, to hand to the user.
func (a *Admin) apiResetLink(c *fiber.Ctx) error {
	u, err := a.userOf(c)
	if err != nil {
		return err
	}
	path, err := a.svc.ResetLink(c.UserContext(), web.Tenant(c).ID, u.ID, ActorOf(c))
	if err != nil {
		return problem(err, userNotFound)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"path": path, "expires_in_seconds": int(a.svc.resetT.Seconds())})
}

// GET /api-keys: every key, newest first, revoked ones included; never a
// hash.
func (a *Admin) apiListAPIKeys(c *fiber.Ctx) error {
	ks, err := a.env.Store.APIKeys(c.UserContext(), web.Tenant(c).ID)
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
func (a *Admin) apiCreateAPIKey(c *fiber.Ctx) error {
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
	k, key, err := a.svc.NewAPIKey(c.UserContext(), web.Tenant(c).ID, b.Name, b.Scopes, ActorOf(c))
	if err != nil {
		return problem(err, apiKeyNotFound)
	}
	v := viewAPIKey(k)
	v.Key = key
	return c.Status(fiber.StatusCreated).JSON(v)
}

// DELETE /api-keys/:id: revokes at once; 204.
func (a *Admin) apiRevokeAPIKey(c *fiber.Ctx) error {
	id, err := idParam(c, apiKeyNotFound)
	if err != nil {
		return err
	}
	tid := web.Tenant(c).ID
	if _, err := a.env.Store.APIKeyByID(c.UserContext(), tid, id); err != nil {
		return problem(err, apiKeyNotFound)
	}
	if err := a.env.Store.RevokeAPIKey(c.UserContext(), tid, id, ActorOf(c)); err != nil {
		return problem(err, apiKeyNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// GET /tenant: the tenant's settings. allowed_origins and
// portal_session_minutes are stored but not in effect yet: they will govern
// portal sessions (SSO) started from the company's site, which do not exist
// yet; today every session follows the fixed limits of package auth's
// session handling and no site may embed the portal. The settings page says
// so next to both fields.
func (a *Admin) apiGetTenant(c *fiber.Ctx) error {
	t, err := a.env.Store.TenantByID(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(viewTenant(t))
}

// PATCH /tenant: a partial update guarded by version.
func (a *Admin) apiUpdateTenant(c *fiber.Ctx) error {
	tid := web.Tenant(c).ID
	before, err := a.env.Store.TenantByID(c.UserContext(), tid)
	if err != nil {
		return err
	}
	var in TenantInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.svc.UpdateTenant(c.UserContext(), tid, ActorOf(c), in)
	if err != nil {
		return problem(err, "not_found")
	}
	t.Hostnames = before.Hostnames // not editable here, and not reloaded by the update
	changed := in.changed()
	if before.Version == *in.Version {
		changed = changedKeys(storage.TenantSnapshot(before), storage.TenantSnapshot(t), tenantSnapshotKeys)
	}
	v := viewTenant(t)
	v.Changed = &changed
	return c.JSON(v)
}

func (in *TenantInput) changed() []string {
	out := []string{}
	for _, f := range []struct {
		set  bool
		name string
	}{{in.Name != nil, "name"}, {in.BrandName != nil, "brand_name"}, {in.LogoURL != nil, "logo_url"},
		{in.PrimaryColor != nil, "primary_color"}, {in.DefaultLocale != nil, "default_locale"},
		{in.AllowedOrigins != nil, "allowed_origins"}, {in.PortalSessionMinutes != nil, "portal_session_minutes"}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}
