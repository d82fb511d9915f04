package server_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
)

// Load benchmarks reported in docs/benchmarks.md. Each runs the real server
// on 127.0.0.1 with a real database and drives it with a closed loop of
// benchConns workers, each on its own keep-alive connection, all logged in
// with one shared session cookie. Run them with
//
//	go test -run '^$' -bench 'Menu|Home' -benchtime 20000x -count 3 ./host/server/
//
// b.N is the total number of measured requests across all workers. The
// built-in ns/op is suppressed (at 64 connections it is only 1/req/s);
// the reported metrics are req/s, p50_ms, p99_ms and errors.
const (
	benchConns    = 64
	benchWarmup   = 512              // requests before the timer starts
	benchDeadline = 60 * time.Second // a measured run stops early after this
	benchTimeout  = 10 * time.Second // per request
	benchEmail    = "cliente@demo.portico.test"
	benchPassword = "portico-demo"
	sessionCookie = "portico_session"
)

var benchDrivers = []string{"sqlite", "postgres"}

// BenchmarkMenuJSON measures the logged-in GET /api/v1/me/menu.
func BenchmarkMenuJSON(b *testing.B) {
	for _, d := range benchDrivers {
		b.Run(d, func(b *testing.B) { benchLoad(b, servertest.Start(b, d), "/api/v1/me/menu", `"slug":"financeiro"`) })
	}
}

// BenchmarkHomeHTML measures the logged-in HTML home, GET /.
func BenchmarkHomeHTML(b *testing.B) {
	for _, d := range benchDrivers {
		b.Run(d, func(b *testing.B) { benchLoad(b, servertest.Start(b, d), "/", `data-slug="financeiro"`) })
	}
}

// loadResult is what one closed-loop run observed.
type loadResult struct {
	latencies []time.Duration // of completed requests, in no order
	errors    int64
	firstErr  string
	elapsed   time.Duration
	timedOut  bool
	dials     int64 // connections opened during the run
}

// benchLoad runs the load against path on p; want is a string the
// logged-in response must contain, checked once before the warm-up.
func benchLoad(b *testing.B, p *servertest.Portal, path, want string) {
	cookie := benchLogin(b, p)

	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        benchConns,
		MaxIdleConnsPerHost: benchConns,
		MaxConnsPerHost:     benchConns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{
		Transport:     tr,
		Timeout:       benchTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	target := p.URL + path
	benchCheck(b, client, target, cookie, want)

	warm := runLoad(b, client, &dials, target, cookie, benchWarmup)
	if warm.errors > 0 {
		b.Fatalf("warm-up: %d of %d requests failed; first: %s", warm.errors, benchWarmup, warm.firstErr)
	}

	b.ResetTimer()
	res := runLoad(b, client, &dials, target, cookie, b.N)
	b.StopTimer()

	n := len(res.latencies)
	slices.Sort(res.latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(0, "ns/op") // suppress: meaningless per request at 64 connections
	b.ReportMetric(float64(n)/res.elapsed.Seconds(), "req/s")
	b.ReportMetric(ms(percentile(res.latencies, 0.50)), "p50_ms")
	b.ReportMetric(ms(percentile(res.latencies, 0.99)), "p99_ms")
	b.ReportMetric(float64(res.errors), "errors")
	if res.timedOut {
		b.Logf("stopped after %s: %d of %d requests done", benchDeadline, n, b.N)
	}
	if res.dials > 0 {
		b.Logf("%d new connections during the measured run (expected 0 after warm-up)", res.dials)
	}
	if res.errors > 0 {
		b.Fatalf("%d of %d requests failed; first: %s", res.errors, n, res.firstErr)
	}
}

// runLoad sends total GETs to target from benchConns workers and returns
// every completed request's latency. A worker stops once total requests have
// been claimed or benchDeadline has passed since the start. dials counts the
// client's new connections.
func runLoad(b *testing.B, client *http.Client, dials *atomic.Int64, target, cookie string, total int) *loadResult {
	b.Helper()
	u, err := url.Parse(target)
	if err != nil {
		b.Fatalf("parse %s: %v", target, err)
	}
	lat := make([]time.Duration, total)
	var (
		next, done, errs atomic.Int64
		timedOut         atomic.Bool
		errOnce          sync.Once
		firstErr         string
		wg               sync.WaitGroup
	)
	fail := func(msg string) {
		errs.Add(1)
		errOnce.Do(func() { firstErr = msg })
	}
	dialsBefore := dials.Load()
	start := make(chan struct{})
	var t0 time.Time
	for w := 0; w < benchConns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{
				"Cookie": {sessionCookie + "=" + cookie},
				"Accept": {"*/*"},
			}}
			<-start
			stop := t0.Add(benchDeadline)
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				began := time.Now()
				if began.After(stop) {
					timedOut.Store(true)
					return
				}
				res, err := client.Do(req)
				if err != nil {
					fail(err.Error())
					continue
				}
				_, err = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				lat[done.Add(1)-1] = time.Since(began)
				switch {
				case err != nil:
					fail(fmt.Sprintf("read body: %v", err))
				case res.StatusCode != http.StatusOK:
					fail(fmt.Sprintf("status %d", res.StatusCode))
				}
			}
		}()
	}
	t0 = time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	return &loadResult{
		latencies: lat[:done.Load()],
		errors:    errs.Load(),
		firstErr:  firstErr,
		elapsed:   elapsed,
		timedOut:  timedOut.Load(),
		dials:     dials.Load() - dialsBefore,
	}
}

// percentile returns the nearest-rank q-quantile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// benchCheck fails b unless one GET of target answers 200 with want in the
// body, so an error page served with 200 could not pass for the real page.
func benchCheck(b *testing.B, client *http.Client, target, cookie, want string) {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		b.Fatalf("new request: %v", err)
	}
	req.Header.Set("Cookie", sessionCookie+"="+cookie)
	res, err := client.Do(req)
	if err != nil {
		b.Fatalf("GET %s: %v", target, err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		b.Fatalf("GET %s: status %d, err %v, body lacks %q: %.300s", target, res.StatusCode, err, want, body)
	}
}

// benchLogin logs in through the JSON API and returns the session cookie's
// value.
func benchLogin(b *testing.B, p *servertest.Portal) string {
	b.Helper()
	c := p.NewClient(b, "")
	c.Login(benchEmail, benchPassword)
	u, err := url.Parse(p.URL)
	if err != nil {
		b.Fatalf("parse %s: %v", p.URL, err)
	}
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == sessionCookie && ck.Value != "" {
			return ck.Value
		}
	}
	b.Fatalf("login set no %s cookie", sessionCookie)
	return ""
}
