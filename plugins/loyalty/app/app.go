// Package app assembles the loyalty app (plugins/loyalty): its own
// database (package store), the point-of-sale REST API under /api/
// (package api), the CSV imports (package imports), and the pages Portico
// frames as an iframe plugin (package web), plus the scheduled jobs
// (expiry every minute, the idempotency keys' sweep every hour). It learns
// who the portal user is only through Portico's launch tokens
// (plugins/launchkit). docs/loyalty.md describes it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the pages' time zone, also on a machine without zoneinfo

	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/api"
	"github.com/portico-dev/portico/plugins/loyalty/imports"
	"github.com/portico-dev/portico/plugins/loyalty/store"
	"github.com/portico-dev/portico/plugins/loyalty/web"
)

// Config is what the app needs; ConfigFromEnv documents the environment
// variables that fill it.
type Config struct {
	// Addr is where the app listens (host:port).
	Addr string
	// DatabaseURL is sqlite://PATH or postgres://… (as Portico's
	// PORTICO_DATABASE_URL).
	DatabaseURL string
	// PortalOrigin is the portal's origin, exactly as the launch tokens'
	// iss names it; the only site allowed to frame the pages.
	PortalOrigin string
	// ClientID and ClientSecret are the plugin's credentials; when empty,
	// CredentialsFile ({"client_id","client_secret"}) is read at each
	// launch (Portico's demo writes data/loyalty.json).
	ClientID, ClientSecret, CredentialsFile string
	// SMTPURL, when set, is where the imports mail their reports
	// (internal/mail.ParseURL's syntax).
	SMTPURL string
	// Demo seeds the demo customers into an empty database.
	Demo bool
	// TimeZone is the zone the pages show dates in.
	TimeZone string
	// ImportWorkers bounds concurrent CSV imports (0: the service's
	// default).
	ImportWorkers int

	// Logger receives the app's log; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// HTTP is the client for the launch exchange; a 10-second client when
	// nil.
	HTTP *http.Client
}

// Defaults of ConfigFromEnv.
const (
	DefaultAddr         = "localhost:8092"
	DefaultDatabaseURL  = "sqlite://data/loyalty.db"
	DefaultPortalOrigin = "http://localhost:8080"
	DefaultTimeZone     = "America/Sao_Paulo"
)

// ConfigFromEnv reads:
//
//	LOYALTY_ADDR              listen address (default localhost:8092)
//	LOYALTY_DATABASE_URL      sqlite://PATH or postgres://… (default sqlite://data/loyalty.db)
//	LOYALTY_PORTAL_ORIGIN     the portal's origin (default http://localhost:8080)
//	LOYALTY_CLIENT_ID         the plugin's client_id (pc_…)
//	LOYALTY_CLIENT_SECRET     the plugin's client_secret (pcs_…)
//	LOYALTY_CREDENTIALS_FILE  instead of the two above: a JSON file with them
//	LOYALTY_SMTP_URL          optional: mail the import reports (smtp://…?from=…)
//	LOYALTY_DEMO              true: seed the demo customers into an empty database
//	LOYALTY_TIMEZONE          the pages' time zone (default America/Sao_Paulo)
//	LOYALTY_IMPORT_WORKERS    concurrent CSV imports (default: the service's)
func ConfigFromEnv() (Config, error) {
	c := Config{
		Addr:            envOr("LOYALTY_ADDR", DefaultAddr),
		DatabaseURL:     envOr("LOYALTY_DATABASE_URL", DefaultDatabaseURL),
		PortalOrigin:    envOr("LOYALTY_PORTAL_ORIGIN", DefaultPortalOrigin),
		ClientID:        strings.TrimSpace(os.Getenv("LOYALTY_CLIENT_ID")),
		ClientSecret:    strings.TrimSpace(os.Getenv("LOYALTY_CLIENT_SECRET")),
		CredentialsFile: strings.TrimSpace(os.Getenv("LOYALTY_CREDENTIALS_FILE")),
		SMTPURL:         strings.TrimSpace(os.Getenv("LOYALTY_SMTP_URL")),
		TimeZone:        envOr("LOYALTY_TIMEZONE", DefaultTimeZone),
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("LOYALTY_DEMO"))); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		c.Demo = true
	default:
		return c, fmt.Errorf("LOYALTY_DEMO must be true or false, got %q", v)
	}
	if v := strings.TrimSpace(os.Getenv("LOYALTY_IMPORT_WORKERS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return c, fmt.Errorf("LOYALTY_IMPORT_WORKERS must be a number from 1 to 64, got %q", v)
		}
		c.ImportWorkers = n
	}
	return c, c.Validate()
}

