package ui

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
)

// usersPage is the user list with its search.
type usersPage struct {
	Users    []model.User
	Q        string
	Page     int
	PrevURL  string
	NextURL  string
	PageSize int
}

const userPageSize = 50

func (u *UI) showUsers(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > model.MaxEmailLength || !model.ValidText(q, false) {
		return web.Fail(fiber.StatusBadRequest, "invalid_parameter")
	}
	page, err := strconv.Atoi(c.Query("page", "1"))
	if err != nil || page < 1 || page > 100_000 {
		page = 1
	}
	// One more than a page tells whether there is a next one.
	users, err := u.store.Users(c.UserContext(), web.Tenant(c).ID, q, userPageSize+1, (page-1)*userPageSize)
	if err != nil {
		return err
	}
	d := &usersPage{Q: q, Page: page, PageSize: userPageSize}
	link := func(p int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		v.Set("page", strconv.Itoa(p))
		return "/admin/users?" + v.Encode()
	}
	if len(users) > userPageSize {
		users = users[:userPageSize]
		d.NextURL = link(page + 1)
	}
	if page > 1 {
		d.PrevURL = link(page - 1)
	}
	d.Users = users
	v := u.newView(c, "users", "admin.users.title")
	v.D = d
	return u.render(c, fiber.StatusOK, "users", v)
}

// userForm is the user form as typed.
type userForm struct {
	ID, Email, Name, Document, Phone, Locale string
	Roles                                    map[string]bool
	Active                                   bool
	Version                                  int64
}

type userPage struct {
	New     bool
	Self    bool
	Form    userForm
	User    *model.User
	Roles   []model.Role
	Locales []web.LocaleOption
	// OwnKeys names the active API keys the user created, which a
	// deactivation or the loss of the gestor role revokes.
	OwnKeys []string
}

// OwnKeyNames lists OwnKeys for a sentence: "ERP", "Site".
func (d *userPage) OwnKeyNames() string {
	quoted := make([]string, len(d.OwnKeys))
	for i, n := range d.OwnKeys {
		quoted[i] = "\u201c" + n + "\u201d"
	}
	return strings.Join(quoted, ", ")
}

// HasPassword reports whether the user being edited has a password (an
// account a portal session created has none: it logs in through the
// company's site), for the support staff reading the page.
func (d *userPage) HasPassword() bool { return d.User != nil && d.User.PasswordHash != "" }

func userLabels(field string) string {
	return map[string]string{
		"email": "admin.users.email", "name": "admin.users.name", "document": "admin.users.document", "phone": "admin.users.phone",
		"roles": "admin.users.roles", "password": "admin.users.password", "locale": "admin.users.locale", "active": "admin.users.active",
	}[field]
}

func userFormOf(usr *model.User) userForm {
	f := userForm{ID: usr.ID, Email: usr.Email, Name: usr.Name, Document: usr.Document, Phone: model.FormatPhone(usr.Phone), Locale: usr.Locale,
		Roles: map[string]bool{}, Active: usr.Active, Version: usr.Version}
	for _, r := range usr.Roles {
		f.Roles[string(r)] = true
	}
	return f
}

func (u *UI) renderUserForm(c *fiber.Ctx, status int, d *userPage, out *outcome) error {
	title := "admin.users.new_title"
	if !d.New {
		title = "admin.users.edit_title"
	}
	v := u.newView(c, "users", title)
	if !d.New {
		v.Title = v.L.T("admin.users.edit_title_named", "Name", d.User.Name)
	}
	d.Roles = model.AllRoles
	d.OwnKeys = nil
	if !d.New && d.User != nil {
		keys, err := u.store.ActiveAPIKeysBy(c.UserContext(), web.Tenant(c).ID, d.User.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			d.OwnKeys = append(d.OwnKeys, k.Name)
		}
	}
	d.Locales = nil
	for _, tag := range model.SupportedLocales {
		d.Locales = append(d.Locales, web.LocaleOption{Tag: tag, Name: i18n.LanguageName(tag), Current: tag == d.Form.Locale})
	}
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, userLabels)
	}
	v.D = d
	return u.render(c, status, "user_form", v)
}

func (u *UI) showNewUser(c *fiber.Ctx) error {
	return u.renderUserForm(c, fiber.StatusOK, &userPage{New: true, Form: userForm{Roles: map[string]bool{"cliente": true}, Active: true}}, nil)
}

