package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/metrics"
	"github.com/portico-dev/portico/internal/metrics/metricstest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// metricsToken is a valid PORTICO_METRICS_TOKEN for the tests.
var metricsToken = strings.Repeat("m3tr1c5-", 5)

// get sends a GET with the given headers (name, value pairs) and returns
// the status, the headers and the body.
func get(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	return fetchURL(t, http.MethodGet, url, "", header...)
}

// fetchURL makes a request of method with body (none when empty) and the
// given header name/value pairs, and returns its status, header and body.
func fetchURL(t *testing.T, method, url, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	testdb.Must(t, err, "request")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	testdb.Must(t, err, "%s %s", method, url)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// TestMetricsAfterRealRequests: requests and wasm plugin calls made over
// real HTTP show up on /metrics by route pattern (never the raw path),
// method and status, and by plugin and outcome; requests no route answered
// are "unmatched"; the pool, runtime and listener metrics are there.
func TestMetricsAfterRealRequests(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.MetricsToken = metricsToken })
	installHello(t, p)

	cliente := p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	for range 2 {
		if r := cliente.Do("GET", "/p/"+demo.HelloSlug, nil); r.Status != http.StatusOK {
			t.Fatalf("hello page: %d %.300s", r.Status, r.Body)
		}
	}
	if r := cliente.Do("GET", "/api/v1/me/plugins/"+demo.HelloSlug+"/view", nil); r.Status != http.StatusOK {
		t.Fatalf("hello view: %d %.300s", r.Status, r.Body)
	}
	// A plugin the user may not open: the route answered, with 404.
	if r := cliente.Do("GET", "/p/nao-existe", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown plugin: %d", r.Status)
	}
	// Nothing routes these: an unknown path, and an unknown Host.
	for _, path := range []string{"/no/such/page/1", "/no/such/page/2"} {
		if r := cliente.Do("GET", path, nil); r.Status != http.StatusNotFound {
			t.Fatalf("%s: %d", path, r.Status)
		}
	}
	if r := p.NewClient(t, "nowhere.test").Do("GET", "/login", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown host: %d", r.Status)
	}

	f := metricstest.Scrape(t, p.URL+server.MetricsPath, metricsToken)
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"portico_http_requests_total", []string{"route", "/p/:slug", "method", "GET", "status", "200"}, 2},
		{"portico_http_requests_total", []string{"route", "/p/:slug", "method", "GET", "status", "404"}, 1},
		{"portico_http_requests_total", []string{"route", "/api/v1/me/plugins/:slug/view", "method", "GET", "status", "200"}, 1},
		{"portico_http_requests_total", []string{"route", "/api/v1/session", "method", "POST", "status", "200"}, 1},
		{"portico_http_requests_total", []string{"route", "unmatched", "method", "GET", "status", "404"}, 3},
		{"portico_http_request_duration_seconds", []string{"route", "/p/:slug", "method", "GET"}, 3},
		{"portico_plugin_calls_total", []string{"plugin", demo.HelloSlug, "outcome", "ok"}, 3},
		{"portico_plugin_call_duration_seconds", []string{"plugin", demo.HelloSlug}, 3},
		{"portico_plugin_calls_in_flight", nil, 0},
		{"portico_cache_listener_up", nil, 1},
	}
	for _, tt := range tests {
		if got, ok := f.Value(tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	for _, route := range f.Labels("portico_http_requests_total", "route") {
		if strings.Contains(route, "no/such") || strings.Contains(route, "nao-existe") || strings.HasPrefix(route, "/p/"+demo.HelloSlug) {
			t.Errorf("a raw path became a route label: %q", route)
		}
	}
	for _, name := range []string{"go_sql_open_connections", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := f.Value(name); !ok {
			t.Errorf("%s missing", name)
		}
	}
}

// TestMetricsProtection: /metrics is off (404) without a token or a
// separate address; with a token on the main address it wants exactly that
// bearer token (401 in the asker's language otherwise); with a separate
// address it is served there only, and nowhere on the main address.
func TestMetricsProtection(t *testing.T) {
	cat, err := i18n.New(nil)
	testdb.Must(t, err, "catalogue")

	t.Run("off", func(t *testing.T) {
		p := servertest.Start(t, "sqlite")
		if st, _, body := get(t, p.URL+server.MetricsPath, "Authorization", "Bearer "+metricsToken); st != http.StatusNotFound || strings.Contains(body, "portico_") {
			t.Fatalf("metrics without configuration: %d %.200s", st, body)
		}
	})

	t.Run("token on the main address", func(t *testing.T) {
		p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.MetricsToken = metricsToken })
		url := p.URL + server.MetricsPath
		wrongSameLength := metricsToken[:len(metricsToken)-1] + "X"
		for _, tc := range []struct {
			name, auth string
		}{
			{"no header", ""},
			{"empty bearer", "Bearer "},
			{"wrong token, same length", "Bearer " + wrongSameLength},
			{"a prefix of the token", "Bearer " + metricsToken[:20]},
			{"the token and more", "Bearer " + metricsToken + "x"},
			{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+metricsToken))},
			{"the token without the scheme", metricsToken},
			{"oversized", "Bearer " + strings.Repeat("a", server.MaxMetricsAuthorization)},
		} {
			st, h, body := get(t, url, "Authorization", tc.auth, "Accept-Language", "es")
			want := cat.Localizer("es").T("error.metrics_unauthorized")
			if st != http.StatusUnauthorized || !strings.Contains(body, `"code":"metrics_unauthorized"`) || !strings.Contains(body, want) ||
				!strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %v %s", tc.name, st, h, body)
			}
		}
		// Portuguese by default.
		if _, _, body := get(t, url); !strings.Contains(body, cat.Localizer("pt-BR").T("error.metrics_unauthorized")) {
			t.Errorf("default language: %s", body)
		}
		for _, scheme := range []string{"Bearer ", "bearer ", "BEARER "} {
			st, h, body := get(t, url, "Authorization", scheme+metricsToken)
			if st != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(body, "portico_http_requests_total") {
				t.Errorf("%q and the right token: %d %s %.200s", scheme, st, h.Get("Content-Type"), body)
			}
		}
		// Any Host: the endpoint needs no tenant.
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = "scraper.internal"
		req.Header.Set("Authorization", "Bearer "+metricsToken)
		res, err := http.DefaultClient.Do(req)
		testdb.Must(t, err, "scrape with another Host")
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("scrape with an unknown Host: %d", res.StatusCode)
		}
	})

	t.Run("separate address", func(t *testing.T) {
		for _, token := range []string{"", metricsToken} {
			p := servertest.StartWith(t, "sqlite", func(c *config.Config) {
				c.MetricsAddr, c.MetricsToken = "127.0.0.1:0", token
			})
			base, cancel, done := startMetricsListener(t, p)

			if st, _, _ := get(t, p.URL+server.MetricsPath, "Authorization", "Bearer "+metricsToken); st != http.StatusNotFound {
				t.Errorf("token %v: main address still serves metrics: %d", token != "", st)
			}
			// A request on the main address shows up on the separate one.
			get(t, p.URL+"/healthz")
			f := metricstest.Scrape(t, base+server.MetricsPath, token)
			if v, _ := f.Value("portico_http_requests_total", "route", "/healthz", "status", "200"); v != 1 {
				t.Errorf("token %v: /healthz counted %v times", token != "", v)
			}
			st, _, body := get(t, base+"/healthz", "Authorization", "Bearer "+metricsToken)
			if st != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
				t.Errorf("another path on the metrics address: %d %s", st, body)
			}
			if token != "" {
				if st, _, body := get(t, base+server.MetricsPath); st != http.StatusUnauthorized || !strings.Contains(body, "metrics_unauthorized") {
					t.Errorf("separate address without the token: %d %s", st, body)
				}
			}
			req, _ := http.NewRequest("POST", base+server.MetricsPath, nil)
			req.Header.Set("Authorization", "Bearer "+metricsToken)
			res, err := http.DefaultClient.Do(req)
			testdb.Must(t, err, "POST")
			res.Body.Close()
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST /metrics: %d", res.StatusCode)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("ServeMetrics: %v", err)
				}
			case <-time.After(server.ShutdownGrace + 5*time.Second):
				t.Fatal("ServeMetrics did not stop")
			}
			if _, err := http.Get(base + server.MetricsPath); err == nil {
				t.Error("the metrics address still answers after its stop")
			}
		}
	})
}

