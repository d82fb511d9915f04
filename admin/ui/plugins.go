package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/sdk/abi"
)

// pluginList is the data of /admin/plugins.
type pluginList struct {
	Rows []pluginRow
}

// pluginRow is one plugin of the list. Focus names the button that gets
// focus after a move or a toggle ("up", "down", "toggle"), so a keyboard
// user continues where they were.
type pluginRow struct {
	P           model.Plugin
	First, Last bool
	Focus       string
	Health      *healthSummary // wasm plugins: the runtime's summary (ui_versions.go)
	// Attention is how many things the plugin's configuration needs: the
	// required settings not set, the plugin's own problems with the
	// stored values and the grants its settings need (settingsAttention);
	// 0 for a plugin that declares no settings or could not be asked.
	Attention int
}

func (u *UI) showPlugins(c *fiber.Ctx) error {
	return u.renderPluginList(c, fiber.StatusOK, nil)
}

func (u *UI) renderPluginList(c *fiber.Ctx, status int, out *outcome) error {
	t := web.Tenant(c)
	ps, err := u.store.Plugins(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	v := u.newView(c, "plugins", "admin.plugins.title")
	d := &pluginList{}
	moved, dir, toggled := c.Query("moved"), c.Query("dir"), c.Query("toggled")
	for i, p := range ps {
		r := pluginRow{P: p, First: i == 0, Last: i == len(ps)-1, Health: u.healthCell(c, &p)}
		if p.Slug == toggled {
			r.Focus = "toggle"
		}
		if p.Slug == moved {
			switch {
			case dir == "up" && !r.First, dir == "down" && r.Last && !r.First:
				r.Focus = "up"
			case !r.Last:
				r.Focus = "down"
			}
		}
		d.Rows = append(d.Rows, r)
	}
	u.settingsAttention(c.UserContext(), t, v.L.Locale(), d.Rows)
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
	}
	v.D = d
	return u.render(c, status, "plugins", v)
}

// maxSettingsChecks is how many wasm plugins the plugin list asks for
// their settings at once, and settingsChecksWait how long the list waits
// for all of them: a plugin that has not answered by then (a slow or
// broken one, or a busy node) is not flagged, and its own page says why.
const (
	maxSettingsChecks  = 4
	settingsChecksWait = 1500 * time.Millisecond
)

// settingsAttention sets each wasm row's Attention by asking its active
// version for its settings (admin.PluginSettings, as the plugin's page
// does), at most maxSettingsChecks at once and for settingsChecksWait in
// all; each call ends within abi.SettingsTimeoutMS and counts in no
// health figure. A plugin that cannot be asked (no active version, a
// failed or late call, a database error) is not flagged: its own page
// says why.
func (u *UI) settingsAttention(ctx context.Context, t *model.Tenant, locale string, rows []pluginRow) {
	if u.run == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, settingsChecksWait)
	defer cancel()
	type answer struct{ row, attention int }
	// Buffered for every check: one that ends after the page stopped
	// waiting leaves its answer here and goes (only this goroutine
	// writes the rows).
	answers := make(chan answer, len(rows))
	sem := make(chan struct{}, maxSettingsChecks)
	asked := 0
	for i := range rows {
		p := rows[i].P
		if p.Type != model.PluginWasm || p.ActiveVersion == "" {
			continue
		}
		asked++
		go func() {
			n := 0
			defer func() { answers <- answer{i, n} }()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			s, err := admin.PluginSettings(ctx, u.run, u.store, t, locale, &p, nil, nil)
			if err != nil {
				if ctx.Err() == nil {
					u.env.Log.Warn("plugin list: settings check", "tenant", t.Slug, "plugin", p.Slug, "err", err)
				}
				return
			}
			if s.Described {
				n = len(s.Missing) + len(s.Problems) + len(s.MissingGrants)
			}
		}()
	}
	for range asked {
		select {
		case a := <-answers:
			rows[a.row].Attention = a.attention
		case <-ctx.Done():
			return // the rest stay unflagged
		}
	}
}

// editPath is the edit page of a plugin; "new" is taken by the create
// form, so that slug uses the /edit alias.
func editPath(slug string) string {
	if slug == "new" {
		return "/admin/plugins/new/edit"
	}
	return "/admin/plugins/" + slug
}

