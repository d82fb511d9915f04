package admin

import "github.com/gofiber/fiber/v2"

// registerAPI mounts the admin API's routes on r (/api/v1/admin).
func (a *Admin) registerAPI(r fiber.Router) {}
