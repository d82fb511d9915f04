package admin

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// The admin UI is server-rendered like the portal: html/template pages
// parsed with their own layout, fingerprinted CSS and one small script
// (drag-and-drop ordering, the frame-size preview, the configuration table's
// "add row"). Everything works without the script: ordering has ▲/▼ forms,
// the preview shows the saved size, the table always offers empty rows.
// Every write goes through the Service (or, for soft delete and key
// revocation, which the Service has no wrapper for, the store's audited
// methods), so validation and audit are the API's.

//go:embed templates/*.html
var uiTemplateFS embed.FS

//go:embed assets
var uiAssetFS embed.FS

// uiPages lists the page templates; each is parsed with layout.html.
var uiPages = []string{
	"plugins", "plugin_form", "plugin_created", "plugin_delete",
	"settings", "users", "user_form", "user_link",
	"api_keys", "api_key_created", "audit", "reset",
}

// ui renders the admin pages.
type ui struct {
	a      *Admin
	pages  map[string]*template.Template
	assets *web.Assets
	keys   map[string]bool // every catalogue key, to never render a missing one
}

func newUI(a *Admin) (*ui, error) {
	assets, err := web.NewAssets(uiAssetFS, "assets", "/admin/assets")
	if err != nil {
		return nil, err
	}
	u := &ui{a: a, pages: map[string]*template.Template{}, assets: assets, keys: map[string]bool{}}
	keys, err := i18n.Keys(model.SupportedLocales[0])
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		u.keys[k] = true
	}
	funcs := template.FuncMap{
		"icon":    icon.SVG,
		"asset":   assets.URL,
		"fattrs":  uiFieldAttrs,
		"ferr":    uiFieldError,
		"fid":     uiFieldID,
		"viewbox": uiViewBox,
		"when":    uiWhen,
		"row":     uiRowOf,
	}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(uiTemplateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse admin layout: %w", err)
	}
	for _, name := range uiPages {
		t, err := template.Must(layout.Clone()).ParseFS(uiTemplateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse admin page %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

// register mounts the admin UI under /admin, and the password-reset page
// that a reset link opens under /reset.
func (u *ui) register(r fiber.Router) {
	env := u.a.env
	// Assets first: they are public and must not pass the gestor check.
	r.Get("/admin/assets/:sum/:name", u.assets.Serve)

	reset := r.Group("/reset", env.SameOrigin(), env.CheckCSRF())
	reset.Get("/:token", u.showReset)
	reset.Post("/:token", u.submitReset)

	g := r.Group("/admin", env.SameOrigin(), env.CheckCSRF(), u.requireGestor)
	g.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/admin/plugins", fiber.StatusSeeOther) })

	g.Get("/plugins", u.showPlugins)
	g.Post("/plugins", u.createPlugin)
	g.Post("/plugins/order", u.reorderPlugins)
	g.Get("/plugins/new", u.showNewPlugin)
	g.Get("/plugins/:slug", u.showEditPlugin)
	// /edit is an alias of the edit page, so a plugin slugged "new" stays
	// reachable; the edit form always posts here.
	g.Get("/plugins/:slug/edit", u.showEditPlugin)
	g.Post("/plugins/:slug/edit", u.updatePlugin)
	g.Post("/plugins/:slug/move", u.movePlugin)
	g.Post("/plugins/:slug/active", u.togglePlugin)
	g.Get("/plugins/:slug/delete", u.showDeletePlugin)
	g.Post("/plugins/:slug/delete", u.deletePlugin)
	g.Post("/plugins/:slug/config", u.saveConfig)
	g.Post("/plugins/:slug/secrets", u.putSecret)
	g.Post("/plugins/:slug/secrets/:name/delete", u.deleteSecret)
	u.registerAccess(g)
	u.registerVersions(g)

	g.Get("/settings", u.showSettings)
	g.Post("/settings", u.saveSettings)

	g.Get("/users", u.showUsers)
	g.Post("/users", u.createUser)
	g.Get("/users/new", u.showNewUser)
	g.Get("/users/:id", u.showEditUser)
	g.Post("/users/:id", u.updateUser)
	g.Post("/users/:id/deactivate", u.deactivateUser)
	g.Post("/users/:id/reset-link", u.resetLink)

	g.Get("/api-keys", u.showAPIKeys)
	g.Post("/api-keys", u.createAPIKey)
	g.Post("/api-keys/:id/revoke", u.revokeAPIKey)

	g.Get("/audit", u.showAudit)
}

// requireGestor sends anonymous visitors to the login page (coming back
// afterwards) and refuses everyone but gestores.
func (u *ui) requireGestor(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	usr := web.User(c)
	if usr == nil {
		target := "/login"
		if c.Method() == fiber.MethodGet {
			target += "?next=" + url.QueryEscape(c.OriginalURL())
		}
		return c.Redirect(target, fiber.StatusSeeOther)
	}
	if !usr.HasRole(model.RoleGestor) {
		return web.Fail(fiber.StatusForbidden, "gestor_only")
	}
	return c.Next()
}

// actor is the gestor making the current UI request.
func (u *ui) actor(c *fiber.Ctx) model.Actor {
	usr := web.User(c)
	return model.Actor{Type: "user", ID: usr.ID, Label: usr.Email, IP: u.a.env.ClientIP(c)}
}

// uiView is what every admin template receives; D holds the page's data.
type uiView struct {
	L       *i18n.Localizer
	Tenant  *model.Tenant
	User    *model.User
	CSRF    string
	Title   string
	Path    string // where the language switch comes back to
	Section string // the admin section highlighted in the navigation
	Locales []web.LocaleOption
	Flash   string // a translated success message
	Alert   string // a translated error message about the whole form
	Errors  *uiErrs
	D       any
}

// uiFlashes are the success messages a redirect may name in ?done=.
var uiFlashes = map[string]string{
	"created":        "admin.flash.created",
	"saved":          "admin.flash.saved",
	"moved":          "admin.flash.moved",
	"ordered":        "admin.flash.ordered",
	"activated":      "admin.flash.activated",
	"deactivated":    "admin.flash.deactivated",
	"deleted":        "admin.flash.deleted",
	"config":         "admin.flash.config",
	"secret_set":     "admin.flash.secret_set",
	"secret_deleted": "admin.flash.secret_deleted",
	"revoked":        "admin.flash.revoked",
	"user_created":   "admin.flash.user_created",
	"user_saved":     "admin.flash.user_saved",
	"user_off":       "admin.flash.user_off",
}

func (u *ui) newView(c *fiber.Ctx, section, titleKey string) *uiView {
	l := web.L(c)
	v := &uiView{
		L:       l,
		Tenant:  web.Tenant(c),
		User:    web.User(c),
		CSRF:    u.a.env.CSRFToken(c),
		Title:   l.T(titleKey),
		Path:    uiSafePath(c.Path()),
		Section: section,
		Errors:  &uiErrs{},
	}
	if key, ok := uiFlashes[c.Query("done")]; ok && c.Method() == fiber.MethodGet {
		v.Flash = l.T(key)
	}
	v.Locales = web.LocaleOptions(l)
	return v
}

func (u *ui) render(c *fiber.Ctx, status int, page string, v *uiView) error {
	t, ok := u.pages[page]
	if !ok {
		return fmt.Errorf("admin render: unknown page %q", page)
	}
	return web.RenderHTML(c, status, t, "layout", v)
}

// validation translates a validation code: the shared "validation.<code>"
// message, else the admin's own "admin.validation.<code>", else a generic
// one (a code the UI does not know yet must not render as a raw key).
func (u *ui) validation(c *fiber.Ctx, code string) string {
	key := "validation." + code
	if !u.keys[key] {
		key = "admin.validation." + code
	}
	if !u.keys[key] {
		key = "admin.validation.invalid"
	}
	return web.L(c).T(key)
}

// uiErrs are the field errors of the form being re-rendered: a message per
// field, in the order they were reported.
type uiErrs struct {
	m    map[string]string
	List []uiFieldErr
}

type uiFieldErr struct {
	Field, Msg string
	Label      string // the field's translated label, for the summary
}

// label names each field of the summary with labels (field → catalogue
// key); a field not in labels keeps only its message.
func (e *uiErrs) label(l *i18n.Localizer, labels func(field string) string) {
	for i := range e.List {
		if key := labels(e.List[i].Field); key != "" {
			e.List[i].Label = l.T(key)
		}
	}
}

// Add records the first message of field.
func (e *uiErrs) Add(field, msg string) {
	if e.m == nil {
		e.m = map[string]string{}
	}
	if _, dup := e.m[field]; dup {
		return
	}
	e.m[field] = msg
	e.List = append(e.List, uiFieldErr{Field: field, Msg: msg})
}

// replace sets field's message, keeping its place in the list.
func (e *uiErrs) replace(field, msg string) {
	for i := range e.List {
		if e.List[i].Field == field {
			e.List[i].Msg = msg
			e.m[field] = msg
			return
		}
	}
	e.Add(field, msg)
}

// Msg returns field's message, or "".
func (e *uiErrs) Msg(field string) string {
	if e == nil {
		return ""
	}
	return e.m[field]
}

// Any reports whether there is at least one field error.
func (e *uiErrs) Any() bool { return e != nil && len(e.List) > 0 }

// ID is the id of the input a summary entry links to.
func (f uiFieldErr) ID() string { return uiFieldID(f.Field) }

// uiFieldID is the id of the input of a field: "f-" plus the field name
// with anything but letters, digits and underscores turned into hyphens.
func uiFieldID(field string) string { return "f-" + uiIDPart(field) }

func uiIDPart(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

// uiFieldAttrs returns the attributes an input carries when its field has
// an error: aria-invalid and aria-describedby naming the message, plus
// hint (an element id) when given.
func uiFieldAttrs(e *uiErrs, field string, hint ...string) template.HTMLAttr {
	ids := []string{}
	for _, h := range hint {
		if h != "" {
			ids = append(ids, uiIDPart(h))
		}
	}
	invalid := ""
	if e.Msg(field) != "" {
		ids = append(ids, "err-"+uiIDPart(field))
		invalid = ` aria-invalid="true"`
	}
	if len(ids) == 0 {
		return ""
	}
	// The ids are reduced to [A-Za-z0-9_-]; nothing here needs escaping.
	return template.HTMLAttr(invalid + ` aria-describedby="` + strings.Join(ids, " ") + `"`) //nolint:gosec
}

// uiFieldError renders a field's message next to it, or nothing.
func uiFieldError(e *uiErrs, field string) template.HTML {
	msg := e.Msg(field)
	if msg == "" {
		return ""
	}
	return template.HTML(`<p class="field-error" id="err-` + uiIDPart(field) + `">` + template.HTMLEscapeString(msg) + `</p>`) //nolint:gosec
}

// uiViewBox is the SVG viewBox of a frame-size preview: the frame's
// proportion, or a 16:9 screen for "fill the space".
func uiViewBox(w, h int) string {
	if w <= 0 || h <= 0 {
		return "0 0 1600 900"
	}
	return fmt.Sprintf("0 0 %d %d", w, h)
}

// uiWhen formats a time for a table cell in UTC.
func uiWhen(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if v == nil || v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	}
	return "—"
}

// uiRow pairs a configuration row with the page, for the row template.
type uiRow struct {
	Root *uiView
	Row  uiConfigRow
}

func uiRowOf(v *uiView, r uiConfigRow) uiRow { return uiRow{Root: v, Row: r} }

// uiSafePath keeps the language switch's return path on the admin.
func uiSafePath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 512 {
		return "/admin/plugins"
	}
	return p
}

// uiOutcome is how a failed write is shown on the re-rendered form.
type uiOutcome struct {
	status int
	alert  string
	errs   *uiErrs
}

// explain maps a Service or store error onto the form: field messages for
// validation failures (prefix is prepended to each field name), a message
// for stale versions and conflicts. Errors that are not the user's to fix
// (not found, internal) are returned as they are.
func (u *ui) explain(c *fiber.Ctx, err error, prefix, notFound string) (*uiOutcome, error) {
	out := &uiOutcome{status: fiber.StatusUnprocessableEntity, errs: &uiErrs{}}
	l := web.L(c)
	if v, ok := model.AsValidation(err); ok {
		for _, f := range v.Fields {
			out.errs.Add(prefix+f.Field, u.validation(c, f.Code))
		}
		out.alert = l.T("error.validation_failed")
		return out, nil
	}
	switch {
	case errors.Is(err, ErrSlugTaken):
		out.status = fiber.StatusConflict
		out.errs.Add(prefix+"slug", l.T("validation.slug_taken"))
		out.alert = l.T("error.slug_taken")
	case errors.Is(err, ErrEmailTaken):
		out.status = fiber.StatusConflict
		out.errs.Add(prefix+"email", l.T("validation.email_taken"))
		out.alert = l.T("error.email_taken")
	case errors.Is(err, storage.ErrStale):
		out.status = fiber.StatusConflict
		out.alert = l.T("error.stale_version")
	case errors.Is(err, ErrVersionNeeded):
		out.alert = l.T("error.version_required")
	case errors.Is(err, storage.ErrOrderMismatch):
		out.alert = l.T("error.order_mismatch")
	case errors.Is(err, storage.ErrAlreadyRevoked):
		out.status = fiber.StatusConflict
		out.alert = l.T("error.already_revoked")
	case errors.Is(err, model.ErrNotFound):
		return nil, web.Fail(fiber.StatusNotFound, notFound)
	case errors.Is(err, model.ErrConflict):
		out.status = fiber.StatusConflict
		out.alert = l.T("error.conflict")
	default:
		return nil, err
	}
	return out, nil
}

// uiVersion parses the hidden version field; nil when absent or malformed,
// which the Service reports as "version required".
func uiVersion(c *fiber.Ctx) *int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("version")), 10, 64)
	if err != nil || v < 1 {
		return nil
	}
	return &v
}

// uiFormValues returns every value of a repeated form field, in order.
func uiFormValues(c *fiber.Ctx, name string) []string {
	var out []string
	for _, b := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(b))
	}
	return out
}

// uiLines splits a textarea into trimmed, non-empty lines.
func uiLines(s string) []string {
	out := []string{}
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// uiMaxField bounds what the UI reads of one form field. It is far above
// every field's own limit, so a value cut here still fails validation as
// too long, and a huge value is never echoed back into the page in full.
const uiMaxField = 8192

// uiText returns a form field cut to uiMaxField bytes (at a rune boundary).
func uiText(c *fiber.Ctx, name string) string {
	return uiCut(c.FormValue(name))
}

func uiCut(v string) string {
	if len(v) > uiMaxField {
		v = strings.ToValidUTF8(v[:uiMaxField], "")
	}
	return v
}

// uiRedirect sends the browser to path with a success message.
func uiRedirect(c *fiber.Ctx, path, done string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.Redirect(path+sep+"done="+done, fiber.StatusSeeOther)
}
