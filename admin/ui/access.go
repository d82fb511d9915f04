package ui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// accessForm is the access form as typed, so a rejected form shows what
// was entered.
type accessForm struct {
	UserFields   map[string]bool
	Grants       map[string]bool
	TokenTTL     string
	LaunchMethod string
	AllowPrivate bool // the plugin's private-network setting
}

// overlapChoice is one option of the rotation's overlap select.
type overlapChoice struct {
	Hours   int
	Default bool
}

// overlapChoices are the offered overlaps, in hours; 0 stops the old
// secret at once (for a leaked one).
var overlapChoices = []overlapChoice{{Hours: 24, Default: true}, {Hours: 1}, {Hours: 72}, {Hours: 168}, {Hours: 0}}

// accessPage is the data of the access page.
type accessPage struct {
	Plugin     *model.Plugin
	EditPath   string
	Form       accessForm
	Version    int64
	UserFields []string
	Grants     []string
	MinTTL     int
	MaxTTL     int
	Wasm       bool // grants and the private-network setting apply
	// PrivateAvailable says whether the operator allows any private
	// address, so the page can say when the setting has no effect.
	PrivateAvailable bool
	Token            bool // launch settings and credentials apply
	// PreviousUntil is when the replaced client secret stops working, if
	// an overlap is running.
	PreviousUntil *time.Time
	Overlaps      []overlapChoice
	Keys          []service.SigningKeyView
	KeysErr       bool // the key list could not be read
}

func accessFormOf(p *model.Plugin) accessForm {
	f := accessForm{UserFields: map[string]bool{}, Grants: map[string]bool{}, TokenTTL: strconv.Itoa(p.TokenTTLSeconds),
		LaunchMethod: string(p.LaunchMethod), AllowPrivate: p.AllowPrivateNetwork}
	for _, x := range p.UserFields {
		f.UserFields[x] = true
	}
	for _, x := range p.Grants {
		f.Grants[x] = true
	}
	if p.TokenTTLSeconds == 0 {
		f.TokenTTL = strconv.Itoa(model.DefaultTokenTTLSeconds)
	}
	if f.LaunchMethod == "" {
		f.LaunchMethod = string(model.LaunchPost)
	}
	return f
}

// accessLabels names the access form's fields for the error summary.
func accessLabels(field string) string {
	return map[string]string{
		"user_fields": "access.user_fields.title", "grants": "access.grants.title",
		"token_ttl_seconds": "access.ttl.label", "launch_method": "access.method.title",
		"overlap_hours": "access.secret.overlap", "allow_private_network": "access.private.title",
	}[field]
}

func (u *UI) showAccess(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	return u.renderAccess(c, fiber.StatusOK, slug, nil, nil, 0)
}

// renderAccess shows the access page; form and version are the rejected
// submission's, when there is one.
func (u *UI) renderAccess(c *fiber.Ctx, status int, slug string, out *outcome, form *accessForm, version int64) error {
	ctx, t := c.UserContext(), web.Tenant(c)
	p, err := u.store.PluginBySlug(ctx, t.ID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	v := u.newView(c, "plugins", "access.title")
	v.Title = v.L.T("access.title_named", "Title", p.Title)
	d := &accessPage{Plugin: p, EditPath: editPath(p.Slug), Form: accessFormOf(p), Version: p.Version,
		UserFields: model.AllUserFields, Grants: model.AllGrants, MinTTL: model.MinTokenTTLSeconds, MaxTTL: model.MaxTokenTTLSeconds,
		Wasm: p.Type == model.PluginWasm, Token: p.AuthType == model.AuthToken, Overlaps: overlapChoices,
		PrivateAvailable: u.priv != nil && u.priv(web.Tenant(c).Slug)}
	if form != nil {
		d.Form, d.Version = *form, version
	}
	d.PreviousUntil = service.PreviousSecretValidUntil(p, u.store.Now())
	keys, err := u.svc.SigningKeys(ctx, t.ID)
	if err != nil {
		// The access settings stay usable when the key list fails.
		u.env.Log.Error("list signing keys", "tenant", t.Slug, "err", err)
		d.KeysErr = true
	}
	d.Keys = keys
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, accessLabels)
	}
	v.D = d
	return u.render(c, status, "plugin_access", v)
}