// movePlugin is the keyboard and no-script alternative to drag-and-drop:
// one place up or down.
func (u *UI) movePlugin(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	delta := 0
	switch c.FormValue("direction") {
	case "up":
		delta = -1
	case "down":
		delta = 1
	default:
		return web.Fail(fiber.StatusBadRequest, "bad_request")
	}
	if err := u.svc.Move(c.UserContext(), web.Tenant(c).ID, slug, delta, u.actor(c)); err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderPluginList(c, out.status, out)
	}
	dir := "up"
	if delta > 0 {
		dir = "down"
	}
	// No fragment: the moved button's autofocus brings it into view, and a
	// fragment target would take the focus from it.
	return c.Redirect("/admin/plugins?done=moved&moved="+slug+"&dir="+dir, fiber.StatusSeeOther)
}

// reorderPlugins saves the order drag-and-drop produced: every live slug,
// once, top first.
func (u *UI) reorderPlugins(c *fiber.Ctx) error {
	slugs := formValues(c, "slug")
	if len(slugs) > service.MaxOrderSlugs {
		return web.Fail(fiber.StatusRequestEntityTooLarge, "body_too_large")
	}
	if err := u.svc.ReorderPlugins(c.UserContext(), web.Tenant(c).ID, slugs, u.actor(c)); err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderPluginList(c, out.status, out)
	}
	return redirect(c, "/admin/plugins", "ordered")
}

// togglePlugin is the list's quick active switch.
func (u *UI) togglePlugin(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	version := formVersion(c)
	active := c.FormValue("active") == "1"
	if version == nil {
		err = service.ErrVersionNeeded
	} else {
		_, err = u.svc.SetActive(c.UserContext(), web.Tenant(c).ID, slug, *version, active, u.actor(c))
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderPluginList(c, out.status, out)
	}
	done := "deactivated"
	if active {
		done = "activated"
	}
	return c.Redirect("/admin/plugins?done="+done+"&toggled="+slug, fiber.StatusSeeOther)
}

// pluginForm is the plugin form: what was typed, parsed into the one list
// of a plugin's editable fields (model.PluginFields), plus the text of the
// inputs that do not map one to one (numbers, which may not parse, and the
// allowed hosts' lines), so a rejected form shows exactly what was entered.
type pluginForm struct {
	model.PluginFields
	WidthText, HeightText, TimeoutText, MemoryText, HostsText string
	// Place is where a new plugin goes in the menu: "end" (the default),
	// "first" or "after:{slug}" (placeOrder).
	Place string
}

func formOf(p *model.Plugin) pluginForm {
	f := pluginForm{PluginFields: p.Fields(), HostsText: strings.Join(p.AllowedHosts, "\n")}
	if p.Width > 0 && p.Height > 0 {
		f.WidthText, f.HeightText = strconv.Itoa(p.Width), strconv.Itoa(p.Height)
	}
	if p.TimeoutMS > 0 {
		f.TimeoutText = strconv.Itoa(p.TimeoutMS)
	}
	if p.MemoryMB > 0 {
		f.MemoryText = strconv.Itoa(p.MemoryMB)
	}
	return f
}

// newPluginForm holds the create form's defaults (the service's own).
func newPluginForm() pluginForm {
	f := pluginForm{WidthText: "960", HeightText: "640",
		TimeoutText: strconv.Itoa(model.DefaultTimeoutMS), MemoryText: strconv.Itoa(model.DefaultMemoryMB)}
	f.Type, f.Active, f.ShowInPortal, f.Size, f.AuthType = model.PluginIframe, true, true, model.SizeMedio, model.AuthNone
	// Preselected, so the form can be sent as it opens: most plugins are
	// for customers, and "ferramentas" is the icon that says least.
	f.VisibleTo, f.Icon = model.VisibleCliente, "ferramentas"
	return f
}

// pluginFormFields are the fields the plugin form always submits.
var pluginFormFields = []string{"name", "title", "titles", "type", "url", "icon", "active", "show_in_portal", "show_in_manager",
	"visible_to", "auth_type", "size", "allowed_hosts", "timeout_ms", "memory_mb", "home_card"}

