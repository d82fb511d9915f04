package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/metrics"
)

// MetricsPath is where the Prometheus metrics are served: on the separate
// PORTICO_METRICS_ADDR when it is set, otherwise on the main address when
// PORTICO_METRICS_TOKEN is set, otherwise nowhere (404). docs/metrics.md
// explains the choice.
const MetricsPath = "/metrics"

// Limits of the metrics endpoint (docs/metrics.md).
const (
	// MaxMetricsAuthorization bounds the Authorization header compared
	// with the token; a longer one is refused unread.
	MaxMetricsAuthorization = 1024
	// Timeouts of the separate metrics listener.
	metricsReadHeaderTimeout = 5 * time.Second
	metricsIdleTimeout       = IdleTimeout
	metricsHeaderLimit       = HeaderLimit
)

// recordRequests is the outermost middleware: it times every request and
// counts it by route pattern, method and status. A handler's error is
// rendered here by handle (the app's error handler), as Fiber would after
// the chain, so that its status is the one counted.
func recordRequests(m *metrics.Metrics, routes *routeSet, handle fiber.ErrorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := handle(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		m.HTTPRequest(routes.pattern(c), c.Method(), c.Response().StatusCode(), time.Since(start))
		return nil
	}
}

// routeSet tells the app's routes from its middleware, which Fiber does
// not say of the route a request ended on: a middleware that answers (the
// final 404, an unknown Host, a refused origin) leaves its own "route",
// whose path may equal a real route's ("/"). It is loaded once every route
// is registered.
type routeSet struct {
	routes atomic.Pointer[map[routeKey]bool]
}

// routeKey identifies a registered route: a copy of a Route (what
// GetRoutes returns) shares its handlers' backing array with the original.
type routeKey struct {
	method, path string
	first        *fiber.Handler
}

// load records the app's routes, middleware excluded.
func (s *routeSet) load(app *fiber.App) {
	m := map[routeKey]bool{}
	for _, r := range app.GetRoutes(true) {
		if len(r.Handlers) > 0 {
			m[routeKey{r.Method, r.Path, &r.Handlers[0]}] = true
		}
	}
	s.routes.Store(&m)
}

// pattern returns the pattern of the route that answered c (e.g.
// /p/:slug), never the raw path, so that the label's values are as few as
// the routes; "" when a middleware answered, or nothing matched (Fiber
// then returns a stand-in route holding the raw path, without handlers).
func (s *routeSet) pattern(c *fiber.Ctx) string {
	r := c.Route()
	m := s.routes.Load()
	if r == nil || len(r.Handlers) == 0 || m == nil || !(*m)[routeKey{r.Method, r.Path, &r.Handlers[0]}] {
		return ""
	}
	return r.Path
}

// observePlugins returns the runner's observer: it counts each run in m
// (and keeps it in m's calls under way until it ends, for the shutdown).
func observePlugins(m *metrics.Metrics) func(runner.Call) func(string) {
	return func(c runner.Call) func(string) {
		return m.PluginCallStarted(c.Plugin.Slug)
	}
}

// mountMetrics serves MetricsPath on the main app when the configuration
// asks for it there: a token and no separate address. Otherwise the path
// is left to the app's 404.
func mountMetrics(app *fiber.App, env *web.Env, m *metrics.Metrics) {
	cfg := env.Config
	if cfg.MetricsAddr != "" || cfg.MetricsToken == "" {
		return
	}
	app.Get(MetricsPath, fromHTTP(metricsHandler(env.Catalog, m, cfg.MetricsToken)))
}

// fromHTTP runs the net/http handler h for a Fiber request. Unlike Fiber's
// adaptor it copies what h reads (method, query, headers) into a plain
// request whose context is not fasthttp's RequestCtx (a context derived
// from that one races with the server's shutdown), and buffers the answer.
func fromHTTP(h http.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req, err := http.NewRequestWithContext(context.Background(), c.Method(), MetricsPath, nil)
		if err != nil {
			return fmt.Errorf("metrics request: %w", err)
		}
		req.URL.RawQuery = string(c.Request().URI().QueryString())
		c.Request().Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
		w := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(w, req)
		for k, vs := range w.header {
			for _, v := range vs {
				c.Response().Header.Add(k, v)
			}
		}
		return c.Status(w.status).Send(w.body.Bytes())
	}
}

// bufferedResponse is the http.ResponseWriter of fromHTTP.
type bufferedResponse struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
}

func (w *bufferedResponse) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.body.Write(b)
}

