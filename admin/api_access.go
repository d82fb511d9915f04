package admin

import "github.com/gofiber/fiber/v2"

// registerAccessAPI mounts the plugin access routes (grants, launch
// settings, credential and key rotation). Filled in by the launch work.
func (a *Admin) registerAccessAPI(r fiber.Router) {}
