package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
)

type sessionRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// createSession logs a user in: POST /api/v1/session {"email","password"}.
func (h *Handler) createSession(c *fiber.Ctx) error {
	var req sessionRequest
	if err := web.DecodeJSON(c, &req); err != nil {
		return err
	}
	if req.Email == "" || req.Password == "" {
		p := web.Fail(fiber.StatusUnprocessableEntity, "validation_failed")
		p.Fields = map[string]string{}
		if req.Email == "" {
			p.Fields["email"] = "validation.required"
		}
		if req.Password == "" {
			p.Fields["password"] = "validation.required"
		}
		return p
	}
	u, err := h.env.Login(c.UserContext(), c, req.Email, req.Password)
	if err != nil {
		return err
	}
	if err := h.env.EndSession(c); err != nil {
		return err
	}
	if err := h.env.StartSession(c, u); err != nil {
		return err
	}
	h.env.Log.Info("login", "tenant", web.Tenant(c).Slug, "user_id", u.ID, "client_ip", h.env.ClientIP(c))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"user": meOf(c)})
}

// deleteSession logs out: DELETE /api/v1/session. It succeeds without a
// session too, so a client can always reach the logged-out state.
func (h *Handler) deleteSession(c *fiber.Ctx) error {
	if err := h.env.EndSession(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
