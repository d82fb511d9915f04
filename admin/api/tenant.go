package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/storage"
)

// GET /tenant: the tenant's settings. allowed_origins and
// portal_session_minutes are stored but not in effect yet: they will govern
// portal sessions (SSO) started from the company's site, which do not exist
// yet; today every session follows the fixed limits of package auth's
// session handling and no site may embed the portal. The settings page says
// so next to both fields.
func (a *API) getTenant(c *fiber.Ctx) error {
	t, err := a.store.TenantByID(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(viewTenant(t))
}

// PATCH /tenant: a partial update guarded by version.
func (a *API) updateTenant(c *fiber.Ctx) error {
	tid := web.Tenant(c).ID
	before, err := a.store.TenantByID(c.UserContext(), tid)
	if err != nil {
		return err
	}
	var in service.TenantInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, err := a.svc.UpdateTenant(c.UserContext(), tid, actorOf(c), in)
	if err != nil {
		return fail(c, err, "not_found")
	}
	t.Hostnames = before.Hostnames // not editable here, and not reloaded by the update
	changed := tenantInputChanged(&in)
	if before.Version == *in.Version {
		changed = changedKeys(storage.TenantSnapshot(before), storage.TenantSnapshot(t), tenantSnapshotKeys)
	}
	v := viewTenant(t)
	v.Changed = &changed
	return c.JSON(v)
}

func tenantInputChanged(in *service.TenantInput) []string {
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
