package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/sdk/abi"
)

// multiWasm is the sandbox's test guest (host/sandbox/testdata/guests/multi),
// built from source once per run: it renders a table, echoes its input,
// runs arbitrary host requests, loops, and returns empty output on demand.
var multiWasm []byte

// cacheDir is the wazero compilation cache shared by the tests' engines
// and kept between runs, like Go's build cache (compiling a guest under
// -race takes tens of seconds), so a guest is compiled once, not once per
// plugin version. It is the directory host/server uses when DataDir is
// empty: the user's own cache, since it holds native code. Writes to it
// are atomic (temp file and rename).
var cacheDir = testguest.WazeroDir()

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if multiWasm, err = testguest.Build("../sandbox/testdata/guests/multi"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Warm the compilation cache outside any call's load deadline: a cold
	// compile under -race on a busy machine can take longer than it.
	eng, err := sandbox.New(context.Background(), sandbox.Options{CacheDir: cacheDir})
	if err == nil {
		_, err = eng.Check(context.Background(), multiWasm)
		_ = eng.Close(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "warm compilation cache:", err)
		return 1
	}
	return m.Run()
}

var actor = model.Actor{Type: "system", Label: "test"}

type fixture struct {
	st   *storage.Store
	box  *secret.Box
	run  *runner.Runner
	eng  *sandbox.Engine
	a, b *model.Tenant
	ua   *model.User // a cliente of a
	ub   *model.User // a cliente of b
}

func newFixture(t testing.TB, driver string) *fixture {
	t.Helper()
	ctx := context.Background()
	st := testdb.Open(t, driver)
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	testdb.Must(t, err, "box")
	eng, err := sandbox.New(ctx, sandbox.Options{CacheDir: cacheDir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Services: &runner.Services{Store: st, Box: box}, BreakerThreshold: 1000})
	testdb.Must(t, err, "engine")
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	f := &fixture{st: st, box: box, eng: eng, run: runner.New(eng, st, runner.Options{Log: testdb.Logger(t)})}
	for i, slug := range []string{"alfa", "beta"} {
		tn := &model.Tenant{Slug: slug, Name: slug}
		testdb.Must(t, tn.Validate(false), "tenant")
		u := &model.User{Email: "ana@" + slug + ".test", Name: "Ana " + slug, Document: "12345678909", Phone: "+5511999999999",
			Roles: model.Roles{model.RoleCliente}, Active: true, PasswordHash: "x"}
		testdb.Must(t, u.Validate(), "user")
		testdb.Must(t, st.CreateTenantWith(ctx, tn, []*model.User{u}, nil, model.SystemActor("test")), "create tenant")
		if i == 0 {
			f.a, f.ua = tn, u
		} else {
			f.b, f.ub = tn, u
		}
	}
	return f
}

// plugin registers a wasm plugin running the multi guest.
func (f *fixture) plugin(t testing.TB, tn *model.Tenant, slug string, timeoutMS int, grants, fields []string) *model.Plugin {
	t.Helper()
	ctx := context.Background()
	p := &model.Plugin{Slug: slug, Name: slug, Title: "T " + slug, Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone,
		TimeoutMS: timeoutMS, Grants: grants, UserFields: fields}
	testdb.Must(t, p.Validate(model.PluginRules{IconExists: icon.Exists}), "validate plugin")
	testdb.Must(t, f.st.CreatePlugin(ctx, tn.ID, p, model.SystemActor("test")), "create plugin")
	v := &model.PluginVersion{ABIVersion: abi.Version}
	testdb.Must(t, f.st.CreatePluginVersion(ctx, tn.ID, p.ID, v, multiWasm, actor), "upload")
	p, err := f.st.ActivatePluginVersion(ctx, tn.ID, p.ID, v.ID, actor)
	testdb.Must(t, err, "activate")
	return p
}

func (f *fixture) call(t *testing.T, tn *model.Tenant, u *model.User, p *model.Plugin, action string, form map[string][]string) (string, error) {
	t.Helper()
	res, err := f.run.Run(context.Background(), runner.Call{Tenant: tn, User: u, Role: model.RoleCliente, Locale: "es",
		Plugin: p, Action: action, Form: form, RequestID: "req-1"})
	if err != nil {
		return "", err
	}
	if res.View == nil {
		return res.Message, nil
	}
	if len(res.View.Blocks) == 0 {
		return "", nil
	}
	return res.View.Blocks[0].Text, nil
}

