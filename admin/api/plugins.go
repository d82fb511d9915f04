package api

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
)

const pluginNotFound = "plugin_not_found"

// pluginOf loads the live plugin named by :slug in the request's tenant.
func (a *API) pluginOf(c *fiber.Ctx) (*model.Plugin, error) {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return nil, err
	}
	p, err := a.store.PluginBySlug(c.UserContext(), web.Tenant(c).ID, slug)
	if err != nil {
		return nil, fail(c, err, pluginNotFound)
	}
	return p, nil
}

func (a *API) pluginList(c *fiber.Ctx) (fiber.Map, error) {
	ps, err := a.store.Plugins(c.UserContext(), web.Tenant(c).ID)
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
func (a *API) listPlugins(c *fiber.Ctx) error {
	m, err := a.pluginList(c)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// POST /plugins: 201 with the plugin; a token plugin's client_secret is in
// this response only.
func (a *API) createPlugin(c *fiber.Ctx) error {
	var in service.PluginInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return notAllowed("version")
	}
	p, creds, err := a.svc.CreatePlugin(c.UserContext(), web.Tenant(c).ID, actorOf(c), in)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	d := pluginDetail{pluginView: viewPlugin(p)}
	if creds != nil {
		d.ClientSecret = creds.ClientSecret
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// detail is a plugin with its configuration and secret names.
func (a *API) detail(c *fiber.Ctx, p *model.Plugin) (*pluginDetail, error) {
	ctx, tid := c.UserContext(), web.Tenant(c).ID
	cfg, err := a.store.PluginConfig(ctx, tid, p.ID)
	if err != nil {
		return nil, err
	}
	secrets, err := a.store.Secrets(ctx, tid, p.ID)
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
func (a *API) getPlugin(c *fiber.Ctx) error {
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
func (a *API) updatePlugin(c *fiber.Ctx) error {
	before, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var in service.PluginInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, creds, err := a.svc.UpdatePlugin(c.UserContext(), web.Tenant(c).ID, before.Slug, actorOf(c), in)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	var changed []string
	if before.Version == *in.Version {
		changed = changedKeys(pluginChangeView(before), pluginChangeView(p), pluginChangeKeys)
	} else {
		changed = in.Changed() // the record moved between our read and the update
	}
	d := pluginDetail{pluginView: viewPlugin(p), Changed: &changed}
	if creds != nil {
		d.ClientSecret = creds.ClientSecret
	}
	return c.JSON(d)
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
			return 0, fail(c, service.ErrVersionNeeded, "")
		}
		return *b.Version, nil
	}
	raw := strings.TrimSpace(c.Query("version"))
	if raw == "" {
		return 0, fail(c, service.ErrVersionNeeded, "")
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, badParam("version", "wrong_type")
	}
	return v, nil
}

// DELETE /plugins/:slug: soft delete guarded by version; 204.
func (a *API) deletePlugin(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	v, err := versionOf(c)
	if err != nil {
		return err
	}
	if err := a.svc.DeletePlugin(c.UserContext(), web.Tenant(c).ID, p.Slug, &v, actorOf(c)); err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type orderBody struct {
	Slugs *[]string `json:"slugs"`
}

// PUT /plugins/order {"slugs":[…]}: every live plugin exactly once; the
// new menu order is effective on the next request.
func (a *API) reorderPlugins(c *fiber.Ctx) error {
	var b orderBody
	if err := web.DecodeJSON(c, &b); err != nil {
		return err
	}
	if b.Slugs == nil {
		v := &model.ValidationError{}
		v.Add("slugs", "required")
		return web.Invalid(v)
	}
	if err := a.svc.ReorderPlugins(c.UserContext(), web.Tenant(c).ID, *b.Slugs, actorOf(c)); err != nil {
		return fail(c, err, pluginNotFound)
	}
	m, err := a.pluginList(c)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type configBody struct {
	Version *int64                 `json:"version"`
	Entries *[]service.ConfigEntry `json:"entries"`
}

// PUT /plugins/:slug/config: replaces the whole configuration, guarded by
// the plugin's version; answers with the plugin's detail.
func (a *API) replaceConfig(c *fiber.Ctx) error {
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
	if err := a.svc.ReplaceConfig(c.UserContext(), tid, p.Slug, b.Version, *b.Entries, actorOf(c)); err != nil {
		return fail(c, err, pluginNotFound)
	}
	p, err = a.store.PluginBySlug(c.UserContext(), tid, p.Slug)
	if err != nil {
		return fail(c, err, pluginNotFound)
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
func (a *API) putSecret(c *fiber.Ctx) error {
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
	if err := a.svc.PutSecret(c.UserContext(), web.Tenant(c).ID, p.Slug, c.Params("name"), value, actorOf(c)); err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// DELETE /plugins/:slug/secrets/:name: 204, or 404 secret_not_found.
func (a *API) deleteSecret(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteSecret(c.UserContext(), web.Tenant(c).ID, p.Slug, c.Params("name"), actorOf(c)); err != nil {
		return fail(c, err, "secret_not_found")
	}
	return c.SendStatus(fiber.StatusNoContent)
}
