// Package server assembles Portico's HTTP server and runs it with a
// graceful shutdown: it builds the Fiber app (limits, error handler,
// middleware order), the wasm runtime and the services, and mounts the
// edges in order: the launch endpoints (host/launch), the admin JSON API
// (admin/api) and pages (admin/ui) over one admin service, the public API
// (host/api) and the portal pages (host/portal).
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/portico-dev/portico/admin"
	adminapi "github.com/portico-dev/portico/admin/api"
	"github.com/portico-dev/portico/admin/service"
	adminui "github.com/portico-dev/portico/admin/ui"
	"github.com/portico-dev/portico/host/api"
	hostlaunch "github.com/portico-dev/portico/host/launch"
	"github.com/portico-dev/portico/host/portal"
	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/inflight"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/metrics"
	"github.com/portico-dev/portico/internal/registry"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
)

// Limits of the HTTP layer. docs/design.md explains each.
const (
	// BodyLimit caps any request body; JSON endpoints cap lower
	// (web.MaxJSONBody).
	BodyLimit = 1 << 20
	// HeaderLimit caps the request line plus headers.
	HeaderLimit   = 16 << 10
	ReadTimeout   = 15 * time.Second
	WriteTimeout  = 30 * time.Second
	IdleTimeout   = 120 * time.Second
	ShutdownGrace = 15 * time.Second
)

// Login throttle budgets: failures allowed per window.
const (
	AccountFailures = 5
	IPFailures      = 30
	// NetFailures is the budget of an IPv6 /48 (web.Env.NetThrottle):
	// ten /64s' worth. docs/design.md weighs it against a carrier's /48
	// shared by many subscribers.
	NetFailures    = 10 * IPFailures
	ThrottleWindow = 15 * time.Minute
)

// Server is a configured, not yet listening Portico HTTP server, with the
// services its edge packages were given (each package receives only what
// it uses; web.Env holds the edge's own: tenant, session, CSRF, language).
type Server struct {
	App *fiber.App
	Env *web.Env
	// Sandbox runs wasm plugins and checks uploaded modules.
	Sandbox *sandbox.Engine
	// Runner runs wasm plugins' renders and actions for the portal and
	// the API.
	Runner *runner.Runner
	// Launch mints and redeems iframe launch tokens and manages the
	// tenants' signing keys.
	Launch *launch.Service
	// Secrets seals and opens plugin secrets (the demo seeds some).
	Secrets *secret.Box
	// warm reports the preparation of the published wasm versions
	// (Preload); /readyz answers 503 until it is done.
	warm *warmState
	// preloads counts StartPreload's background work, which a shutdown
	// stops (stopPreload) and waits for before it closes the runtime.
	preloads    inflight.Counter
	stopPreload context.CancelFunc // guarded by warm.mu
	// pages are the portal's pages, whose background work (mails) a
	// shutdown waits for.
	pages *portal.Portal
	// Metrics are this server's Prometheus metrics (docs/metrics.md); its
	// plugin calls under way are what a shutdown waits for before closing
	// the wasm runtime.
	Metrics *metrics.Metrics
	// draining is set when Serve is told to stop: /readyz answers 503
	// "draining" from then on.
	draining *atomic.Bool
}

// warmState is the progress of Preload.
type warmState struct {
	mu    sync.Mutex
	done  bool
	total int
}

func (w *warmState) status() (done bool, total int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done, w.total
}

// StartPreload prepares every published wasm plugin version in the
// background (compiled, one instance pooled) so that no customer's first
// call waits for a compile; from now until it is done /readyz answers 503
// "warming up". A version that fails to prepare is loaded again at its
// first call and does not keep the server unready. serve calls it before
// listening. Each of first runs before the preparation, in the same
// background work (the demo installs its plugins there, so the server
// listens at once instead of after their compile).
func (s *Server) StartPreload(ctx context.Context, first ...func(context.Context)) {
	s.warm.mu.Lock()
	s.warm.done = false
	s.warm.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	s.warm.mu.Lock()
	s.stopPreload = cancel
	s.warm.mu.Unlock()
	s.preloads.Add()
	go func() {
		defer s.preloads.Done()
		defer cancel()
		s.preload(ctx, first)
	}()
}

