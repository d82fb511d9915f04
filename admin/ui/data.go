package ui

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
)

// The data page of a wasm plugin (/admin/plugins/{slug}/data): how much
// its key-value store holds against its limits, a warning near them, its
// keys page by page (names, sizes, times; never a value) with a delete
// button each, and a link to the confirmation that clears them all
// (/data/clear). Everything goes through the service the admin API
// calls (service.PluginData, DeletePluginKey, ClearPluginData).
//
// A key is any UTF-8 text a plugin chose: the page shows it escaped by
// html/template, and quoted with Go escapes when it holds characters that
// would not show (keyText); forms and links carry it as a token
// (service.KeyToken), which a browser cannot rewrite.

// dataPageSize is how many keys one page shows.
const dataPageSize = service.DefaultDataPage

// dataPage is the data of the data page.
type dataPage struct {
	Plugin *model.Plugin
	// Usage is "1.234 de 10.000 chaves · 2,3 MB de 16 MB".
	Usage      string
	Near, Full bool
	// Empty: the plugin stores nothing at all (not just nothing under
	// Prefix).
	Empty  bool
	Prefix string
	After  string // the page's cursor, which the delete forms come back to
	Rows   []dataRow
	// Escaped is set when a key on the page is shown quoted.
	Escaped           bool
	NextURL, FirstURL string
}

// dataRow is one key on the page.
type dataRow struct {
	Shown   string // the key as the page shows it (keyText)
	Escaped bool
	Token   string // service.KeyToken of the key, for its delete form
	Size    string
	Updated string
}

// dataURL is the data page of slug at the page after the cursor after,
// filtered by prefix.
func dataURL(slug, prefix, after string) string {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if after != "" {
		q.Set("after", after)
	}
	u := "/admin/plugins/" + slug + "/data"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (u *UI) showData(c *fiber.Ctx) error {
	q := service.DataQuery{Prefix: cut(c.Query("prefix")), After: cut(c.Query("after")), Limit: dataPageSize}
	return u.renderData(c, fiber.StatusOK, q, nil)
}

// renderData renders the page of q, with out's alert when a change
// failed. A prefix or cursor that cannot be used is said next to the
// filter, over the first page of every key.
func (u *UI) renderData(c *fiber.Ctx, status int, q service.DataQuery, out *outcome) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	ctx, tid := c.UserContext(), web.Tenant(c).ID
	typed := q.Prefix
	d, err := u.svc.PluginData(ctx, tid, slug, q)
	var param *service.ParamError
	if errors.As(err, &param) {
		if out, err = u.explain(c, err, "", "plugin_not_found"); err != nil {
			return err
		}
		status = out.status
		d, err = u.svc.PluginData(ctx, tid, slug, service.DataQuery{Limit: dataPageSize})
	}
	if err != nil {
		if f := admin.Classify(err, "plugin_not_found"); f != nil {
			return web.Fail(f.Status, f.Code)
		}
		return err
	}
	l := web.L(c)
	v := u.newView(c, "plugins", "data.title")
	use := d.Usage
	page := &dataPage{Plugin: d.Plugin, Near: use.Near(), Full: use.Full(), Empty: use.Keys == 0, Prefix: typed, After: q.After,
		Usage: l.T("data.usage", "Keys", l.Number(use.Keys), "MaxKeys", l.Number(use.MaxKeys),
			"Bytes", dataSize(l, use.Bytes), "MaxBytes", dataSize(l, use.MaxBytes))}
	if param != nil {
		page.After = ""
	}
	for _, k := range d.Keys {
		shown, escaped := keyText(k.Key)
		page.Escaped = page.Escaped || escaped
		page.Rows = append(page.Rows, dataRow{Shown: shown, Escaped: escaped, Token: service.KeyToken(k.Key),
			Size: l.T("data.bytes", "Count", k.Size, "N", l.Number(k.Size)), Updated: v.When(k.UpdatedAt)})
	}
	if d.Next != "" {
		page.NextURL = dataURL(d.Plugin.Slug, page.Prefix, d.Next)
	}
	if page.After != "" {
		page.FirstURL = dataURL(d.Plugin.Slug, page.Prefix, "")
	}
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(l, func(field string) string {
			if field == "prefix" {
				return "data.filter_label"
			}
			return ""
		})
	}
	v.Title = l.T("data.heading", "Title", d.Plugin.Title)
	v.D = page
	return u.render(c, status, "plugin_data", v)
}

