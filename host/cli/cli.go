// Package cli implements the portico command's subcommands, one file
// each: serve (the default) and migrate (cli.go), version, apikey create
// (apikey.go, through the admin service, without the HTTP edge), keys
// (keys.go: launch-token signing keys), plugin (plugin.go: check and
// run a wasm module locally), migrate-db (migratedb.go: SQLite to
// PostgreSQL) and backup (backup.go: SQLite online backup).
// host/cmd/portico's main only calls Main.
//
//	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

// Version is set at build time with -ldflags "-X …/cli.Version=…".
var Version = "dev"

type command struct {
	name, summary string
	// check, when set, refuses a configuration the command cannot run
	// with, before it touches the data directory or the database (exit 2,
	// like a malformed variable).
	check func(cfg *config.Config) error
	run   func(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error
}

var commands = []command{
	{"serve", "run the portal (default)", checkServe, serve},
	{"migrate", "apply pending database migrations and exit", nil, migrate},
}

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 {
		name = args[0]
	}
	switch name {
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	case "version", "--version":
		fmt.Fprintln(stdout, "portico", Version)
		return 0
	case "apikey":
		return apikeyMain(args[1:], stdout, stderr)
	case "keys":
		return keysMain(args[1:], stdout, stderr)
	case "plugin":
		return pluginMain(args[1:], stdout, stderr)
	case "migrate-db":
		return migrateDBMain(args[1:], stdout, stderr)
	case "backup":
		return backupMain(args[1:], stdout, stderr)
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == name {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "portico: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	cfg, err := config.Load(nil)
	if err == nil && cmd.check != nil {
		err = cmd.check(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return 2
	}
	log := NewLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop (serve drains); a second one
	// gets the default behaviour: the process ends at once.
	context.AfterFunc(ctx, stop)
	if err := cmd.run(ctx, cfg, log, stdout); err != nil {
		log.Error(cmd.name+" failed", "err", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: portico [command]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "apikey", "create an API key: apikey create --tenant SLUG --name NAME --scopes admin,portal_sessions")
	fmt.Fprintf(w, "  %-8s %s\n", "keys", "launch-token signing keys: keys rotate --tenant SLUG | keys list --tenant SLUG")
	fmt.Fprintf(w, "  %-8s %s\n", "plugin", "check or run a wasm module locally: plugin check FILE.wasm | plugin run FILE.wasm [flags]")
	fmt.Fprintf(w, "  %-8s %s\n", "migrate-db", "move the installation from SQLite to PostgreSQL: migrate-db --from sqlite://PATH --to postgres://…")
	fmt.Fprintf(w, "  %-8s %s\n", "backup", "online backup of the SQLite database: backup --to FILE (PostgreSQL: pg_dump; docs/operations.md)")
	fmt.Fprintf(w, "  %-8s %s\n", "version", "print the version")
	fmt.Fprintln(w, "\nconfiguration comes from PORTICO_* environment variables; see README.md")
}

// NewLogger returns the process logger in the configured format.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*storage.Store, error) {
	if strings.HasPrefix(cfg.DatabaseURL, "sqlite://") {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	return storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: log})
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger, _ io.Writer) error {
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Migrate(ctx)
}

// checkServe refuses to serve without PORTICO_SECRET_KEY outside the
// demo, before a database is created or migrated for nothing.
func checkServe(cfg *config.Config) error {
	if cfg.SecretKey == nil && !cfg.Demo {
		return errors.New("PORTICO_SECRET_KEY is required: 32 random bytes, base64 (openssl rand -base64 32); only the demo generates one")
	}
	return nil
}

// serve migrates the database, seeds the demo when asked, and runs the HTTP
// server (and the metrics listener, when configured) until SIGINT or
// SIGTERM; then it drains (/readyz answers 503 for PORTICO_DRAIN_DELAY),
// shuts down within server.ShutdownGrace and returns (exit 0).
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if cfg.SecretKey == nil {
		if err := checkServe(cfg); err != nil { // Main checked; a caller that did not is refused too
			return err
		}
		key, err := secret.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "secret.key"))
		if err != nil {
			return err
		}
		cfg.SecretKey = key
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (PORTICO_ADDR): %w", cfg.Addr, err)
	}
	baseURL := "http://" + displayAddr(ln.Addr().String())
	if cfg.Demo {
		seeded, err := demo.Seed(ctx, store, baseURL)
		if err != nil {
			_ = ln.Close()
			return err
		}
		if seeded {
			log.Info("demo tenant seeded", "tenant", demo.TenantSlug)
		}
		// The example app `make run` starts reads its client credentials
		// from this file (see plugins/exampleapp).
		credFile := filepath.Join(cfg.DataDir, demo.ExampleAppCredentialsFile)
		if err := demo.EnsureExampleApp(ctx, store, baseURL, demo.ExampleAppURL, credFile); err != nil {
			_ = ln.Close()
			return err
		}
		// And the loyalty app (plugins/loyalty), "Pontos", likewise.
		loyaltyCreds := filepath.Join(cfg.DataDir, demo.LoyaltyAppCredentialsFile)
		if err := demo.EnsureLoyaltyApp(ctx, store, baseURL, demo.LoyaltyAppURL, loyaltyCreds); err != nil {
			_ = ln.Close()
			return err
		}
	}
	srv, err := server.New(cfg, store, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	// Every published wasm version is prepared in the background while
	// /readyz says "warming up"; the demo installs its wasm plugins first,
	// in that same background work, so the portal listens at once (their
	// check compiles them) and they appear in the menu when ready.
	var first []func(context.Context)
	if cfg.Demo {
		first = append(first, func(ctx context.Context) { installDemoPlugins(ctx, srv, store, log) })
	}
	stopMetrics, err := startMetrics(ctx, cfg, srv, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer stopMetrics()
	srv.StartPreload(ctx, first...)
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		server.SweepSessions(sweepCtx, store, log, 10*time.Minute)
	}()
	defer func() { // before the store closes (deferred earlier)
		stopSweep()
		<-swept
	}()
	log.Info("portico listening", "addr", ln.Addr().String(), "url", baseURL, "database", store.Driver(), "demo", cfg.Demo, "version", Version)
	if cfg.Demo {
		printDemo(stdout, baseURL)
	}
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("portico stopped")
	return nil
}