// host runs one host request through the guest and returns the response.
func (f *fixture) host(t *testing.T, tn *model.Tenant, u *model.User, p *model.Plugin, req abi.HostRequest) abi.HostResponse {
	t.Helper()
	b, _ := json.Marshal(req)
	text, err := f.call(t, tn, u, p, "host", map[string][]string{"req": {string(b)}})
	testdb.Must(t, err, "host call %s", req.Op)
	var resp abi.HostResponse
	if err := json.Unmarshal([]byte(text), &resp); err != nil {
		t.Fatalf("host response %q: %v", text, err)
	}
	return resp
}

func TestRunBuildsInput(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	granted := f.plugin(t, f.a, "granted", 5000, []string{model.GrantConfig}, []string{model.UserFieldName, model.UserFieldEmail})
	bare := f.plugin(t, f.a, "bare", 5000, nil, nil)
	testdb.Must(t, f.st.ReplacePluginConfig(ctx, f.a.ID, granted.Slug, granted.Version,
		[]model.ConfigValue{{Key: "greeting", Type: model.ConfigString, Value: "Oi"}}, actor), "config")
	testdb.Must(t, f.st.ReplacePluginConfig(ctx, f.a.ID, bare.Slug, bare.Version,
		[]model.ConfigValue{{Key: "greeting", Type: model.ConfigString, Value: "Oi"}}, actor), "config")
	granted, _ = f.st.PluginBySlug(ctx, f.a.ID, "granted")
	bare, _ = f.st.PluginBySlug(ctx, f.a.ID, "bare")
	sub, err := f.st.PluginSubject(ctx, f.a.ID, granted.ID, f.ua.ID)
	testdb.Must(t, err, "subject")

	echo := func(p *model.Plugin) abi.Input {
		text, err := f.call(t, f.a, f.ua, p, "echo", map[string][]string{"x": {"1", "2"}})
		testdb.Must(t, err, "echo %s", p.Slug)
		var in abi.Input
		if err := json.Unmarshal([]byte(text), &in); err != nil {
			t.Fatalf("echo %q: %v", text, err)
		}
		return in
	}
	in := echo(granted)
	if in.User.ID != sub || in.User.ID == f.ua.ID || in.User.Role != "cliente" || in.User.Locale != "es" || in.User.Tenant != "alfa" {
		t.Errorf("user = %+v (subject %s)", in.User, sub)
	}
	if in.User.Name != f.ua.Name || in.User.Email != f.ua.Email || in.User.Document != "" || in.User.Phone != "" {
		t.Errorf("granted profile fields = %+v", in.User)
	}
	if in.Config["greeting"] != "Oi" || in.Kind != abi.KindAction || in.Action != "echo" || len(in.Form["x"]) != 2 || in.RequestID != "req-1" {
		t.Errorf("input = %+v", in)
	}
	if in.Plugin.Slug != "granted" || in.Plugin.Title != "T granted" {
		t.Errorf("plugin = %+v", in.Plugin)
	}
	in = echo(bare)
	if in.User.Name != "" || in.User.Email != "" || in.Config != nil {
		t.Errorf("ungranted input carries data: %+v", in)
	}
	// The user id is pairwise (storage.PluginSubject): another plugin knows
	// the same user under another id.
	bareSub, err := f.st.PluginSubject(ctx, f.a.ID, bare.ID, f.ua.ID)
	testdb.Must(t, err, "subject")
	if in.User.ID != bareSub || in.User.ID == sub {
		t.Errorf("user id in another plugin = %q, want its own subject %q (not %q)", in.User.ID, bareSub, sub)
	}
}

