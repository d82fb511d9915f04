package ui

import (
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageNames lists the page templates; each is parsed with layout.html.
var pageNames = []string{
	"plugins", "plugin_form", "plugin_created", "plugin_delete",
	"plugin_access", "plugin_access_secret", "plugin_versions", "plugin_data", "plugin_data_clear",
	"settings", "users", "user_form", "user_link", "users_import",
	"api_keys", "api_key_created", "audit", "reset",
}

// UI renders the admin pages.
type UI struct {
	env    *web.Env
	store  *storage.Store
	svc    *service.Service
	engine *sandbox.Engine
	run    *runner.Runner
	priv   func(tenantSlug string) bool
	pages  map[string]*template.Template
	assets *web.Assets
	keys   map[string]bool // every catalogue key, to never render a missing one
}

// New parses the admin's templates and fingerprints its assets; it fails
// when a page is missing or does not parse.
func New(d admin.Deps) (*UI, error) {
	assets, err := web.NewAssets(assetFS, "assets", "/admin/assets")
	if err != nil {
		return nil, err
	}
	u := &UI{env: d.Env, store: d.Store, svc: d.Service, engine: d.Sandbox, run: d.Runner, priv: d.PrivateNetworkAvailable,
		pages: map[string]*template.Template{}, assets: assets, keys: map[string]bool{}}
	keys, err := i18n.Keys(model.SupportedLocales[0])
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		u.keys[k] = true
	}
	funcs := template.FuncMap{
		"icon":         icon.SVG,
		"asset":        assets.URL,
		"fattrs":       fieldAttrs,
		"ferr":         fieldErrorHTML,
		"fid":          fieldID,
		"viewbox":      viewBox,
		"row":          rowOf,
		"creator":      creator,
		"settingattrs": settingAttrs,
		"yesno":        yesNo,
		"multiline":    func(s string) bool { return strings.ContainsAny(s, "\r\n") },
		"runfailure": func(l *i18n.Localizer, reason, title string) string {
			// The gestor's words ("plugin"); customers read RunFailure's
			// own message, which says "serviço".
			return l.T("admin."+web.RunFailure(reason).MsgID, "Title", title)
		},
	}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse admin layout: %w", err)
	}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse admin page %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

