package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/model"
)

// showWasm renders a wasm plugin's page. Until the runtime is wired it shows
// the "unavailable" notice of the plugin template.
func (p *Portal) showWasm(c *fiber.Ctx, v *view, plugin *model.Plugin) error {
	return p.render(c, fiber.StatusOK, "plugin", v)
}