// readPluginForm reads the posted form into what to show again and what to
// give the service. Numbers that do not parse are reported as wrong_type
// in pre (and sent as 0, the default, so the rest is still checked).
func readPluginForm(c *fiber.Ctx, creating bool) (pluginForm, service.PluginInput, *model.ValidationError) {
	f := pluginForm{WidthText: strings.TrimSpace(formText(c, "width")), HeightText: strings.TrimSpace(formText(c, "height")),
		TimeoutText: strings.TrimSpace(formText(c, "timeout_ms")), MemoryText: strings.TrimSpace(formText(c, "memory_mb")),
		HostsText: formText(c, "allowed_hosts"), Place: formText(c, "menu_place")}
	f.Slug, f.Name, f.Title = strings.TrimSpace(formText(c, "slug")), formText(c, "name"), formText(c, "title")
	f.Titles = model.Titles{}
	for _, loc := range abi.Locales {
		if s := formText(c, "title_"+loc); s != "" {
			f.Titles[loc] = s
		}
	}
	f.Type, f.URL, f.Icon = model.PluginType(formText(c, "type")), formText(c, "url"), formText(c, "icon")
	f.Active, f.ShowInPortal, f.ShowInManager = c.FormValue("active") != "", c.FormValue("show_in_portal") != "", c.FormValue("show_in_manager") != ""
	f.HomeCard = c.FormValue("home_card") != ""
	f.Size, f.VisibleTo, f.AuthType = model.Size(formText(c, "size")), model.Visibility(formText(c, "visible_to")), model.AuthType(formText(c, "auth_type"))
	f.AllowedHosts = lines(f.HostsText)
	pre := &model.ValidationError{}
	num := func(field, raw string) int {
		if raw == "" {
			return 0 // the default (or, for a custom size, missing)
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			pre.Add(field, "wrong_type")
			return 0
		}
		return n
	}
	in := service.PluginInput{PluginFields: f.PluginFields}
	in.Set(pluginFormFields...)
	if creating {
		in.Set("slug")
	}
	if f.Type == model.PluginWasm {
		in.URL = "" // the URL field applies to iframe plugins only
	}
	if f.Size == model.SizeCustom {
		in.Width, in.Height = num("width", f.WidthText), num("height", f.HeightText)
		in.Set("width", "height")
	}
	in.TimeoutMS, in.MemoryMB = num("timeout_ms", f.TimeoutText), num("memory_mb", f.MemoryText)
	return f, in, pre
}

// pluginPage is the data of the create and edit pages.
type pluginPage struct {
	New      bool
	Slug     string // the stored slug (edit)
	EditPath string
	Form     pluginForm
	Version  int64
	Plugin   *model.Plugin // the stored plugin (edit)

	Icons []string
	// TitleLocales are the languages a title may be translated into.
	TitleLocales []string
	Sizes        []sizeOption
	// Places are the plugins a new one can be placed after (create only).
	Places []model.Plugin
	// URLHint is the catalogue key of the URL's hint: the demo also
	// accepts http on localhost, and says so.
	URLHint     string
	PreviewW    int
	PreviewH    int
	Limits      limits
	ConfigTypes []model.ConfigType

	Config        []configRow
	ConfigNext    int
	ConfigVersion int64
	Secrets       []model.SecretMeta
	// OtherSecrets are the stored secrets the plugin does not declare (all
	// of them when it declares none).
	OtherSecrets []model.SecretMeta
	SecretName   string
	// Settings are what the plugin's active version declares
	// (admin.PluginSettings); Declared are its configuration fields as
	// rows of the configuration form, DeclaredSecrets its secrets, and
	// Problems what is wrong, for the list at the top of the card.
	Settings        *admin.Settings
	Declared        []configRow
	DeclaredSecrets []declaredSecret
	Problems        []settingProblem
}

// declaredSecret is a secret the plugin declares, and whether it is set.
type declaredSecret struct {
	abi.Setting
	Set     *model.SecretMeta
	Missing bool
	Problem string
}

// settingProblem is one line of the problems list: the field's label ("" for
// the whole configuration), what is wrong, and the id of its input.
type settingProblem struct {
	Label, Message, Target string
}

type sizeOption struct {
	Value  string
	W, H   int
	Custom bool
}

type limits struct {
	MinW, MaxW, MinH, MaxH, MinTimeout, MaxTimeout, MinMemory, MaxMemory, MaxHosts int
}

var pluginLimits = limits{
	MinW: model.MinFrameWidth, MaxW: model.MaxFrameWidth, MinH: model.MinFrameHeight, MaxH: model.MaxFrameHeight,
	MinTimeout: model.MinTimeoutMS, MaxTimeout: model.MaxTimeoutMS, MinMemory: model.MinMemoryMB, MaxMemory: model.MaxMemoryMB,
	MaxHosts: model.MaxAllowedHosts,
}

