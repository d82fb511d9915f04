package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	portconfig "github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/view"
	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/viewtext"
)

// Exit codes of `portico plugin`.
const (
	exitOK          = 0
	exitFailed      = 1 // the module was refused or the call failed
	exitUsage       = 2
	exitPluginError = 3 // the plugin answered with an error for the user
)

// pluginMain runs `portico plugin check|run …`, the integrator's loop
// without a server: check verifies a module as an upload would, run calls it
// through the real runtime with an in-memory KV store and prints the view.
func pluginMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		pluginUsage(stderr)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "check":
		return pluginCheck(ctx, args[1:], stdout, stderr)
	case "run":
		return pluginRun(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		pluginUsage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "portico plugin: unknown command %q\n\n", args[0])
	pluginUsage(stderr)
	return exitUsage
}

func pluginUsage(w io.Writer) {
	fmt.Fprint(w, `usage:
  portico plugin check FILE.wasm [--json]
      verify a module as an upload does: exports, ABI version, imports, size
  portico plugin run FILE.wasm [flags]
      run one call through the real runtime and print the view

flags of run:
  --as ROLE             cliente (default), sindico or gestor
  --locale LANG         pt-BR (default), es or en
  --user ID             the opaque user ID (default local-user)
  --tenant SLUG         the tenant's slug (default construtora-exemplo)
  --name, --email, --document, --phone VALUE
                        granted profile fields (absent unless given)
  --config KEY=VALUE    configuration (repeatable)
  --secret NAME=VALUE   secrets (repeatable); a real one is better given as
  --secret-env NAME=VAR the value of environment variable VAR (repeatable): it
                        then stays out of the process list and the shell history
  --kv KEY=VALUE        preload the in-memory KV store (repeatable)
  --allow-host ORIGIN   allowed HTTP origin, e.g. https://erp.example.com (repeatable)
  --allow-private LIST  let the plugin reach these private addresses, e.g. 127.0.0.1 or
                        10.20.0.0/16 (comma-separated IPs or CIDRs, repeatable): what
                        PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS plus the plugin's "allow private
                        network" setting do on the server; without it private addresses
                        (a local ERP) are refused, as on the server by default
  --grants LIST         comma-separated grants (default all: http,kv,config,secrets,log)
  --action NAME         run an action instead of the render
  --card                run the home card handler instead of the render (checked as a card)
  --settings            describe the plugin's settings as the admin's plugin page does: its
                        keys and secrets in --locale, the required ones --config and --secret
                        leave unset, and the plugin's problems with --config
  --form KEY=VALUE      a form value of the action (repeatable)
  --timeout DURATION    per-call time limit (default 2s)
  --memory MB           memory limit (default 64)
  --allow-local-links   accept http:// links to localhost in views, as a portal started
                        with PORTICO_DEMO=true does (by default views are checked as a
                        production portal checks them)
  --json                print the checked output JSON instead of text

The call goes through the portal's own run path: the action and form are
checked before the plugin runs and its view after, with the --allow-host
origins as the plugin's allow-list, so what the portal would refuse is
refused here with the code the portal's API answers.

exit status: 0 a view, 1 module refused or call failed, 2 usage error,
3 the plugin answered with an error for the user
`)
}

// pairs is a repeatable KEY=VALUE flag.
type pairs struct {
	keys []string
	vals map[string][]string
}

func (p *pairs) String() string { return "" }

func (p *pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	if p.vals == nil {
		p.vals = map[string][]string{}
	}
	if _, seen := p.vals[k]; !seen {
		p.keys = append(p.keys, k)
	}
	p.vals[k] = append(p.vals[k], v)
	return nil
}

// last returns each key's last value.
func (p *pairs) last() map[string]string {
	m := make(map[string]string, len(p.vals))
	for k, v := range p.vals {
		m[k] = v[len(v)-1]
	}
	return m
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// parseInterleaved parses flags and positional arguments in any order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// readModule reads the one FILE argument.
func readModule(name string, pos []string, stderr io.Writer) ([]byte, string, int) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "portico plugin %s: want exactly one FILE.wasm, got %d arguments\n", name, len(pos))
		return nil, "", exitUsage
	}
	f, err := os.Open(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "portico plugin %s: %v\n", name, err)
		return nil, "", exitUsage
	}
	defer f.Close()
	// Read one byte over the limit so Check reports a too-large module
	// without the whole file in memory (tooLarge names its real size).
	wasm, err := io.ReadAll(io.LimitReader(f, sandbox.MaxModuleBytes+1))
	if err != nil {
		fmt.Fprintf(stderr, "portico plugin %s: read %s: %v\n", name, pos[0], err)
		return nil, "", exitFailed
	}
	return wasm, pos[0], exitOK
}