func TestKVAndSecretsIsolationThroughHostFunctions(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, driver)
			ctx := context.Background()
			grants := []string{model.GrantKV, model.GrantSecrets}
			a1 := f.plugin(t, f.a, "um", 5000, grants, nil)
			a2 := f.plugin(t, f.a, "dois", 5000, grants, nil)
			b1 := f.plugin(t, f.b, "um", 5000, grants, nil)
			nokv := f.plugin(t, f.a, "semkv", 5000, nil, nil)

			for _, c := range []struct {
				tn *model.Tenant
				u  *model.User
				p  *model.Plugin
				v  string
			}{{f.a, f.ua, a1, "a1"}, {f.a, f.ua, a2, "a2"}, {f.b, f.ub, b1, "b1"}} {
				r := f.host(t, c.tn, c.u, c.p, abi.HostRequest{Op: abi.OpKVSet, Key: "shared", Value: []byte(c.v)})
				if r.Error != nil {
					t.Fatalf("kv.set %s: %v", c.v, r.Error)
				}
			}
			for _, c := range []struct {
				tn   *model.Tenant
				u    *model.User
				p    *model.Plugin
				want string
			}{{f.a, f.ua, a1, "a1"}, {f.a, f.ua, a2, "a2"}, {f.b, f.ub, b1, "b1"}} {
				r := f.host(t, c.tn, c.u, c.p, abi.HostRequest{Op: abi.OpKVGet, Key: "shared"})
				if r.Error != nil || !r.Found || string(r.Value) != c.want {
					t.Errorf("kv.get in %s/%s = %q found=%v err=%v, want %q", c.tn.Slug, c.p.Slug, r.Value, r.Found, r.Error, c.want)
				}
			}
			// The store agrees: rows are keyed by the plugin's own ID.
			if v, found, _ := f.st.KVGet(ctx, f.b.ID, a1.ID, "shared"); found {
				t.Errorf("tenant b sees a1's value %q", v)
			}
			// Without the grant the host refuses.
			r := f.host(t, f.a, f.ua, nokv, abi.HostRequest{Op: abi.OpKVGet, Key: "shared"})
			if r.Error == nil || r.Error.Code != abi.ErrGrantMissing {
				t.Errorf("kv without grant: %+v", r)
			}

			// Secrets: sealed for a1 only; a2 and b1 do not see it.
			sealed, err := f.box.Seal(f.a.ID, a1.ID, "token", []byte("s3cr3t"))
			testdb.Must(t, err, "seal")
			testdb.Must(t, f.st.PutSecret(ctx, f.a.ID, a1.ID, a1.Slug, "token", sealed, actor), "put secret")
			r = f.host(t, f.a, f.ua, a1, abi.HostRequest{Op: abi.OpSecretGet, Name: "token"})
			if r.Error != nil || string(r.Value) != "s3cr3t" {
				t.Errorf("secret in a1 = %q, %v", r.Value, r.Error)
			}
			for _, c := range []struct {
				tn *model.Tenant
				u  *model.User
				p  *model.Plugin
			}{{f.a, f.ua, a2}, {f.b, f.ub, b1}} {
				r := f.host(t, c.tn, c.u, c.p, abi.HostRequest{Op: abi.OpSecretGet, Name: "token"})
				if len(r.Value) != 0 || (r.Error == nil && r.Found) {
					t.Errorf("secret leaked to %s/%s: %+v", c.tn.Slug, c.p.Slug, r)
				}
			}
		})
	}
}

func TestKVQuotaMapsToSandboxError(t *testing.T) {
	f := newFixture(t, "sqlite")
	p := f.plugin(t, f.a, "cheio", 5000, []string{model.GrantKV}, nil)
	svc := &runner.Services{Store: f.st, Box: f.box}
	full := make([]byte, storage.KVMaxValue)
	var err error
	for i := 0; i <= storage.KVMaxBytes/storage.KVMaxValue && err == nil; i++ {
		err = svc.KVSet(context.Background(), f.a.ID, p.ID, fmt.Sprintf("k%02d", i), full)
	}
	if !errors.Is(err, sandbox.ErrKVQuota) {
		t.Fatalf("KVSet past the byte quota = %v, want sandbox.ErrKVQuota", err)
	}
	// Fill the rest exactly; then one more byte through the guest is refused.
	_, used, err := f.st.KVUsage(context.Background(), f.a.ID, p.ID)
	testdb.Must(t, err, "usage")
	testdb.Must(t, svc.KVSet(context.Background(), f.a.ID, p.ID, "rest", make([]byte, storage.KVMaxBytes-used-4)), "fill the rest")
	r := f.host(t, f.a, f.ua, p, abi.HostRequest{Op: abi.OpKVSet, Key: "one-more", Value: []byte("x")})
	if r.Error == nil || r.Error.Code != abi.ErrLimit {
		t.Fatalf("kv.set at quota through the guest: %+v", r)
	}
}

