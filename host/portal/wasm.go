package portal

import (
	"encoding/base64"
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	wasmview "github.com/portico-dev/portico/internal/view"
	"github.com/portico-dev/portico/sdk/abi"
)

// wasmPage is the data of plugin_wasm.html: the page view plus the
// plugin's checked blocks, or the message of a failure.
type wasmPage struct {
	*view
	Slug      string
	ViewTitle string
	Blocks    []wasmBlock
	// Message is an alert shown instead of blocks: the plugin's polite
	// error (Tone "error") or the host's failure message.
	Message string
	Failed  bool
}

// wasmBlock is one checked block with what the template cannot compute:
// a page-unique id prefix, the drawn code, the download's data URL.
type wasmBlock struct {
	abi.Block
	Page    *wasmPage
	ID      string
	SVG     template.HTML
	DataURL template.URL
	SizeKB  int
	// Action is the form's default action (its first button's).
	Action string
}

// showWasm renders a wasm plugin's page: it runs the plugin's render and
// shows the checked view, or a localized failure page.
func (p *Portal) showWasm(c *fiber.Ctx, v *view, plugin *model.Plugin) error {
	return p.runWasm(c, v, plugin, "", nil)
}

// submitWasmAction answers POST /p/{slug}/actions/{action}: a button of a
// plugin's form. It runs the action with the submitted fields (the _csrf
// token removed) and renders the resulting view.
func (p *Portal) submitWasmAction(c *fiber.Ctx) error {
	u := web.User(c)
	plugin, err := p.env.OpenablePlugin(c, c.Params("slug"))
	if err != nil {
		return err
	}
	if plugin.Type != model.PluginWasm {
		return web.Fail(fiber.StatusNotFound, "plugin_not_found")
	}
	form := map[string][]string{}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if key := string(k); key != "_csrf" {
			form[key] = append(form[key], string(val))
		}
	})
	v := p.newView(c, "plugin.title")
	v.Title, v.Plugin, v.Back = plugin.Title, plugin, "/"
	if plugin.OpenAs(u, v.Role) == model.RoleGestor {
		v.Back = "/gestor"
	}
	return p.runWasm(c, v, plugin, c.Params("action"), form)
}

func (p *Portal) runWasm(c *fiber.Ctx, v *view, plugin *model.Plugin, action string, form map[string][]string) error {
	page := &wasmPage{view: v, Slug: plugin.Slug}
	if p.env.Runner == nil {
		page.Failed = true
		page.Message = v.L.T("wasm.fail.unavailable", "Title", plugin.Title)
		return p.renderWasm(c, fiber.StatusServiceUnavailable, page)
	}
	res, err := p.env.Runner.Run(c.UserContext(), runner.Call{
		Tenant: v.Tenant, User: v.User, Role: plugin.OpenAs(v.User, v.Role), Locale: v.L.Locale(),
		Plugin: plugin, Action: action, Form: form, RequestID: c.GetRespHeader(fiber.HeaderXRequestID),
	})
	if err != nil {
		f := runner.FailureOf(err)
		page.Failed = true
		page.Message = v.L.T(f.MsgID, "Title", plugin.Title)
		if f.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(f.RetryAfter))
		}
		return p.renderWasm(c, f.Status, page)
	}
	if res.View == nil {
		page.Message = res.Message
		return p.renderWasm(c, fiber.StatusOK, page)
	}
	if err := page.setView(res.View); err != nil {
		return err
	}
	return p.renderWasm(c, fiber.StatusOK, page)
}

func (p *Portal) renderWasm(c *fiber.Ctx, status int, page *wasmPage) error {
	t, ok := p.pages["plugin_wasm"]
	if !ok {
		return p.render(c, status, "plugin", page.view)
	}
	return web.RenderHTML(c, status, t, "layout", page)
}

// setView fills the page's blocks from a checked view: ids, drawn codes,
// data URLs and default form actions.
func (page *wasmPage) setView(v *abi.View) error {
	page.ViewTitle = v.Title
	page.Blocks = make([]wasmBlock, len(v.Blocks))
	for i, b := range v.Blocks {
		wb := wasmBlock{Block: b, Page: page, ID: "b" + strconv.Itoa(i)}
		var err error
		switch b.Type {
		case abi.BlockBarcode:
			if wb.SVG, err = wasmview.BarcodeSVG(b.Value); err != nil {
				return err
			}
		case abi.BlockQR:
			if wb.SVG, err = wasmview.QRSVG(b.Value); err != nil {
				return err
			}
		case abi.BlockDownload:
			// The content type is from wasmview.DownloadTypes and the data is
			// base64, so the URL is safe to mark as such. A data: link with a
			// download attribute saves the file without script and without
			// another request (CSP governs fetches, not downloads); top-level
			// navigation to data: URLs is blocked by browsers anyway.
			wb.DataURL = template.URL("data:" + b.ContentType + ";base64," + base64.StdEncoding.EncodeToString(b.Data)) //nolint:gosec
			wb.SizeKB = (len(b.Data) + 1023) / 1024
		case abi.BlockForm:
			wb.Action = b.Buttons[0].Action
		}
		page.Blocks[i] = wb
	}
	return nil
}
