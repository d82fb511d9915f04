package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/storage"
)

// GET /tenant: the tenant's settings. Besides the name, branding and
// default language, five of them govern portal sessions (POST
// /api/v1/portal/sessions, SSO from the company's site):
//   - allowed_origins: the only origins a return_url (and
//     default_return_url) may be on, and the only sites that may frame an
//     embedded login (/e/{token}/, Content-Security-Policy
//     frame-ancestors); none, and no site may frame the portal;
//   - portal_session_minutes: the longest a login started by a portal
//     session lasts, however active (web.AbsoluteEnd);
//   - portal_link_minutes: how long an auth_url may be opened;
//   - portal_link_email_login: whether a customer whose auth_url expired or
//     was used may get in with a one-time code sent to their e-mail (only
//     while the server has SMTP, PORTICO_SMTP_URL);
//   - default_return_url: where "Voltar ao site" sends the customer when
//     the portal session had no return_url ("" for the login page).
//
// time_zone is the IANA zone (e.g. "America/Sao_Paulo", the default) the
// admin UI shows times in; the API's own times are always UTC (RFC 3339).
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
		{in.AllowedOrigins != nil, "allowed_origins"}, {in.PortalSessionMinutes != nil, "portal_session_minutes"},
		{in.PortalLinkMinutes != nil, "portal_link_minutes"}, {in.PortalLinkEmailLogin != nil, "portal_link_email_login"},
		{in.DefaultReturnURL != nil, "default_return_url"}, {in.TimeZone != nil, "time_zone"}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}