// Register mounts the admin UI under /admin, and the password-reset page
// that a reset link opens under /reset: the whole route table.
func (u *UI) Register(r fiber.Router) {
	env := u.env
	// Assets first: they are public and must not pass the gestor check.
	r.Get("/admin/assets/:sum/:name", u.assets.Serve)

	reset := r.Group("/reset", web.NotEmbedded, env.SameOrigin(), env.CheckCSRF())
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

	// The access page: what a plugin may see, how it is launched, its
	// client secret and the tenant's signing key.
	g.Get("/plugins/:slug/access", u.showAccess)
	g.Post("/plugins/:slug/access", u.saveAccess)
	g.Post("/plugins/:slug/access/client-secret", u.rotateClientSecret)
	g.Post("/plugins/:slug/access/signing-key", u.rotateSigningKey)

	// A wasm plugin's module versions and the runtime's health.
	g.Get("/plugins/:slug/versions", u.showVersions)
	g.Post("/plugins/:slug/versions", u.uploadVersion)
	g.Post("/plugins/:slug/versions/:id/activate", u.activateVersion)
	g.Post("/plugins/:slug/rollback", u.rollbackVersion)

	// A wasm plugin's stored data: its keys, one deleted, all cleared.
	g.Get("/plugins/:slug/data", u.showData)
	g.Post("/plugins/:slug/data/delete", u.deleteDataKey)
	g.Get("/plugins/:slug/data/clear", u.showClearData)
	g.Post("/plugins/:slug/data/clear", u.clearData)

	g.Get("/settings", u.showSettings)
	g.Post("/settings", u.saveSettings)

	g.Get("/users", u.showUsers)
	g.Post("/users", u.createUser)
	g.Get("/users/new", u.showNewUser)
	g.Get("/users/import", u.showImportUsers)
	g.Post("/users/import", u.importUsers)
	g.Get("/users/import/template.csv", u.importTemplate)
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
func (u *UI) requireGestor(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	usr := web.User(c)
	if usr == nil {
		target := "/login"
		if c.Method() == fiber.MethodGet {
			target += "?next=" + url.QueryEscape(c.OriginalURL())
		}
		return c.Redirect(target, fiber.StatusSeeOther)
	}
	if code := web.StaffAccess(c); code != "" {
		return web.Fail(fiber.StatusForbidden, code)
	}
	return c.Next()
}

// actor is the gestor making the current UI request.
func (u *UI) actor(c *fiber.Ctx) model.Actor {
	usr := web.User(c)
	return model.Actor{Type: "user", ID: usr.ID, Label: usr.Email, IP: u.env.ClientIP(c)}
}

// view is what every admin template receives; D holds the page's data.
type view struct {
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
	Errors  *fieldErrors
	D       any
}

// flashes are the success messages a redirect may name in ?done=.
var flashes = map[string]string{
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
	// The access page.
	"access_saved": "access.flash.saved",
	"key_rotated":  "access.flash.key_rotated",
	// The versions page.
	"version_uploaded":        "versions.flash.uploaded",
	"version_uploaded_active": "versions.flash.uploaded_active",
	"version_activated":       "versions.flash.activated",
	"rolled_back":             "versions.flash.rolled_back",
	// The data page.
	"data_deleted": "data.flash.deleted",
	"data_cleared": "data.flash.cleared",
}

func (u *UI) newView(c *fiber.Ctx, section, titleKey string) *view {
	l := web.L(c)
	v := &view{
		L:       l,
		Tenant:  web.Tenant(c),
		User:    web.User(c),
		CSRF:    u.env.CSRFToken(c),
		Title:   l.T(titleKey),
		Path:    safePath(c.Path()),
		Section: section,
		Errors:  &fieldErrors{},
	}
	if key, ok := flashes[c.Query("done")]; ok && c.Method() == fiber.MethodGet {
		v.Flash = l.T(key)
	}
	v.Locales = web.LocaleOptions(l)
	return v
}

func (u *UI) render(c *fiber.Ctx, status int, page string, v *view) error {
	t, ok := u.pages[page]
	if !ok {
		return fmt.Errorf("admin render: unknown page %q", page)
	}
	return web.RenderHTML(c, status, t, "layout", v)
}

// validation translates a validation code: the shared "validation.<code>"
// message, else the admin's own "admin.validation.<code>", else a generic
// one (a code the UI does not know yet must not render as a raw key).
func (u *UI) validation(c *fiber.Ctx, code string) string {
	return web.L(c).T(admin.ValidationKey(func(k string) bool { return u.keys[k] }, code))
}

// fieldErrors are the field errors of the form being re-rendered: a message per
// field, in the order they were reported.
type fieldErrors struct {
	m    map[string]string
	List []fieldError
}

type fieldError struct {
	Field, Msg string
	Label      string // the field's translated label, for the summary
}

// label names each field of the summary with labels (field → catalogue
// key); a field not in labels keeps only its message.
func (e *fieldErrors) label(l *i18n.Localizer, labels func(field string) string) {
	for i := range e.List {
		if key := labels(e.List[i].Field); key != "" {
			e.List[i].Label = l.T(key)
		}
	}
}

// Add records the first message of field.
func (e *fieldErrors) Add(field, msg string) {
	if e.m == nil {
		e.m = map[string]string{}
	}
	if _, dup := e.m[field]; dup {
		return
	}
	e.m[field] = msg
	e.List = append(e.List, fieldError{Field: field, Msg: msg})
}

// replace sets field's message, keeping its place in the list.
func (e *fieldErrors) replace(field, msg string) {
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
func (e *fieldErrors) Msg(field string) string {
	if e == nil {
		return ""
	}
	return e.m[field]
}

// Any reports whether there is at least one field error.
func (e *fieldErrors) Any() bool { return e != nil && len(e.List) > 0 }

// ID is the id of the input a summary entry links to.
func (f fieldError) ID() string { return fieldID(f.Field) }

// fieldID is the id of the input of a field: "f-" plus the field name
// with anything but letters, digits and underscores turned into hyphens.
func fieldID(field string) string { return "f-" + idPart(field) }

func idPart(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

// fieldAttrs returns the attributes an input carries when its field has
// an error: aria-invalid and aria-describedby naming the message, plus
// hint (an element id) when given.
func fieldAttrs(e *fieldErrors, field string, hint ...string) template.HTMLAttr {
	ids := []string{}
	for _, h := range hint {
		if h != "" {
			ids = append(ids, idPart(h))
		}
	}
	invalid := ""
	if e.Msg(field) != "" {
		ids = append(ids, "err-"+idPart(field))
		invalid = ` aria-invalid="true"`
	}
	if len(ids) == 0 {
		return ""
	}
	// The ids are reduced to [A-Za-z0-9_-]; nothing here needs escaping.
	return template.HTMLAttr(invalid + ` aria-describedby="` + strings.Join(ids, " ") + `"`) //nolint:gosec
}

// settingAttrs returns the attributes of a declared setting's input (see
// configRow): its help and the plugin's problem as its description,
// aria-required for a required one, aria-invalid when the plugin found a
// problem or the save refused the value.
func settingAttrs(e *fieldErrors, r configRow) template.HTMLAttr {
	field := fmt.Sprintf("config.%d.value", r.Index)
	id := fmt.Sprintf("f-config-%d-value", r.Index)
	ids := []string{id + "-help"}
	invalid := r.Problem != ""
	if r.Problem != "" {
		ids = append(ids, id+"-problem")
	}
	if e.Msg(field) != "" {
		ids = append(ids, "err-"+idPart(field))
		invalid = true
	}
	attrs := ` aria-describedby="` + strings.Join(ids, " ") + `"`
	if r.Field.Required {
		attrs += ` aria-required="true"`
	}
	if invalid {
		attrs += ` aria-invalid="true"`
	}
	// The ids are built from numbers and fixed text; nothing needs escaping.
	return template.HTMLAttr(attrs) //nolint:gosec
}

// yesNo spells a boolean setting's value ("true"/"false") in l's language.
func yesNo(l *i18n.Localizer, v string) string {
	if b, err := strconv.ParseBool(v); err == nil && b {
		return l.T("admin.plugin_settings.yes")
	}
	return l.T("admin.plugin_settings.no")
}

// fieldErrorHTML renders a field's message next to it, or nothing.
func fieldErrorHTML(e *fieldErrors, field string) template.HTML {
	msg := e.Msg(field)
	if msg == "" {
		return ""
	}
	return template.HTML(`<p class="field-error" id="err-` + idPart(field) + `">` + template.HTMLEscapeString(msg) + `</p>`) //nolint:gosec
}

// viewBox is the SVG viewBox of a frame-size preview: the frame's
// proportion, or a 16:9 screen for "fill the space".
func viewBox(w, h int) string {
	if w <= 0 || h <= 0 {
		return "0 0 1600 900"
	}
	return fmt.Sprintf("0 0 %d %d", w, h)
}

// creator names who created a key or a version: the e-mail or key name
// recorded, or, for what Portico created by itself, words in the reader's
// language instead of the code model.ActorSystem.
func creator(l *i18n.Localizer, createdBy string) string {
	if createdBy == model.ActorSystem {
		return l.T("admin.created_by_system")
	}
	return createdBy
}

// When formats a time for the page in the tenant's zone and the reader's
// language, to the minute; a nil or zero time is "—".
func (v *view) When(t any) string {
	switch tt := t.(type) {
	case time.Time:
		return v.L.DateTime(tt, v.Tenant.Location(), false)
	case *time.Time:
		if tt != nil {
			return v.L.DateTime(*tt, v.Tenant.Location(), false)
		}
	}
	return "—"
}

// rowData pairs a configuration row with the page, for the row template.
type rowData struct {
	Root *view
	Row  configRow
}

func rowOf(v *view, r configRow) rowData { return rowData{Root: v, Row: r} }

// safePath keeps the language switch's return path on the admin.
func safePath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 512 {
		return "/admin/plugins"
	}
	return p
}

// outcome is how a failed write is shown on the re-rendered form.
type outcome struct {
	status int
	alert  string
	errs   *fieldErrors
}

// explain turns a service or store error into the re-rendered form's
// outcome, from admin.Classify (the table the API answers from too):
// field messages for validation failures (prefix is prepended to each
// field name) and for a failure about a field the form shows, an alert
// for the rest. A not-found is the route's 404 (notFound names it);
// errors that are not the user's to fix are returned as they are.
func (u *UI) explain(c *fiber.Ctx, err error, prefix, notFound string) (*outcome, error) {
	f := admin.Classify(err, notFound)
	if f == nil {
		return nil, err
	}
	if f.Status == fiber.StatusNotFound {
		return nil, web.Fail(f.Status, f.Code)
	}
	l := web.L(c)
	out := &outcome{status: f.Status, alert: f.Message(l), errs: &fieldErrors{}}
	if f.Invalid != nil {
		for _, fe := range f.Invalid.Fields {
			out.errs.Add(prefix+fe.Field, u.validation(c, fe.Code))
		}
	} else if f.OnForm {
		out.errs.Add(prefix+f.Field, f.FieldMessage(l))
	}
	return out, nil
}

// formVersion parses the hidden version field; nil when absent or malformed,
// which the Service reports as "version required".
func formVersion(c *fiber.Ctx) *int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("version")), 10, 64)
	if err != nil || v < 1 {
		return nil
	}
	return &v
}

// formValues returns every value of a repeated form field, in order.
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	for _, b := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(b))
	}
	return out
}

// lines splits a textarea into trimmed, non-empty lines.
func lines(s string) []string {
	out := []string{}
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// maxField bounds what the UI reads of one form field. It is far above
// every field's own limit, so a value cut here still fails validation as
// too long, and a huge value is never echoed back into the page in full.
const maxField = 8192

// formText returns a form field cut to maxField bytes (at a rune boundary).
func formText(c *fiber.Ctx, name string) string {
	return cut(c.FormValue(name))
}

func cut(v string) string {
	if len(v) > maxField {
		v = strings.ToValidUTF8(v[:maxField], "")
	}
	return v
}

// redirect sends the browser to path with a success message.
func redirect(c *fiber.Ctx, path, done string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.Redirect(path+sep+"done="+done, fiber.StatusSeeOther)
}
