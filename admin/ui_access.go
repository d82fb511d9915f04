package admin

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

// The access page (/admin/plugins/{slug}/access) sets what a plugin may see
// and how it is launched, rotates its client secret and the tenant's
// signing key. Its templates are registered here so that ui.go's page list
// stays the core admin's.
func init() {
	uiPages = append(uiPages, "plugin_access", "plugin_access_secret")
	uiFlashes["access_saved"] = "access.flash.saved"
	uiFlashes["key_rotated"] = "access.flash.key_rotated"
}

// registerAccess mounts the plugin access pages on the gestor-only group.
func (u *ui) registerAccess(g fiber.Router) {
	g.Get("/plugins/:slug/access", u.showAccess)
	g.Post("/plugins/:slug/access", u.saveAccess)
	g.Post("/plugins/:slug/access/client-secret", u.rotateClientSecret)
	g.Post("/plugins/:slug/access/signing-key", u.rotateSigningKey)
}

// uiAccessForm is the access form as typed, so a rejected form shows what
// was entered.
type uiAccessForm struct {
	UserFields   map[string]bool
	Grants       map[string]bool
	TokenTTL     string
	LaunchMethod string
	AllowPrivate bool // the plugin's private-network setting
}

// uiOverlapChoice is one option of the rotation's overlap select.
type uiOverlapChoice struct {
	Hours   int
	Default bool
}

// uiOverlapChoices are the offered overlaps, in hours; 0 stops the old
// secret at once (for a leaked one).
var uiOverlapChoices = []uiOverlapChoice{{Hours: 24, Default: true}, {Hours: 1}, {Hours: 72}, {Hours: 168}, {Hours: 0}}

// uiAccessPage is the data of the access page.
type uiAccessPage struct {
	Plugin     *model.Plugin
	EditPath   string
	Form       uiAccessForm
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
	Overlaps      []uiOverlapChoice
	Keys          []SigningKeyView
	KeysErr       bool // the key list could not be read
}

func uiAccessFormOf(p *model.Plugin) uiAccessForm {
	f := uiAccessForm{UserFields: map[string]bool{}, Grants: map[string]bool{}, TokenTTL: strconv.Itoa(p.TokenTTLSeconds),
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

// uiAccessLabels names the access form's fields for the error summary.
func uiAccessLabels(field string) string {
	return map[string]string{
		"user_fields": "access.user_fields.title", "grants": "access.grants.title",
		"token_ttl_seconds": "access.ttl.label", "launch_method": "access.method.title",
		"overlap_hours": "access.secret.overlap", "allow_private_network": "access.private.title",
	}[field]
}

func (u *ui) showAccess(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	return u.renderAccess(c, fiber.StatusOK, slug, nil, nil, 0)
}

// renderAccess shows the access page; form and version are the rejected
// submission's, when there is one.
func (u *ui) renderAccess(c *fiber.Ctx, status int, slug string, out *uiOutcome, form *uiAccessForm, version int64) error {
	ctx, t := c.UserContext(), web.Tenant(c)
	p, err := u.a.env.Store.PluginBySlug(ctx, t.ID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	v := u.newView(c, "plugins", "access.title")
	v.Title = v.L.T("access.title_named", "Title", p.Title)
	d := &uiAccessPage{Plugin: p, EditPath: uiEditPath(p.Slug), Form: uiAccessFormOf(p), Version: p.Version,
		UserFields: model.AllUserFields, Grants: model.AllGrants, MinTTL: model.MinTokenTTLSeconds, MaxTTL: model.MaxTokenTTLSeconds,
		Wasm: p.Type == model.PluginWasm, Token: p.AuthType == model.AuthToken, Overlaps: uiOverlapChoices,
		PrivateAvailable: u.a.privateNetworkAvailable()}
	if form != nil {
		d.Form, d.Version = *form, version
	}
	if av := viewAccess(p, u.a.svc.Store.Now()); av.PreviousSecretValidUntil != nil {
		d.PreviousUntil = av.PreviousSecretValidUntil
	}
	keys, err := u.a.svc.SigningKeys(ctx, t.ID)
	if err != nil {
		// The access settings stay usable when the key list fails.
		u.a.env.Log.Error("list signing keys", "tenant", t.Slug, "err", err)
		d.KeysErr = true
	}
	d.Keys = keys
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, uiAccessLabels)
	}
	v.D = d
	return u.render(c, status, "plugin_access", v)
}

// saveAccess saves the access form, guarded by the version it was loaded
// with. Grants are read only for wasm plugins, whose form shows them; an
// iframe plugin's stored grants are left as they are.
func (u *ui) saveAccess(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	f := uiAccessForm{UserFields: map[string]bool{}, Grants: map[string]bool{},
		TokenTTL: strings.TrimSpace(uiText(c, "token_ttl_seconds")), LaunchMethod: uiText(c, "launch_method")}
	in := AccessInput{Version: uiVersion(c)}
	pick := func(name string, all []string, seen map[string]bool) *[]string {
		out := []string{}
		for _, x := range uiFormValues(c, name) {
			if len(out) > len(all) {
				break // more values than choices: validation reports the strays
			}
			x = uiCut(x)
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
		_, err = u.a.svc.UpdateAccess(c.UserContext(), t.ID, slug, u.actor(c), in)
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		if c.FormValue("grants_shown") == "" {
			// Keep the stored grants on screen (they were not submitted).
			if p, err := u.a.env.Store.PluginBySlug(c.UserContext(), t.ID, slug); err == nil {
				f.Grants, f.AllowPrivate = uiAccessFormOf(p).Grants, p.AllowPrivateNetwork
			}
		}
		var ver int64
		if in.Version != nil {
			ver = *in.Version
		}
		return u.renderAccess(c, out.status, slug, out, &f, ver)
	}
	return uiRedirect(c, "/admin/plugins/"+slug+"/access", "access_saved")
}

// rotateClientSecret issues a new client secret and shows it once.
func (u *ui) rotateClientSecret(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	hours, err := strconv.Atoi(strings.TrimSpace(uiText(c, "overlap_hours")))
	if err != nil || !slices.ContainsFunc(uiOverlapChoices, func(o uiOverlapChoice) bool { return o.Hours == hours }) {
		hours = -1 // reported as out of range
	}
	overlap := time.Duration(hours) * time.Hour
	p, r, err := u.a.svc.RotateClientSecret(c.UserContext(), web.Tenant(c).ID, slug, overlap, u.actor(c))
	if errors.Is(err, ErrNotTokenPlugin) {
		out := &uiOutcome{status: fiber.StatusConflict, alert: web.L(c).T("error.not_token_plugin"), errs: &uiErrs{}}
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
		Secret     *RotatedSecret
		AccessPath string
	}{p, r, "/admin/plugins/" + p.Slug + "/access"}
	return u.render(c, fiber.StatusOK, "plugin_access_secret", v)
}

// rotateSigningKey makes a new signing key current for the whole tenant
// and comes back to the access page it was pressed on.
func (u *ui) rotateSigningKey(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	if _, err := u.a.env.Store.PluginBySlug(c.UserContext(), t.ID, slug); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return web.Fail(fiber.StatusNotFound, "plugin_not_found")
		}
		return err
	}
	if _, err := u.a.svc.RotateSigningKey(c.UserContext(), t.ID, u.actor(c)); err != nil {
		return err
	}
	return c.Redirect("/admin/plugins/"+slug+"/access?done=key_rotated#keys", fiber.StatusSeeOther)
}
