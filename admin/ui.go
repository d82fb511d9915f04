package admin

import "github.com/gofiber/fiber/v2"

// ui renders the admin pages.
type ui struct{ a *Admin }

func newUI(a *Admin) (*ui, error) { return &ui{a: a}, nil }

// register mounts the admin UI under /admin.
func (u *ui) register(r fiber.Router) {}