// configRow is one row of the configuration table, or of the declared
// settings above it (Field set: its key and type are the plugin's, fixed).
type configRow struct {
	Index              int
	Key, Type, Value   string
	Remove, FromServer bool
	// Declared marks a row of a declared setting: left blank, the key is
	// left out of the configuration (the plugin's default applies).
	// DeclaredType is the configuration type the plugin declares for it,
	// which Type takes when the value fits it (declaredValue).
	Declared     bool
	DeclaredType string
	Field        abi.Setting
	Missing      bool
	Problem      string
}

func (u *UI) newPluginPage(form pluginForm) *pluginPage {
	d := &pluginPage{Form: form, Icons: icon.Names(), TitleLocales: abi.Locales, Limits: pluginLimits, URLHint: "admin.plugin.url_hint",
		ConfigTypes: []model.ConfigType{model.ConfigString, model.ConfigNumber, model.ConfigBoolean}}
	if u.env.Config.Demo {
		d.URLHint = "admin.plugin.url_hint_demo"
	}
	for _, s := range model.Sizes {
		w, h, _ := model.ResolveSize(s, 0, 0)
		d.Sizes = append(d.Sizes, sizeOption{Value: string(s), W: w, H: h})
	}
	d.Sizes = append(d.Sizes, sizeOption{Value: string(model.SizeCustom), Custom: true})
	// The preview shows the typed size when it is valid, else the stored one.
	w, _ := strconv.Atoi(form.WidthText)
	h, _ := strconv.Atoi(form.HeightText)
	if pw, ph, err := model.ResolveSize(form.Size, w, h); err == nil {
		d.PreviewW, d.PreviewH = pw, ph
	} else {
		d.PreviewW, d.PreviewH = 960, 640
	}
	return d
}

// pluginLabels names the plugin form's fields for the error summary.
func pluginLabels(field string) string {
	switch {
	case strings.HasPrefix(field, "config."):
		return "admin.config.title"
	case strings.HasPrefix(field, "secret."):
		return "admin.secrets.title"
	}
	if key, ok := map[string]string{
		"slug": "admin.plugin.slug", "name": "admin.plugin.name", "title": "admin.plugin.title_field", "type": "admin.plugin.type",
		"url": "admin.plugin.url", "icon": "admin.plugin.icon", "visible_to": "admin.plugin.visible_to",
		"auth_type": "admin.plugin.auth_type", "size": "admin.plugin.size", "width": "admin.plugin.width",
		"height": "admin.plugin.height", "allowed_hosts": "admin.plugin.allowed_hosts", "timeout_ms": "admin.plugin.timeout_ms",
		"memory_mb": "admin.plugin.memory_mb", "position": "admin.plugin.position", "confirm": "admin.delete.confirm",
	}[field]; ok {
		return key
	}
	return ""
}

func (u *UI) showNewPlugin(c *fiber.Ctx) error {
	v := u.newView(c, "plugins", "admin.plugin.new_title")
	d := u.newPluginPage(newPluginForm())
	d.New = true
	if err := u.loadPlaces(c, d); err != nil {
		return err
	}
	v.D = d
	return u.render(c, fiber.StatusOK, "plugin_form", v)
}

// createPlugin validates and creates through the Service. A token plugin's
// credentials are shown once on the page that answers the form.
func (u *UI) createPlugin(c *fiber.Ctx) error {
	t := web.Tenant(c)
	f, in, pre := readPluginForm(c, true)
	var p *model.Plugin
	var creds *service.Credentials
	err := error(pre.Err())
	if err != nil {
		err = u.mergeDry(c.UserContext(), t.ID, "", in, pre)
	} else {
		p, creds, err = u.svc.CreatePlugin(c.UserContext(), t.ID, u.actor(c), in)
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		v := u.newView(c, "plugins", "admin.plugin.new_title")
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, pluginLabels)
		d := u.newPluginPage(f)
		d.New = true
		if err := u.loadPlaces(c, d); err != nil {
			return err
		}
		v.D = d
		return u.render(c, out.status, "plugin_form", v)
	}
	u.place(c, p.Slug, f.Place)
	if creds != nil {
		return u.renderCredentials(c, p, creds, true)
	}
	return redirect(c, editPath(p.Slug), "created")
}

// place moves a just-created plugin (created last) to where the form
// asked, through the same reorder the list's drag-and-drop saves. A place
// that names no plugin any more leaves it last; a failure is logged, the
// plugin exists either way and the list can still move it.
func (u *UI) place(c *fiber.Ctx, slug, place string) {
	if place == "" || place == "end" {
		return
	}
	t := web.Tenant(c)
	ps, err := u.store.Plugins(c.UserContext(), t.ID)
	if err == nil {
		if order, ok := placeOrder(ps, slug, place); ok {
			err = u.svc.ReorderPlugins(c.UserContext(), t.ID, order, u.actor(c))
		}
	}
	if err != nil {
		u.env.Log.Warn("place new plugin in the menu", "tenant", t.Slug, "plugin", slug, "place", place, "err", err)
	}
}