// deleteDataKey deletes the key the form names (by its token) and comes
// back to the page it was on.
func (u *UI) deleteDataKey(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	q := service.DataQuery{Prefix: cut(c.FormValue("prefix")), After: cut(c.FormValue("after")), Limit: dataPageSize}
	key, _ := service.KeyFromToken(c.FormValue("key")) // "" names no key: not found
	err = u.svc.DeletePluginKey(c.UserContext(), web.Tenant(c).ID, slug, key, u.actor(c))
	switch {
	case err == nil:
		return redirect(c, dataURL(slug, q.Prefix, q.After), "data_deleted")
	case errors.Is(err, service.ErrPluginMissing), errors.Is(err, service.ErrNoData):
		_, err = u.explain(c, err, "", "plugin_not_found")
		return err
	case errors.Is(err, model.ErrNotFound):
		// Deleted meanwhile (a second click, another gestor): the page,
		// as it is now, says so.
		return u.renderData(c, fiber.StatusNotFound, q, &outcome{status: fiber.StatusNotFound,
			alert: web.L(c).T("error.key_not_found"), errs: &fieldErrors{}})
	}
	return err
}

// dataClearPage is the data of the confirmation that clears a plugin's
// store.
type dataClearPage struct {
	Plugin *model.Plugin
	Holds  string // "Hoje ele guarda 1.234 chaves (2,3 MB)."
	Back   string
}

func (u *UI) showClearData(c *fiber.Ctx) error {
	return u.renderClearData(c, fiber.StatusOK, nil)
}

func (u *UI) renderClearData(c *fiber.Ctx, status int, out *outcome) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	d, err := u.svc.PluginData(c.UserContext(), web.Tenant(c).ID, slug, service.DataQuery{Limit: 1})
	if err != nil {
		if f := admin.Classify(err, "plugin_not_found"); f != nil {
			return web.Fail(f.Status, f.Code)
		}
		return err
	}
	l := web.L(c)
	v := u.newView(c, "plugins", "data.clear.title")
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
	}
	v.Title = l.T("data.clear.heading", "Title", d.Plugin.Title)
	v.D = &dataClearPage{Plugin: d.Plugin, Back: dataURL(d.Plugin.Slug, "", ""),
		Holds: l.T("data.clear.holds", "Count", d.Usage.Keys, "N", l.Number(d.Usage.Keys), "Bytes", dataSize(l, d.Usage.Bytes))}
	return u.render(c, status, "plugin_data_clear", v)
}

// clearData clears the plugin's store once the form is confirmed.
func (u *UI) clearData(c *fiber.Ctx) error {
	slug, err := admin.SlugParam(c)
	if err != nil {
		return err
	}
	_, err = u.svc.ClearPluginData(c.UserContext(), web.Tenant(c).ID, slug, c.FormValue("confirm") != "", u.actor(c))
	if err != nil {
		out, err := u.explain(c, err, "", "plugin_not_found")
		if err != nil {
			return err
		}
		return u.renderClearData(c, out.status, out)
	}
	return redirect(c, dataURL(slug, "", ""), "data_cleared")
}

// dataSize is a store's size for people, as its limit is written: KB
// (rounded up) below a megabyte, MB with one decimal from there, whole
// megabytes without ("16 MB").
func dataSize(l *i18n.Localizer, n int64) string {
	const mb = 1 << 20
	switch {
	case n >= mb && n%mb == 0:
		return l.T("data.size_mb", "N", l.Number(n/mb))
	case n >= mb:
		return l.T("data.size_mb", "N", decimal(l, float64(n)/mb))
	}
	return l.T("data.size_kb", "N", l.Number((n+1023)/1024))
}

// keyText is a key as the page shows it: as it is when every character
// shows and it neither begins nor ends with a space; otherwise quoted,
// with what would not show written as a Go escape (\t, \n, \x01, \u202e),
// so that no key can hide characters, reorder the text around it (a
// bidirectional override) or pass for another key. escaped says which.
func keyText(key string) (shown string, escaped bool) {
	first, _ := utf8.DecodeRuneInString(key)
	last, _ := utf8.DecodeLastRuneInString(key)
	if unicode.IsSpace(first) || unicode.IsSpace(last) || strings.IndexFunc(key, hidden) >= 0 {
		return strconv.QuoteToGraphic(key), true
	}
	return key, false
}

// hidden reports whether r would not show as itself on a page: a control
// or format character (bidirectional marks included), or any other that
// is not graphic.
func hidden(r rune) bool {
	return !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r)
}
