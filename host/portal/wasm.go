package portal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	wasmview "github.com/portico-dev/portico/internal/view"
	"github.com/portico-dev/portico/sdk/abi"
)

// wasmPage is the data of pluginWasmPage: the page view plus the
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
	// Notice is an informative note above the view (e.g. that an action's
	// result is no longer available).
	Notice string
}

// wasmBlock is one checked block with what the page cannot compute: a
// page-unique id prefix, the drawn code, the download's data URL.
type wasmBlock struct {
	abi.Block
	Page *wasmPage
	ID   string
	// SVG is the drawn barcode or QR code: markup wasmview builds from
	// numbers only, so it is written as it is.
	SVG templ.Component
	// DataURL is the download's data: URL, built here from a checked
	// content type and base64; templ.SafeURL exempts it from the URL
	// sanitiser, which refuses every data: URL.
	DataURL templ.SafeURL
	SizeKB  int
	// Action is the form's default action (its first button's).
	Action string
	// Tag is a heading's HTML level (2 to 6): see headingTags.
	Tag int
	// Numeric marks a table's columns of amounts, right-aligned so that
	// their digits line up (see numericColumns).
	Numeric []bool
	// NamedBy is the id of the heading that names a table without a
	// label of its own (tableNames).
	NamedBy string
}

// numeric reports whether a table's column i holds amounts.
func (b wasmBlock) numeric(i int) bool { return i < len(b.Numeric) && b.Numeric[i] }

// tableName is the id of what names a table and its scrolling region: its
// caption (its label), or the heading it sits under; "" when nothing
// does. A table named by nothing is no region (a landmark needs a name of
// its own: named after the plugin, every table of a page was another
// "Financeiro" beside the view's own).
func (b wasmBlock) tableName() string {
	if b.Label != "" {
		return b.ID + "-caption"
	}
	return b.NamedBy
}

// showWasm renders a wasm plugin's page: it runs the plugin's render and
// shows the checked view, or a localized failure page. With ?r={id} it
// shows the stored outcome of a form action instead, without running
// anything (see submitWasmAction); an outcome that is gone (expired, of
// another session) falls back to the plugin's page with a notice.
func (p *Portal) showWasm(c *fiber.Ctx, v *view, plugin *model.Plugin) error {
	id := c.Query("r")
	if id != "" {
		if out, status, ok := p.loadOutcome(c, plugin, id); ok {
			return p.renderOutcome(c, v, plugin, status, out)
		}
	}
	status, out := p.runWasm(c, v, plugin, "", nil)
	if id != "" {
		out.Notice = "wasm.result_gone"
	}
	return p.renderOutcome(c, v, plugin, status, out)
}

// submitWasmAction answers POST /p/{slug}/actions/{action}: a button of a
// plugin's form. It runs the action with the submitted fields (the _csrf
// token removed: abi.RemovePageFields), stores the outcome for the
// session and redirects (303) to /p/{slug}?r={id}, which shows it:
// reloading that page, going back to it or bookmarking it never runs the
// action again — a second segunda via or a second payment. Only when the
// outcome cannot be stored is it rendered as the POST's answer.
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
		form[string(k)] = append(form[string(k)], string(val))
	})
	abi.RemovePageFields(form) // the _csrf token, checked by the middleware
	v := p.newView(c, "plugin.title")
	v.Title, v.Plugin, v.Back = plugin.TitleIn(v.L.Locale()), plugin, "/"
	if plugin.OpenAs(u, v.Role) == model.RoleGestor {
		v.Back = "/gestor"
	}
	status, out := p.runWasm(c, v, plugin, c.Params("action"), form)
	if s := web.Session(c); s != nil && out.Ran {
		body, err := json.Marshal(out)
		if err == nil {
			r := &model.ActionResult{TenantID: v.Tenant.ID, SessionID: s.ID, PluginID: plugin.ID, Status: status, Body: string(body)}
			if err = p.env.Store.SaveActionResult(c.UserContext(), r); err == nil {
				return c.Redirect("/p/"+plugin.Slug+"?r="+r.ID, fiber.StatusSeeOther)
			}
		}
		p.env.Log.Error("store action result", "tenant", v.Tenant.Slug, "plugin", plugin.Slug, "err", err)
	}
	return p.renderOutcome(c, v, plugin, status, out)
}