// startMetricsListener runs p's ServeMetrics on a new loopback listener
// and returns its base URL, what stops it and where its result arrives.
func startMetricsListener(t *testing.T, p *servertest.Portal) (base string, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen")
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan error, 1)
	go func() { out <- p.Server.ServeMetrics(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, out
}

// TestPprofOnTheMetricsListener: with PORTICO_PPROF, Go's profiles are
// served on the metrics listener behind the metrics token, never on the
// main address, and a profile longer than MaxProfileSeconds is refused;
// without it the metrics listener has none.
func TestPprofOnTheMetricsListener(t *testing.T) {
	for _, on := range []bool{true, false} {
		p := servertest.StartWith(t, "sqlite", func(c *config.Config) {
			c.MetricsAddr, c.MetricsToken, c.Pprof = "127.0.0.1:0", metricsToken, on
		})
		base, cancel, done := startMetricsListener(t, p)
		auth := []string{"Authorization", "Bearer " + metricsToken}

		st, _, body := get(t, base+server.PprofPath+"goroutine?debug=1", auth...)
		switch {
		case on && (st != http.StatusOK || !strings.Contains(body, "ServeMetrics")):
			t.Errorf("pprof on: goroutine profile: %d %.200s", st, body)
		case !on && st != http.StatusNotFound:
			t.Errorf("pprof off: the metrics listener serves profiles: %d", st)
		}
		if on {
			if st, _, body := get(t, base+server.PprofPath+"goroutine?debug=1"); st != http.StatusUnauthorized || !strings.Contains(body, "metrics_unauthorized") {
				t.Errorf("pprof without the token: %d %s", st, body)
			}
			if st, _, _ := get(t, base+server.PprofPath+"profile?seconds=61", auth...); st != http.StatusBadRequest {
				t.Errorf("a 61 s profile: %d, want 400", st)
			}
			// A form body is never read: it could ask for a longer profile
			// than the query checked.
			if st, _, _ := fetchURL(t, http.MethodPost, base+server.PprofPath+"profile", "seconds=65",
				append(auth, "Content-Type", "application/x-www-form-urlencoded")...); st != http.StatusMethodNotAllowed {
				t.Errorf("POST of a 65 s profile: %d, want 405", st)
			}
		}
		if st, _, _ := get(t, p.URL+server.PprofPath+"goroutine?debug=1", auth...); st != http.StatusNotFound {
			t.Errorf("pprof %v: the main address serves profiles: %d", on, st)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("ServeMetrics: %v", err)
		}
	}
}

// TestMetricsBoundsScrapes: beyond MaxScrapesInFlight concurrent scrapes,
// /metrics answers 503 metrics_busy with Retry-After at once.
func TestMetricsBoundsScrapes(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.MetricsToken = metricsToken })
	release := holdScrapes(t, p)
	st, h, body := get(t, p.URL+server.MetricsPath, "Authorization", "Bearer "+metricsToken, "Accept-Language", "en")
	release()
	if st != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, `"code":"metrics_busy"`) {
		t.Fatalf("scrape beyond the limit: %d %v %s", st, h, body)
	}
	// Once the held scrapes end, scraping works again.
	metricstest.Scrape(t, p.URL+server.MetricsPath, metricsToken)
}

