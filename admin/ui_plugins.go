package admin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
)

// uiPluginList is the data of /admin/plugins.
type uiPluginList struct {
	Rows []uiPluginRow
}

// uiPluginRow is one plugin of the list. Focus names the button that gets
// focus after a move or a toggle ("up", "down", "toggle"), so a keyboard
// user continues where they were.
type uiPluginRow struct {
	P           model.Plugin
	First, Last bool
	Focus       string
	Health      *uiHealthCell // wasm plugins: the runtime's summary (ui_versions.go)
}

func (u *ui) showPlugins(c *fiber.Ctx) error {
	return u.renderPluginList(c, fiber.StatusOK, nil)
}

func (u *ui) renderPluginList(c *fiber.Ctx, status int, out *uiOutcome) error {
	t := web.Tenant(c)
	ps, err := u.a.env.Store.Plugins(c.UserContext(), t.ID)
	if err != nil {
		return err
	}
	v := u.newView(c, "plugins", "admin.plugins.title")
	d := &uiPluginList{}
	moved, dir, toggled := c.Query("moved"), c.Query("dir"), c.Query("toggled")
	for i, p := range ps {
		r := uiPluginRow{P: p, First: i == 0, Last: i == len(ps)-1, Health: u.healthCell(c, &p)}
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
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
	}
	v.D = d
	return u.render(c, status, "plugins", v)
}

