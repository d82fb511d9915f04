package portal

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// accountPage is the data of myAccountPage: the customer's own profile or
// address form.
type accountPage struct {
	*view
	// Tab is "profile" or "address".
	Tab string
	// Form holds the values shown (as typed, after a failed submit).
	Form   accountForm
	Errors map[string]string
	Saved  bool
	// Unchanged: the form was sent as it was shown and nothing was saved.
	Unchanged bool
	States    []string
	Version   int64
	// The password tab: whether the account has a password to change,
	// whether the portal can e-mail a link to create one, and whether the
	// change that redirected here succeeded.
	HasPassword, CanMailLink, PasswordChanged bool
}

// accountForm is every field of both forms.
type accountForm struct {
	Name, Phone, Locale, Email, Document                   string
	CEP, Street, Number, Complement, District, City, State string
}

func formOf(u *model.User) accountForm {
	a := u.Address
	return accountForm{Name: u.Name, Phone: model.FormatPhone(u.Phone), Locale: u.Locale, Email: u.Email, Document: model.FormatDocument(u.Document),
		CEP: model.FormatCEP(a.CEP), Street: a.Street, Number: a.Number, Complement: a.Complement, District: a.District,
		City: a.City, State: a.State}
}

func (p *Portal) newAccountPage(c *fiber.Ctx, tab string, u *model.User) *accountPage {
	v := p.newView(c, "account."+tab+"_title")
	return &accountPage{view: v, Tab: tab, Form: formOf(u), Errors: map[string]string{}, States: model.States, Version: u.Version,
		HasPassword: u.PasswordHash != "", CanMailLink: p.mailer != nil}
}

// showProfile: GET /account/profile.
func (p *Portal) showProfile(c *fiber.Ctx) error { return p.showAccount(c, "profile") }

// showAddress: GET /account/address.
func (p *Portal) showAddress(c *fiber.Ctx) error { return p.showAccount(c, "address") }

// showAccount renders a tab of the account page, with the outcome of the
// save that redirected here (?saved=1 or ?unchanged=1).
func (p *Portal) showAccount(c *fiber.Ctx, tab string) error {
	ap := p.newAccountPage(c, tab, web.User(c))
	ap.Saved, ap.Unchanged = c.Query("saved") == "1", c.Query("unchanged") == "1"
	return p.renderAccount(c, fiber.StatusOK, ap)
}

func (p *Portal) renderAccount(c *fiber.Ctx, status int, ap *accountPage) error {
	return renderPage(c, status, myAccountPage(ap))
}

// submitProfile: POST /account/profile changes the customer's name, phone
// and language; the e-mail and document are the company's records and
// are not editable here.
func (p *Portal) submitProfile(c *fiber.Ctx) error {
	u := web.User(c)
	in := accountForm{Name: c.FormValue("name"), Phone: c.FormValue("phone"), Locale: c.FormValue("locale")}
	return p.saveAccount(c, "profile", model.AuditUserProfile, in, func(dst *model.User) error {
		dst.Name, dst.Phone, dst.Locale = in.Name, in.Phone, in.Locale
		return dst.Validate()
	}, u)
}

// submitAddress: POST /account/address.
func (p *Portal) submitAddress(c *fiber.Ctx) error {
	u := web.User(c)
	in := accountForm{CEP: c.FormValue("cep"), Street: c.FormValue("street"), Number: c.FormValue("number"),
		Complement: c.FormValue("complement"), District: c.FormValue("district"), City: c.FormValue("city"), State: c.FormValue("state")}
	return p.saveAccount(c, "address", model.AuditUserAddress, in, func(dst *model.User) error {
		dst.Address = model.Address{CEP: in.CEP, Street: in.Street, Number: in.Number, Complement: in.Complement,
			District: in.District, City: in.City, State: in.State}
		return dst.Address.Validate()
	}, u)
}

// saveAccount applies one account form with the version the form was
// shown at; a failure re-renders the form with what was typed and every
// field's message in the user's language.
func (p *Portal) saveAccount(c *fiber.Ctx, tab, action string, in accountForm, mutate func(*model.User) error, u *model.User) error {
	version, perr := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if perr != nil {
		version = u.Version
	}
	a := model.Actor{Type: "user", ID: u.ID, Label: u.Email, IP: p.env.ClientIP(c)}
	saved, err := p.env.Store.UpdateOwnUser(c.UserContext(), u.TenantID, u.ID, version, a, action, mutate)
	if err == nil && saved.Version == version {
		// The form was sent as it was shown: nothing was written.
		return c.Redirect("/account/"+tab+"?unchanged=1", fiber.StatusSeeOther)
	}
	if err == nil {
		if tab == "profile" && web.Session(c) != nil && web.Session(c).Locale != "" && in.Locale != "" {
			// The person chose a language: it now outranks the one the
			// portal session brought.
			if err := p.env.Store.SetSessionLocale(c.UserContext(), u.TenantID, web.Session(c).ID, ""); err != nil {
				return err
			}
		}
		return c.Redirect("/account/"+tab+"?saved=1", fiber.StatusSeeOther)
	}
	ap := p.newAccountPage(c, tab, u)
	in.Email, in.Document = ap.Form.Email, ap.Form.Document
	if tab == "profile" {
		in.CEP, in.Street, in.Number, in.Complement, in.District, in.City, in.State = ap.Form.CEP, ap.Form.Street,
			ap.Form.Number, ap.Form.Complement, ap.Form.District, ap.Form.City, ap.Form.State
	} else {
		in.Name, in.Phone, in.Locale = ap.Form.Name, ap.Form.Phone, ap.Form.Locale
	}
	ap.Form = in
	if v, ok := model.AsValidation(err); ok {
		for _, f := range v.Fields {
			if _, dup := ap.Errors[f.Field]; !dup {
				ap.Errors[f.Field] = ap.L.T("validation." + f.Code)
			}
		}
		ap.Problem = ap.L.T("account.fix_fields")
		return p.renderAccount(c, fiber.StatusUnprocessableEntity, ap)
	}
	if errors.Is(err, storage.ErrStale) {
		ap.Problem = ap.L.T("account.stale")
		return p.renderAccount(c, fiber.StatusConflict, ap)
	}
	return err
}