func (s *Server) preload(ctx context.Context, first []func(context.Context)) {
	w := s.warm
	defer func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	}()
	for _, f := range first {
		f(ctx)
	}
	if s.Sandbox == nil {
		return
	}
	ps, err := s.Env.Store.PublishedWasmPlugins(ctx)
	if err != nil {
		s.Env.Log.Warn("preload: list plugins", "err", err)
		return
	}
	items := make([]sandbox.PreloadItem, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		items = append(items, sandbox.PreloadItem{Plugin: runner.SandboxPlugin(p), Load: func(ctx context.Context) ([]byte, error) {
			return s.Env.Store.PluginModule(ctx, p.TenantID, p.ActiveVersion)
		}})
	}
	w.mu.Lock()
	w.total = len(items)
	w.mu.Unlock()
	start := time.Now()
	if err := s.Sandbox.Preload(ctx, items); err != nil {
		s.Env.Log.Warn("preload: some plugin versions load at their first call instead", "err", err)
	}
	s.Env.Log.Info("wasm plugins prepared", "versions", len(items), "duration_ms", time.Since(start).Milliseconds())
}

// New builds the Fiber app with every route mounted.
func New(cfg *config.Config, store *storage.Store, log *slog.Logger) (srv *Server, err error) {
	cat, err := i18n.New(log)
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	// The login budgets live in the database: every node shares them.
	acctThrottle, err := store.Throttle(storage.ThrottleOptions{Name: "login-account", Limit: AccountFailures, Window: ThrottleWindow, Secret: cfg.SecretKey})
	if err != nil {
		return nil, err
	}
	ipThrottle, err := store.Throttle(storage.ThrottleOptions{Name: "login-ip", Limit: IPFailures, Window: ThrottleWindow, Secret: cfg.SecretKey})
	if err != nil {
		return nil, err
	}
	netThrottle, err := store.Throttle(storage.ThrottleOptions{Name: "login-net", Limit: NetFailures, Window: ThrottleWindow, Secret: cfg.SecretKey})
	if err != nil {
		return nil, err
	}
	env := &web.Env{
		Config:          cfg,
		Store:           store,
		Registry:        registry.New(store, registry.DefaultTTL),
		Catalog:         cat,
		Log:             log,
		AccountThrottle: acctThrottle,
		IPThrottle:      ipThrottle,
		NetThrottle:     netThrottle,
		LoginGate:       auth.NewGate(auth.GateOptions{}),
		Proxies:         web.ParseProxies(cfg.TrustedProxies),
	}
	box, err := secret.New(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("PORTICO_SECRET_KEY: %w", err)
	}
	m := metrics.New(metrics.Options{DB: store.Pool(), Log: log})
	countInvalidations(store, m)
	store.SetNodeName(cfg.NodeName)
	engine, run, err := startWasm(env, box, m)
	if err != nil {
		return nil, err
	}
	defer func() { // a failure below leaves no runtime behind
		if srv == nil && engine != nil {
			_ = engine.Close(context.Background())
		}
	}()
	var mailer *mail.Sender
	if cfg.SMTP != nil {
		mailer = mail.New(*cfg.SMTP)
	}
	pages, err := portal.New(env, run, mailer)
	if err != nil {
		return nil, fmt.Errorf("load portal: %w", err)
	}
	launchSvc := launch.NewService(store, box, launch.Options{Now: store.Now, Logger: log})
	launchEdge, err := hostlaunch.New(env, launchSvc)
	if err != nil {
		return nil, fmt.Errorf("load launch page: %w", err)
	}
	launchEdge.Metrics = m
	// Every admin change goes through one service; key rotations go
	// through the host's launch service, so its key cache sees them at once.
	svc := service.New(service.Deps{Store: store, Box: box, Launch: launchSvc,
		Runtime: admin.Runtime(engine), Log: log, Demo: cfg.Demo})
	adminDeps := admin.Deps{Env: env, Store: store, Service: svc, Sandbox: engine, Runner: run,
		PrivateNetworkAvailable: cfg.PrivateNetworkAvailable}
	adminAPI := adminapi.New(adminDeps)
	adminUI, err := adminui.New(adminDeps)
	if err != nil {
		return nil, fmt.Errorf("load admin: %w", err)
	}
	fcfg := fiber.Config{
		AppName:               "portico",
		BodyLimit:             BodyLimit,
		ReadBufferSize:        HeaderLimit,
		ReadTimeout:           ReadTimeout,
		WriteTimeout:          WriteTimeout,
		IdleTimeout:           IdleTimeout,
		Concurrency:           cmp.Or(cfg.MaxConnections, config.DefaultMaxConnections),
		DisableStartupMessage: true,
		// A multipart body is parsed by the handler that wants it. Parsed
		// before routing, a malformed one made fasthttp reset the whole
		// request (path and headers included), so an API client got the
		// portal's HTML error page in its default language.
		DisablePreParseMultipartForm: true,
	}
	// X-Forwarded-Proto is believed only from the configured proxies; with
	// none configured, from nobody. X-Forwarded-For is read by
	// web.Env.ClientIP alone (the right-most untrusted entry); Fiber's
	// c.IP() is left to return the peer, which nothing can spoof.
	fcfg.EnableTrustedProxyCheck = true
	fcfg.TrustedProxies = cfg.TrustedProxies
	// Module uploads may send up to adminapi.UploadBodyLimit with a longer
	// read timeout, but only an authenticated admin's, and only
	// adminapi.MaxConcurrentUploads at once (adminapi.UploadGate); every other
	// request keeps BodyLimit. fasthttp asks after the headers, before
	// reading any of the body, so nothing else ever buffers more than
	// BodyLimit.
	gate := adminAPI.NewUploadGate(BodyLimit)
	fcfg.ErrorHandler = errorHandler(env, pages, func(c *fiber.Ctx) *web.Problem {
		defer gate.Done(&c.Request().Header)
		return gate.Refusal(&c.Request().Header)
	})
	app := fiber.New(fcfg)
	app.Server().HeaderReceived = gate.HeaderReceived
	app.Server().Handler = web.EmbedRewrite(app.Server().Handler)
	// Outermost, so that it sees the status of every answer, panics and
	// refusals included.
	routes := new(routeSet) // loaded below, once every route is registered
	app.Use(recordRequests(m, routes, fcfg.ErrorHandler))
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		log.Error("panic", "route", c.Route().Path, "panic", fmt.Sprint(e))
	}}))
	app.Use(gate.Release())
	app.Use(requestid.New())
	app.Use(web.SecurityHeaders())
	// An absolute-form request target names a host other than the Host
	// header's: refused before anything reads either.
	app.Use(web.OriginFormOnly())
	// Before any handler can call c.Body(), which would inflate an encoded
	// body without a limit.
	app.Use(web.RefuseContentEncoding())
	web.RegisterFavicon(app)
	warm := &warmState{done: true} // until StartPreload
	draining := new(atomic.Bool)
	// While draining, every answer closes its connection: a balancer then
	// holds no idle keep-alive connection to this node when it stops
	// accepting, so no request (a POST, which a balancer does not retry)
	// is sent on a connection the shutdown is about to reset; its next
	// request opens a connection elsewhere, or is refused before it is
	// sent, which a balancer may retry.
	app.Use(func(c *fiber.Ctx) error {
		if draining.Load() {
			c.Context().SetConnectionClose()
		}
		return c.Next()
	})
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", func(c *fiber.Ctx) error {
		if draining.Load() { // Serve was told to stop: send no one new here
			return c.Status(fiber.StatusServiceUnavailable).SendString("draining")
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), storage.ReadyTimeout)
		defer cancel()
		if err := store.Ready(ctx); err != nil { // concurrent probes share one check
			log.Warn("not ready", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).SendString("not ready")
		}
		if done, total := warm.status(); !done {
			if total == 0 { // still listing them
				return c.Status(fiber.StatusServiceUnavailable).SendString("warming up: preparing the wasm plugin versions")
			}
			return c.Status(fiber.StatusServiceUnavailable).SendString(fmt.Sprintf("warming up: preparing %d wasm plugin versions", total))
		}
		return c.SendString("ready")
	})
	mountMetrics(app, env, m) // before the tenant: /metrics answers on any Host
	pages.RegisterAssets(app) // before the tenant: the same files for every Host
	app.Use(env.ResolveTenant(), env.Embed(), env.LoadSession(), env.AllowReturn(), env.Localize())
	launchEdge.Register(app) // before the public API, whose /api/v1/* catch-all would shadow the exchange
	adminAPI.Register(app)   // before the public API, whose /api/v1/* catch-all would shadow it
	adminUI.Register(app)
	api.Register(app, env, run)
	pages.Register(app)
	app.Use(func(c *fiber.Ctx) error { return web.Fail(fiber.StatusNotFound, "not_found") })
	routes.load(app)
	return &Server{App: app, Env: env, Sandbox: engine, Runner: run, Launch: launchSvc, Secrets: box, warm: warm, pages: pages,
		Metrics: m, draining: draining}, nil
}

