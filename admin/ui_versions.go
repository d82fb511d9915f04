package admin

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/sdk/abi"
)

// The versions page of a wasm plugin (/admin/plugins/{slug}/versions):
// upload form (multipart, checked by the runtime before anything is
// stored), the version list with activation and one-step rollback, and the
// runtime's health counters and recent log lines in this process.

func init() { uiPages = append(uiPages, "plugin_versions") }

// uiVersionFlashes are the success messages of the versions page (?done=).
var uiVersionFlashes = map[string]string{
	"version_uploaded":        "versions.flash.uploaded",
	"version_uploaded_active": "versions.flash.uploaded_active",
	"version_activated":       "versions.flash.activated",
	"rolled_back":             "versions.flash.rolled_back",
}

// registerVersions mounts the wasm version pages on the gestor-only group.
func (u *ui) registerVersions(g fiber.Router) {
	g.Get("/plugins/:slug/versions", u.showVersions)
	g.Post("/plugins/:slug/versions", u.uploadVersion)
	g.Post("/plugins/:slug/versions/:id/activate", u.activateVersion)
	g.Post("/plugins/:slug/rollback", u.rollbackVersion)
}

// uiVersionsPage is the data of the versions page.
type uiVersionsPage struct {
	Plugin    *model.Plugin
	Versions  []uiVersionRow
	Previous  *uiVersionRow // the rollback target, if any
	HasActive bool
	ABI       int
	Max       string
	Activate  bool // the upload form's checkbox
	Health    uiHealth
}

// uiVersionRow is one version in the list.
type uiVersionRow struct {
	ID, SHA256, ShortSHA, Size, Created, CreatedBy string
	Number, ABIVersion                             int
	Active, Previous                               bool
}

// uiHealth is the health panel, every number already formatted.
type uiHealth struct {
	Available      bool
	HasCalls       bool
	Calls, Errors  string
	Rate, P50, P95 string
	Paused         bool
	Until          string
	LastErrors     []uiHealthError
	Logs           []uiHealthLog
}

type uiHealthError struct{ When, Reason, Detail string }

type uiHealthLog struct{ When, Level, Message, Attrs string }

func (u *ui) showVersions(c *fiber.Ctx) error {
	return u.renderVersions(c, fiber.StatusOK, nil, false)
}

// renderVersions renders the page, with out's alert and field errors when
// an upload or a change failed.
func (u *ui) renderVersions(c *fiber.Ctx, status int, out *uiOutcome, activate bool) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	tid := web.Tenant(c).ID
	vs := u.a.versions()
	p, vers, err := vs.List(c.UserContext(), tid, slug)
	if err != nil {
		if f, ok := classifyVersionErr(err, "plugin_not_found"); ok {
			return web.Fail(f.Status, f.Code)
		}
		return err
	}
	l := web.L(c)
	v := u.newView(c, "plugins", "versions.title")
	if key, ok := uiVersionFlashes[c.Query("done")]; ok && v.Flash == "" {
		v.Flash = l.T(key)
	}
	d := &uiVersionsPage{Plugin: p, ABI: abi.Version, Max: maxModuleText, Activate: activate, HasActive: p.ActiveVersion != ""}
	for _, pv := range vers {
		r := uiVersionRow{ID: pv.ID, Number: pv.Number, SHA256: pv.SHA256, ShortSHA: shortSHA(pv.SHA256),
			Size: l.T("versions.size_kib", "N", l.Number((pv.SizeBytes+1023)/1024)), ABIVersion: pv.ABIVersion,
			Created: uiWhen(pv.CreatedAt), CreatedBy: pv.CreatedBy,
			Active: pv.ID == p.ActiveVersion, Previous: pv.ID == p.PreviousVersion}
		d.Versions = append(d.Versions, r)
	}
	for i := range d.Versions {
		if d.Versions[i].Previous {
			d.Previous = &d.Versions[i]
		}
	}
	h, ok := vs.Health(tid, p.ID)
	d.Health = u.health(l, h, ok)
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
	}
	v.Title = l.T("versions.heading", "Title", p.Title)
	v.D = d
	return u.render(c, status, "plugin_versions", v)
}

// shortSHA is the first 12 hex digits, enough to tell versions apart.
func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// health formats the runtime's counters for the page.
func (u *ui) health(l *i18n.Localizer, h sandbox.Health, ok bool) uiHealth {
	out := uiHealth{Available: ok, HasCalls: h.Calls > 0, Calls: l.Number(h.Calls), Errors: l.Number(h.Errors),
		P50: l.T("versions.health.ms", "N", decimal(l, ms(h.P50))), P95: l.T("versions.health.ms", "N", decimal(l, ms(h.P95))),
		Paused: h.Paused, Rate: errorRate(l, h)}
	if h.Paused && !h.PausedUntil.IsZero() {
		out.Until = uiWhenSeconds(h.PausedUntil)
	}
	for _, e := range h.LastErrors {
		out.LastErrors = append(out.LastErrors, uiHealthError{When: uiWhenSeconds(e.At), Reason: u.reason(l, e.Reason), Detail: e.Detail})
	}
	for _, lg := range h.Logs {
		attrs := make([]string, 0, len(lg.Attrs))
		for k, v := range lg.Attrs {
			attrs = append(attrs, k+"="+v)
		}
		slices.Sort(attrs)
		out.Logs = append(out.Logs, uiHealthLog{When: uiWhenSeconds(lg.At), Level: lg.Level, Message: lg.Message, Attrs: strings.Join(attrs, " ")})
	}
	return out
}