// saveAccess saves the access form, guarded by the version it was loaded
// with. Grants are read only for wasm plugins, whose form shows them; an
// iframe plugin's stored grants are left as they are.
func (u *UI) saveAccess(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	f := accessForm{UserFields: map[string]bool{}, Grants: map[string]bool{},
		TokenTTL: strings.TrimSpace(formText(c, "token_ttl_seconds")), LaunchMethod: formText(c, "launch_method")}
	in := service.AccessInput{Version: formVersion(c)}
	pick := func(name string, all []string, seen map[string]bool) *[]string {
		out := []string{}
		for _, x := range formValues(c, name) {
			if len(out) > len(all) {
				break // more values than choices: validation reports the strays
			}
			x = cut(x)
			seen[x] = true
			out = append(out, x)
		}
		return &out
	}
	in.UserFields = pick("user_fields", model.AllUserFields, f.UserFields)
	if c.FormValue("grants_shown") != "" {
		in.Grants = pick("grants", model.AllGrants, f.Grants)
	}
	if c.FormValue("private_shown") != "" {
		f.AllowPrivate = c.FormValue("allow_private_network") == "1"
		in.AllowPrivateNetwork = &f.AllowPrivate
	}
	pre := &model.ValidationError{}
	if f.TokenTTL != "" {
		n, err := strconv.Atoi(f.TokenTTL)
		if err != nil {
			pre.Add("token_ttl_seconds", "wrong_type")
		} else {
			in.TokenTTLSeconds = &n
		}
	}
	if f.LaunchMethod != "" {
		m := model.LaunchMethod(f.LaunchMethod)
		in.LaunchMethod = &m
	}
	if err = pre.Err(); err == nil {
		_, err = u.svc.UpdateAccess(c.UserContext(), t.ID, slug, u.actor(c), in)
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		if c.FormValue("grants_shown") == "" {
			// Keep the stored grants on screen (they were not submitted).
			if p, err := u.store.PluginBySlug(c.UserContext(), t.ID, slug); err == nil {
				f.Grants, f.AllowPrivate = accessFormOf(p).Grants, p.AllowPrivateNetwork
			}
		}
		var ver int64
		if in.Version != nil {
			ver = *in.Version
		}
		return u.renderAccess(c, out.status, slug, out, &f, ver)
	}
	return redirect(c, "/admin/plugins/"+slug+"/access", "access_saved")
}

// rotateClientSecret issues a new client secret and shows it once.
func (u *UI) rotateClientSecret(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	hours, err := strconv.Atoi(strings.TrimSpace(formText(c, "overlap_hours")))
	if err != nil || !slices.ContainsFunc(overlapChoices, func(o overlapChoice) bool { return o.Hours == hours }) {
		hours = -1 // reported as out of range
	}
	overlap := time.Duration(hours) * time.Hour
	p, r, err := u.svc.RotateClientSecret(c.UserContext(), web.Tenant(c).ID, slug, overlap, u.actor(c))
	if errors.Is(err, service.ErrNotTokenPlugin) {
		out := &outcome{status: fiber.StatusConflict, alert: web.L(c).T("error.not_token_plugin"), errs: &fieldErrors{}}
		return u.renderAccess(c, out.status, slug, out, nil, 0)
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderAccess(c, out.status, slug, out, nil, 0)
	}
	v := u.newView(c, "plugins", "access.secret.rotated_title")
	v.D = struct {
		Plugin     *model.Plugin
		Secret     *service.RotatedSecret
		AccessPath string
	}{p, r, "/admin/plugins/" + p.Slug + "/access"}
	return u.render(c, fiber.StatusOK, "plugin_access_secret", v)
}

// rotateSigningKey makes a new signing key current for the whole tenant
// and comes back to the access page it was pressed on.
func (u *UI) rotateSigningKey(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	if _, err := u.store.PluginBySlug(c.UserContext(), t.ID, slug); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return web.Fail(fiber.StatusNotFound, "plugin_not_found")
		}
		return err
	}
	if _, err := u.svc.RotateSigningKey(c.UserContext(), t.ID, u.actor(c)); err != nil {
		return err
	}
	return c.Redirect("/admin/plugins/"+slug+"/access?done=key_rotated#keys", fiber.StatusSeeOther)
}
