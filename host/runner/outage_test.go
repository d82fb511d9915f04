package runner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

// kvThenAnswer stands for a plugin that reads its KV through the host and
// answers a view whatever the read gave (as the demo plugins do: a failed
// read becomes a polite message).
type kvThenAnswer struct {
	svc sandbox.Services
	// cut, when set, takes the database away as the call starts (after
	// the runner prepared the call's input).
	cut func()
	// kvErr is what the host answered the KV read.
	kvErr error
}

func (e *kvThenAnswer) Call(ctx context.Context, p sandbox.Plugin, _ func(context.Context) ([]byte, error), _ *abi.Input) (*abi.Output, error) {
	if e.cut != nil {
		e.cut()
	}
	_, _, e.kvErr = e.svc.KVGet(ctx, p.TenantID, p.PluginID, "visits")
	return &abi.Output{View: &abi.View{Blocks: []abi.Block{{Type: "text", Text: "Contador indisponível no momento."}}}}, nil
}

// outageWorld is a PostgreSQL store behind a proxy that can cut it, with
// a tenant, its cliente and a wasm plugin ("ola").
func outageWorld(t *testing.T) (*storage.Store, *testdb.CutProxy, *model.Tenant, *model.User, *model.Plugin) {
	t.Helper()
	ctx := context.Background()
	st, proxy := testdb.OpenBehindProxy(t)
	tn := &model.Tenant{Slug: "alfa", Name: "Alfa"}
	testdb.Must(t, tn.Validate(false), "tenant")
	u := &model.User{Email: "ana@alfa.test", Name: "Ana", Roles: model.Roles{model.RoleCliente}, Active: true, PasswordHash: "x"}
	testdb.Must(t, u.Validate(), "user")
	testdb.Must(t, st.CreateTenantWith(ctx, tn, []*model.User{u}, nil, model.SystemActor("test")), "create tenant")
	p := &model.Plugin{Slug: "ola", Name: "Olá", Title: "Olá", Type: model.PluginWasm, Icon: "chat", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone, TimeoutMS: 1000}
	testdb.Must(t, p.Validate(model.PluginRules{IconExists: icon.Exists}), "validate plugin")
	testdb.Must(t, st.CreatePlugin(ctx, tn.ID, p, model.SystemActor("test")), "create plugin")
	return st, proxy, tn, u, p
}

// TestDatabaseLostDuringACall: when the database becomes unreachable
// while a plugin runs, the run fails as unavailable (503 at the edge, with
// Retry-After) instead of showing the plugin's half-working page.
func TestDatabaseLostDuringACall(t *testing.T) {
	ctx := context.Background()
	st, proxy, tn, u, p := outageWorld(t)
	p.ActiveVersion = "v1" // the fake engine loads nothing
	eng := &kvThenAnswer{svc: &runner.Services{Store: st}}
	run := runner.New(eng, st, runner.Options{Log: testdb.Logger(t)})
	call := runner.Call{Tenant: tn, User: u, Role: model.RoleCliente, Locale: "pt-BR", Plugin: p}

	// Reachable: the plugin's answer is shown.
	if res, err := run.Run(ctx, call); err != nil || res.View == nil {
		t.Fatalf("run with the database up: %+v, %v", res, err)
	}
	// The database goes away once the plugin is running: its KV read
	// fails and it answers politely, but the run is unavailable.
	eng.cut = proxy.Cut
	res, err := run.Run(ctx, call)
	if runner.ReasonOf(err) != runner.ReasonUnavailable || res != nil {
		t.Fatalf("run that lost the database = %+v, %v; want reason %q", res, err, runner.ReasonUnavailable)
	}
	if !errors.Is(eng.kvErr, sandbox.ErrServiceUnavailable) {
		t.Errorf("the KV read failed with %v; want it marked sandbox.ErrServiceUnavailable (logged as a warning)", eng.kvErr)
	}
}

// cutThenSandbox takes the database away as the call starts (after the
// runner prepared the call's input) and hands the call to the real
// sandbox, which must then load the module through the runner's loader.
type cutThenSandbox struct {
	*sandbox.Engine
	cut func()
}

func (e *cutThenSandbox) Call(ctx context.Context, p sandbox.Plugin, load func(context.Context) ([]byte, error), in *abi.Input) (*abi.Output, error) {
	e.cut()
	return e.Engine.Call(ctx, p, load, in)
}

// TestDatabaseLostWhileLoadingTheModule: a call that finds the module not
// compiled yet (a node just started, a new version) while the database is
// unreachable is the portal's outage, not the plugin's failure: the run is
// unavailable (503 with Retry-After at the edge, not 502 plugin_load), and
// however many such calls fail, the plugin's circuit breaker stays closed.
func TestDatabaseLostWhileLoadingTheModule(t *testing.T) {
	ctx := context.Background()
	st, proxy, tn, u, p := outageWorld(t)
	p.ActiveVersion = "v1" // never loaded: the database is gone by then
	eng, err := sandbox.New(ctx, sandbox.Options{BreakerThreshold: 2})
	testdb.Must(t, err, "sandbox")
	t.Cleanup(func() { _ = eng.Close(ctx) })
	run := runner.New(&cutThenSandbox{Engine: eng, cut: proxy.Cut}, st, runner.Options{Log: testdb.Logger(t)})
	call := runner.Call{Tenant: tn, User: u, Role: model.RoleCliente, Locale: "pt-BR", Plugin: p}
	for i := range 4 {
		res, err := run.Run(ctx, call)
		if runner.ReasonOf(err) != runner.ReasonUnavailable || res != nil {
			t.Fatalf("run %d, whose module load lost the database = %+v, %v; want reason %q", i+1, res, err, runner.ReasonUnavailable)
		}
		proxy.Restore()
	}
	if h := eng.Health(tn.ID, p.ID); h.Paused {
		t.Errorf("a database outage paused the plugin: %+v", h)
	}
}