// startMetrics opens the separate metrics listener when PORTICO_METRICS_ADDR
// is set and serves it until the returned stop is called: after Serve has
// drained and returned, so that scrapes during the drain still answer.
func startMetrics(ctx context.Context, cfg *config.Config, srv *server.Server, log *slog.Logger) (stop func(), err error) {
	if cfg.MetricsAddr == "" {
		if cfg.MetricsToken != "" {
			log.Info("metrics served on the main address", "path", server.MetricsPath, "auth", "bearer token")
		}
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (PORTICO_METRICS_ADDR): %w", cfg.MetricsAddr, err)
	}
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", server.MetricsPath, "token_required", cfg.MetricsToken != "")
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.ServeMetrics(mctx, ln); err != nil {
			log.Error("metrics listener failed", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// Where `make plugins` puts the demo's wasm plugins, relative to the
// directory `make run` starts in.
const (
	demoHelloModule      = "bin/plugins/hello.wasm"
	demoFinanceiroModule = "bin/plugins/financeiro.wasm"
)

// installDemoPlugins gives the demo tenant its wasm plugins, checked by the
// running sandbox: hello, and the finance plugin against the fake ERP
// `make run` starts (demo.ERPAPIURL). A missing module file is not fatal:
// the plugin then shows its "not published yet" page until a gestor
// uploads one.
func installDemoPlugins(ctx context.Context, srv *server.Server, store *storage.Store, log *slog.Logger) {
	check := srv.Sandbox.CheckABI
	installed, err := demo.InstallHello(ctx, store, demoHelloModule, check)
	switch {
	case err != nil:
		log.Warn("demo hello plugin not installed (run make plugins)", "module", demoHelloModule, "err", err)
	case installed:
		log.Info("demo hello plugin installed", "module", demoHelloModule)
	}
	installed, err = demo.InstallFinanceiro(ctx, store, demo.Finance{Module: demoFinanceiroModule, Check: check, Box: srv.Secrets,
		APIURL: demo.ERPAPIURL, User: erp.DemoUser, Password: erp.DemoPassword})
	switch {
	case err != nil:
		log.Warn("demo finance plugin not installed (run make plugins)", "module", demoFinanceiroModule, "err", err)
	case installed:
		log.Info("demo finance plugin installed", "module", demoFinanceiroModule, "erp", demo.ERPAPIURL)
	}
}

func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "127.0.0.1" || host == "::1" || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func printDemo(w io.Writer, baseURL string) {
	fmt.Fprintf(w, "\nPortico demo: %s\n", baseURL)
	fmt.Fprintf(w, "Demo logins (password %q):\n", demo.Password)
	for _, a := range demo.Accounts {
		roles := make([]string, len(a.Roles))
		for i, r := range a.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(w, "  %-28s %s\n", a.Email, strings.Join(roles, " + "))
	}
	fmt.Fprintln(w)
}
