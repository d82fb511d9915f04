package web_test

import (
	"net/http"
	"testing"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
)

// TestRunFailureCoversEveryReason: every reason the sandbox and the runner
// give has its own entry (its own message key), temporary refusals carry a
// Retry-After, and an unknown reason is answered as unavailable.
func TestRunFailureCoversEveryReason(t *testing.T) {
	for _, r := range []string{sandbox.ReasonTimeout, sandbox.ReasonMemory, sandbox.ReasonTrap, sandbox.ReasonMalformed,
		sandbox.ReasonBusy, sandbox.ReasonPaused, sandbox.ReasonLoad, sandbox.ReasonHostCalls, sandbox.ReasonOverloaded, sandbox.ReasonUnavailable,
		runner.ReasonNotDeployed, runner.ReasonInvalidInput, runner.ReasonUnavailable} {
		f := web.RunFailure(r)
		if f.MsgID != "wasm.fail."+r || f.Status < 400 || f.Code == "" {
			t.Errorf("%s: %+v", r, f)
		}
	}
	if f := web.RunFailure("something new"); f.Code != "plugin_unavailable" {
		t.Errorf("unknown reason: %+v", f)
	}
	for _, r := range []string{sandbox.ReasonBusy, sandbox.ReasonOverloaded, sandbox.ReasonPaused, sandbox.ReasonUnavailable} {
		if f := web.RunFailure(r); f.RetryAfter == 0 || f.Status != http.StatusServiceUnavailable {
			t.Errorf("%s: %+v", r, f)
		}
	}
	if f := web.RunFailure(sandbox.ReasonOverloaded); f.Code != "plugin_overloaded" {
		t.Errorf("overloaded: %+v", f)
	}
	// A Problem is handed out per call: changing one changes no other.
	web.RunFailure(sandbox.ReasonBusy).RetryAfter = 99
	if web.RunFailure(sandbox.ReasonBusy).RetryAfter == 99 {
		t.Error("RunFailure hands out the table's own entry")
	}
}
