package api

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
)

// A wasm plugin's stored data (its key-value store) in the admin API:
//
//	GET    /plugins/{slug}/data         usage and limits, and a page of keys (?prefix=&after=&limit=)
//	DELETE /plugins/{slug}/data         every key (?confirm=true, or {"confirm":true}): {"deleted_keys":n}
//	DELETE /plugins/{slug}/data/{key}   one key, percent-encoded as one path segment ('/' as %2F); 204
//
// Keys are listed with the size of their value, never the value: a plugin
// may keep customers' data or tokens there. Both deletions are audited.
// Another plugin than a wasm one is 404 plugin_no_data.

const keyNotFound = "key_not_found"

// dataView is GET /plugins/{slug}/data's answer.
type dataView struct {
	Plugin string        `json:"plugin"`
	Usage  dataUsageView `json:"usage"`
	Keys   []dataKeyView `json:"keys"`
	// NextAfter is the after= of the next page; null on the last.
	NextAfter *string `json:"next_after"`
}

// dataUsageView is what the store holds against its limits; bytes count
// the keys and the values, as the quota does.
type dataUsageView struct {
	Keys     int64 `json:"keys"`
	Bytes    int64 `json:"bytes"`
	MaxKeys  int64 `json:"max_keys"`
	MaxBytes int64 `json:"max_bytes"`
}

// dataKeyView is one key: its name, its value's size in bytes and when it
// was last written.
type dataKeyView struct {
	Key       string    `json:"key"`
	Size      int64     `json:"size"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GET /plugins/:slug/data?prefix=&after=&limit=
func (a *API) pluginData(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var q service.DataQuery
	if q.Limit, err = queryInt(c, "limit", service.DefaultDataPage, 1, service.MaxDataPage); err != nil {
		return err
	}
	// Neither is trimmed: a key may begin or end with a space.
	q.Prefix, q.After = c.Query("prefix"), c.Query("after")
	d, err := a.svc.PluginData(c.UserContext(), web.Tenant(c).ID, p.Slug, q)
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	u := d.Usage
	out := dataView{Plugin: d.Plugin.Slug, Usage: dataUsageView{Keys: u.Keys, Bytes: u.Bytes, MaxKeys: u.MaxKeys, MaxBytes: u.MaxBytes},
		Keys: make([]dataKeyView, len(d.Keys))}
	for i, k := range d.Keys {
		out.Keys[i] = dataKeyView{Key: k.Key, Size: k.Size, UpdatedAt: k.UpdatedAt.UTC()}
	}
	if d.Next != "" {
		out.NextAfter = &d.Next
	}
	return c.JSON(out)
}

type clearBody struct {
	Confirm bool `json:"confirm"`
}

// DELETE /plugins/:slug/data: every key of the plugin, confirmed by
// ?confirm=true or the body {"confirm":true} (a DELETE of /data/ with an
// empty key lands here, and must not empty the store by mistake).
func (a *API) clearPluginData(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	var confirm bool
	if len(c.Body()) > 0 {
		var b clearBody
		if err := web.DecodeJSON(c, &b); err != nil {
			return err
		}
		confirm = b.Confirm
	} else if raw := c.Query("confirm"); raw != "" {
		if confirm, err = strconv.ParseBool(raw); err != nil {
			return badParam("confirm", "wrong_type")
		}
	}
	n, err := a.svc.ClearPluginData(c.UserContext(), web.Tenant(c).ID, p.Slug, confirm, actorOf(c))
	if err != nil {
		return fail(c, err, pluginNotFound)
	}
	return c.JSON(fiber.Map{"deleted_keys": n})
}

// DELETE /plugins/:slug/data/:key: 204, or 404 key_not_found. The key is
// the path segment percent-decoded (Fiber routes on the raw path, so
// %2F stays inside the segment); a segment that does not decode, or does
// not decode to a key, names no key.
func (a *API) deletePluginKey(c *fiber.Ctx) error {
	p, err := a.pluginOf(c)
	if err != nil {
		return err
	}
	key, err := url.PathUnescape(c.Params("key"))
	if err != nil {
		key = ""
	}
	// Copied: the parameter is Fiber's buffer, reused after the handler.
	key = strings.Clone(key)
	if err := a.svc.DeletePluginKey(c.UserContext(), web.Tenant(c).ID, p.Slug, key, actorOf(c)); err != nil {
		return fail(c, err, keyNotFound)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