func TestRunFailures(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	// Instantiation counts against a call's time, which under -race on a
	// busy machine can take a few hundred milliseconds: only the looping
	// call gets a short limit.
	loop := f.plugin(t, f.a, "hostil", model.MinTimeoutMS*3, nil, nil)
	p := f.plugin(t, f.a, "falho", model.MaxTimeoutMS, nil, nil)
	undeployed := &model.Plugin{Slug: "novo", Name: "novo", Title: "Novo", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone}
	testdb.Must(t, undeployed.Validate(model.PluginRules{IconExists: icon.Exists}), "validate")
	testdb.Must(t, f.st.CreatePlugin(ctx, f.a.ID, undeployed, model.SystemActor("test")), "create")

	for _, tc := range []struct {
		name   string
		p      *model.Plugin
		action string
		form   map[string][]string
		reason string
		status int
	}{
		{"loop", loop, "loop", nil, sandbox.ReasonTimeout, http.StatusGatewayTimeout},
		{"trap", p, "trap", nil, sandbox.ReasonTrap, http.StatusBadGateway},
		{"unparseable output", p, "malformed", nil, sandbox.ReasonMalformed, http.StatusBadGateway},
		{"empty output", p, "empty", nil, sandbox.ReasonMalformed, http.StatusBadGateway},
		{"view over the text limit", p, "huge", map[string][]string{"bytes": {"5000"}}, sandbox.ReasonMalformed, http.StatusBadGateway},
		{"not deployed", undeployed, "", nil, runner.ReasonNotDeployed, http.StatusServiceUnavailable},
		{"unsafe action name", p, "../x", nil, runner.ReasonInvalidInput, http.StatusBadRequest},
		{"reserved form field", p, "echo", map[string][]string{"_csrf": {"x"}}, runner.ReasonInvalidInput, http.StatusBadRequest},
	} {
		_, err := f.call(t, f.a, f.ua, tc.p, tc.action, tc.form)
		var re *runner.Error
		if !errors.As(err, &re) || re.Reason != tc.reason {
			t.Errorf("%s: err = %v, want reason %s", tc.name, err, tc.reason)
			continue
		}
		if fl := web.RunFailure(runner.ReasonOf(err)); fl.Status != tc.status || !strings.HasPrefix(fl.MsgID, "wasm.fail.") {
			t.Errorf("%s: failure = %+v", tc.name, fl)
		}
	}
	// The gestor's health page counts every failure the customer saw as
	// an error of the plugin, the view the portal refused included, and
	// says why; input refused before the plugin ran is not its failure.
	h := f.eng.Health(f.a.ID, p.ID)
	if h.Calls != 4 || h.Errors != 4 || len(h.LastErrors) != 4 {
		t.Fatalf("health after a trap and three refused outputs: %+v", h)
	}
	if e := h.LastErrors[0]; e.Reason != sandbox.ReasonMalformed || !strings.Contains(e.Detail, "4000") {
		t.Errorf("the refused view's error in the health: %+v", e)
	}
	// After all that the plugin still renders, and a polite error is not a failure.
	if _, err := f.call(t, f.a, f.ua, p, "", nil); err != nil {
		t.Fatalf("render after failures: %v", err)
	}
	msg, err := f.call(t, f.a, f.ua, p, "nope", nil)
	if err != nil || msg != "unknown action nope" {
		t.Fatalf("polite error = %q, %v", msg, err)
	}
}