// readUserForm reads the fields both forms share.
func readUserForm(c *fiber.Ctx) userForm {
	f := userForm{Name: formText(c, "name"), Document: formText(c, "document"), Phone: formText(c, "phone"),
		Email: strings.TrimSpace(formText(c, "email")), Locale: formText(c, "locale"), Roles: map[string]bool{}, Active: c.FormValue("active") != ""}
	for _, r := range formValues(c, "roles") {
		if len(f.Roles) < len(model.AllRoles)+1 {
			f.Roles[cut(r)] = true
		}
	}
	return f
}

func (f *userForm) roleList() []string {
	out := []string{}
	for _, r := range model.AllRoles {
		if f.Roles[string(r)] {
			out = append(out, string(r))
		}
	}
	for r := range f.Roles {
		if _, err := model.ParseRole(r); err != nil {
			out = append(out, r) // unknown: the Service reports it
		}
	}
	return out
}

// createUser creates through the Service. The password is optional: without
// one the user logs in after following a reset link.
func (u *UI) createUser(c *fiber.Ctx) error {
	f := readUserForm(c)
	f.Active = true
	roles := f.roleList()
	in := service.UserInput{Email: &f.Email, Name: &f.Name, Document: &f.Document, Phone: &f.Phone, Roles: &roles, Locale: &f.Locale}
	if pw := c.FormValue("password"); pw != "" {
		in.Password = &pw
	}
	usr, err := u.svc.CreateUser(c.UserContext(), web.Tenant(c).ID, u.actor(c), in)
	if err != nil {
		out, err := u.explain(c, err, "", "user_not_found")
		if err != nil {
			return err
		}
		return u.renderUserForm(c, out.status, &userPage{New: true, Form: f}, out)
	}
	return redirect(c, "/admin/users/"+usr.ID, "user_created")
}

// userIDParam returns the :id parameter, or a 404 when it cannot be an ID.
func userIDParam(c *fiber.Ctx) (string, error) {
	id := c.Params("id")
	if id == "" || len(id) > 64 || !utf8.ValidString(id) || strings.ContainsAny(id, " /\\") {
		return "", web.Fail(fiber.StatusNotFound, "user_not_found")
	}
	return id, nil
}

func (u *UI) loadUser(c *fiber.Ctx) (*model.User, error) {
	id, err := userIDParam(c)
	if err != nil {
		return nil, err
	}
	usr, err := u.store.UserByID(c.UserContext(), web.Tenant(c).ID, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, web.Fail(fiber.StatusNotFound, "user_not_found")
	}
	return usr, err
}

func (u *UI) showEditUser(c *fiber.Ctx) error {
	usr, err := u.loadUser(c)
	if err != nil {
		return err
	}
	d := &userPage{Form: userFormOf(usr), User: usr, Self: usr.ID == web.User(c).ID}
	return u.renderUserForm(c, fiber.StatusOK, d, nil)
}

// updateUser saves name, document, phone, language, roles and active,
// guarded by version. Deactivating ends the user's sessions at once.
func (u *UI) updateUser(c *fiber.Ctx) error {
	usr, err := u.loadUser(c)
	if err != nil {
		return err
	}
	f := readUserForm(c)
	f.ID, f.Email = usr.ID, usr.Email
	version := formVersion(c)
	if version != nil {
		f.Version = *version
	}
	roles := f.roleList()
	// The service refuses a change that locks the acting gestor out.
	in := service.UserInput{Name: &f.Name, Document: &f.Document, Phone: &f.Phone, Roles: &roles, Locale: &f.Locale, Active: &f.Active, Version: version}
	if _, err = u.svc.UpdateUser(c.UserContext(), web.Tenant(c).ID, usr.ID, u.actor(c), in); err != nil {
		out, err := u.explain(c, err, "", "user_not_found")
		if err != nil {
			return err
		}
		return u.renderUserForm(c, out.status, &userPage{Form: f, User: usr, Self: usr.ID == web.User(c).ID}, out)
	}
	return redirect(c, "/admin/users/"+usr.ID, "user_saved")
}

// deactivateUser is the one-click "deactivate" of the edit page.
func (u *UI) deactivateUser(c *fiber.Ctx) error {
	usr, err := u.loadUser(c)
	if err != nil {
		return err
	}
	version := formVersion(c)
	off := false
	if _, err = u.svc.UpdateUser(c.UserContext(), web.Tenant(c).ID, usr.ID, u.actor(c), service.UserInput{Active: &off, Version: version}); err != nil {
		out, err := u.explain(c, err, "", "user_not_found")
		if err != nil {
			return err
		}
		return u.renderUserForm(c, out.status, &userPage{Form: userFormOf(usr), User: usr, Self: usr.ID == web.User(c).ID}, out)
	}
	return redirect(c, "/admin/users/"+usr.ID, "user_off")
}

