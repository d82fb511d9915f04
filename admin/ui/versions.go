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
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/sdk/abi"
)

// The versions page of a wasm plugin (/admin/plugins/{slug}/versions):
// upload form (multipart, checked by the runtime before anything is
// stored), the version list with activation and one-step rollback, and the
// plugin's health across the installation (admin.PluginHealth): totals,
// last errors and log lines of every node, and each node's share.

// versionsPage is the data of the versions page.
type versionsPage struct {
	Plugin    *model.Plugin
	Versions  []versionRow
	Previous  *versionRow // the rollback target, if any
	HasActive bool
	ABI       int
	Max       string // the module size limit for people ("16 MiB")
	Kept      int    // how many of the newest versions are kept (storage.MaxStoredVersions)
	MaxBytes  int    // the same in bytes, for the form's check before sending
	Activate  bool   // the upload form's checkbox
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
	// LoggedErrors is how many error lines the plugin logged in the last
	// loggedErrorsWindow, formatted ("" for none).
	LoggedErrors string
	// PausedOn names the nodes whose breaker is open when it is open on
	// some of the plugin's nodes but not all ("" otherwise).
	PausedOn   string
	LastErrors []healthError
	Logs       []healthLog
	// Nodes is each node's share, when more than one node ran the plugin.
	Nodes   []healthNode
	Partial bool
}

type healthError struct{ When, Reason, Detail, Node string }

type healthLog struct{ When, Level, Message, Attrs, Node string }

// healthNode is one row of the nodes table.
type healthNode struct {
	Name, Calls, Errors, Rate, P50, P95 string
	This, Paused                        bool
	Until, Reported                     string
}

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
	d := &versionsPage{Plugin: p, ABI: abi.Version, Max: admin.MaxModuleText, Kept: storage.MaxStoredVersions, MaxBytes: sandbox.MaxModuleBytes, Activate: activate, HasActive: p.ActiveVersion != ""}
	for _, pv := range vers {
		r := versionRow{ID: pv.ID, Number: pv.Number, SHA256: pv.SHA256, ShortSHA: shortSHA(pv.SHA256),
			Size: moduleSize(l, pv.SizeBytes), ABIVersion: pv.ABIVersion,
			Created: v.When(pv.CreatedAt), CreatedBy: pv.CreatedBy,
			Active: pv.ID == p.ActiveVersion, Previous: pv.ID == p.PreviousVersion}
		d.Versions = append(d.Versions, r)
	}
	for i := range d.Versions {
		if d.Versions[i].Previous {
			d.Previous = &d.Versions[i]
		}
	}
	h, err := admin.PluginHealth(c.UserContext(), u.store, u.engine, tid, p.ID)
	if err != nil {
		u.env.Log.Warn("plugin health: other nodes unreadable", "tenant", web.Tenant(c).Slug, "plugin", p.Slug, "err", err)
	}
	d.Health = u.health(l, v.Tenant.Location(), h, u.store.Now())
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

// health formats the installation's health for the page, its times in
// loc; now dates the other nodes' reports.
func (u *UI) health(l *i18n.Localizer, loc *time.Location, h admin.Health, now time.Time) healthPanel {
	whenSeconds := func(t time.Time) string { return l.DateTime(t, loc, true) }
	out := healthPanel{Available: h.Available, HasCalls: h.Calls > 0, Calls: l.Number(h.Calls), Errors: l.Number(h.Errors),
		P50: durationMS(l, h.P50), P95: durationMS(l, h.P95), Paused: h.Paused, Rate: errorRate(l, h.Errors, h.Calls), Partial: h.Partial}
	if h.Paused && !h.PausedUntil.IsZero() {
		out.Until = whenSeconds(h.PausedUntil)
	}
	if n := loggedErrors(h.Logs, now); n > 0 {
		out.LoggedErrors = l.T("versions.health.running_logged", "Count", n, "N", l.Number(n))
	}
	if len(h.Nodes) > 1 {
		if paused := h.PausedNodes(); len(paused) < len(h.Nodes) {
			out.PausedOn = strings.Join(paused, ", ")
		}
		for _, n := range h.Nodes {
			row := healthNode{Name: n.Name, This: n.This, Calls: l.Number(n.Calls), Errors: l.Number(n.Errors),
				Rate: errorRate(l, n.Errors, n.Calls), P50: durationMS(l, n.P50), P95: durationMS(l, n.P95), Paused: n.Paused}
			if n.Paused {
				row.Until = whenSeconds(n.PausedUntil)
			}
			if !n.This {
				row.Reported = l.T("versions.health.ago", "N", l.Number(int64(max(now.Sub(n.UpdatedAt), 0)/time.Second)))
			}
			out.Nodes = append(out.Nodes, row)
		}
	}
	for _, e := range h.LastErrors {
		out.LastErrors = append(out.LastErrors, healthError{When: whenSeconds(e.At), Reason: u.reason(l, e.Reason), Detail: e.Detail, Node: e.Node})
	}
	for _, lg := range h.Logs {
		attrs := make([]string, 0, len(lg.Attrs))
		for k, v := range lg.Attrs {
			attrs = append(attrs, k+"="+v)
		}
		slices.Sort(attrs)
		out.Logs = append(out.Logs, healthLog{When: whenSeconds(lg.At), Level: lg.Level, Message: lg.Message, Attrs: strings.Join(attrs, " "), Node: lg.Node})
	}
	return out
}

