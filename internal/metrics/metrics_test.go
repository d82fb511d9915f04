package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-dev/portico/internal/metrics"
	"github.com/portico-dev/portico/internal/metrics/metricstest"
	"github.com/portico-dev/portico/internal/testdb"
)

// scrape serves m over real HTTP on 127.0.0.1 and reads it as Prometheus
// would.
func scrape(t *testing.T, m *metrics.Metrics) metricstest.Families {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	return metricstest.Scrape(t, srv.URL, "")
}

// TestRecords: each method lands in its metric with the labels the
// documentation promises, and unusual label values are folded into a few
// fixed ones so that no caller can grow the series without bound.
func TestRecords(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.HTTPRequest("/p/:slug", "GET", 200, 20*time.Millisecond)
	m.HTTPRequest("/p/:slug", "GET", 200, 30*time.Millisecond)
	m.HTTPRequest("", "BREW", 404, time.Millisecond)
	m.HTTPRequest("/healthz", "GET", 42, time.Millisecond)
	m.PluginCallStarted("ola")(metrics.OutcomeOK)
	m.PluginCallStarted("ola")("timeout")
	m.PluginCallStarted("ola")("")
	m.TokenMinted()
	m.TokenMinted()
	m.Exchange(metrics.OutcomeOK)
	m.Exchange("token_used")
	m.CacheInvalidated("session", metrics.SourceRemote, 3*time.Millisecond)
	m.CacheInvalidated("session", metrics.SourceLocal, 0)
	m.CacheInvalidated("user", "elsewhere", time.Second)
	m.CacheInvalidated("user", metrics.SourceRemote, -1)
	m.ListenerUp(true)

	f := scrape(t, m)
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"portico_http_requests_total", []string{"route", "/p/:slug", "method", "GET", "status", "200"}, 2},
		{"portico_http_request_duration_seconds", []string{"route", "/p/:slug", "method", "GET"}, 2},
		{"portico_http_requests_total", []string{"route", metrics.RouteUnmatched, "method", "OTHER", "status", "404"}, 1},
		{"portico_http_requests_total", []string{"route", "/healthz", "status", "other"}, 1},
		{"portico_plugin_calls_total", []string{"plugin", "ola", "outcome", "ok"}, 2},
		{"portico_plugin_calls_total", []string{"plugin", "ola", "outcome", "timeout"}, 1},
		{"portico_plugin_call_duration_seconds", []string{"plugin", "ola"}, 3},
		{"portico_plugin_calls_in_flight", nil, 0},
		{"portico_launch_tokens_minted_total", nil, 2},
		{"portico_launch_exchanges_total", []string{"outcome", "ok"}, 1},
		{"portico_launch_exchanges_total", []string{"outcome", "token_used"}, 1},
		{"portico_cache_invalidations_total", []string{"kind", "session", "source", "remote"}, 1},
		{"portico_cache_invalidations_total", []string{"kind", "session", "source", "local"}, 1},
		{"portico_cache_invalidations_total", []string{"kind", "user", "source", "unknown"}, 1},
		{"portico_cache_invalidations_total", []string{"kind", "user", "source", "remote"}, 1},
		// Only the remote invalidation with a known lag is observed.
		{"portico_cache_invalidation_lag_seconds", nil, 1},
		{"portico_cache_listener_up", nil, 1},
	}
	for _, tt := range tests {
		got, ok := f.Value(tt.name, tt.labels...)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if got := f.Labels("portico_http_requests_total", "method"); strings.Contains(strings.Join(got, ","), "BREW") {
		t.Errorf("an unknown method became a label value: %v", got)
	}
	// The runtime's and the process's collectors are there.
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if _, ok := f.Value(name); !ok {
			t.Errorf("%s missing", name)
		}
	}
	m.ListenerUp(false)
	if v, _ := scrape(t, m).Value("portico_cache_listener_up"); v != 0 {
		t.Errorf("listener up after ListenerUp(false): %v", v)
	}
}

// TestDBStats exports the pool statistics of a real database, on both
// drivers.
func TestDBStats(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := testdb.Open(t, driver)
			if err := st.Ready(context.Background()); err != nil {
				t.Fatal(err)
			}
			f := scrape(t, metrics.New(metrics.Options{DB: st.Pool()}))
			for _, name := range []string{"go_sql_open_connections", "go_sql_in_use_connections", "go_sql_idle_connections", "go_sql_wait_count_total", "go_sql_max_open_connections"} {
				if _, ok := f.Value(name, "db_name", metrics.DBName); !ok {
					t.Errorf("%s{db_name=%q} missing", name, metrics.DBName)
				}
			}
			if v, _ := f.Value("go_sql_open_connections", "db_name", metrics.DBName); v < 1 {
				t.Errorf("open connections %v after a query, want at least 1", v)
			}
		})
	}
}