// metricsHandler guards the metrics: with a token, a request must carry
// "Authorization: Bearer <token>" (compared in constant time: both sides
// are hashed first, so not even the length leaks), else 401; at most
// metrics.MaxScrapesInFlight scrapes run at once, else 503 with
// Retry-After. Refusals are the API's JSON errors in the asker's language.
func metricsHandler(cat *i18n.Catalog, m *metrics.Metrics, token string) http.Handler {
	slots := make(chan struct{}, metrics.MaxScrapesInFlight)
	next := m.Handler()
	return tokenGuard(cat, token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := cat.Localizer(cat.Match(r.Header.Get("Accept-Language")))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeAPIError(w, http.StatusMethodNotAllowed, "method_not_allowed", l.T("error.method_not_allowed"))
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			w.Header().Set("Retry-After", "1")
			writeAPIError(w, http.StatusServiceUnavailable, "metrics_busy", l.T("error.metrics_busy"))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	}))
}

// tokenGuard passes to next only the requests that carry "Authorization:
// Bearer <token>" when token is set (401 otherwise, in the asker's
// language); without a token it passes everything.
func tokenGuard(cat *i18n.Catalog, token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerMatches(r.Header.Get("Authorization"), want) {
			l := cat.Localizer(cat.Match(r.Header.Get("Accept-Language")))
			w.Header().Set("WWW-Authenticate", `Bearer realm="portico-metrics"`)
			writeAPIError(w, http.StatusUnauthorized, "metrics_unauthorized", l.T("error.metrics_unauthorized"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// PprofPath prefixes Go's profiles on the metrics listener when
// PORTICO_PPROF is on (docs/metrics.md).
const PprofPath = "/debug/pprof/"

// pprofTimeout bounds a profile request on the metrics listener: the
// longest profile pprof is asked for is MaxProfileSeconds.
const (
	MaxProfileSeconds = 60
	pprofTimeout      = (MaxProfileSeconds + 10) * time.Second
)

// pprofHandler serves net/http/pprof's pages behind the metrics token, to
// GET and HEAD only (405 otherwise: a form body could carry another
// "seconds", and nothing needs pprof's POST). A CPU profile or trace longer
// than MaxProfileSeconds is refused (400). Without a token it serves
// nothing (config refuses PORTICO_PPROF without one).
func pprofHandler(cat *i18n.Catalog, token string) http.Handler {
	if token == "" {
		return http.NotFoundHandler()
	}
	mux := http.NewServeMux()
	mux.HandleFunc(PprofPath, pprof.Index)
	mux.HandleFunc(PprofPath+"cmdline", pprof.Cmdline)
	mux.HandleFunc(PprofPath+"profile", pprof.Profile)
	mux.HandleFunc(PprofPath+"symbol", pprof.Symbol)
	mux.HandleFunc(PprofPath+"trace", pprof.Trace)
	return tokenGuard(cat, token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
			return
		}
		if v := r.URL.Query().Get("seconds"); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > MaxProfileSeconds {
				http.Error(w, fmt.Sprintf("seconds must be a whole number from 1 to %d", MaxProfileSeconds), http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	}))
}

// bearerMatches reports whether an Authorization header carries the token
// whose SHA-256 is want.
func bearerMatches(h string, want [sha256.Size]byte) bool {
	const prefix = "bearer "
	if len(h) > MaxMetricsAuthorization || len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// writeAPIError writes the API's error body,
// {"error":{"code":…,"message":…}}, outside Fiber.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]web.APIError{"error": {Code: code, Message: message}})
}

// ServeMetrics serves only MetricsPath on ln (PORTICO_METRICS_ADDR), with
// the token when PORTICO_METRICS_TOKEN is set too, until ctx ends; then it
// stops within ShutdownGrace. Any other path is a 404. serve runs it
// beside Serve and ends it after Serve returns, so that the last scrapes
// see the drain.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	cat := s.Env.Catalog
	guarded := metricsHandler(cat, s.Metrics, s.Env.Config.MetricsToken)
	var profiles http.Handler
	writeTimeout := metrics.ScrapeTimeout + 5*time.Second
	if s.Env.Config.Pprof {
		profiles = pprofHandler(cat, s.Env.Config.MetricsToken)
		writeTimeout = pprofTimeout
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if profiles != nil && strings.HasPrefix(r.URL.Path, PprofPath) {
				profiles.ServeHTTP(w, r)
				return
			}
			if r.URL.Path != MetricsPath {
				l := cat.Localizer(cat.Match(r.Header.Get("Accept-Language")))
				writeAPIError(w, http.StatusNotFound, "not_found", l.T("error.not_found"))
				return
			}
			guarded.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: metricsReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       metricsIdleTimeout,
		MaxHeaderBytes:    metricsHeaderLimit,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down metrics: %w", err)
	}
	return nil
}