// uiSlug returns the :slug parameter, or a 404 when it cannot be a slug.
func uiSlug(c *fiber.Ctx) (string, error) {
	s := c.Params("slug")
	if !model.ValidSlug(s) {
		return "", web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	return s, nil
}

// uiEditPath is the edit page of a plugin; "new" is taken by the create
// form, so that slug uses the /edit alias.
func uiEditPath(slug string) string {
	if slug == "new" {
		return "/admin/plugins/new/edit"
	}
	return "/admin/plugins/" + slug
}

// movePlugin is the keyboard and no-script alternative to drag-and-drop:
// one place up or down.
func (u *ui) movePlugin(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
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
	if err := u.a.svc.Move(c.UserContext(), web.Tenant(c).ID, slug, delta, u.actor(c)); err != nil {
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

// uiMaxOrder bounds the slugs a reorder may list.
const uiMaxOrder = 1000

// reorderPlugins saves the order drag-and-drop produced: every live slug,
// once, top first.
func (u *ui) reorderPlugins(c *fiber.Ctx) error {
	slugs := uiFormValues(c, "slug")
	if len(slugs) > uiMaxOrder {
		return web.Fail(fiber.StatusRequestEntityTooLarge, "body_too_large")
	}
	if err := u.a.env.Store.ReorderPlugins(c.UserContext(), web.Tenant(c).ID, slugs, u.actor(c)); err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderPluginList(c, out.status, out)
	}
	return uiRedirect(c, "/admin/plugins", "ordered")
}

// togglePlugin is the list's quick active switch.
func (u *ui) togglePlugin(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	version := uiVersion(c)
	active := c.FormValue("active") == "1"
	if version == nil {
		err = ErrVersionNeeded
	} else {
		_, err = u.a.svc.SetActive(c.UserContext(), web.Tenant(c).ID, slug, *version, active, u.actor(c))
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

// uiPluginForm is the plugin form as typed: strings, so a rejected form
// shows exactly what was entered.
type uiPluginForm struct {
	Slug, Name, Title, Type, URL, Icon  string
	Active, ShowInPortal, ShowInManager bool
	Size, Width, Height                 string
	VisibleTo, AuthType                 string
	AllowedHosts, TimeoutMS, MemoryMB   string
}

func uiFormOf(p *model.Plugin) uiPluginForm {
	f := uiPluginForm{
		Slug: p.Slug, Name: p.Name, Title: p.Title, Type: string(p.Type), URL: p.URL, Icon: p.Icon,
		Active: p.Active, ShowInPortal: p.ShowInPortal, ShowInManager: p.ShowInManager,
		Size: string(p.Size), VisibleTo: string(p.VisibleTo), AuthType: string(p.AuthType),
		AllowedHosts: strings.Join(p.AllowedHosts, "\n"),
	}
	if p.Width > 0 && p.Height > 0 {
		f.Width, f.Height = strconv.Itoa(p.Width), strconv.Itoa(p.Height)
	}
	if p.TimeoutMS > 0 {
		f.TimeoutMS = strconv.Itoa(p.TimeoutMS)
	}
	if p.MemoryMB > 0 {
		f.MemoryMB = strconv.Itoa(p.MemoryMB)
	}
	return f
}

// uiNewPluginForm holds the create form's defaults (the Service's own).
func uiNewPluginForm() uiPluginForm {
	return uiPluginForm{Type: string(model.PluginIframe), Active: true, ShowInPortal: true, Size: string(model.SizeMedio),
		AuthType: string(model.AuthNone), Width: "960", Height: "640",
		TimeoutMS: strconv.Itoa(model.DefaultTimeoutMS), MemoryMB: strconv.Itoa(model.DefaultMemoryMB)}
}

// uiReadPluginForm reads the posted form into what to show again and what to
// give the Service. Numbers that do not parse are reported as wrong_type
// in pre.
func uiReadPluginForm(c *fiber.Ctx, creating bool) (uiPluginForm, PluginInput, *model.ValidationError) {
	f := uiPluginForm{
		Slug: strings.TrimSpace(uiText(c, "slug")), Name: uiText(c, "name"), Title: uiText(c, "title"),
		Type: uiText(c, "type"), URL: uiText(c, "url"), Icon: uiText(c, "icon"),
		Active: c.FormValue("active") != "", ShowInPortal: c.FormValue("show_in_portal") != "", ShowInManager: c.FormValue("show_in_manager") != "",
		Size: uiText(c, "size"), Width: strings.TrimSpace(uiText(c, "width")), Height: strings.TrimSpace(uiText(c, "height")),
		VisibleTo: uiText(c, "visible_to"), AuthType: uiText(c, "auth_type"),
		AllowedHosts: uiText(c, "allowed_hosts"), TimeoutMS: strings.TrimSpace(uiText(c, "timeout_ms")), MemoryMB: strings.TrimSpace(uiText(c, "memory_mb")),
	}
	pre := &model.ValidationError{}
	typ, vis, auth, size := model.PluginType(f.Type), model.Visibility(f.VisibleTo), model.AuthType(f.AuthType), model.Size(f.Size)
	url := f.URL
	if typ == model.PluginWasm {
		url = "" // the URL field applies to iframe plugins only
	}
	hosts := uiLines(f.AllowedHosts)
	in := PluginInput{
		Name: &f.Name, Title: &f.Title, Type: &typ, URL: &url, Icon: &f.Icon,
		Active: &f.Active, ShowInPortal: &f.ShowInPortal, ShowInManager: &f.ShowInManager,
		VisibleTo: &vis, AuthType: &auth, Size: &size, AllowedHosts: &hosts,
	}
	if creating {
		in.Slug = &f.Slug
	}
	num := func(field, raw string) *int {
		if raw == "" {
			return nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			pre.Add(field, "wrong_type")
			return nil
		}
		return &n
	}
	if size == model.SizeCustom {
		in.Width, in.Height = num("width", f.Width), num("height", f.Height)
		if in.Width == nil || in.Height == nil {
			zero := 0
			if in.Width == nil {
				in.Width = &zero
			}
			if in.Height == nil {
				in.Height = &zero
			}
		}
	}
	zero := 0
	in.TimeoutMS, in.MemoryMB = num("timeout_ms", f.TimeoutMS), num("memory_mb", f.MemoryMB)
	if in.TimeoutMS == nil {
		in.TimeoutMS = &zero // the default
	}
	if in.MemoryMB == nil {
		in.MemoryMB = &zero
	}
	return f, in, pre
}

// uiPluginPage is the data of the create and edit pages.
type uiPluginPage struct {
	New      bool
	Slug     string // the stored slug (edit)
	EditPath string
	Form     uiPluginForm
	Version  int64
	Plugin   *model.Plugin // the stored plugin (edit)

	Icons       []string
	Sizes       []uiSizeOption
	PreviewW    int
	PreviewH    int
	Limits      uiLimits
	ConfigTypes []model.ConfigType

	Config        []uiConfigRow
	ConfigNext    int
	ConfigVersion int64
	Secrets       []model.SecretMeta
	SecretName    string
}

type uiSizeOption struct {
	Value  string
	W, H   int
	Custom bool
}

type uiLimits struct {
	MinW, MaxW, MinH, MaxH, MinTimeout, MaxTimeout, MinMemory, MaxMemory, MaxHosts int
}

var uiPluginLimits = uiLimits{
	MinW: model.MinFrameWidth, MaxW: model.MaxFrameWidth, MinH: model.MinFrameHeight, MaxH: model.MaxFrameHeight,
	MinTimeout: model.MinTimeoutMS, MaxTimeout: model.MaxTimeoutMS, MinMemory: model.MinMemoryMB, MaxMemory: model.MaxMemoryMB,
	MaxHosts: model.MaxAllowedHosts,
}

// uiConfigRow is one row of the configuration table.
type uiConfigRow struct {
	Index              int
	Key, Type, Value   string
	Remove, FromServer bool
}

func (u *ui) newPluginPage(form uiPluginForm) *uiPluginPage {
	d := &uiPluginPage{Form: form, Icons: icon.Names(), Limits: uiPluginLimits,
		ConfigTypes: []model.ConfigType{model.ConfigString, model.ConfigNumber, model.ConfigBoolean}}
	for _, s := range model.Sizes {
		w, h, _ := model.ResolveSize(s, 0, 0)
		d.Sizes = append(d.Sizes, uiSizeOption{Value: string(s), W: w, H: h})
	}
	d.Sizes = append(d.Sizes, uiSizeOption{Value: string(model.SizeCustom), Custom: true})
	// The preview shows the typed size when it is valid, else the stored one.
	w, _ := strconv.Atoi(form.Width)
	h, _ := strconv.Atoi(form.Height)
	if pw, ph, err := model.ResolveSize(model.Size(form.Size), w, h); err == nil {
		d.PreviewW, d.PreviewH = pw, ph
	} else {
		d.PreviewW, d.PreviewH = 960, 640
	}
	return d
}

// uiPluginLabels names the plugin form's fields for the error summary.
func uiPluginLabels(field string) string {
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

func (u *ui) showNewPlugin(c *fiber.Ctx) error {
	v := u.newView(c, "plugins", "admin.plugin.new_title")
	d := u.newPluginPage(uiNewPluginForm())
	d.New = true
	v.D = d
	return u.render(c, fiber.StatusOK, "plugin_form", v)
}

// createPlugin validates and creates through the Service. A token plugin's
// credentials are shown once on the page that answers the form.
func (u *ui) createPlugin(c *fiber.Ctx) error {
	t := web.Tenant(c)
	f, in, pre := uiReadPluginForm(c, true)
	var p *model.Plugin
	var creds *Credentials
	err := error(pre.Err())
	if err != nil {
		err = u.mergeDry(c.UserContext(), t.ID, "", in, pre)
	} else {
		p, creds, err = u.a.svc.CreatePlugin(c.UserContext(), t.ID, u.actor(c), in)
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		v := u.newView(c, "plugins", "admin.plugin.new_title")
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, uiPluginLabels)
		d := u.newPluginPage(f)
		d.New = true
		v.D = d
		return u.render(c, out.status, "plugin_form", v)
	}
	if creds != nil {
		return u.renderCredentials(c, p, creds, true)
	}
	return uiRedirect(c, uiEditPath(p.Slug), "created")
}

// mergeDry runs the model's validation on what the Service would store, so
// a form with an unparsable number still reports every other field too.
// Nothing is written.
func (u *ui) mergeDry(ctx context.Context, tenantID, slug string, in PluginInput, pre *model.ValidationError) error {
	p := &model.Plugin{Type: model.PluginIframe, Active: true, ShowInPortal: true, Size: model.SizeMedio, AuthType: model.AuthNone, Position: 10}
	if slug != "" {
		stored, err := u.a.env.Store.PluginBySlug(ctx, tenantID, slug)
		if err != nil {
			return err
		}
		p = stored
	}
	in.apply(p)
	seen := map[string]bool{}
	for _, f := range pre.Fields {
		seen[f.Field] = true
	}
	if err := p.Validate(u.a.svc.rules()); err != nil {
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

func (u *ui) renderCredentials(c *fiber.Ctx, p *model.Plugin, creds *Credentials, created bool) error {
	v := u.newView(c, "plugins", "admin.credentials.title")
	v.D = struct {
		Plugin   *model.Plugin
		Creds    *Credentials
		Created  bool
		EditPath string
	}{p, creds, created, uiEditPath(p.Slug)}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return u.render(c, status, "plugin_created", v)
}

func (u *ui) showEditPlugin(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	return u.renderEdit(c, fiber.StatusOK, slug, nil)
}

// uiEditState is what a failed submission on the edit page keeps: the main
// form as typed, or the configuration rows, or the secret name.
type uiEditState struct {
	out        *uiOutcome
	form       *uiPluginForm
	version    int64 // the version the rejected form named
	config     []uiConfigRow
	configVer  int64
	secretName string
}

func (u *ui) renderEdit(c *fiber.Ctx, status int, slug string, st *uiEditState) error {
	ctx, t := c.UserContext(), web.Tenant(c)
	p, err := u.a.env.Store.PluginBySlug(ctx, t.ID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	form := uiFormOf(p)
	version := p.Version
	if st != nil && st.form != nil {
		form, version = *st.form, st.version
	}
	v := u.newView(c, "plugins", "admin.plugin.edit_title")
	v.Title = v.L.T("admin.plugin.edit_title_named", "Title", p.Title)
	d := u.newPluginPage(form)
	d.Slug, d.Plugin, d.Version, d.EditPath = p.Slug, p, version, uiEditPath(p.Slug)
	cfg, err := u.a.env.Store.PluginConfig(ctx, t.ID, p.ID)
	if err != nil {
		return err
	}
	for i, cv := range cfg {
		d.Config = append(d.Config, uiConfigRow{Index: i, Key: cv.Key, Type: string(cv.Type), Value: cv.Value, FromServer: true})
	}
	configVersion := p.Version
	if st != nil && st.config != nil {
		d.Config, configVersion = st.config, st.configVer
	}
	next := 0
	for _, r := range d.Config {
		next = max(next, r.Index+1)
	}
	// Two empty rows: adding a key works without the script, which adds more.
	for i := range 2 {
		d.Config = append(d.Config, uiConfigRow{Index: next + i, Type: string(model.ConfigString)})
	}
	d.ConfigNext = next + 2
	d.Version = version
	secrets, err := u.a.env.Store.Secrets(ctx, t.ID, p.ID)
	if err != nil {
		return err
	}
	d.Secrets = secrets
	if st != nil {
		d.SecretName = st.secretName
		if st.out != nil {
			v.Alert, v.Errors = st.out.alert, st.out.errs
			v.Errors.label(v.L, uiPluginLabels)
		}
	}
	d.ConfigVersion = configVersion
	v.D = d
	return u.render(c, status, "plugin_form", v)
}

// updatePlugin saves the edit form through the Service, guarded by the
// version the form was loaded with.
func (u *ui) updatePlugin(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	t := web.Tenant(c)
	f, in, pre := uiReadPluginForm(c, false)
	f.Slug = slug
	in.Version = uiVersion(c)
	var p *model.Plugin
	var creds *Credentials
	if pre.Err() != nil {
		err = u.mergeDry(c.UserContext(), t.ID, slug, in, pre)
	} else {
		p, creds, err = u.a.svc.UpdatePlugin(c.UserContext(), t.ID, slug, u.actor(c), in)
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
		return u.renderEdit(c, out.status, slug, &uiEditState{out: out, form: &f, version: ver})
	}
	if creds != nil {
		return u.renderCredentials(c, p, creds, false)
	}
	return uiRedirect(c, uiEditPath(slug), "saved")
}

// uiConfigField matches the configuration table's inputs: config.N.key,
// config.N.type, config.N.value and config.N.remove.
var uiConfigField = regexp.MustCompile(`^config\.([0-9]{1,4})\.(key|type|value|remove)$`)

// uiReadConfigRows collects the posted table rows in index order.
func uiReadConfigRows(c *fiber.Ctx) []uiConfigRow {
	rows := map[int]*uiConfigRow{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		m := uiConfigField.FindSubmatch(k)
		if m == nil {
			return
		}
		i, _ := strconv.Atoi(string(m[1]))
		r := rows[i]
		if r == nil {
			if len(rows) > 2*model.MaxConfigKeys {
				return
			}
			r = &uiConfigRow{Index: i}
			rows[i] = r
		}
		s := uiCut(string(val))
		switch string(m[2]) {
		case "key":
			r.Key = strings.TrimSpace(s)
		case "type":
			r.Type = s
		case "value":
			r.Value = s
		case "remove":
			r.Remove = s != ""
		}
	})
	out := make([]uiConfigRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

var uiEntryField = regexp.MustCompile(`^entries\[([0-9]+)\]\.(.+)$`)

// saveConfig replaces the plugin's configuration with the table's rows,
// leaving out blank and removed ones.
func (u *ui) saveConfig(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	rows := uiReadConfigRows(c)
	var entries []ConfigEntry
	var rowOf []int // entry index → table row index
	var kept []uiConfigRow
	for _, r := range rows {
		if r.Remove {
			continue
		}
		kept = append(kept, r)
		if r.Key == "" && r.Value == "" {
			continue
		}
		entries = append(entries, ConfigEntry{Key: r.Key, Type: model.ConfigType(r.Type), Value: r.Value})
		rowOf = append(rowOf, r.Index)
	}
	version := uiVersion(c)
	err = u.a.svc.ReplaceConfig(c.UserContext(), web.Tenant(c).ID, slug, version, entries, u.actor(c))
	if err == nil {
		return c.Redirect(uiEditPath(slug)+"?done=config#config", fiber.StatusSeeOther)
	}
	if v, ok := model.AsValidation(err); ok {
		// Name the table's rows, not the entries' positions.
		mapped := &model.ValidationError{}
		for _, f := range v.Fields {
			if m := uiEntryField.FindStringSubmatch(f.Field); m != nil {
				if i, _ := strconv.Atoi(m[1]); i < len(rowOf) {
					mapped.Add(fmt.Sprintf("config.%d.%s", rowOf[i], m[2]), f.Code)
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
	shown := []uiConfigRow{} // the typed rows, blank ones left out
	for _, r := range kept {
		if r.Key != "" || r.Value != "" {
			r.FromServer = true
			shown = append(shown, r)
		}
	}
	kept = shown
	return u.renderEdit(c, out.status, slug, &uiEditState{out: out, config: kept, configVer: ver})
}

// putSecret sets one secret. Its value is never shown again, not even when
// the form is rejected.
func (u *ui) putSecret(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(uiText(c, "secret_name"))
	err = u.a.svc.PutSecret(c.UserContext(), web.Tenant(c).ID, slug, name, c.FormValue("secret_value"), u.actor(c))
	if err == nil {
		return c.Redirect(uiEditPath(slug)+"?done=secret_set#secrets", fiber.StatusSeeOther)
	}
	out, err := u.explain(c, err, "secret.", "plugin_not_found")
	if err != nil {
		return err
	}
	return u.renderEdit(c, out.status, slug, &uiEditState{out: out, secretName: name})
}

func (u *ui) deleteSecret(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	err = u.a.svc.DeleteSecret(c.UserContext(), web.Tenant(c).ID, slug, name, u.actor(c))
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "secret_not_found")
	}
	if err != nil {
		return err
	}
	return c.Redirect(uiEditPath(slug)+"?done=secret_deleted#secrets", fiber.StatusSeeOther)
}

// showDeletePlugin asks for confirmation before the soft delete.
func (u *ui) showDeletePlugin(c *fiber.Ctx) error {
	return u.renderDelete(c, fiber.StatusOK, nil)
}

func (u *ui) renderDelete(c *fiber.Ctx, status int, out *uiOutcome) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	p, err := u.a.env.Store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, slug)
	if errors.Is(err, model.ErrNotFound) {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	if err != nil {
		return err
	}
	v := u.newView(c, "plugins", "admin.delete.title")
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, uiPluginLabels)
	}
	v.D = struct {
		Plugin   *model.Plugin
		EditPath string
	}{p, uiEditPath(p.Slug)}
	return u.render(c, status, "plugin_delete", v)
}

// deletePlugin soft-deletes (the Service has no wrapper: the store's
// audited, versioned delete is called as the API does).
func (u *ui) deletePlugin(c *fiber.Ctx) error {
	slug, err := uiSlug(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") == "" {
		v := &model.ValidationError{}
		v.Add("confirm", "required")
		err = v
	} else if version := uiVersion(c); version == nil {
		err = ErrVersionNeeded
	} else {
		err = u.a.env.Store.DeletePlugin(c.UserContext(), web.Tenant(c).ID, slug, *version, u.actor(c))
	}
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderDelete(c, out.status, out)
	}
	return uiRedirect(c, "/admin/plugins", "deleted")
}