// placeOrder is the menu order with slug moved first ("first") or right
// after another plugin ("after:{slug}"); ok is false when place names no
// other plugin, or nothing would change.
func placeOrder(ps []model.Plugin, slug, place string) ([]string, bool) {
	order := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Slug != slug {
			order = append(order, p.Slug)
		}
	}
	at := -1
	switch {
	case place == "first":
		at = 0
	case strings.HasPrefix(place, "after:"):
		if i := slices.Index(order, strings.TrimPrefix(place, "after:")); i >= 0 {
			at = i + 1
		}
	}
	if at < 0 || at == len(order) || len(order) == len(ps) {
		return nil, false
	}
	return slices.Insert(order, at, slug), true
}

// mergeDry runs the model's validation on what the Service would store, so
// a form with an unparsable number still reports every other field too.
// Nothing is written.
func (u *UI) mergeDry(ctx context.Context, tenantID, slug string, in service.PluginInput, pre *model.ValidationError) error {
	err := u.svc.CheckPlugin(ctx, tenantID, slug, in)
	if _, ok := model.AsValidation(err); err != nil && !ok {
		return err
	}
	seen := map[string]bool{}
	for _, f := range pre.Fields {
		seen[f.Field] = true
	}
	if err != nil {
		if v, ok := model.AsValidation(err); ok {
			for _, f := range v.Fields {
				// A number that did not parse was sent as 0 and fails
				// again here; keep the first, clearer message.
				if seen[f.Field] || (f.Field == "size" && (seen["width"] || seen["height"])) {
					continue
				}
				pre.Add(f.Field, f.Code)
			}
		}
	}
	return pre
}

func (u *UI) renderCredentials(c *fiber.Ctx, p *model.Plugin, creds *service.Credentials, created bool) error {
	v := u.newView(c, "plugins", "admin.credentials.title")
	v.D = struct {
		Plugin   *model.Plugin
		Creds    *service.Credentials
		Created  bool
		EditPath string
	}{p, creds, created, editPath(p.Slug)}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return u.render(c, status, "plugin_created", v)
}

func (u *UI) showEditPlugin(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	return u.renderEdit(c, fiber.StatusOK, slug, nil)
}

// editState is what a failed submission on the edit page keeps: the main
// form as typed, or the configuration rows, or the secret name.
type editState struct {
	out        *outcome
	form       *pluginForm
	version    int64 // the version the rejected form named
	config     []configRow
	configVer  int64
	secretName string
}