// BenchmarkRun measures one render through the runner on SQLite: input
// (opaque user id from the database), a pooled call of the hostile test
// guest's render (a heading, a key-value list and a 50-row table), and the
// view check.
func BenchmarkRun(b *testing.B) {
	f := newFixture(b, "sqlite")
	p := f.plugin(b, f.a, "bench", model.MaxTimeoutMS, nil, nil)
	call := runner.Call{Tenant: f.a, User: f.ua, Role: model.RoleCliente, Locale: "pt-BR", Plugin: p}
	if _, err := f.run.Run(context.Background(), call); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.run.Run(context.Background(), call); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestSandboxPluginCarriesPrivateNetwork: the gestor's private-network
// setting reaches the sandbox's description of the plugin, and only when
// it is on.
func TestSandboxPluginCarriesPrivateNetwork(t *testing.T) {
	for _, on := range []bool{false, true} {
		p := &model.Plugin{ID: "p1", TenantID: "t1", Slug: "erp", AllowedHosts: model.StringList{"http://10.0.0.5:8080"}, AllowPrivateNetwork: on}
		if got := runner.SandboxPlugin(p); got.AllowPrivateNetwork != on || len(got.AllowedHosts) != 1 {
			t.Errorf("setting %v: sandbox plugin %+v", on, got)
		}
	}
}

// TestSettingsCall: a settings call reaches the active version as the
// admin page's (a gestor without an ID, in the page's language), with the
// configuration but no host function whatever the plugin holds, within
// abi.SettingsTimeoutMS rather than the plugin's timeout, and outside the
// plugin's health figures; answers the host refuses are malformed, and a
// polite error means nothing is described.
func TestSettingsCall(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	p := f.plugin(t, f.a, "ajustes", 5000, []string{model.GrantHTTP, model.GrantKV, model.GrantSecrets, model.GrantConfig, model.GrantLog}, nil)
	configure := func(mode string) {
		t.Helper()
		cur, err := f.st.PluginBySlug(ctx, f.a.ID, p.Slug)
		testdb.Must(t, err, "load plugin")
		testdb.Must(t, f.st.ReplacePluginConfig(ctx, f.a.ID, p.Slug, cur.Version,
			[]model.ConfigValue{{Key: "settings", Type: model.ConfigString, Value: mode}}, actor), "configure")
		p = cur
	}
	describe := func(mode string) (*abi.Settings, error) {
		t.Helper()
		configure(mode)
		return f.run.Settings(ctx, f.a, "es", p, map[string]string{"settings": mode})
	}

	s, err := describe("")
	testdb.Must(t, err, "describe")
	if s == nil || len(s.Fields) != 1 || s.Fields[0].Help != "role=gestor id= locale=es" {
		t.Fatalf("settings = %+v, want one field asked for a gestor without an id, in es", s)
	}
	if s, err := describe("host"); err != nil || len(s.Problems) != 1 || s.Problems[0].Message != abi.ErrGrantMissing {
		t.Errorf("a KV read in a settings call: %+v, %v; want it refused with %s", s, err, abi.ErrGrantMissing)
	}
	for _, mode := range []string{"bad", "view"} {
		if _, err := describe(mode); runner.ReasonOf(err) != sandbox.ReasonMalformed {
			t.Errorf("%s: err %v, want %s", mode, err, sandbox.ReasonMalformed)
		}
	}
	if s, err := describe("error"); s != nil || err != nil {
		t.Errorf("a polite error: %+v, %v; want nothing described", s, err)
	}
	for range 3 {
		_, err := describe("loop")
		if runner.ReasonOf(err) != sandbox.ReasonTimeout || !strings.Contains(err.Error(), "within 1s") {
			t.Fatalf("loop: %v, want a timeout at abi.SettingsTimeoutMS (the plugin's own is 5 s)", err)
		}
	}
	if h := f.eng.Health(f.a.ID, p.ID); h.Calls != 0 || h.Errors != 0 || len(h.LastErrors) != 0 || h.Paused {
		t.Errorf("settings calls reached the plugin's health: %+v", h)
	}
	// The customers' calls still count.
	if _, err := f.call(t, f.a, f.ua, p, "", nil); err != nil {
		t.Fatal(err)
	}
	if h := f.eng.Health(f.a.ID, p.ID); h.Calls != 1 {
		t.Errorf("health counts %d calls after one render, want 1", h.Calls)
	}
}

// TestOnePersonCannotHoldAPlugin: one person's calls of a plugin beyond
// runner.PerPersonInFlight wait for one of theirs to end (then are
// answered busy), while another person of the same company is served at
// once.
func TestOnePersonCannotHoldAPlugin(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	p := f.plugin(t, f.a, "lento", 10000, nil, nil)
	other := &model.User{Email: "bia@alfa.test", Name: "Bia", Roles: model.Roles{model.RoleCliente}, Active: true, PasswordHash: "x"}
	testdb.Must(t, f.st.CreateUser(ctx, f.a.ID, other), "create user")
	var wg sync.WaitGroup
	defer wg.Wait()
	for range runner.PerPersonInFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.call(t, f.a, f.ua, p, "sleep", map[string][]string{"d": {"4s"}})
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); f.eng.InFlight(f.a.ID, p.ID) < runner.PerPersonInFlight; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in flight, want %d", f.eng.InFlight(f.a.ID, p.ID), runner.PerPersonInFlight)
		}
	}
	// The same person's next call waits (its queue wait, 1 s, is shorter
	// than the sleeps) and is answered busy without running.
	if _, err := f.call(t, f.a, f.ua, p, "render", nil); runner.ReasonOf(err) != sandbox.ReasonBusy {
		t.Fatalf("one call more by the same person: %v, want %s", err, sandbox.ReasonBusy)
	}
	if n := f.eng.InFlight(f.a.ID, p.ID); n != runner.PerPersonInFlight {
		t.Fatalf("%d calls in flight, want the person's %d", n, runner.PerPersonInFlight)
	}
	if _, err := f.call(t, f.a, other, p, "render", nil); err != nil {
		t.Fatalf("another person of the company: %v", err)
	}
}
