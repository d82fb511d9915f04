package admin

import "github.com/gofiber/fiber/v2"

// registerVersions mounts the wasm version pages on the gestor-only group.
func (u *ui) registerVersions(g fiber.Router) {}