// reason names a failure reason of the runtime in the user's language; a
// reason this version does not know is shown as it is.
func (u *ui) reason(l *i18n.Localizer, r string) string {
	if key := "versions.reason." + r; u.keys[key] {
		return l.T(key)
	}
	return r
}

// errorRate is errors/calls as a whole percentage ("<1%" for a few errors
// in many calls).
func errorRate(l *i18n.Localizer, h sandbox.Health) string {
	if h.Calls <= 0 {
		return l.T("versions.health.percent", "N", "0")
	}
	pct := float64(h.Errors) * 100 / float64(h.Calls)
	if h.Errors > 0 && pct < 1 {
		return l.T("versions.health.percent", "N", "<1")
	}
	return l.T("versions.health.percent", "N", l.Number(int64(pct+0.5)))
}

// decimal formats f with one decimal in the user's language (a comma in
// pt-BR and es).
func decimal(l *i18n.Localizer, f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if l.Locale() != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// uiWhenSeconds formats a time to the second in UTC.
func uiWhenSeconds(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// versionOutcome turns a failed version operation into the page's alert
// and the file field's message; errors that are not the user's are
// returned as they are.
func (u *ui) versionOutcome(c *fiber.Ctx, err error, notFound string) (*uiOutcome, error) {
	f, ok := classifyVersionErr(err, notFound)
	if !ok {
		return nil, err
	}
	if f.Status == fiber.StatusNotFound {
		return nil, web.Fail(f.Status, f.Code)
	}
	msg := f.message(c)
	out := &uiOutcome{status: f.Status, alert: msg, errs: &uiErrs{}}
	if f.Field == "module" {
		out.errs.Add("module", msg)
		out.alert = web.L(c).T("versions.upload.refused")
	}
	return out, nil
}

// uploadVersion receives the multipart upload form.
func (u *ui) uploadVersion(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	// The plugin first: another tenant's slug is a 404 whatever the body.
	if _, err := u.a.env.Store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, slug); err != nil {
		out, err := u.versionOutcome(c, err, "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, false)
	}
	module, activate, err := readModule(c)
	if err == nil {
		_, _, err = u.a.versions().Upload(c.UserContext(), web.Tenant(c).ID, slug, module, activate, u.actor(c))
	}
	if err != nil {
		out, err := u.versionOutcome(c, err, "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, activate)
	}
	done := "version_uploaded"
	if activate {
		done = "version_uploaded_active"
	}
	return uiRedirect(c, "/admin/plugins/"+slug+"/versions", done)
}

// activateVersion makes one version the active one.
func (u *ui) activateVersion(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if id == "" || len(id) > maxIDParam || !printableASCII(id) {
		return web.Fail(fiber.StatusNotFound, versionNotFound)
	}
	if _, err := u.a.versions().Activate(c.UserContext(), web.Tenant(c).ID, slug, id, u.actor(c)); err != nil {
		out, err := u.versionOutcome(c, err, versionNotFound)
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, false)
	}
	return uiRedirect(c, "/admin/plugins/"+slug+"/versions", "version_activated")
}

// rollbackVersion goes back to the previous version.
func (u *ui) rollbackVersion(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	if _, err := u.a.versions().Rollback(c.UserContext(), web.Tenant(c).ID, slug, u.actor(c)); err != nil {
		out, err := u.versionOutcome(c, err, "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, false)
	}
	return uiRedirect(c, "/admin/plugins/"+slug+"/versions", "rolled_back")
}

// uiHealthCell is the plugin list's health column for a wasm plugin.
type uiHealthCell struct {
	Text   string
	Paused bool
}

// healthCell summarises a wasm plugin's health for the plugin list; nil
// for other plugins (the column keeps its placeholder).
func (u *ui) healthCell(c *fiber.Ctx, p *model.Plugin) *uiHealthCell {
	if p.Type != model.PluginWasm {
		return nil
	}
	h, ok := u.a.versions().Health(p.TenantID, p.ID)
	l := web.L(c)
	switch {
	case !ok:
		return nil
	case h.Paused:
		return &uiHealthCell{Text: l.T("versions.health.paused_short"), Paused: true}
	case h.Calls == 0:
		return &uiHealthCell{Text: l.T("versions.health.cell_none")}
	}
	return &uiHealthCell{Text: l.T("versions.health.cell", "Rate", errorRate(l, h), "Calls", l.Number(h.Calls))}
}