// TestMetricsLaunch counts launch tokens minted and exchanges by outcome,
// each refusal under its code.
func TestMetricsLaunch(t *testing.T) {
	ctx := context.Background()
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.MetricsToken = metricsToken })
	cur, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	testdb.Must(t, err, "plugin financeiro")
	id, sec := "pc_"+strings.ToLower(auth.NewToken()[:20]), "pcs_"+auth.NewToken()
	_, err = p.Store.UpdatePlugin(ctx, p.Demo.ID, "financeiro", cur.Version, model.SystemActor("test"), "plugin.update",
		func(pl *model.Plugin) error {
			pl.ClientID, pl.ClientSecretHash = id, auth.HashToken(sec)
			return nil
		})
	testdb.Must(t, err, "give financeiro credentials")
	cliente := p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	token := func() string {
		r := cliente.Do("GET", "/p/financeiro/launch", nil)
		const field = `name="portico_token" value="`
		i := strings.Index(string(r.Body), field)
		if r.Status != http.StatusOK || i < 0 {
			t.Fatalf("launch page: %d %.300s", r.Status, r.Body)
		}
		rest := string(r.Body)[i+len(field):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	basic := func(id, sec string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+sec))
	}
	plugin := p.NewClient(t, "")
	exchange := func(auth string, body any) int {
		return plugin.Do("POST", "/api/v1/launch/exchange", body, "Authorization", auth).Status
	}
	tok := token()
	for _, tc := range []struct {
		auth   string
		body   any
		status int
	}{
		{basic(id, sec), map[string]string{"token": tok}, 200},
		{basic(id, sec), map[string]string{"token": tok}, 401},                          // token_used
		{basic(id, sec), map[string]string{"token": "a.b.c"}, 401},                      // token_invalid
		{basic(id, "pcs_wrong"), map[string]string{"token": token()}, 401},              // invalid_client
		{basic(id, sec), map[string]string{}, 400},                                      // bad_request
		{basic(id, sec), `{"token": "x", "extra": 1}`, http.StatusUnsupportedMediaType}, // bad_request (no JSON type)
	} {
		if st := exchange(tc.auth, tc.body); st != tc.status {
			t.Errorf("exchange %v: %d, want %d", tc.body, st, tc.status)
		}
	}
	f := metricstest.Scrape(t, p.URL+server.MetricsPath, metricsToken)
	for outcome, want := range map[string]float64{"ok": 1, "token_used": 1, "token_invalid": 1, "invalid_client": 1, "bad_request": 2} {
		if v, _ := f.Value("portico_launch_exchanges_total", "outcome", outcome); v != want {
			t.Errorf("exchanges %s = %v, want %v", outcome, v, want)
		}
	}
	if v, _ := f.Value("portico_launch_tokens_minted_total"); v != 2 {
		t.Errorf("tokens minted %v, want 2", v)
	}
}

// holdScrapes starts metrics.MaxScrapesInFlight scrapes of p that block
// inside the gathering until the returned release is called; release waits
// for them to end, and fails the test unless each answered 200.
func holdScrapes(t *testing.T, p *servertest.Portal) (release func()) {
	t.Helper()
	b := newBlocker()
	p.Server.Metrics.Registry().MustRegister(b)
	n := metrics.MaxScrapesInFlight
	errs := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequest("GET", p.URL+server.MetricsPath, nil)
			req.Header.Set("Authorization", "Bearer "+metricsToken)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					err = fmt.Errorf("held scrape: %d", res.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range n {
		select {
		case <-b.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("held scrapes did not start")
		}
	}
	return func() {
		close(b.release)
		for range n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
}

// blocker is a collector whose Collect waits until release is closed, to
// hold scrapes open.
type blocker struct {
	desc    *prometheus.Desc
	entered chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{desc: prometheus.NewDesc("test_blocker", "holds scrapes", nil, nil),
		entered: make(chan struct{}, metrics.MaxScrapesInFlight), release: make(chan struct{})}
}

func (b *blocker) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *blocker) Collect(ch chan<- prometheus.Metric) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, 1)
}
