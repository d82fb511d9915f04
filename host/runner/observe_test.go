package runner_test

import (
	"context"
	"sync"
	"testing"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestObserveHearsEveryRun: Options.Observe is told of each run as it
// begins and, once, of its outcome as it ends: "ok", or the failure's
// reason, whether the run failed in the sandbox, in the view check, or
// before the plugin ran at all.
func TestObserveHearsEveryRun(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	var mu sync.Mutex
	var begun, ended []string
	run := runner.New(f.eng, f.st, runner.Options{Log: testdb.Logger(t), Observe: func(c runner.Call) func(string) {
		mu.Lock()
		begun = append(begun, c.Plugin.Slug)
		mu.Unlock()
		return func(outcome string) {
			mu.Lock()
			ended = append(ended, c.Plugin.Slug+":"+outcome)
			mu.Unlock()
		}
	}})
	p := f.plugin(t, f.a, "falho", model.MaxTimeoutMS, nil, nil)
	undeployed := &model.Plugin{Slug: "novo", Name: "novo", Title: "Novo", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone}
	testdb.Must(t, undeployed.Validate(model.PluginRules{IconExists: icon.Exists}), "validate")
	testdb.Must(t, f.st.CreatePlugin(ctx, f.a.ID, undeployed, model.SystemActor("test")), "create")

	tests := []struct {
		p      *model.Plugin
		action string
		want   string
	}{
		{p, "", "falho:" + runner.OutcomeOK},
		{p, "trap", "falho:" + sandbox.ReasonTrap},
		{p, "malformed", "falho:" + sandbox.ReasonMalformed},
		{p, "../x", "falho:" + runner.ReasonInvalidInput},
		{undeployed, "", "novo:" + runner.ReasonNotDeployed},
	}
	for i, tt := range tests {
		_, err := run.Run(ctx, runner.Call{Tenant: f.a, User: f.ua, Role: model.RoleCliente, Locale: "pt-BR", Plugin: tt.p, Action: tt.action})
		mu.Lock()
		if len(begun) != i+1 || len(ended) != i+1 || ended[i] != tt.want {
			t.Errorf("run %d (%q): begun %v, ended %v; want last %q (err %v)", i, tt.action, begun, ended, tt.want, err)
		}
		mu.Unlock()
		if got := runner.Outcome(err); "falho:"+got != tt.want && "novo:"+got != tt.want {
			t.Errorf("Outcome(%v) = %q, want %q", err, got, tt.want)
		}
	}
}
