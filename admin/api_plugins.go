package admin

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

const pluginNotFound = "plugin_not_found"

// maxOrderSlugs bounds a reorder request (far above any real menu).
const maxOrderSlugs = 1000

// pluginOf loads the live plugin named by :slug in the request's tenant.
func (a *Admin) pluginOf(c *fiber.Ctx) (*model.Plugin, error) {
	slug, err := slugParam(c)
	if err != nil {
		return nil, err
	}
	p, err := a.env.Store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, slug)
	if err != nil {
		return nil, problem(err, pluginNotFound)
	}
	return p, nil
}

func (a *Admin) pluginList(c *fiber.Ctx) (fiber.Map, error) {
	ps, err := a.env.Store.Plugins(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return nil, err
	}
	out := make([]pluginView, len(ps))
	for i := range ps {
		out[i] = viewPlugin(&ps[i])
	}
	return fiber.Map{"plugins": out}, nil
}

// GET /plugins: every live plugin in menu order.
func (a *Admin) apiListPlugins(c *fiber.Ctx) error {
	m, err := a.pluginList(c)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// POST /plugins: 201 with the plugin; a token plugin's client_secret is in
// this response only.
func (a *Admin) apiCreatePlugin(c *fiber.Ctx) error {
	var in PluginInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return notAllowed("version")
	}
	p, creds, err := a.svc.CreatePlugin(c.UserContext(), web.Tenant(c).ID, ActorOf(c), in)
	if err != nil {
		return problem(err, pluginNotFound)
	}
	d := pluginDetail{pluginView: viewPlugin(p)}
	if creds != nil {
		d.ClientSecret = creds.ClientSecret
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// detail is a plugin with its configuration and secret names.
func (a *Admin) detail(c *fiber.Ctx, p *model.Plugin) (*pluginDetail, error) {
	ctx, tid := c.UserContext(), web.Tenant(c).ID
	cfg, err := a.env.Store.PluginConfig(ctx, tid, p.ID)
	if err != nil {
		return nil, err
	}
	secrets, err := a.env.Store.Secrets(ctx, tid, p.ID)
	if err != nil {
		return nil, err
	}
	cv := make([]configView, len(cfg))
	for i, e := range cfg {
		cv[i] = configView{Key: e.Key, Type: e.Type, Value: e.Value, UpdatedAt: e.UpdatedAt.UTC()}
	}
	sv := make([]secretView, len(secrets))
	for i, s := range secrets {
		sv[i] = secretView{Name: s.Name, UpdatedAt: s.UpdatedAt.UTC(), UpdatedBy: s.UpdatedBy}
	}
	return &pluginDetail{pluginView: viewPlugin(p), Config: &cv, Secrets: &sv}, nil
}

// GET /plugins/:slug: the plugin, its configuration and its secrets' names.
func (a *Admin) apiGetPlugin(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	d, err := a.detail(c, p)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// PATCH /plugins/:slug: a partial update guarded by version; the response
// names the fields that changed.
func (a *Admin) apiUpdatePlugin(c *fiber.Ctx) error {
	before, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var in PluginInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, creds, err := a.svc.UpdatePlugin(c.UserContext(), web.Tenant(c).ID, before.Slug, ActorOf(c), in)
	if err != nil {
		return problem(err, pluginNotFound)
	}
	var changed []string
	if before.Version == *in.Version {
		changed = changedKeys(pluginChangeView(before), pluginChangeView(p), pluginSnapshotKeys)
	} else {
		changed = in.Changed() // the record moved between our read and the update
	}
	d := pluginDetail{pluginView: viewPlugin(p), Changed: &changed}
	if creds != nil {
		d.ClientSecret = creds.ClientSecret
	}
	return c.JSON(d)
}

// pluginChangeView is the audited snapshot plus the access settings, to
// name every field a PATCH changed.
func pluginChangeView(p *model.Plugin) map[string]any {
	m := storage.PluginSnapshot(p)
	for k, v := range accessMap(p) {
		m[k] = v
	}
	return m
}

type versionBody struct {
	Version *int64 `json:"version"`
}

// versionOf reads the version a DELETE names: a JSON body {"version":N}
// or the query parameter ?version=N.
func versionOf(c *fiber.Ctx) (int64, error) {
	if len(c.Body()) > 0 {
		var b versionBody
		if err := web.DecodeJSON(c, &b); err != nil {
			return 0, err
		}
		if b.Version == nil {
			return 0, problem(ErrVersionNeeded, "")
		}
		return *b.Version, nil
	}
	raw := strings.TrimSpace(c.Query("version"))
	if raw == "" {
		return 0, problem(ErrVersionNeeded, "")
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, badParam("version", "wrong_type")
	}
	return v, nil
}

// DELETE /plugins/:slug: soft delete guarded by version; 204.
func (a *Admin) apiDeletePlugin(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	v, err := versionOf(c)
	if err != nil {
		return err
	}
	if err := a.env.Store.DeletePlugin(c.UserContext(), web.Tenant(c).ID, p.Slug, v, ActorOf(c)); err != nil {
		return problem(err, pluginNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type orderBody struct {
	Slugs *[]string `json:"slugs"`
}

// PUT /plugins/order {"slugs":[…]}: every live plugin exactly once; the
// new menu order is effective on the next request.
func (a *Admin) apiReorderPlugins(c *fiber.Ctx) error {
	var b orderBody
	if err := web.DecodeJSON(c, &b); err != nil {
		return err
	}
	v := &model.ValidationError{}
	switch {
	case b.Slugs == nil:
		v.Add("slugs", "required")
	case len(*b.Slugs) > maxOrderSlugs:
		v.Add("slugs", "too_many")
	}
	if err := v.Err(); err != nil {
		return web.Invalid(v)
	}
	if err := a.env.Store.ReorderPlugins(c.UserContext(), web.Tenant(c).ID, *b.Slugs, ActorOf(c)); err != nil {
		return problem(err, pluginNotFound)
	}
	m, err := a.pluginList(c)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type configBody struct {
	Version *int64         `json:"version"`
	Entries *[]ConfigEntry `json:"entries"`
}

// PUT /plugins/:slug/config: replaces the whole configuration, guarded by
// the plugin's version; answers with the plugin's detail.
func (a *Admin) apiReplaceConfig(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var b configBody
	if err := web.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.Entries == nil {
		// An absent list is a mistake, not "delete every key"; [] is that.
		v := &model.ValidationError{}
		v.Add("entries", "required")
		return web.Invalid(v)
	}
	tid := web.Tenant(c).ID
	if err := a.svc.ReplaceConfig(c.UserContext(), tid, p.Slug, b.Version, *b.Entries, ActorOf(c)); err != nil {
		return problem(err, pluginNotFound)
	}
	p, err = a.env.Store.PluginBySlug(c.UserContext(), tid, p.Slug)
	if err != nil {
		return problem(err, pluginNotFound)
	}
	d, err := a.detail(c, p)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

type secretBody struct {
	Value *string `json:"value"`
}

// PUT /plugins/:slug/secrets/:name {"value":"…"}: encrypts and stores the
// value; 204. The value is never returned by any route.
func (a *Admin) apiPutSecret(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var b secretBody
	if err := web.DecodeJSON(c, &b); err != nil {
		return err
	}
	value := ""
	if b.Value != nil {
		value = *b.Value
	}
	if err := a.svc.PutSecret(c.UserContext(), web.Tenant(c).ID, p.Slug, c.Params("name"), value, ActorOf(c)); err != nil {
		return problem(err, pluginNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// DELETE /plugins/:slug/secrets/:name: 204, or 404 secret_not_found.
func (a *Admin) apiDeleteSecret(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteSecret(c.UserContext(), web.Tenant(c).ID, p.Slug, c.Params("name"), ActorOf(c)); err != nil {
		return problem(err, "secret_not_found")
	}
	return c.SendStatus(fiber.StatusNoContent)
}