// redirectWasmAction answers GET /p/{slug}/actions/{action} (an action's
// address opened from a bookmark, a new tab or the history) with the
// plugin's page: an action runs only from its form's POST.
func (p *Portal) redirectWasmAction(c *fiber.Ctx) error {
	plugin, err := p.env.OpenablePlugin(c, c.Params("slug"))
	if err != nil {
		return err
	}
	return c.Redirect("/p/"+plugin.Slug, fiber.StatusSeeOther)
}

// outcome is what a render or an action produced, as the page shows it
// and as an action's result is stored (JSON): a checked view, the
// plugin's polite message, or a failure by its catalogue key (so a stored
// failure is shown in the reader's language of the moment).
type outcome struct {
	View       *abi.View `json:"view,omitempty"`
	Message    string    `json:"message,omitempty"`
	FailMsgID  string    `json:"fail_msg_id,omitempty"`
	RetryAfter int       `json:"retry_after,omitempty"`
	// Ran is whether the plugin was called (its action may have taken
	// effect), so the outcome must be shown again rather than re-run.
	Ran bool `json:"-"`
	// Notice is a catalogue key of a note above the view.
	Notice string `json:"-"`
}

// runWasm calls the plugin (its render, or action with form) and returns
// the page's status and outcome.
func (p *Portal) runWasm(c *fiber.Ctx, v *view, plugin *model.Plugin, action string, form map[string][]string) (int, outcome) {
	if p.runner == nil {
		return fiber.StatusServiceUnavailable, outcome{FailMsgID: "wasm.fail.unavailable"}
	}
	res, err := p.runner.Run(c.UserContext(), runner.Call{
		Tenant: v.Tenant, User: v.User, Role: plugin.OpenAs(v.User, v.Role), Locale: v.L.Locale(),
		Plugin: plugin, Action: action, Form: form, RequestID: c.GetRespHeader(fiber.HeaderXRequestID),
	})
	if err != nil {
		f := web.RunFailure(runner.ReasonOf(err))
		return f.Status, outcome{FailMsgID: f.MsgID, RetryAfter: f.RetryAfter, Ran: runner.Ran(err)}
	}
	if res.View == nil {
		return fiber.StatusOK, outcome{Message: res.Message, Ran: true}
	}
	return fiber.StatusOK, outcome{View: res.View, Ran: true}
}

// loadOutcome reads the stored outcome id of this session and plugin.
func (p *Portal) loadOutcome(c *fiber.Ctx, plugin *model.Plugin, id string) (outcome, int, bool) {
	s := web.Session(c)
	if s == nil || len(id) > 64 {
		return outcome{}, 0, false
	}
	r, err := p.env.Store.ActionResult(c.UserContext(), plugin.TenantID, s.ID, id)
	if err != nil || r.PluginID != plugin.ID {
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			p.env.Log.Error("load action result", "plugin", plugin.Slug, "err", err)
		}
		return outcome{}, 0, false
	}
	var out outcome
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		p.env.Log.Error("stored action result is unreadable", "plugin", plugin.Slug, "err", err)
		return outcome{}, 0, false
	}
	return out, r.Status, true
}