// showPassword: GET /account/password, with the outcome of the change
// that redirected here (?changed=1).
func (p *Portal) showPassword(c *fiber.Ctx) error {
	ap := p.newAccountPage(c, "password", web.User(c))
	ap.PasswordChanged = c.Query("changed") == "1"
	return p.renderAccount(c, fiber.StatusOK, ap)
}

// submitPassword: POST /account/password changes the user's password once
// they prove the current one. The current password is checked by the same
// code as a login (web.Env.Login), so every wrong one counts against the
// account's login budget (and the address's, as on the login page) and
// waits in the login queue: a stolen session cannot use this form to guess
// the password. Every other session of the user ends; this one stays. A
// field error re-renders the form; the passwords are never echoed.
func (p *Portal) submitPassword(c *fiber.Ctx) error {
	u := web.User(c)
	current, next, confirm := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("confirm_password")
	ap := p.newAccountPage(c, "password", u)
	if !ap.HasPassword {
		// The form is not offered to an account without a password.
		ap.Problem = ap.L.T("account.password_none")
		return p.renderAccount(c, fiber.StatusConflict, ap)
	}
	// The new password is checked first: a wrong one costs no hash.
	if current == "" {
		ap.Errors["current_password"] = ap.L.T("validation.required")
	}
	if !auth.PasswordLengthOK(next) {
		ap.Errors["new_password"] = ap.L.T("validation.password_length")
	} else if next != confirm {
		ap.Errors["confirm_password"] = ap.L.T("validation.password_mismatch")
	}
	if len(ap.Errors) > 0 {
		ap.Problem = ap.L.T("account.fix_fields")
		return p.renderAccount(c, fiber.StatusUnprocessableEntity, ap)
	}
	who, err := p.env.Login(c.UserContext(), c, u.Email, current)
	if err != nil {
		var prob *web.Problem
		if !errors.As(err, &prob) {
			return err
		}
		if prob.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(prob.RetryAfter))
		}
		status := prob.Status
		switch prob.Code {
		case "invalid_credentials":
			// A field of the form, not a failed authentication: the
			// session is fine.
			status = fiber.StatusUnprocessableEntity
			ap.Errors["current_password"] = ap.L.T("account.password_wrong")
			ap.Problem = ap.L.T("account.fix_fields")
		case "rate_limited":
			ap.Problem = ap.L.T("login.rate_limited", "Count", (prob.RetryAfter+59)/60)
		default:
			ap.Problem = ap.L.T("error." + prob.Code)
		}
		return p.renderAccount(c, status, ap)
	}
	if who.ID != u.ID {
		return fmt.Errorf("change password: the login check found user %s, not %s", who.ID, u.ID)
	}
	hash, err := auth.HashPassword(c.UserContext(), next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	a := model.Actor{Type: "user", ID: u.ID, Label: u.Email, IP: p.env.ClientIP(c)}
	err = p.env.Store.ChangeOwnPassword(c.UserContext(), u.TenantID, u.ID, web.Session(c).ID, who.PasswordHash, hash, a)
	if errors.Is(err, storage.ErrStale) {
		// The password changed (a reset link) or the account was
		// deactivated since the check: nothing was written.
		ap.Problem = ap.L.T("account.stale")
		return p.renderAccount(c, fiber.StatusConflict, ap)
	}
	if err != nil {
		return err
	}
	p.env.Log.Info("password changed", "tenant", web.Tenant(c).Slug, "user_id", u.ID, "client_ip", p.env.ClientIP(c))
	return c.Redirect("/account/password?changed=1", fiber.StatusSeeOther)
}

// FieldsInOrder lists a tab's fields in form order, for the error summary.
func (ap *accountPage) FieldsInOrder() []string {
	var all []string
	switch ap.Tab {
	case "profile":
		all = []string{"name", "phone", "locale"}
	case "password":
		all = []string{"current_password", "new_password", "confirm_password"}
	default:
		all = []string{"cep", "street", "number", "complement", "district", "city", "state"}
	}
	out := all[:0:0]
	for _, f := range all {
		if ap.Errors[f] != "" {
			out = append(out, f)
		}
	}
	return out
}