// TestNilRecordsNothing: a nil *Metrics accepts every call, so wiring is
// optional.
func TestNilRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.HTTPRequest("/x", "GET", 200, time.Millisecond)
	m.PluginCallStarted("x")("ok")
	m.TokenMinted()
	m.Exchange("ok")
	m.CacheInvalidated("k", metrics.SourceLocal, 0)
	m.ListenerUp(true)
	if err := m.WaitPluginCalls(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.Registry() != nil {
		t.Fatal("a nil Metrics has a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("nil handler answered %d", rec.Code)
	}
}

// TestWaitPluginCalls: a shutdown waits for the runs under way and no
// longer; a run's end counts once however often it is called.
func TestWaitPluginCalls(t *testing.T) {
	m := metrics.New(metrics.Options{})
	if err := m.WaitPluginCalls(context.Background()); err != nil {
		t.Fatalf("no call under way: %v", err)
	}
	end1 := m.PluginCallStarted("a")
	end2 := m.PluginCallStarted("b")
	if v, _ := scrape(t, m).Value("portico_plugin_calls_in_flight"); v != 2 {
		t.Errorf("in flight %v, want 2", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := m.WaitPluginCalls(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "plugin calls: 2 still under way") {
		t.Fatalf("wait with calls under way: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.WaitPluginCalls(context.Background()) }()
	end1("ok")
	end1("ok") // a second end is ignored
	select {
	case err := <-done:
		t.Fatalf("wait returned with a call under way: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// A call may start while someone waits (unlike a sync.WaitGroup).
	end3 := m.PluginCallStarted("c")
	end2("trap")
	end3("ok")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return after every call ended")
	}
	f := scrape(t, m)
	if v, _ := f.Value("portico_plugin_calls_total", "plugin", "a"); v != 1 {
		t.Errorf("plugin a counted %v times, want 1", v)
	}
	if v, _ := f.Value("portico_plugin_calls_in_flight"); v != 0 {
		t.Errorf("in flight %v after all ended", v)
	}
}

// blocker is a collector whose Collect waits until released, to hold
// scrapes open.
type blocker struct {
	desc    *prometheus.Desc
	entered chan struct{}
	release chan struct{}
}

func (b *blocker) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *blocker) Collect(ch chan<- prometheus.Metric) {
	b.entered <- struct{}{}
	<-b.release
	ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, 1)
}

// TestHandlerBoundsScrapes: beyond MaxScrapesInFlight concurrent scrapes
// the handler answers 503 at once instead of gathering again.
func TestHandlerBoundsScrapes(t *testing.T) {
	m := metrics.New(metrics.Options{})
	b := &blocker{desc: prometheus.NewDesc("test_blocker", "holds scrapes", nil, nil),
		entered: make(chan struct{}, metrics.MaxScrapesInFlight+1), release: make(chan struct{})}
	m.Registry().MustRegister(b)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	var wg sync.WaitGroup
	codes := make(chan int, metrics.MaxScrapesInFlight)
	for range metrics.MaxScrapesInFlight {
		wg.Go(func() {
			res, err := http.Get(srv.URL)
			if err != nil {
				codes <- -1
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			codes <- res.StatusCode
		})
	}
	for range metrics.MaxScrapesInFlight {
		select {
		case <-b.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("scrapes did not start")
		}
	}
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("scrape beyond the limit: %d, want 503", res.StatusCode)
	}
	close(b.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("held scrape answered %d", c)
		}
	}
}

// BenchmarkHTTPRequest measures what the middleware adds to a request:
// one counter and one histogram observation, from parallel goroutines.
func BenchmarkHTTPRequest(b *testing.B) {
	m := metrics.New(metrics.Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.HTTPRequest("/p/:slug", "GET", 200, 3*time.Millisecond)
		}
	})
}

// BenchmarkScrape measures one scrape over HTTP of a registry holding 50
// routes and 20 plugins.
func BenchmarkScrape(b *testing.B) {
	m := metrics.New(metrics.Options{})
	for i := range 50 {
		for _, st := range []int{200, 404, 500} {
			m.HTTPRequest("/route/"+strconv.Itoa(i), "GET", st, time.Millisecond)
		}
	}
	for i := range 20 {
		m.PluginCallStarted("plugin-" + strconv.Itoa(i))("ok")
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	var size int64
	b.ResetTimer()
	for b.Loop() {
		res, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