// tooLarge is err with the module's real size when Check refused a module
// it read only up to the limit (readModule): "has 16777217 bytes" would
// name the bytes read, not the file's.
func tooLarge(err error, file string) error {
	var me *sandbox.ModuleError
	if !errors.As(err, &me) || me.Code != "too_large" {
		return err
	}
	st, serr := os.Stat(file)
	if serr != nil || !st.Mode().IsRegular() {
		return err
	}
	return &sandbox.ModuleError{Code: me.Code, Detail: "the module has " + sizeText(int(st.Size()))}
}

// pluginCacheDir is where `portico plugin` keeps compiled modules between
// runs (compiling a Go guest takes seconds, loading it from the cache tens
// of milliseconds): $XDG_CACHE_HOME/portico/wasm or the platform's
// equivalent, or "" (memory only) when there is none.
func pluginCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "portico", "wasm")
}

func newPluginEngine(ctx context.Context, stderr io.Writer, svc sandbox.Services, private []netip.Prefix) (*sandbox.Engine, error) {
	// Engine warnings (a failed call) are printed by the command itself,
	// and so are the plugin's log lines (printLogs, from its Health): the
	// engine's copies of them are dropped.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	quiet := slog.New(slog.DiscardHandler)
	opts := sandbox.Options{Log: log, PluginLog: quiet, Services: svc, PrivateNetworks: private, CacheDir: pluginCacheDir()}
	e, err := sandbox.New(ctx, opts)
	if err != nil && opts.CacheDir != "" {
		// An unusable cache directory must not stop the command.
		opts.CacheDir = ""
		e, err = sandbox.New(ctx, opts)
	}
	return e, err
}

func moduleFailure(stderr io.Writer, file string, err error) int {
	err = tooLarge(err, file)
	var me *sandbox.ModuleError
	if errors.As(err, &me) {
		fmt.Fprintf(stderr, "%s: refused (%s): %s\n", file, me.Code, moduleHint(me))
		return exitFailed
	}
	fmt.Fprintf(stderr, "%s: %v\n", file, err)
	return exitFailed
}

// moduleHint explains a refused module to the person who built it.
func moduleHint(me *sandbox.ModuleError) string {
	switch me.Code {
	case "not_wasm":
		return "not a WebAssembly file; build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared"
	case "too_large":
		return fmt.Sprintf("%s; the limit is %d MiB", me.Detail, sandbox.MaxModuleBytes>>20)
	case "missing_export":
		return me.Detail + "; import github.com/portico-dev/portico/sdk and build with -buildmode=c-shared"
	case "abi_version":
		return fmt.Sprintf("the module speaks ABI version %d, this Portico speaks %d; rebuild with a matching SDK", me.Got, me.Want)
	case "bad_import":
		if strings.Contains(me.Detail, "gojs") {
			return me.Detail + "; this module was built for GOOS=js: build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared"
		}
	}
	return me.Detail
}

func pluginCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("portico plugin check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	wasm, file, code := readModule("check", pos, stderr)
	if code != exitOK {
		return code
	}
	e, err := newPluginEngine(ctx, stderr, nil, nil)
	if err != nil {
		fmt.Fprintf(stderr, "portico plugin check: %v\n", err)
		return exitFailed
	}
	defer e.Close(context.WithoutCancel(ctx))
	info, err := e.Check(ctx, wasm)
	if *asJSON {
		err = tooLarge(err, file)
		// The same answer on stdout either way: "ok", and the module's
		// facts or the refusal's code and message.
		out := struct {
			File string `json:"file"`
			OK   bool   `json:"ok"`
			*sandbox.Info
			Code    string `json:"code,omitempty"`
			Message string `json:"message,omitempty"`
		}{File: file, OK: err == nil, Info: info}
		var me *sandbox.ModuleError
		if errors.As(err, &me) {
			out.Code, out.Message = me.Code, moduleHint(me)
		} else if err != nil {
			return moduleFailure(stderr, file, err)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		if err != nil {
			return exitFailed
		}
		return exitOK
	}
	if err != nil {
		return moduleFailure(stderr, file, err)
	}
	fmt.Fprintf(stdout, "%s: OK\n", file)
	fmt.Fprintf(stdout, "  ABI version  %d\n", info.ABIVersion)
	fmt.Fprintf(stdout, "  size         %s (limit %d MiB)\n", sizeText(info.Size), sandbox.MaxModuleBytes>>20)
	fmt.Fprintf(stdout, "  sha256       %s\n", info.SHA256)
	fmt.Fprintf(stdout, "  exports      %s\n", strings.Join(info.Exports, ", "))
	fmt.Fprintf(stdout, "  imports      %s\n", strings.Join(info.Imports, ", "))
	return exitOK
}

func sizeText(n int) string {
	return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
}

func pluginRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("portico plugin run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { pluginUsage(stderr) }
	var (
		role     = fs.String("as", "cliente", "")
		locale   = fs.String("locale", "pt-BR", "")
		userID   = fs.String("user", "local-user", "")
		tenant   = fs.String("tenant", "construtora-exemplo", "")
		name     = fs.String("name", "", "")
		email    = fs.String("email", "", "")
		document = fs.String("document", "", "")
		phone    = fs.String("phone", "", "")
		grants   = fs.String("grants", strings.Join(allGrants, ","), "")
		action   = fs.String("action", "", "")
		card     = fs.Bool("card", false, "")
		describe = fs.Bool("settings", false, "")
		timeout  = fs.Duration("timeout", sandbox.DefaultTimeout, "")
		memory   = fs.Int("memory", sandbox.DefaultMemoryMB, "")
		asJSON   = fs.Bool("json", false, "")
		local    = fs.Bool("allow-local-links", false, "")
		config   pairs
		secrets  pairs
		fromEnv  pairs
		kv       pairs
		form     pairs
		hosts    list
		private  list
	)
	fs.Var(&config, "config", "")
	fs.Var(&secrets, "secret", "")
	fs.Var(&fromEnv, "secret-env", "")
	fs.Var(&kv, "kv", "")
	fs.Var(&form, "form", "")
	fs.Var(&hosts, "allow-host", "")
	fs.Var(&private, "allow-private", "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portico plugin run: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case !slices.Contains(abi.Roles, *role):
		return usage("--as %q: want one of %s", *role, strings.Join(abi.Roles, ", "))
	case !slices.Contains(abi.Locales, *locale):
		return usage("--locale %q: want one of %s", *locale, strings.Join(abi.Locales, ", "))
	case *timeout <= 0 || *timeout > sandbox.MaxTimeout:
		return usage("--timeout %s: want more than 0 and at most %s", *timeout, sandbox.MaxTimeout)
	case *memory <= 0 || *memory > sandbox.MaxMemoryMB:
		return usage("--memory %d: want 1 to %d (MiB)", *memory, sandbox.MaxMemoryMB)
	case *action == "" && len(form.keys) > 0:
		return usage("--form needs --action")
	case *card && *action != "":
		return usage("--card and --action exclude each other")
	case *describe && (*card || *action != ""):
		return usage("--settings excludes --card and --action")
	case strings.TrimSpace(*userID) == "" || strings.TrimSpace(*tenant) == "":
		return usage("--user and --tenant must not be empty")
	}
	var grantList []string
	for _, g := range strings.Split(*grants, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !slices.Contains(allGrants, g) {
			return usage("--grants: unknown grant %q (known: %s)", g, strings.Join(allGrants, ", "))
		}
		grantList = append(grantList, g)
	}
	var origins []string
	for _, h := range hosts {
		o, err := abi.NormalizeOrigin(h, true)
		if err != nil {
			return usage("--allow-host %q: want an origin such as https://erp.example.com or http://127.0.0.1:8081", h)
		}
		origins = append(origins, o)
	}
	var nets []netip.Prefix
	for _, v := range private {
		n, err := portconfig.ParsePrivateNetworks(v)
		if err != nil || len(n) == 0 {
			return usage("--allow-private %q: want IPs or CIDRs such as 127.0.0.1 or 10.20.0.0/16 (%v)", v, err)
		}
		nets = append(nets, n...)
	}
	wasm, file, code := readModule("run", pos, stderr)
	if code != exitOK {
		return code
	}

	secretValues := secrets.last()
	for name, variable := range fromEnv.last() {
		v, ok := os.LookupEnv(variable)
		if !ok {
			return usage("--secret-env %s=%s: the environment variable %s is not set", name, variable, variable)
		}
		secretValues[name] = v
	}
	svc := &memServices{kv: map[string][]byte{}, secrets: secretValues}
	for k, v := range kv.last() {
		svc.kv[k] = []byte(v)
	}
	e, err := newPluginEngine(ctx, stderr, svc, nets)
	if err != nil {
		fmt.Fprintf(stderr, "portico plugin run: %v\n", err)
		return exitFailed
	}
	defer e.Close(context.WithoutCancel(ctx))
	limits := sandbox.Limits{Timeout: *timeout, MemoryMB: *memory}
	if _, err := e.CheckUnder(ctx, wasm, limits); err != nil { // the limits the module runs with
		return moduleFailure(stderr, file, err)
	}
	slug := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	p := sandbox.Plugin{
		TenantID: "local", PluginID: "local", Slug: slug, Title: slug, VersionID: "local",
		Limits:       limits,
		Grants:       grantList,
		AllowedHosts: origins,
		// The plugin's setting is on exactly when the integrator gave the
		// operator's list, so one flag answers as the portal would.
		AllowPrivateNetwork: len(nets) > 0,
	}
	in := &abi.Input{
		Kind: abi.KindRender,
		User: abi.User{ID: *userID, Role: *role, Locale: *locale, Tenant: *tenant,
			Name: *name, Email: *email, Document: *document, Phone: *phone},
		Plugin:    abi.PluginInfo{Slug: slug, Title: slug},
		RequestID: "cli",
	}
	if slices.Contains(grantList, sandbox.GrantConfig) && len(config.keys) > 0 {
		in.Config = config.last()
	}
	if *describe {
		return describeSettings(ctx, e, p, wasm, file, in, secretValues, *asJSON, stdout, stderr)
	}
	// The portal's own run path: the same checks of the action and form
	// before the call and of the view after it, so what the portal refuses
	// is refused here with the same code.
	start := time.Now()
	res, err := runner.Exec(ctx, e, runner.Job{
		Plugin: p,
		Load:   func(context.Context) ([]byte, error) { return wasm, nil },
		Input:  in,
		Action: *action,
		Form:   form.vals,
		Card:   *card,
		Policy: view.Policy{AllowedHosts: origins, AllowInsecureLocal: *local},
	})
	elapsed := time.Since(start)
	printLogs(stderr, e.Health(p.TenantID, p.PluginID).Logs)
	if err != nil {
		var re *runner.Error
		errors.As(err, &re)
		fmt.Fprintf(stderr, "%s: the call failed (%s): %s (the portal answers %s)\n", file, re.Reason,
			callHint(re, *timeout, *memory), web.RunFailure(re.Reason).Code)
		return exitFailed
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(abi.Output{View: res.View, Error: res.Message})
	} else if res.View != nil {
		fmt.Fprint(stdout, viewtext.Format(res.View))
	}
	fmt.Fprintf(stderr, "(%s in %s)\n", *role, elapsed.Round(time.Millisecond))
	if res.View == nil {
		if !*asJSON {
			fmt.Fprintf(stdout, "error shown to the user: %s\n", res.Message)
		}
		return exitPluginError
	}
	return exitOK
}

// describeSettings runs a settings call through runner.Describe, the
// admin page's path, and prints the declared fields, the required ones
// not set (abi.Missing, as the admin reports them) and the plugin's
// problems.
func describeSettings(ctx context.Context, e *sandbox.Engine, p sandbox.Plugin, wasm []byte, file string, in *abi.Input, secrets map[string]string, asJSON bool, stdout, stderr io.Writer) int {
	in.User.ID, in.User.Name, in.User.Email, in.User.Document, in.User.Phone = "", "", "", "", ""
	s, msg, err := runner.Describe(ctx, e, p, func(context.Context) ([]byte, error) { return wasm, nil }, in)
	printLogs(stderr, e.Health(p.TenantID, p.PluginID).Logs)
	if err != nil {
		var re *runner.Error
		errors.As(err, &re)
		fmt.Fprintf(stderr, "%s: the settings call failed (%s): %s\n", file, re.Reason, re.Detail)
		return exitFailed
	}
	if s == nil {
		fmt.Fprintf(stderr, "%s describes no settings (the plugin answered: %s)\n", file, msg)
		return exitPluginError
	}
	set := make(map[string]bool, len(secrets))
	for name := range secrets {
		set[name] = true
	}
	var missing []string
	for _, f := range abi.Missing(s, in.Config, set) {
		missing = append(missing, f.Key)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Fields   []abi.Setting `json:"fields"`
			Missing  []string      `json:"missing"`
			Problems []abi.Problem `json:"problems"`
		}{s.Fields, append([]string{}, missing...), append([]abi.Problem{}, s.Problems...)})
		return exitOK
	}
	for _, f := range s.Fields {
		req := ""
		if f.Required {
			req = ", required"
		}
		if f.Default != "" {
			req += ", default " + f.Default
		}
		fmt.Fprintf(stdout, "%s (%s%s): %s\n", f.Key, f.Type, req, f.Label)
		if f.Help != "" {
			fmt.Fprintf(stdout, "    %s\n", f.Help)
		}
	}
	if len(s.Fields) == 0 {
		fmt.Fprintln(stdout, "no settings declared")
	}
	for _, k := range missing {
		fmt.Fprintf(stdout, "missing: %s is required and not set\n", k)
	}
	for _, pr := range s.Problems {
		key := pr.Key
		if key == "" {
			key = "(configuration)"
		}
		fmt.Fprintf(stdout, "problem: %s: %s\n", key, pr.Message)
	}
	return exitOK
}

