package runner

import (
	"net/http"

	"github.com/portico-dev/portico/host/sandbox"
)

// Failure is how a failed run is shown: the HTTP status, the API error
// code, the catalogue key of the message (which takes the plugin's title as
// {{.Title}}) and, for temporary refusals, a Retry-After in seconds.
type Failure struct {
	Status     int
	Code       string
	MsgID      string
	RetryAfter int
}

// failures maps each reason to its presentation. A reason not listed
// (a future sandbox reason) shows as ReasonUnavailable.
var failures = map[string]Failure{
	sandbox.ReasonTimeout:   {http.StatusGatewayTimeout, "plugin_timeout", "wasm.fail.timeout", 0},
	sandbox.ReasonMemory:    {http.StatusBadGateway, "plugin_memory", "wasm.fail.memory", 0},
	sandbox.ReasonTrap:      {http.StatusBadGateway, "plugin_crashed", "wasm.fail.trap", 0},
	sandbox.ReasonMalformed: {http.StatusBadGateway, "plugin_malformed", "wasm.fail.malformed", 0},
	sandbox.ReasonBusy:      {http.StatusServiceUnavailable, "plugin_busy", "wasm.fail.busy", 2},
	sandbox.ReasonPaused:    {http.StatusServiceUnavailable, "plugin_paused", "wasm.fail.paused", 30},
	// The process's budgets are spent (all tenants' plugins together).
	sandbox.ReasonOverloaded: {http.StatusServiceUnavailable, "plugin_overloaded", "wasm.fail.overloaded", 5},
	sandbox.ReasonLoad:       {http.StatusBadGateway, "plugin_load", "wasm.fail.load", 0},
	sandbox.ReasonHostCalls:  {http.StatusBadGateway, "plugin_host_calls", "wasm.fail.host_calls", 0},
	ReasonNotDeployed:        {http.StatusServiceUnavailable, "plugin_not_deployed", "wasm.fail.not_deployed", 0},
	ReasonInvalidInput:       {http.StatusBadRequest, "plugin_invalid_input", "wasm.fail.invalid_input", 0},
	ReasonUnavailable:        {http.StatusServiceUnavailable, "plugin_unavailable", "wasm.fail.unavailable", 5},
}

// FailureOf returns how err, a failed Run, is shown.
func FailureOf(err error) Failure {
	if f, ok := failures[ReasonOf(err)]; ok {
		return f
	}
	return failures[ReasonUnavailable]
}
