// Package metrics holds Portico's Prometheus metrics: HTTP requests by
// route, wasm plugin calls by plugin and outcome, launch-token mints and
// exchanges, cache invalidations, the database pool, the Go runtime and the
// process. docs/metrics.md lists every metric and its labels.
//
// Each server has its own registry (not the client library's global
// default), so that tests may start many servers in one process. Every
// method is safe for concurrent use, and safe on a nil *Metrics, which
// records nothing: wiring a component to metrics is optional.
//
// The package knows no HTTP framework: the server's middleware reads the
// route pattern and hands it over as a string.
package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portico-dev/portico/internal/inflight"
)

// Label values with a fixed meaning.
const (
	// RouteUnmatched is the route of a request no route handler answered:
	// an unknown path, or a request a middleware refused before routing
	// (an unknown Host, say).
	RouteUnmatched = "unmatched"
	// OutcomeOK is the outcome of a plugin call or an exchange that
	// succeeded; a failure's outcome is its reason or error code.
	OutcomeOK = "ok"
	// SourceLocal is a cache invalidation caused by a write of this
	// process; SourceRemote one heard from another node.
	SourceLocal  = "local"
	SourceRemote = "remote"
	// DBName is the db_name label of the database pool's statistics.
	DBName = "portico"
)

// Limits of the metrics endpoint. A scrape gathers every metric; a few at
// once are plenty for any number of Prometheus servers, and more would
// only be someone making the process busy.
const (
	// MaxScrapesInFlight bounds concurrent scrapes; beyond it a scrape is
	// answered 503.
	MaxScrapesInFlight = 4
	// ScrapeTimeout bounds one scrape; beyond it the scrape is answered
	// 503.
	ScrapeTimeout = 10 * time.Second
)

// Histogram buckets, in seconds.
var (
	// httpBuckets reach the server's 30 s write timeout.
	httpBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	// pluginBuckets reach the longest timeout a gestor may give a plugin
	// (10 s).
	pluginBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// lagBuckets measure how long a change takes to reach this node's
	// caches: milliseconds when all is well, seconds when it is not.
	lagBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// Options tune New. The zero value is valid.
type Options struct {
	// DB is the database pool whose statistics are exported (go_sql_*,
	// db_name="portico"); nil exports none.
	DB *sql.DB
	// Log receives the errors of gathering metrics; slog.Default() when
	// nil.
	Log *slog.Logger
}

// Metrics is one server's metrics and their registry.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	pluginCalls    *prometheus.CounterVec
	pluginDuration *prometheus.HistogramVec
	pluginInFlight prometheus.Gauge
	minted         prometheus.Counter
	exchanges      *prometheus.CounterVec
	invalidations  *prometheus.CounterVec
	lag            prometheus.Histogram
	listenerUp     prometheus.Gauge

	// calls counts the plugin calls under way, for WaitPluginCalls.
	calls inflight.Counter
}

// New returns a registry holding every metric, the Go runtime's and the
// process's collectors, and the pool statistics of opts.DB.
func New(opts Options) *Metrics {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: opts.Log,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portico_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),
		pluginCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_plugin_calls_total",
			Help: "Wasm plugin runs, by plugin slug and outcome (ok, or the failure's reason).",
		}, []string{"plugin", "outcome"}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portico_plugin_call_duration_seconds",
			Help:    "Time of a wasm plugin run (input, sandbox call, view check), by plugin slug.",
			Buckets: pluginBuckets,
		}, []string{"plugin"}),
		pluginInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_plugin_calls_in_flight",
			Help: "Wasm plugin runs under way.",
		}),
		minted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portico_launch_tokens_minted_total",
			Help: "Launch tokens minted for iframe plugins.",
		}),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_launch_exchanges_total",
			Help: "Launch-token exchanges, by outcome: ok, or the refusal's code.",
		}, []string{"outcome"}),
		invalidations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_cache_invalidations_total",
			Help: "Cache invalidations applied, by kind of change and source (local: this process's write; remote: another node's).",
		}, []string{"kind", "source"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "portico_cache_invalidation_lag_seconds",
			Help:    "Time from another node's change to this node's caches dropping it.",
			Buckets: lagBuckets,
		}),
		listenerUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_cache_listener_up",
			Help: "1 while this process hears every other node's changes (PostgreSQL listener connected; always 1 on SQLite), else 0.",
		}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.pluginCalls, m.pluginDuration, m.pluginInFlight,
		m.minted, m.exchanges, m.invalidations, m.lag, m.listenerUp,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.DB != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(opts.DB, DBName))
	}
	return m
}