var allGrants = []string{sandbox.GrantHTTP, sandbox.GrantKV, sandbox.GrantConfig, sandbox.GrantSecrets, sandbox.GrantLog}

func callHint(ce *runner.Error, timeout time.Duration, memory int) string {
	switch ce.Reason {
	case sandbox.ReasonTimeout:
		return fmt.Sprintf("did not finish within %s (--timeout); %s", timeout, ce.Detail)
	case sandbox.ReasonMemory:
		return fmt.Sprintf("went over %d MiB of memory (--memory); %s", memory, ce.Detail)
	case sandbox.ReasonTrap:
		return "the module crashed (a panic, a stack overflow or an exit): " + ce.Detail
	case sandbox.ReasonMalformed:
		return "the module's output is not a view the portal shows: " + ce.Detail
	case runner.ReasonInvalidInput:
		return "the portal refuses this action or form before the plugin runs: " + ce.Detail
	case sandbox.ReasonHostCalls:
		return "too many host calls in one call: " + ce.Detail
	}
	return ce.Detail
}

// printLogs prints the plugin's log lines (newest first in Health) oldest
// first.
func printLogs(w io.Writer, logs []sandbox.LogEntry) {
	for i := len(logs) - 1; i >= 0; i-- {
		l := logs[i]
		fmt.Fprintf(w, "plugin log %s: %s", l.Level, l.Message)
		keys := make([]string, 0, len(l.Attrs))
		for k := range l.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%q", k, l.Attrs[k])
		}
		fmt.Fprintln(w)
	}
}