// resetLink creates a one-time password link and shows it once.
func (u *UI) resetLink(c *fiber.Ctx) error {
	usr, err := u.loadUser(c)
	if err != nil {
		return err
	}
	path, err := u.svc.ResetLink(c.UserContext(), web.Tenant(c).ID, usr.ID, u.actor(c))
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "user_not_found")
	}
	if err != nil {
		return err
	}
	v := u.newView(c, "users", "admin.reset_link.title")
	v.D = struct {
		User *model.User
		Link string
	}{usr, web.LinkOrigin(c) + path}
	return u.render(c, fiber.StatusCreated, "user_link", v)
}

// The password-reset page a reset link opens (anonymous).

type resetPage struct {
	Token string
	// Email names the account to password managers (a hidden username
	// field), as the account's password form does.
	Email string
	Done  bool
}

// maxToken bounds the token taken from the path before it is hashed.
const maxToken = 128

func (u *UI) showReset(c *fiber.Ctx) error {
	token := c.Params("token")
	if token == "" || len(token) > maxToken {
		return web.Fail(fiber.StatusNotFound, "reset_link_invalid")
	}
	c.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	// A link that no longer works says so at once, before anyone types a
	// new password twice. (Opening the page uses nothing: a mail scanner
	// that fetches the link leaves it working.)
	email, err := u.store.PasswordResetEmail(c.UserContext(), web.Tenant(c).ID, auth.HashToken(token))
	if err != nil {
		return err
	}
	if email == "" {
		return web.Fail(fiber.StatusNotFound, "reset_link_invalid")
	}
	return u.renderReset(c, fiber.StatusOK, token, email, nil)
}

func (u *UI) renderReset(c *fiber.Ctx, status int, token, email string, out *outcome) error {
	v := u.newView(c, "", "admin.reset.title")
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, func(f string) string {
			return map[string]string{"password": "admin.reset.password", "confirm": "admin.reset.confirm"}[f]
		})
	}
	v.D = &resetPage{Token: token, Email: email}
	return u.render(c, status, "reset", v)
}

// submitReset sets a new password through a reset link, once. Failures
// count against the client's login budget, so the form cannot be used to
// guess tokens or burn CPU on password hashing without limit.
func (u *UI) submitReset(c *fiber.Ctx) error {
	env, t := u.env, web.Tenant(c)
	token := c.Params("token")
	if token == "" || len(token) > maxToken {
		return web.Fail(fiber.StatusNotFound, "reset_link_invalid")
	}
	c.Set("Referrer-Policy", "no-referrer")
	// The attempt is reserved from the address's login budget before any
	// work, so a concurrent burst cannot pass a check made before the
	// failures are counted; an unknown token settles it as a failure.
	ipKey := env.LoginIPKey(c)
	res, err := env.IPThrottle.Reserve(c.UserContext(), ipKey)
	if err != nil {
		return throttleUnavailable(env, c, err)
	}
	if !res.OK {
		p := web.Fail(fiber.StatusTooManyRequests, "rate_limited")
		p.RetryAfter = int(res.Wait.Round(time.Second)/time.Second) + 1
		return p
	}
	usr, err := u.svc.ResetPassword(c.UserContext(), t.ID, token, c.FormValue("password"), c.FormValue("confirm"))
	if serr := res.Settle(context.WithoutCancel(c.UserContext()), errors.Is(err, model.ErrNotFound)); serr != nil {
		return throttleUnavailable(env, c, serr)
	}
	if _, ok := model.AsValidation(err); ok {
		out, err := u.explain(c, err, "", "reset_link_invalid")
		if err != nil {
			return err
		}
		// The link is still usable (a refused password does not use it).
		email, err := u.store.PasswordResetEmail(c.UserContext(), t.ID, auth.HashToken(token))
		if err != nil {
			return err
		}
		return u.renderReset(c, out.status, token, email, out)
	}
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "reset_link_invalid")
	}
	if err != nil {
		return err
	}
	// Every session of the user ended; if this browser held one of them,
	// drop its cookie too.
	if cur := web.User(c); cur != nil && cur.ID == usr.ID {
		if err := env.EndSession(c); err != nil {
			return err
		}
	}
	return c.Redirect("/login?reset=1", fiber.StatusSeeOther)
}

// throttleUnavailable answers a reset whose login budget cannot be read or
// counted: 503, never an attempt let through uncounted.
func throttleUnavailable(env *web.Env, c *fiber.Ctx, err error) error {
	env.Log.Error("login throttle unavailable: reset refused", "tenant", web.Tenant(c).Slug, "client_ip", env.ClientIP(c), "err", err)
	p := web.Fail(fiber.StatusServiceUnavailable, "database_unavailable")
	p.RetryAfter = 5
	return p
}
