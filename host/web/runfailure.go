package web

import "github.com/gofiber/fiber/v2"

// RunFailure is how a failed wasm plugin run is answered, by the runner's
// reason for it (runner.ReasonOf): the HTTP status, the API error code,
// the catalogue key of the message (which takes the plugin's title as
// {{.Title}}) and, for temporary refusals, a Retry-After in seconds. The
// portal's pages, the JSON API and `portico plugin run` (which prints the
// code the API would answer) all read this one table; the runner and the
// sandbox know no HTTP. A reason not listed (a future one) is answered as
// "unavailable".
func RunFailure(reason string) *Problem {
	f, ok := runFailures[reason]
	if !ok {
		f = runFailures["unavailable"]
	}
	return &f
}

// runFailures is keyed by the reasons of host/sandbox (timeout … overloaded)
// and host/runner (not_deployed, invalid_input, unavailable); a test in
// this package's external tests checks that each has an entry.
var runFailures = map[string]Problem{
	"timeout":   {Status: fiber.StatusGatewayTimeout, Code: "plugin_timeout", MsgID: "wasm.fail.timeout"},
	"memory":    {Status: fiber.StatusBadGateway, Code: "plugin_memory", MsgID: "wasm.fail.memory"},
	"trap":      {Status: fiber.StatusBadGateway, Code: "plugin_crashed", MsgID: "wasm.fail.trap"},
	"malformed": {Status: fiber.StatusBadGateway, Code: "plugin_malformed", MsgID: "wasm.fail.malformed"},
	"busy":      {Status: fiber.StatusServiceUnavailable, Code: "plugin_busy", MsgID: "wasm.fail.busy", RetryAfter: 2},
	"paused":    {Status: fiber.StatusServiceUnavailable, Code: "plugin_paused", MsgID: "wasm.fail.paused", RetryAfter: 30},
	// The process's budgets are spent (all tenants' plugins together).
	"overloaded":    {Status: fiber.StatusServiceUnavailable, Code: "plugin_overloaded", MsgID: "wasm.fail.overloaded", RetryAfter: 5},
	"load":          {Status: fiber.StatusBadGateway, Code: "plugin_load", MsgID: "wasm.fail.load"},
	"host_calls":    {Status: fiber.StatusBadGateway, Code: "plugin_host_calls", MsgID: "wasm.fail.host_calls"},
	"not_deployed":  {Status: fiber.StatusServiceUnavailable, Code: "plugin_not_deployed", MsgID: "wasm.fail.not_deployed"},
	"invalid_input": {Status: fiber.StatusBadRequest, Code: "plugin_invalid_input", MsgID: "wasm.fail.invalid_input"},
	"unavailable":   {Status: fiber.StatusServiceUnavailable, Code: "plugin_unavailable", MsgID: "wasm.fail.unavailable", RetryAfter: 5},
}
