package admin

import "github.com/gofiber/fiber/v2"

// registerAccess mounts the plugin access pages on the gestor-only group.
func (u *ui) registerAccess(g fiber.Router) {}
