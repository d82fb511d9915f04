package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/userimport"
)

const userNotFound = "user_not_found"

// maxUserOffset bounds paging through users.
const maxUserOffset = 1_000_000

// userOf loads the user named by :id in the request's tenant.
func (a *API) userOf(c *fiber.Ctx) (*model.User, error) {
	id, err := idParam(c, userNotFound)
	if err != nil {
		return nil, err
	}
	u, err := a.store.UserByID(c.UserContext(), web.Tenant(c).ID, id)
	if err != nil {
		return nil, fail(c, err, userNotFound)
	}
	return u, nil
}

// GET /users?q=&limit=&offset=: the tenant's users whose name, e-mail or
// document contains q, by name.
func (a *API) listUsers(c *fiber.Ctx) error {
	q, err := queryText(c, "q", maxQueryParam)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, storage.MaxUserPage)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0, 0, maxUserOffset)
	if err != nil {
		return err
	}
	us, err := a.store.Users(c.UserContext(), web.Tenant(c).ID, q, limit, offset)
	if err != nil {
		return err
	}
	out := make([]userView, len(us))
	for i := range us {
		out[i] = viewUser(&us[i])
	}
	return c.JSON(fiber.Map{"users": out, "limit": limit, "offset": offset})
}

// POST /users/import: the people of a CSV file (text/csv body or a
// multipart "file") created as customers, one by one; 200 with the report
// row by row (admin.ImportRows). A refused file is 422 csv_* (413
// csv_too_large) and creates nobody.
func (a *API) importUsers(c *fiber.Ctx) error {
	data, err := admin.ReadImportFile(c)
	if err != nil {
		return err
	}
	f, err := userimport.Parse(data)
	if err != nil {
		err = admin.ImportProblem(err)
		if p, ok := err.(*web.Problem); ok {
			// The message names the column as the reader's spreadsheets do.
			c.Set(fiber.HeaderCacheControl, "no-store")
			return c.Status(p.Status).JSON(fiber.Map{"error": web.APIError{Code: p.Code, Message: admin.ImportProblemMessage(web.L(c), p)}})
		}
		return err
	}
	l := web.L(c)
	rep, err := a.svc.ImportUsers(c.UserContext(), web.Tenant(c).ID, actorOf(c), f)
	if rep == nil {
		return err
	}
	report := fiber.Map{"created": rep.Created, "exists": rep.Exists, "failed": rep.Failed,
		"ignored_columns": rep.Ignored, "rows": admin.ImportRows(l, func(k string) bool { return a.keys[k] }, rep)}
	if err != nil {
		if rep.StoppedAt == 0 {
			return err
		}
		// The rows before the failure are created: the report says which.
		a.env.Log.Error("user import stopped", "tenant", web.Tenant(c).Slug, "line", rep.StoppedAt, "err", err)
		report["stopped_at_line"] = rep.StoppedAt
		c.Set(fiber.HeaderRetryAfter, "5")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
			"error":  web.APIError{Code: "import_stopped", Message: l.T("error.import_stopped", "Line", rep.StoppedAt)},
			"report": report})
	}
	return c.JSON(report)
}

// POST /users: 201 with the new user. Without a password the user logs in
// after following a reset link.
func (a *API) createUser(c *fiber.Ctx) error {
	var in service.UserInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return notAllowed("version")
	}
	u, err := a.svc.CreateUser(c.UserContext(), web.Tenant(c).ID, actorOf(c), in)
	if err != nil {
		return fail(c, err, userNotFound)
	}
	return c.Status(fiber.StatusCreated).JSON(viewUser(u))
}

// GET /users/:id.
func (a *API) getUser(c *fiber.Ctx) error {
	u, err := a.userOf(c)
	if err != nil {
		return err
	}
	return c.JSON(viewUser(u))
}

// PATCH /users/:id: a partial update guarded by version. Deactivating ends
// the user's sessions in the same transaction.
func (a *API) updateUser(c *fiber.Ctx) error {
	before, err := a.userOf(c)
	if err != nil {
		return err
	}
	var in service.UserInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(c.UserContext(), web.Tenant(c).ID, before.ID, actorOf(c), in)
	if err != nil {
		return fail(c, err, userNotFound)
	}
	var changed []string
	if before.Version == *in.Version {
		changed = changedKeys(storage.UserSnapshot(before), storage.UserSnapshot(u), userSnapshotKeys)
	} else {
		changed = userInputChanged(&in)
	}
	v := viewUser(u)
	v.Changed = &changed
	return c.JSON(v)
}

func userInputChanged(in *service.UserInput) []string {
	out := []string{}
	for _, f := range []struct {
		set  bool
		name string
	}{{in.Email != nil, "email"}, {in.Name != nil, "name"}, {in.Document != nil, "document"}, {in.Phone != nil, "phone"},
		{in.Roles != nil, "roles"}, {in.Locale != nil, "locale"}, {in.Active != nil, "active"}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// POST /users/:id/reset-link: 201 {"path":"/reset/…","expires_in_seconds":N}.
// The path is shown to the gestor once, to hand to the user.
func (a *API) resetLink(c *fiber.Ctx) error {
	u, err := a.userOf(c)
	if err != nil {
		return err
	}
	path, err := a.svc.ResetLink(c.UserContext(), web.Tenant(c).ID, u.ID, actorOf(c))
	if err != nil {
		return fail(c, err, userNotFound)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"path": path, "expires_in_seconds": int(service.ResetLinkTTL.Seconds())})
}
