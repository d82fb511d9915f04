package portal

import (
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
)

// showHome renders the menu of the role the user is browsing as. A person
// who is only a gestor has no portal menu and lands on the manager panel.
func (p *Portal) showHome(c *fiber.Ctx) error {
	v := p.newView(c, "home.title")
	if v.Role == "" {
		if v.IsGestor {
			return c.Redirect("/gestor", fiber.StatusSeeOther)
		}
		return web.Fail(fiber.StatusForbidden, "role_not_held")
	}
	menu, err := p.env.Registry.Menu(c.UserContext(), v.Tenant.ID, v.Role, v.L.Locale())
	if err != nil {
		return err
	}
	p.fillCards(c, v, menu)
	v.Menu = withBase(menu, v.Base)
	return renderPage(c, fiber.StatusOK, homePage(v))
}

// showGestor renders the manager panel: the plugins flagged "show in the
// manager panel". Only gestores see it.
func (p *Portal) showGestor(c *fiber.Ctx) error {
	if code := web.StaffAccess(c); code != "" {
		return web.Fail(fiber.StatusForbidden, code)
	}
	v := p.newView(c, "gestor.title")
	menu, err := p.env.Registry.Panel(c.UserContext(), v.Tenant.ID, v.L.Locale())
	if err != nil {
		return err
	}
	v.Menu = withBase(menu, v.Base)
	return renderPage(c, fiber.StatusOK, gestorPage(v))
}

// showPlugin renders /p/{slug}. A plugin the user may not open answers
// exactly like one that does not exist.
func (p *Portal) showPlugin(c *fiber.Ctx) error {
	u, t := web.User(c), web.Tenant(c)
	slug := c.Params("slug")
	plugin, err := p.env.OpenablePlugin(c, slug)
	if err != nil {
		return err
	}
	v := p.newView(c, "plugin.title")
	v.Title = plugin.TitleIn(v.L.Locale())
	v.Plugin = plugin
	v.Back = "/"
	if plugin.OpenAs(u, v.Role) == model.RoleGestor {
		v.Back = "/gestor"
	}
	if plugin.Type == model.PluginIframe {
		origin, err := model.OriginOf(plugin.URL, p.env.Config.Demo)
		if err != nil {
			// Stored URLs were validated on write; a row that fails now was
			// edited behind Portico's back, so do not frame it.
			p.env.Log.Error("stored plugin url is invalid", "tenant", t.Slug, "plugin", slug, "err", err)
			return web.Fail(fiber.StatusNotFound, "plugin_not_found")
		}
		sources := []string{origin}
		if plugin.AuthType == model.AuthToken && plugin.ClientID != "" {
			// The frame first loads Portico's launch page (/p/{slug}/launch),
			// which posts the launch token on to the plugin's origin. A token
			// plugin without credentials yet is framed directly, token-less.
			sources = []string{"'self'", origin}
		}
		c.Set(fiber.HeaderContentSecurityPolicy, web.FrameCSP(p.env.Config.Demo, sources...))
		v.FrameSandbox, v.FrameOrigin = web.FrameSandbox(c, origin), origin
	}
	if plugin.Type == model.PluginWasm {
		return p.showWasm(c, v, plugin)
	}
	return renderPage(c, fiber.StatusOK, pluginPage(v))
}

// submitLocale stores the chosen language in a cookie and, for a logged-in
// user, in their profile.
func (p *Portal) submitLocale(c *fiber.Ctx) error {
	loc := c.FormValue("locale")
	if !model.ValidLocale(loc) {
		return web.Fail(fiber.StatusBadRequest, "invalid_locale")
	}
	c.Cookie(&fiber.Cookie{Name: web.LocaleCookie, Value: loc, Path: "/", MaxAge: 365 * 24 * 3600,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: web.Secure(c)})
	if u := web.User(c); u != nil {
		if err := p.env.Store.SetUserLocale(c.UserContext(), u.TenantID, u.ID, loc); err != nil {
			return err
		}
	}
	if s := web.Session(c); s != nil && s.Locale != "" {
		// A portal session brought a language; the person's choice wins.
		if err := p.env.Store.SetSessionLocale(c.UserContext(), s.TenantID, s.ID, loc); err != nil {
			return err
		}
	}
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

// submitRole switches the portal role of a person who holds several.
func (p *Portal) submitRole(c *fiber.Ctx) error {
	u, s := web.User(c), web.Session(c)
	r, err := model.ParseRole(c.FormValue("role"))
	if err != nil || !r.IsPortalRole() || !u.HasRole(r) {
		return web.Fail(fiber.StatusForbidden, "role_not_held")
	}
	if err := p.env.Store.SetSessionRole(c.UserContext(), s.TenantID, s.ID, r); err != nil {
		return err
	}
	return c.Redirect("/", fiber.StatusSeeOther)
}

// showDemoFrame is the page the demo tenant's iframe plugins point at
// (PORTICO_DEMO only). It may be framed by the portal itself.
func (p *Portal) showDemoFrame(c *fiber.Ctx) error {
	name := c.Params("name")
	if !model.ValidSlug(name) {
		return web.Fail(fiber.StatusNotFound, "not_found")
	}
	// The portal may be opened on any of the tenant's hostnames (localhost or
	// 127.0.0.1 in the demo); each must be able to frame this page.
	// The port comes from the request's Host header, so the sources go
	// through web.CSPSources like every other origin put into a policy.
	ancestors := []string{"'self'"}
	_, port, _ := net.SplitHostPort(web.HostHeader(c))
	for _, h := range web.Tenant(c).Hostnames {
		ancestors = append(ancestors, c.Protocol()+"://"+hostPort(h, port))
	}
	c.Response().Header.Del("X-Frame-Options")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'self'; frame-ancestors "+
		web.CSPSources(p.env.Config.Demo, ancestors...)+"; base-uri 'none'")
	// The page names the plugin as the menu does (its title in the
	// reader's language), or by its slug when no plugin has it.
	l := web.L(c)
	if pl, err := p.env.Store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, name); err == nil {
		name = pl.TitleIn(l.Locale())
	}
	return sendHTML(c, fiber.StatusOK, demoFramePage(l, p.assets, name))
}

// hostPort joins a hostname and an optional port.
func hostPort(host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

// withBase prefixes each entry's path with base (an embedded login's,
// web.EmbedBase); the entries are copies, the registry's cache untouched.
func withBase(menu []registry.MenuEntry, base string) []registry.MenuEntry {
	if base == "" {
		return menu
	}
	out := make([]registry.MenuEntry, len(menu))
	for i, e := range menu {
		e.Path = base + e.Path
		out[i] = e
	}
	return out
}