// renderOutcome renders the plugin's page with out.
func (p *Portal) renderOutcome(c *fiber.Ctx, v *view, plugin *model.Plugin, status int, out outcome) error {
	page := &wasmPage{view: v, Slug: plugin.Slug}
	if out.Notice != "" {
		page.Notice = v.L.T(out.Notice, "Minutes", int(model.ActionResultTTL/time.Minute))
	}
	switch {
	case out.FailMsgID != "":
		page.Failed = true
		page.Message = v.L.T(out.FailMsgID, "Title", plugin.TitleIn(v.L.Locale()))
		if out.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(out.RetryAfter))
		}
	case out.View == nil:
		page.Message = out.Message
	default:
		if err := page.setView(out.View); err != nil {
			return err
		}
	}
	v.ShowsError = page.Failed || page.Message != "" || slices.ContainsFunc(page.Blocks, func(b wasmBlock) bool {
		return b.Type == abi.BlockAlert && b.Tone == abi.ToneError // the plugin's own "fix this"
	})
	return p.renderWasm(c, status, page)
}

func (p *Portal) renderWasm(c *fiber.Ctx, status int, page *wasmPage) error {
	return renderPage(c, status, pluginWasmPage(page))
}

// setView fills the page's blocks from a checked view: ids, drawn codes,
// data URLs and default form actions.
func (page *wasmPage) setView(v *abi.View) error {
	// The page's heading is already the plugin's title (in the user's
	// language): a view title that only repeats it, or the plugin's title
	// in another language, is not shown again.
	if t := strings.TrimSpace(v.Title); !strings.EqualFold(t, strings.TrimSpace(page.Title)) && !strings.EqualFold(t, strings.TrimSpace(page.Plugin.Title)) {
		page.ViewTitle = v.Title
	}
	page.Blocks = make([]wasmBlock, len(v.Blocks))
	for i, b := range v.Blocks {
		wb := wasmBlock{Block: b, Page: page, ID: "b" + strconv.Itoa(i)}
		switch b.Type {
		case abi.BlockBarcode:
			svg, err := wasmview.BarcodeSVG(b.Value)
			if err != nil {
				return err
			}
			wb.SVG = templ.Raw(svg)
		case abi.BlockQR:
			svg, err := wasmview.QRSVG(b.Value)
			if err != nil {
				return err
			}
			wb.SVG = templ.Raw(svg)
		case abi.BlockDownload:
			// The content type is from wasmview.DownloadTypes and the data is
			// base64, so the URL is safe to mark as such. A data: link with a
			// download attribute saves the file without script and without
			// another request (CSP governs fetches, not downloads); top-level
			// navigation to data: URLs is blocked by browsers anyway.
			wb.DataURL = templ.SafeURL("data:" + b.ContentType + ";base64," + base64.StdEncoding.EncodeToString(b.Data))
			wb.SizeKB = (len(b.Data) + 1023) / 1024
		case abi.BlockForm:
			wb.Action = b.Buttons[0].Action
		case abi.BlockTable:
			wb.Numeric = numericColumns(len(b.Columns), b.Rows)
		}
		page.Blocks[i] = wb
	}
	headingTags(page.Blocks, page.ViewTitle != "")
	tableNames(page.Blocks)
	return nil
}

// tableNames names each table without a label by the heading it sits
// under (the finance plugin's contract), the first such table only: a
// second one under the same heading would repeat its name.
func tableNames(blocks []wasmBlock) {
	heading := ""
	for i, b := range blocks {
		switch {
		case b.Type == abi.BlockHeading:
			heading = b.ID
		case b.Type == abi.BlockTable && b.Label == "" && heading != "":
			blocks[i].NamedBy, heading = heading, ""
		}
	}
}

// headingTags gives the view's headings their HTML levels without a gap
// under the page's h1 (the plugin's title): the view's highest heading
// level becomes h2, or h3 under a view title of its own (an h2), and the
// others follow it, down to h6. A view whose headings start at level 2
// (the finance plugin's) would otherwise jump from h1 to h3.
func headingTags(blocks []wasmBlock, viewTitle bool) {
	top := 0
	for _, b := range blocks {
		if b.Type == abi.BlockHeading && (top == 0 || b.Level < top) {
			top = b.Level
		}
	}
	base := 2
	if viewTitle {
		base = 3
	}
	for i := range blocks {
		if blocks[i].Type == abi.BlockHeading {
			blocks[i].Tag = min(base+blocks[i].Level-top, 6)
		}
	}
}
