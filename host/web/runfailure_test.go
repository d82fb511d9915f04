package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
)

// runReasons are the reasons the sandbox and the runner give.
var runReasons = []string{sandbox.ReasonTimeout, sandbox.ReasonMemory, sandbox.ReasonTrap, sandbox.ReasonMalformed,
	sandbox.ReasonBusy, sandbox.ReasonPaused, sandbox.ReasonLoad, sandbox.ReasonHostCalls, sandbox.ReasonOverloaded, sandbox.ReasonUnavailable,
	runner.ReasonNotDeployed, runner.ReasonInvalidInput, runner.ReasonUnavailable}

// TestRunFailureCoversEveryReason: every reason the sandbox and the runner
// give has its own entry (its own message key), temporary refusals carry a
// Retry-After, and an unknown reason is answered as unavailable.
func TestRunFailureCoversEveryReason(t *testing.T) {
	for _, r := range runReasons {
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

// TestRunFailureWordsForCustomers: the messages customers read of a
// failed run (the portal's pages and the JSON API say RunFailure's) call
// the plugin a service, as the rest of the portal does, in every
// language; the admin's own keys (admin.wasm.fail.*, the gestor's plugin
// page) keep the word "plugin". So does the notice of a wasm plugin that
// cannot run on this portal.
func TestRunFailureWordsForCustomers(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range model.SupportedLocales {
		l := cat.Localizer(loc)
		for _, r := range runReasons {
			id := web.RunFailure(r).MsgID
			customer, gestor := l.T(id, "Title", "Financeiro"), l.T("admin."+id, "Title", "Financeiro")
			if strings.Contains(strings.ToLower(customer), "plugin") || !strings.Contains(customer, "Financeiro") {
				t.Errorf("%s %s: customers read %q", loc, id, customer)
			}
			if !strings.Contains(strings.ToLower(gestor), "plugin") || !strings.Contains(gestor, "Financeiro") {
				t.Errorf("%s admin.%s: gestores read %q", loc, id, gestor)
			}
		}
		if msg := l.T("plugin.wasm_unavailable", "Title", "Financeiro"); strings.Contains(strings.ToLower(msg), "plugin") {
			t.Errorf("%s plugin.wasm_unavailable: customers read %q", loc, msg)
		}
	}
}
