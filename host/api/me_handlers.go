package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
)

type tenantView struct {
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Brand string `json:"brand_name"`
}

type meView struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Email      string       `json:"email"`
	Roles      []model.Role `json:"roles"`
	ActiveRole model.Role   `json:"active_role,omitempty"`
	Locale     string       `json:"locale"`
	Tenant     tenantView   `json:"tenant"`
}

func meOf(c *fiber.Ctx) meView {
	u, t := web.User(c), web.Tenant(c)
	return meView{
		ID: u.ID, Name: u.Name, Email: u.Email, Roles: u.Roles,
		ActiveRole: web.ActiveRole(c),
		Locale:     web.L(c).Locale(),
		Tenant:     tenantView{Slug: t.Slug, Name: t.Name, Brand: t.BrandName},
	}
}

// showMe answers GET /api/v1/me.
func (h *Handler) showMe(c *fiber.Ctx) error {
	return c.JSON(meOf(c))
}

type menuView struct {
	Role    model.Role           `json:"role,omitempty"`
	Panel   string               `json:"panel,omitempty"`
	Entries []registry.MenuEntry `json:"entries"`
}

// showMenu answers GET /api/v1/me/menu?role=cliente|sindico and
// GET /api/v1/me/menu?panel=gestor. Without a parameter it returns the menu
// of the role the session is browsing as.
func (h *Handler) showMenu(c *fiber.Ctx) error {
	u, t := web.User(c), web.Tenant(c)
	roleParam, panelParam := c.Query("role"), c.Query("panel")
	if roleParam != "" && panelParam != "" {
		return paramProblem("role", "validation.role_or_panel")
	}
	if panelParam != "" {
		if panelParam != string(model.RoleGestor) {
			return paramProblem("panel", "validation.invalid_choice")
		}
		if !u.HasRole(model.RoleGestor) {
			return web.Fail(fiber.StatusForbidden, "role_not_held")
		}
		entries, err := h.env.Registry.Panel(c.UserContext(), t.ID, web.L(c).Locale())
		if err != nil {
			return err
		}
		return c.JSON(menuView{Panel: panelParam, Entries: entries})
	}
	role := web.ActiveRole(c)
	if roleParam != "" {
		r, err := model.ParseRole(roleParam)
		if err != nil || !r.IsPortalRole() {
			return paramProblem("role", "validation.invalid_choice")
		}
		if !u.HasRole(r) {
			return web.Fail(fiber.StatusForbidden, "role_not_held")
		}
		role = r
	}
	if role == "" {
		return web.Fail(fiber.StatusForbidden, "role_not_held")
	}
	entries, err := h.env.Registry.Menu(c.UserContext(), t.ID, role, web.L(c).Locale())
	if err != nil {
		return err
	}
	return c.JSON(menuView{Role: role, Entries: entries})
}

func paramProblem(field, key string) error {
	p := web.Fail(fiber.StatusBadRequest, "invalid_parameter")
	p.Fields = map[string]string{field: key}
	return p
}