// durationMS formats a duration in milliseconds with one decimal.
func durationMS(l *i18n.Localizer, d time.Duration) string {
	return l.T("versions.health.ms", "N", decimal(l, millis(d)))
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
func errorRate(l *i18n.Localizer, errors, calls int64) string {
	if calls <= 0 {
		return l.T("versions.health.percent", "N", "0")
	}
	pct := float64(errors) * 100 / float64(calls)
	if errors > 0 && pct < 1 {
		return l.T("versions.health.percent", "N", "<1")
	}
	return l.T("versions.health.percent", "N", l.Number(int64(pct+0.5)))
}

// moduleSize is a module's size for people: KiB below a mebibyte
// (rounded up), MiB with one decimal from there ("4,3 MiB"), as the
// upload's limit is written.
func moduleSize(l *i18n.Localizer, bytes int64) string {
	if kib := (bytes + 1023) / 1024; kib < 1024 {
		return l.T("versions.size_kib", "N", l.Number(kib))
	}
	return l.T("versions.size_mib", "N", decimal(l, float64(bytes)/(1<<20)))
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
	// Warn is set when the plugin logged errors recently although its
	// calls succeeded (a plugin that answers politely while its ERP is
	// down): the list says so instead of showing an error rate of 0%.
	Warn bool
}

// loggedErrorsWindow is how far back the errors a plugin logged count in
// its health: long enough to cover an outage the gestor is asked about,
// short enough that a fixed one stops showing.
const loggedErrorsWindow = 15 * time.Minute

// loggedErrors counts the lines of level error among logs (newest first)
// logged since now - loggedErrorsWindow.
func loggedErrors(logs []admin.NodeLog, now time.Time) int64 {
	var n int64
	for _, lg := range logs {
		if now.Sub(lg.At) > loggedErrorsWindow {
			break
		}
		if lg.Level == "error" {
			n++
		}
	}
	return n
}

// healthCell summarises a wasm plugin's health across the installation
// for the plugin list; nil for other plugins (the column keeps its
// placeholder). The other nodes' reports of the tenant's plugins are read
// once per page (tenantHealth).
func (u *UI) healthCell(c *fiber.Ctx, p *model.Plugin) *healthSummary {
	if p.Type != model.PluginWasm {
		return nil
	}
	var live *sandbox.Health
	if u.engine != nil {
		h := u.engine.Health(p.TenantID, p.ID)
		live = &h
	}
	published := u.tenantHealth(c, p.TenantID)
	if live == nil && len(published[p.ID]) == 0 {
		return nil
	}
	h := admin.MergeHealth(u.store.Node(), u.store.NodeHost(), live, published[p.ID], u.store.Now())
	l := web.L(c)
	switch {
	case h.Paused:
		return &healthSummary{Text: l.T("versions.health.paused_short"), Paused: true}
	case h.Calls == 0:
		return &healthSummary{Text: l.T("versions.health.cell_none")}
	}
	if n := loggedErrors(h.Logs, u.store.Now()); n > 0 {
		return &healthSummary{Text: l.T("versions.health.cell_logged", "Count", n, "N", l.Number(n)), Warn: true}
	}
	return &healthSummary{Text: l.T("versions.health.cell", "Rate", errorRate(l, h.Errors, h.Calls), "Calls", l.Number(h.Calls), "Count", h.Calls)}
}

// tenantHealthKey keys the request's copy of the other nodes' reports.
type tenantHealthKey struct{}

// tenantHealth returns every node's report of each of the tenant's
// plugins (by plugin ID), read once per request; when they cannot be read
// (logged), none: the list then shows this node's numbers.
func (u *UI) tenantHealth(c *fiber.Ctx, tenantID string) map[string][]storage.PluginHealth {
	if m, ok := c.Locals(tenantHealthKey{}).(map[string][]storage.PluginHealth); ok {
		return m
	}
	m := map[string][]storage.PluginHealth{}
	hs, err := u.store.TenantPluginHealth(c.UserContext(), tenantID)
	if err != nil {
		u.env.Log.Warn("plugin health: other nodes unreadable", "tenant", web.Tenant(c).Slug, "err", err)
	}
	for _, h := range hs {
		m[h.PluginID] = append(m[h.PluginID], h)
	}
	c.Locals(tenantHealthKey{}, m)
	return m
}

// millis is d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// versionNotFound is the code of a version ID that names no version of
// the plugin.
const versionNotFound = "version_not_found"