// Registry returns the registry, for tests and for registering more
// collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus text format (or
// OpenMetrics, when asked), at most MaxScrapesInFlight scrapes at once,
// each within ScrapeTimeout. It does not check who asks: the server puts it
// behind its own address or a token.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slogPrinter{m.log},
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg,
		MaxRequestsInFlight: MaxScrapesInFlight,
		Timeout:             ScrapeTimeout,
	})
}

// slogPrinter is the Logger promhttp wants, over slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: gather", "err", fmt.Sprint(v...)) }

// HTTPRequest records one answered request. route is the route pattern
// that answered (e.g. /p/:slug, never the raw path), or "" for
// RouteUnmatched; an unusual method is counted as "OTHER". route is kept
// as a label value: it must not alias a buffer its caller reuses.
func (m *Metrics) HTTPRequest(route, method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = RouteUnmatched
	}
	method = methodLabel(method)
	m.httpRequests.WithLabelValues(route, method, statusLabel(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// methods are the method label's values besides "OTHER".
var methods = [...]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

// methodLabel bounds the method label to the standard methods. It returns
// its own constant, never method itself: a server such as fasthttp hands
// out method strings over buffers it reuses, and a label value is kept.
func methodLabel(method string) string {
	for _, m := range methods {
		if m == method {
			return m
		}
	}
	return "OTHER"
}

// statusLabel bounds the status label to the three-digit codes.
func statusLabel(status int) string {
	if status < 100 || status > 999 {
		return "other"
	}
	return strconv.Itoa(status)
}

// PluginCallStarted records the start of a run of the plugin with the given
// slug and returns the function that records its end, to be called once
// with OutcomeOK or the failure's reason. Until then the run counts in
// portico_plugin_calls_in_flight and WaitPluginCalls waits for it.
func (m *Metrics) PluginCallStarted(plugin string) (end func(outcome string)) {
	if m == nil {
		return func(string) {}
	}
	start := time.Now()
	m.calls.Add()
	m.pluginInFlight.Inc()
	var once sync.Once
	return func(outcome string) {
		once.Do(func() {
			if outcome == "" {
				outcome = OutcomeOK
			}
			m.pluginCalls.WithLabelValues(plugin, outcome).Inc()
			m.pluginDuration.WithLabelValues(plugin).Observe(time.Since(start).Seconds())
			m.pluginInFlight.Dec()
			m.calls.Done()
		})
	}
}

// WaitPluginCalls waits until no plugin run is under way, or ctx ends (its
// error is then returned). A shutdown calls it before closing the wasm
// runtime, so that runs started by requests (and the home's late cards)
// finish instead of being cut.
func (m *Metrics) WaitPluginCalls(ctx context.Context) error {
	if m == nil {
		return nil
	}
	if err := m.calls.Wait(ctx); err != nil {
		return fmt.Errorf("waiting for plugin calls: %w", err)
	}
	return nil
}

// TokenMinted records a launch token minted for an iframe plugin.
func (m *Metrics) TokenMinted() {
	if m == nil {
		return
	}
	m.minted.Inc()
}

// Exchange records a launch-token exchange: OutcomeOK, or the code of its
// refusal (token_expired, token_used, token_invalid, wrong_audience,
// invalid_client, rate_limited, bad_request, error). The caller keeps the
// set of codes bounded.
func (m *Metrics) Exchange(outcome string) {
	if m == nil {
		return
	}
	m.exchanges.WithLabelValues(outcome).Inc()
}

// CacheInvalidated records a cache invalidation of the given kind of
// change (a small fixed set: the caller's constants), from source
// SourceLocal or SourceRemote (anything else is counted as "unknown").
// lag, the time from the change's commit on another node to this node
// applying it, is observed for remote invalidations when not negative; a
// local invalidation happens in the writer's own commit path, without lag.
func (m *Metrics) CacheInvalidated(kind, source string, lag time.Duration) {
	if m == nil {
		return
	}
	if source != SourceLocal && source != SourceRemote {
		source = "unknown"
	}
	m.invalidations.WithLabelValues(kind, source).Inc()
	if source == SourceRemote && lag >= 0 {
		m.lag.Observe(lag.Seconds())
	}
}

// ListenerUp records whether this process hears every other node's
// changes: the PostgreSQL change listener connected (true) or lost (false).
// It fits storage.ListenOptions.OnState.
func (m *Metrics) ListenerUp(up bool) {
	if m == nil {
		return
	}
	if up {
		m.listenerUp.Set(1)
	} else {
		m.listenerUp.Set(0)
	}
}