// errorHandler renders every error. refusal returns the upload gate's
// answer for a request it refused a large body to (and forgets it); a body
// over the limit of such a request gets that answer instead of 413, and a
// module upload over its own limit gets module_too_large.
func errorHandler(env *web.Env, pages *portal.Portal, refusal func(*fiber.Ctx) *web.Problem) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		prob := web.AsProblem(err)
		refused := refusal(c) // always asked: it also forgets the request
		if prob.Status == fiber.StatusRequestEntityTooLarge {
			if refused != nil {
				prob = refused
				if prob.Status == fiber.StatusUnauthorized && web.IsAPI(c) {
					c.Set(fiber.HeaderWWWAuthenticate, adminapi.Challenge)
				}
			} else if p := adminapi.TooLarge(c.Request().Header.Method(), c.Request().Header.RequestURI()); p != nil {
				prob = p
			}
		}
		// A login the queue sheds during a flood is a deliberate answer,
		// not a failure: logging each would flood the log too. The log
		// names the route's pattern, not the path: a path may hold a live
		// credential (/portal-session/{token}, /reset/{token}).
		switch {
		case prob.Code == "database_unavailable":
			// Expected while PostgreSQL restarts; the pool reconnects.
			env.Log.Warn("database unavailable", "method", c.Method(), "route", c.Route().Path,
				"request_id", c.GetRespHeader(fiber.HeaderXRequestID), "err", err)
		case prob.Status >= 500 && prob.Code != "login_busy":
			env.Log.Error("request failed", "method", c.Method(), "route", c.Route().Path, "status", prob.Status,
				"request_id", c.GetRespHeader(fiber.HeaderXRequestID), "err", err)
		}
		env.EnsureLocalizer(c)
		if web.IsAPI(c) {
			return web.WriteJSONError(c, prob)
		}
		if rerr := pages.RenderError(c, prob); rerr != nil {
			env.Log.Error("render error page", "err", rerr)
			return c.Status(prob.Status).SendString(prob.Code)
		}
		return nil
	}
}

