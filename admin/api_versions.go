package admin

import "github.com/gofiber/fiber/v2"

// registerVersionsAPI mounts the wasm module version routes (upload, list,
// activate, rollback, health). Filled in by the wasm work.
func (a *Admin) registerVersionsAPI(r fiber.Router) {}