func (u *UI) renderEdit(c *fiber.Ctx, status int, slug string, st *editState) error {
	ctx, t := c.UserContext(), web.Tenant(c)
	p, err := u.store.PluginBySlug(ctx, t.ID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	form := formOf(p)
	version := p.Version
	if st != nil && st.form != nil {
		form, version = *st.form, st.version
	}
	v := u.newView(c, "plugins", "admin.plugin.edit_title")
	v.Title = v.L.T("admin.plugin.edit_title_named", "Title", p.Title)
	d := u.newPluginPage(form)
	d.Slug, d.Plugin, d.Version, d.EditPath = p.Slug, p, version, editPath(p.Slug)
	cfg, err := u.store.PluginConfig(ctx, t.ID, p.ID)
	if err != nil {
		return err
	}
	rows := make([]configRow, 0, len(cfg))
	shown := make(map[string]string, len(cfg)) // the configuration the form shows
	for i, cv := range cfg {
		rows = append(rows, configRow{Index: i, Key: cv.Key, Type: string(cv.Type), Value: cv.Value, FromServer: true})
		shown[cv.Key] = cv.Value
	}
	configVersion := p.Version
	if st != nil && st.config != nil {
		// After a refused save: the values as typed.
		rows, configVersion = st.config, st.configVer
		shown = map[string]string{}
		for _, r := range rows {
			if r.Key != "" && !r.Remove && (!r.Declared || strings.TrimSpace(r.Value) != "") {
				shown[r.Key] = r.Value
			}
		}
	}
	secrets, err := u.store.Secrets(ctx, t.ID, p.ID)
	if err != nil {
		return err
	}
	// The plugin checks what the form shows: the stored configuration, or
	// what the gestor typed when the save was refused.
	settings, err := admin.PluginSettings(ctx, u.run, u.store, t, v.L.Locale(), p, shown, secrets)
	if err != nil {
		return err
	}
	d.Settings = settings
	d.Declared, d.Config = declaredRows(settings, rows, st != nil && st.config != nil)
	next := 0
	for _, r := range d.Declared {
		next = max(next, r.Index+1)
	}
	for _, r := range d.Config {
		next = max(next, r.Index+1)
	}
	// Two empty rows: adding a key works without the script, which adds more.
	for i := range 2 {
		d.Config = append(d.Config, configRow{Index: next + i, Type: string(model.ConfigString)})
	}
	d.ConfigNext = next + 2
	d.Version = version
	d.Secrets = secrets
	d.DeclaredSecrets, d.Problems = declaredSecrets(settings, secrets, d.Declared, v.L.T("admin.plugin_settings.required"))
	for _, m := range secrets {
		if !slices.ContainsFunc(d.DeclaredSecrets, func(ds declaredSecret) bool { return ds.Key == m.Name }) {
			d.OtherSecrets = append(d.OtherSecrets, m)
		}
	}
	if st != nil {
		d.SecretName = st.secretName
		if st.out != nil {
			v.Alert, v.Errors = st.out.alert, st.out.errs
			v.Errors.label(v.L, pluginLabels)
		}
	}
	d.ConfigVersion = configVersion
	v.D = d
	return u.render(c, status, "plugin_form", v)
}

// declaredRows splits the configuration rows into the rows of the
// plugin's declared settings, in the plugin's order, and the rest. rows
// are the stored configuration or, after a refused save (posted), the
// rows as posted, where a declared row keeps its index so that its error
// finds it. A declared key that is not set gets a blank row of its own.
func declaredRows(s *admin.Settings, rows []configRow, posted bool) (declared, rest []configRow) {
	if s == nil || !s.Described {
		// Nothing declared (now): the rows are plain keys, but a declared
		// row the gestor left blank after a refused save is dropped, as
		// the save would have dropped it.
		for _, r := range rows {
			if !(posted && r.Declared && strings.TrimSpace(r.Value) == "") {
				rest = append(rest, r)
			}
		}
		return nil, rest
	}
	fields := map[string]bool{}
	for _, f := range s.Fields {
		if f.Type != abi.SettingSecret {
			fields[f.Key] = true
		}
	}
	found := map[string]configRow{}
	next := 0
	for _, r := range rows {
		next = max(next, r.Index+1)
		if _, dup := found[r.Key]; !dup && fields[r.Key] && (!posted || r.Declared) {
			found[r.Key] = r
			continue
		}
		if posted && r.Declared && strings.TrimSpace(r.Value) == "" {
			continue // a blank row of a key no longer declared
		}
		rest = append(rest, r)
	}
	problems := map[string]string{}
	for _, p := range s.Problems {
		problems[p.Key] = strings.TrimSpace(problems[p.Key] + " " + p.Message)
	}
	for _, f := range s.Fields {
		if f.Type == abi.SettingSecret {
			continue
		}
		typ, _ := abi.ConfigType(f.Type)
		r, ok := found[f.Key]
		switch {
		case !ok:
			r = configRow{Index: next, Key: f.Key, Type: typ}
			next++
		case strings.TrimSpace(r.Value) == "":
			r.Type = typ
		default:
			// A value that does not fit the declared type (stored as text
			// before the plugin declared it) keeps its own type and
			// spelling, so that saving the form keeps it as it is; the
			// plugin says what it makes of it.
			if v, fits := declaredValue(model.ConfigType(typ), r.Value); fits {
				r.Type, r.Value = typ, v
			}
		}
		r.Declared, r.DeclaredType, r.Field, r.Problem = true, typ, f, problems[f.Key]
		r.Missing = slices.Contains(s.Missing, f.Key)
		declared = append(declared, r)
	}
	return declared, rest
}

// declaredValue says whether value may be saved as the declared type typ,
// and returns it as it would be stored: it must parse as typ and, for a
// number, read the same once normalised ("1.000", one thousand written
// the Brazilian way, is not the number 1). A boolean spelt 1, t or TRUE
// becomes true: the same answer to every reader.
func declaredValue(typ model.ConfigType, value string) (string, bool) {
	v := model.ConfigValue{Key: "k", Type: typ, Value: value}
	if v.Validate() != nil || (typ == model.ConfigNumber && v.Value != strings.TrimSpace(value)) {
		return value, false
	}
	return v.Value, true
}

// declaredSecrets pairs the plugin's declared secrets with the stored ones
// and lists every problem of the settings for the top of the card: the
// required fields not set (with required as their message), then the
// plugin's own findings, each pointing at its input.
func declaredSecrets(s *admin.Settings, stored []model.SecretMeta, declared []configRow, required string) ([]declaredSecret, []settingProblem) {
	if s == nil || !s.Described {
		return nil, nil
	}
	var list []declaredSecret
	var probs []settingProblem
	for _, r := range declared {
		target := fmt.Sprintf("f-config-%d-value", r.Index)
		if r.Missing {
			probs = append(probs, settingProblem{Label: r.Field.Label, Message: required, Target: target})
		}
		if r.Problem != "" {
			probs = append(probs, settingProblem{Label: r.Field.Label, Message: r.Problem, Target: target})
		}
	}
	for _, f := range s.Fields {
		if f.Type != abi.SettingSecret {
			continue
		}
		ds := declaredSecret{Setting: f, Missing: slices.Contains(s.Missing, f.Key)}
		for i := range stored {
			if stored[i].Name == f.Key {
				ds.Set = &stored[i]
			}
		}
		for _, p := range s.Problems {
			if p.Key == f.Key {
				ds.Problem = strings.TrimSpace(ds.Problem + " " + p.Message)
			}
		}
		if ds.Missing {
			probs = append(probs, settingProblem{Label: f.Label, Message: required, Target: "declared-secret-" + f.Key})
		}
		if ds.Problem != "" {
			probs = append(probs, settingProblem{Label: f.Label, Message: ds.Problem, Target: "declared-secret-" + f.Key})
		}
		list = append(list, ds)
	}
	for _, p := range s.Problems {
		if p.Key == "" {
			probs = append(probs, settingProblem{Message: p.Message, Target: "config"})
		}
	}
	return list, probs
}

// updatePlugin saves the edit form through the Service, guarded by the
// version the form was loaded with.
func (u *UI) updatePlugin(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	f, in, pre := readPluginForm(c, false)
	f.Slug = slug
	in.Version = formVersion(c)
	var p *model.Plugin
	var creds *service.Credentials
	if pre.Err() != nil {
		err = u.mergeDry(c.UserContext(), t.ID, slug, in, pre)
	} else {
		p, creds, err = u.svc.UpdatePlugin(c.UserContext(), t.ID, slug, u.actor(c), in)
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		var ver int64
		if in.Version != nil {
			ver = *in.Version
		}
		return u.renderEdit(c, out.status, slug, &editState{out: out, form: &f, version: ver})
	}
	if creds != nil {
		return u.renderCredentials(c, p, creds, false)
	}
	return redirect(c, editPath(slug), "saved")
}

// configField matches the configuration table's inputs: config.N.key,
// config.N.type, config.N.value and config.N.remove.
var configField = regexp.MustCompile(`^config\.([0-9]{1,4})\.(key|type|value|remove|declared)$`)

// readConfigRows collects the posted table rows in index order.
func readConfigRows(c *fiber.Ctx) []configRow {
	rows := map[int]*configRow{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		m := configField.FindSubmatch(k)
		if m == nil {
			return
		}
		i, _ := strconv.Atoi(string(m[1]))
		r := rows[i]
		if r == nil {
			if len(rows) > 2*model.MaxConfigKeys {
				return
			}
			r = &configRow{Index: i}
			rows[i] = r
		}
		s := cut(string(val))
		switch string(m[2]) {
		case "key":
			r.Key = strings.TrimSpace(s)
		case "type":
			r.Type = s
		case "value":
			r.Value = s
		case "remove":
			r.Remove = s != ""
		case "declared":
			r.Declared, r.DeclaredType = s != "", s
		}
	})
	out := make([]configRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

var entryField = regexp.MustCompile(`^entries\[([0-9]+)\]\.(.+)$`)

// saveConfig replaces the plugin's configuration with the table's rows,
// leaving out blank and removed ones.
func (u *UI) saveConfig(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	rows := readConfigRows(c)
	var entries []service.ConfigEntry
	var rowOf []int // entry index → table row index
	declared := map[int]bool{}
	var kept []configRow
	for _, r := range rows {
		if r.Remove {
			continue
		}
		kept = append(kept, r)
		// A blank row, or a declared setting left blank: its key is left
		// out and the plugin's default applies.
		if (r.Key == "" || r.Declared) && strings.TrimSpace(r.Value) == "" {
			continue
		}
		typ := model.ConfigType(r.Type)
		if r.Declared {
			// A textarea sends CRLF line breaks: the value keeps LF.
			r.Value = strings.ReplaceAll(r.Value, "\r\n", "\n")
			// The declared type when the value fits it, else the type the
			// value had (a value typed over an old one of another type is
			// saved as the plugin declares it).
			if _, fits := declaredValue(model.ConfigType(r.DeclaredType), r.Value); fits {
				typ = model.ConfigType(r.DeclaredType)
			}
		}
		entries = append(entries, service.ConfigEntry{Key: r.Key, Type: typ, Value: r.Value})
		rowOf = append(rowOf, r.Index)
		declared[r.Index] = r.Declared
	}
	version := formVersion(c)
	err = u.svc.ReplaceConfig(c.UserContext(), web.Tenant(c).ID, slug, version, entries, u.actor(c))
	if err == nil {
		return c.Redirect(editPath(slug)+"?done=config#config", fiber.StatusSeeOther)
	}
	if v, ok := model.AsValidation(err); ok {
		// Name the table's rows, not the entries' positions.
		mapped := &model.ValidationError{}
		for _, f := range v.Fields {
			if m := entryField.FindStringSubmatch(f.Field); m != nil {
				if i, _ := strconv.Atoi(m[1]); i < len(rowOf) {
					part := m[2]
					if declared[rowOf[i]] {
						part = "value" // a declared row shows one input: its value
					}
					mapped.Add(fmt.Sprintf("config.%d.%s", rowOf[i], part), f.Code)
					continue
				}
			}
			mapped.Add("config."+f.Field, f.Code)
		}
		err = mapped
	}
	out, err := u.explain(c, err, "", "plugin_not_found")
	if err != nil {
		return err
	}
	var ver int64
	if version != nil {
		ver = *version
	}
	shown := []configRow{} // the typed rows, blank ones left out
	for _, r := range kept {
		if r.Key != "" || r.Value != "" || r.Declared {
			r.FromServer = true
			shown = append(shown, r)
		}
	}
	kept = shown
	return u.renderEdit(c, out.status, slug, &editState{out: out, config: kept, configVer: ver})
}

// putSecret sets one secret. Its value is never shown again, not even when
// the form is rejected.
func (u *UI) putSecret(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(formText(c, "secret_name"))
	err = u.svc.PutSecret(c.UserContext(), web.Tenant(c).ID, slug, name, c.FormValue("secret_value"), u.actor(c))
	if err == nil {
		return c.Redirect(editPath(slug)+"?done=secret_set#secrets", fiber.StatusSeeOther)
	}
	out, err := u.explain(c, err, "secret.", "plugin_not_found")
	if err != nil {
		return err
	}
	return u.renderEdit(c, out.status, slug, &editState{out: out, secretName: name})
}

func (u *UI) deleteSecret(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	err = u.svc.DeleteSecret(c.UserContext(), web.Tenant(c).ID, slug, name, u.actor(c))
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "secret_not_found")
	}
	if err != nil {
		return err
	}
	return c.Redirect(editPath(slug)+"?done=secret_deleted#secrets", fiber.StatusSeeOther)
}

