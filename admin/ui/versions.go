package ui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
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

// versionsPage is the data of the versions page.
type versionsPage struct {
	Plugin    *model.Plugin
	Versions  []versionRow
	Previous  *versionRow // the rollback target, if any
	HasActive bool
	ABI       int
	Max       string
	Activate  bool // the upload form's checkbox
	Health    healthPanel
}

// versionRow is one version in the list.
type versionRow struct {
	ID, SHA256, ShortSHA, Size, Created, CreatedBy string
	Number, ABIVersion                             int
	Active, Previous                               bool
}

// healthPanel is the health panel, every number already formatted.
type healthPanel struct {
	Available      bool
	HasCalls       bool
	Calls, Errors  string
	Rate, P50, P95 string
	Paused         bool
	Until          string
	LastErrors     []healthError
	Logs           []healthLog
}

type healthError struct{ When, Reason, Detail string }

type healthLog struct{ When, Level, Message, Attrs string }

func (u *UI) showVersions(c *fiber.Ctx) error {
	return u.renderVersions(c, fiber.StatusOK, nil, false)
}

// renderVersions renders the page, with out's alert and field errors when
// an upload or a change failed.
func (u *UI) renderVersions(c *fiber.Ctx, status int, out *outcome, activate bool) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	tid := web.Tenant(c).ID
	p, vers, err := u.svc.Versions(c.UserContext(), tid, slug)
	if err != nil {
		if f := admin.Classify(err, "plugin_not_found"); f != nil {
			return web.Fail(f.Status, f.Code)
		}
		return err
	}
	l := web.L(c)
	v := u.newView(c, "plugins", "versions.title")
	d := &versionsPage{Plugin: p, ABI: abi.Version, Max: admin.MaxModuleText, Activate: activate, HasActive: p.ActiveVersion != ""}
	for _, pv := range vers {
		r := versionRow{ID: pv.ID, Number: pv.Number, SHA256: pv.SHA256, ShortSHA: shortSHA(pv.SHA256),
			Size: l.T("versions.size_kib", "N", l.Number((pv.SizeBytes+1023)/1024)), ABIVersion: pv.ABIVersion,
			Created: when(pv.CreatedAt), CreatedBy: pv.CreatedBy,
			Active: pv.ID == p.ActiveVersion, Previous: pv.ID == p.PreviousVersion}
		d.Versions = append(d.Versions, r)
	}
	for i := range d.Versions {
		if d.Versions[i].Previous {
			d.Previous = &d.Versions[i]
		}
	}
	h, ok := u.runtimeHealth(tid, p.ID)
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
func (u *UI) health(l *i18n.Localizer, h sandbox.Health, ok bool) healthPanel {
	out := healthPanel{Available: ok, HasCalls: h.Calls > 0, Calls: l.Number(h.Calls), Errors: l.Number(h.Errors),
		P50: l.T("versions.health.ms", "N", decimal(l, millis(h.P50))), P95: l.T("versions.health.ms", "N", decimal(l, millis(h.P95))),
		Paused: h.Paused, Rate: errorRate(l, h)}
	if h.Paused && !h.PausedUntil.IsZero() {
		out.Until = whenSeconds(h.PausedUntil)
	}
	for _, e := range h.LastErrors {
		out.LastErrors = append(out.LastErrors, healthError{When: whenSeconds(e.At), Reason: u.reason(l, e.Reason), Detail: e.Detail})
	}
	for _, lg := range h.Logs {
		attrs := make([]string, 0, len(lg.Attrs))
		for k, v := range lg.Attrs {
			attrs = append(attrs, k+"="+v)
		}
		slices.Sort(attrs)
		out.Logs = append(out.Logs, healthLog{When: whenSeconds(lg.At), Level: lg.Level, Message: lg.Message, Attrs: strings.Join(attrs, " ")})
	}
	return out
}

// reason names a failure reason of the runtime in the user's language; a
// reason this version does not know is shown as it is.
func (u *UI) reason(l *i18n.Localizer, r string) string {
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

// whenSeconds formats a time to the second in UTC.
func whenSeconds(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// versionOutcome is outcome for the versions page: a refused module's
// message goes next to the file field, under a general alert.
func (u *UI) versionOutcome(c *fiber.Ctx, err error, notFound string) (*outcome, error) {
	out, err := u.explain(c, err, "", notFound)
	if err != nil {
		return nil, err
	}
	if out.errs.Msg("module") != "" {
		out.alert = web.L(c).T("versions.upload.refused")
	}
	return out, nil
}

// uploadVersion receives the multipart upload form.
func (u *UI) uploadVersion(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	// The plugin first: another tenant's slug is a 404 whatever the body.
	if _, err := u.store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, slug); err != nil {
		out, err := u.versionOutcome(c, err, "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, false)
	}
	module, activate, err := admin.ReadModule(c)
	if err == nil {
		_, _, err = u.svc.UploadVersion(c.UserContext(), web.Tenant(c).ID, slug, module, activate, u.actor(c))
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
	return redirect(c, "/admin/plugins/"+slug+"/versions", done)
}

// activateVersion makes one version the active one.
func (u *UI) activateVersion(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	if !admin.ValidID(id) {
		return web.Fail(fiber.StatusNotFound, versionNotFound)
	}
	if _, err := u.svc.ActivateVersion(c.UserContext(), web.Tenant(c).ID, slug, id, u.actor(c)); err != nil {
		out, err := u.versionOutcome(c, err, versionNotFound)
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, false)
	}
	return redirect(c, "/admin/plugins/"+slug+"/versions", "version_activated")
}

// rollbackVersion goes back to the previous version.
func (u *UI) rollbackVersion(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	if _, err := u.svc.Rollback(c.UserContext(), web.Tenant(c).ID, slug, u.actor(c)); err != nil {
		out, err := u.versionOutcome(c, err, "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderVersions(c, out.status, out, false)
	}
	return redirect(c, "/admin/plugins/"+slug+"/versions", "rolled_back")
}

// healthSummary is the plugin list's health column for a wasm plugin.
type healthSummary struct {
	Text   string
	Paused bool
}

// healthCell summarises a wasm plugin's health for the plugin list; nil
// for other plugins (the column keeps its placeholder).
func (u *UI) healthCell(c *fiber.Ctx, p *model.Plugin) *healthSummary {
	if p.Type != model.PluginWasm {
		return nil
	}
	h, ok := u.runtimeHealth(p.TenantID, p.ID)
	l := web.L(c)
	switch {
	case !ok:
		return nil
	case h.Paused:
		return &healthSummary{Text: l.T("versions.health.paused_short"), Paused: true}
	case h.Calls == 0:
		return &healthSummary{Text: l.T("versions.health.cell_none")}
	}
	return &healthSummary{Text: l.T("versions.health.cell", "Rate", errorRate(l, h), "Calls", l.Number(h.Calls))}
}

// runtimeHealth returns the runtime's counters of a plugin in this
// process; ok is false when there is no runtime.
func (u *UI) runtimeHealth(tenantID, pluginID string) (sandbox.Health, bool) {
	if u.engine == nil {
		return sandbox.Health{}, false
	}
	return u.engine.Health(tenantID, pluginID), true
}

// millis is d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// versionNotFound is the code of a version ID that names no version of
// the plugin.
const versionNotFound = "version_not_found"
