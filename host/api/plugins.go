package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/sdk/abi"
)

// pluginRef names the plugin a view belongs to.
type pluginRef struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// pluginViewResponse is the body of a successful render or action: the
// checked view, or the plugin's polite error message (shown as an alert).
type pluginViewResponse struct {
	Plugin  pluginRef `json:"plugin"`
	View    *abi.View `json:"view,omitempty"`
	Message string    `json:"message,omitempty"`
}

// actionRequest is the body of POST …/actions/{action}.
type actionRequest struct {
	Form map[string][]string `json:"form"`
}

// showPluginView answers GET /api/v1/me/plugins/{slug}/view: the wasm
// plugin's view as JSON blocks, for the companies' mobile apps.
func (h *Handler) showPluginView(c *fiber.Ctx) error {
	plugin, err := h.wasmPlugin(c)
	if err != nil {
		return err
	}
	return h.runPlugin(c, plugin, "", nil)
}

// runPluginAction answers POST /api/v1/me/plugins/{slug}/actions/{action}
// with a JSON body {"form": {"name": ["value"]}}; it returns the view the
// action produced.
func (h *Handler) runPluginAction(c *fiber.Ctx) error {
	plugin, err := h.wasmPlugin(c)
	if err != nil {
		return err
	}
	var req actionRequest
	if err := web.DecodeJSON(c, &req); err != nil {
		return err
	}
	return h.runPlugin(c, plugin, c.Params("action"), req.Form)
}

// wasmPlugin resolves the {slug} the user may open; one they may not open
// answers exactly like one that does not exist.
func (h *Handler) wasmPlugin(c *fiber.Ctx) (*model.Plugin, error) {
	plugin, err := h.env.OpenablePlugin(c, c.Params("slug"))
	if err != nil {
		return nil, err
	}
	if plugin.Type != model.PluginWasm {
		return nil, web.Fail(fiber.StatusConflict, "plugin_no_view")
	}
	return plugin, nil
}

func (h *Handler) runPlugin(c *fiber.Ctx, plugin *model.Plugin, action string, form map[string][]string) error {
	l, u := web.L(c), web.User(c)
	ref := pluginRef{Slug: plugin.Slug, Title: plugin.TitleIn(l.Locale())}
	var err error
	var resp pluginViewResponse
	if h.runner == nil {
		err = &runner.Error{Reason: runner.ReasonUnavailable, Detail: "no wasm runtime in this process"}
	} else {
		res, rerr := h.runner.Run(c.UserContext(), runner.Call{
			Tenant: web.Tenant(c), User: u, Role: plugin.OpenAs(u, web.ActiveRole(c)), Locale: l.Locale(),
			Plugin: plugin, Action: action, Form: form, RequestID: c.GetRespHeader(fiber.HeaderXRequestID),
		})
		err = rerr
		if err == nil {
			resp = pluginViewResponse{Plugin: ref, View: res.View, Message: res.Message}
		}
	}
	if err != nil {
		f := web.RunFailure(runner.ReasonOf(err))
		if f.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(f.RetryAfter))
		}
		return c.Status(f.Status).JSON(fiber.Map{
			"error":  web.APIError{Code: f.Code, Message: l.T(f.MsgID, "Title", plugin.TitleIn(l.Locale()))},
			"plugin": ref,
		})
	}
	return c.JSON(resp)
}