func envOr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Validate checks the configuration once at start; its messages name the
// environment variable.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("LOYALTY_ADDR must be host:port, got %q", c.Addr)
	}
	if _, _, err := config.ParseDatabaseURL(c.DatabaseURL); err != nil {
		return fmt.Errorf("LOYALTY_DATABASE_URL: %w", err)
	}
	origin, err := launchkit.CheckOrigin(c.PortalOrigin)
	if err != nil {
		return fmt.Errorf("LOYALTY_PORTAL_ORIGIN: %w", err)
	}
	c.PortalOrigin = origin
	if (c.ClientID == "") != (c.ClientSecret == "") {
		return errors.New("set both LOYALTY_CLIENT_ID and LOYALTY_CLIENT_SECRET, or neither")
	}
	if c.ClientID == "" && c.CredentialsFile == "" {
		return errors.New("set LOYALTY_CLIENT_ID and LOYALTY_CLIENT_SECRET (or LOYALTY_CREDENTIALS_FILE)")
	}
	if c.SMTPURL != "" {
		if _, err := mail.ParseURL(c.SMTPURL); err != nil {
			return fmt.Errorf("LOYALTY_SMTP_URL: %w", err)
		}
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("LOYALTY_TIMEZONE: %w", err)
	}
	return nil
}

// App is the running loyalty app.
type App struct {
	cfg     Config
	log     *slog.Logger
	Store   *store.Store
	Imports *imports.Service
	Web     *web.Handler
	handler http.Handler
	stop    context.CancelFunc // the JWKS cache
}

// New opens the database (applying its migrations), seeds the demo when
// asked, and builds the handlers. ctx bounds the JWKS cache's background
// refresh. Close releases what New opened.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	loc, _ := time.LoadLocation(cfg.TimeZone)
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: cfg.Logger, Store: st}
	fail := func(err error) (*App, error) {
		if a.stop != nil {
			a.stop()
		}
		_ = st.Close()
		return nil, err
	}
	if cfg.Demo {
		seeded, err := SeedDemo(ctx, st)
		if err != nil {
			return fail(err)
		}
		if seeded {
			a.log.Info("loyalty demo seeded", "customer", DemoEmail)
		}
	}
	var sender *mail.Sender
	if cfg.SMTPURL != "" {
		mc, err := mail.ParseURL(cfg.SMTPURL)
		if err != nil {
			return fail(fmt.Errorf("LOYALTY_SMTP_URL: %w", err))
		}
		sender = mail.New(*mc)
	}
	a.Imports = imports.New(imports.Options{Store: st, Log: cfg.Logger, Mailer: sender, Now: cfg.Now, Workers: cfg.ImportWorkers})
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	launch, err := launchkit.NewClient(lctx, launchkit.ClientConfig{PortalOrigin: cfg.PortalOrigin,
		Credentials:     launchkit.Credentials{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret},
		CredentialsFile: cfg.CredentialsFile, HTTP: cfg.HTTP, Now: cfg.Now})
	if err != nil {
		_ = a.Imports.Close(ctx)
		return fail(err)
	}
	a.Web, err = web.New(web.Options{Store: st, Launch: launch, Imports: a.Imports, MailImports: sender != nil,
		Log: cfg.Logger, Now: cfg.Now, Location: loc})
	if err != nil {
		_ = a.Imports.Close(ctx)
		return fail(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(api.Options{Store: st, Log: cfg.Logger}))
	mux.Handle("/", a.Web)
	a.handler = mux
	return a, nil
}

// Handler is the app's HTTP handler: the point-of-sale API under /api/,
// the pages everywhere else.
func (a *App) Handler() http.Handler { return a.handler }

// Job periods.
const (
	ExpiryEvery = time.Minute
	SweepEvery  = time.Hour
)

// RunJobs runs the scheduled jobs until ctx ends: expiry (points past
// their validity become "expire" ledger entries) every minute, and the
// sweep of idempotency keys past their keep every hour. Several processes
// may run them at once: expiry is idempotent and per customer in one
// transaction.
func (a *App) RunJobs(ctx context.Context) {
	expire := time.NewTicker(ExpiryEvery)
	sweep := time.NewTicker(SweepEvery)
	defer expire.Stop()
	defer sweep.Stop()
	a.expire(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-expire.C:
			a.expire(ctx)
		case <-sweep.C:
			n, err := a.Store.SweepIdempotency(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				a.log.Error("sweep idempotency keys", "err", err)
			case n > 0:
				a.log.Info("idempotency keys swept", "keys", n)
			}
		}
	}
}

func (a *App) expire(ctx context.Context) {
	n, err := a.Store.ExpireDue(ctx, a.Store.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("expire points", "err", err)
	case n > 0:
		a.log.Info("points expired", "points", n)
	}
}

// Close waits for the running imports (within ctx), then closes the
// database.
func (a *App) Close(ctx context.Context) error {
	err := a.Imports.Close(ctx)
	if a.stop != nil {
		a.stop()
	}
	return errors.Join(err, a.Store.Close())
}