// Serve listens on ln until ctx ends, then drains and shuts down
// gracefully: from that moment /readyz answers 503 "draining", while
// requests are still served for the configured drain delay
// (PORTICO_DRAIN_DELAY) so that load balancers stop sending new ones; then
// it stops accepting and lets the requests in flight, the plugin calls
// under way and the mails being sent finish, all within one
// ShutdownGrace, closes the wasm runtime and returns. docs/metrics.md
// describes the sequence.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// The change listener outlives ctx: requests served while draining
	// still need every other node's changes.
	lctx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	listening := make(chan struct{})
	defer func() {
		stopListening()
		<-listening // no cache flush or metric after Serve returned
	}()
	if s.Env.Store.Driver() != "postgres" {
		s.Metrics.ListenerUp(true) // one process: it hears every change
	}
	go func() {
		defer close(listening)
		s.listenForChanges(lctx, storage.ListenOptions{OnState: s.Metrics.ListenerUp})
	}()
	defer s.startHealthPublisher(lctx)() // plugin health for the other nodes' admin (health.go)
	errc := make(chan error, 1)
	go func() { errc <- s.App.Listener(ln) }()
	var failed error // the listener's, which ends serving at once
	select {
	case err := <-errc:
		failed = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if d := s.Env.Config.DrainDelay; d > 0 && failed == nil {
		s.Env.Log.Info("draining: /readyz answers 503 while requests are still served", "drain_delay_s", d.Seconds())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case err := <-errc:
			t.Stop()
			s.Env.Log.Error("listener failed while draining", "err", err)
		}
	}
	// The same shutdown when the listener failed: the requests it was
	// answering, the mails, the plugin calls and the runtime end as they
	// do after a signal.
	deadline := time.Now().Add(ShutdownGrace)
	s.Env.Log.Info("shutting down", "grace_s", ShutdownGrace.Seconds())
	err := s.App.ShutdownWithTimeout(ShutdownGrace)
	wctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if werr := s.pages.Wait(wctx); werr != nil {
		s.Env.Log.Warn("shutdown: mails still being sent were cut", "err", werr)
	}
	// Runs started outside a request (the home's late cards) may still be
	// under way; closing the runtime would cut them.
	if werr := s.Metrics.WaitPluginCalls(wctx); werr != nil {
		s.Env.Log.Warn("shutdown: plugin calls still running were cut", "err", werr)
	}
	// The start-up preparation must not be left using the store or the
	// runtime once Serve has returned (ctx may not have ended: a failed
	// listener).
	s.warm.mu.Lock()
	stopPreload := s.stopPreload
	s.warm.mu.Unlock()
	if stopPreload != nil {
		stopPreload()
	}
	if werr := s.preloads.Wait(wctx); werr != nil {
		s.Env.Log.Warn("shutdown: start-up preparation still running", "err", werr)
	}
	if s.Sandbox != nil {
		// Within what is left of the grace; then the calls still under
		// way are stopped, and waited for.
		if cerr := s.Sandbox.Close(wctx); cerr != nil {
			s.Env.Log.Warn("close wasm runtime", "err", cerr)
		}
	}
	if failed != nil {
		return failed
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// SweepSessions deletes expired sessions, and the login throttle rows
// whose window ended, every interval until ctx ends.
func SweepSessions(ctx context.Context, store *storage.Store, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := store.DeleteExpiredSessions(ctx)
			if err != nil {
				log.Warn("sweep sessions", "err", err)
			} else if n > 0 {
				log.Info("swept expired sessions", "count", n)
			}
			if n, err := store.DeleteExpiredThrottles(ctx); err != nil {
				log.Warn("sweep login throttles", "err", err)
			} else if n > 0 {
				log.Info("swept expired login throttles", "count", n)
			}
		}
	}
}