// showDeletePlugin asks for confirmation before the soft delete.
func (u *UI) showDeletePlugin(c *fiber.Ctx) error {
	return u.renderDelete(c, fiber.StatusOK, nil)
}

func (u *UI) renderDelete(c *fiber.Ctx, status int, out *outcome) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	p, err := u.store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	v := u.newView(c, "plugins", "admin.delete.title")
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, pluginLabels)
	}
	v.D = struct {
		Plugin   *model.Plugin
		EditPath string
	}{p, editPath(p.Slug)}
	return u.render(c, status, "plugin_delete", v)
}

// deletePlugin soft-deletes through the service, guarded by version.
func (u *UI) deletePlugin(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") == "" {
		v := &model.ValidationError{}
		v.Add("confirm", "required")
		err = v
	} else {
		err = u.svc.DeletePlugin(c.UserContext(), web.Tenant(c).ID, slug, formVersion(c), u.actor(c))
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderDelete(c, out.status, out)
	}
	return redirect(c, "/admin/plugins", "deleted")
}

// loadPlaces lists the tenant's plugins for the new-plugin form's menu
// position.
func (u *UI) loadPlaces(c *fiber.Ctx, d *pluginPage) error {
	ps, err := u.store.Plugins(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	d.Places = ps
	return nil
}