// memServices keeps the KV store and secrets of one `plugin run` in memory,
// with the same quota as the server's store.
type memServices struct {
	mu      sync.Mutex
	kv      map[string][]byte
	secrets map[string]string
}

func (m *memServices) KVGet(_ context.Context, _, _, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.kv[key]
	return v, ok, nil
}

func (m *memServices) KVSet(_ context.Context, _, _, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set(key, value)
}

func (m *memServices) KVUpdate(_ context.Context, _, _, key string, change func([]byte, bool) ([]byte, bool, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, found := m.kv[key]
	v, write, err := change(old, found)
	if err != nil || !write {
		return err
	}
	return m.set(key, v)
}

// set stores value under key within the quota; m.mu is held.
func (m *memServices) set(key string, value []byte) error {
	_, exists := m.kv[key]
	total := 0
	for k, v := range m.kv {
		if k != key {
			total += len(k) + len(v)
		}
	}
	if (!exists && len(m.kv) >= sandbox.MaxKVKeys) || total+len(key)+len(value) > sandbox.MaxKVBytes {
		return sandbox.ErrKVQuota
	}
	m.kv[key] = slices.Clone(value)
	return nil
}

func (m *memServices) KVDelete(_ context.Context, _, _, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.kv, key)
	return nil
}

func (m *memServices) Secret(_ context.Context, _, _, name string) (string, bool, error) {
	v, ok := m.secrets[name]
	return v, ok, nil
}