// startWasm creates the wasm runtime and the runner that the portal and
// the API call. Compiled modules are cached in
// DataDir/wasm-cache; a configuration without DataDir (tests) uses the
// user's own cache directory, never a world-writable one, since the cache
// holds native code.
func startWasm(env *web.Env, box *secret.Box, m *metrics.Metrics) (*sandbox.Engine, *runner.Runner, error) {
	cacheDir := ""
	if env.Config.DataDir != "" {
		cacheDir = filepath.Join(env.Config.DataDir, "wasm-cache")
	} else if dir, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(dir, "portico", "wasm-cache")
	}
	engine, err := sandbox.New(context.Background(), sandbox.Options{
		CacheDir: cacheDir, Log: env.Log, Services: &runner.Services{Store: env.Store, Box: box},
		PrivateNetworks:     env.Config.PrivatePluginNetworks,
		MaxInstanceMemoryMB: env.Config.WasmMemoryMB,
		TenantSharePercent:  env.Config.WasmTenantShare,
		CacheMaxBytes:       int64(env.Config.WasmCacheMB) << 20,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start wasm runtime: %w", err)
	}
	return engine, runner.New(engine, env.Store, runner.Options{Log: env.Log, AllowInsecureLocal: env.Config.Demo,
		Observe: observePlugins(m), PrivateNetworks: env.Config.PluginNetworksFor}), nil
}
