package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// The earn benchmark's shape, as host/server/bench_test.go's: a closed
// loop of benchClients workers on keep-alive connections, b.N requests in
// all, stopping early after benchDeadline.
const (
	benchClients   = 64
	benchCustomers = 1000             // the earns spread over them
	benchWarmup    = 256              // requests before the timer starts
	benchDeadline  = 60 * time.Second // a measured run stops early after this
	benchTimeout   = 10 * time.Second // per request
)

// BenchmarkEarnAPI: POST /api/v1/customers/{id}/points with a fresh
// Idempotency-Key each (a purchase amount and a receipt, as a POS sends
// them) from 64 concurrent clients on keep-alive connections against a
// real server on 127.0.0.1, on PostgreSQL and on SQLite; and, as a peer
// in the same run, GET /api/v1/openapi.json (static, no database, 80 kB)
// for the HTTP stack's own rate on this machine. b.N is the total number
// of requests; the metrics are req/s, p50_ms, p99_ms and errors (the
// built-in ns/op is suppressed: at 64 connections it is 1/req/s).
//
//	go test -run '^$' -bench EarnAPI -benchtime 20000x ./plugins/loyalty/api/
func BenchmarkEarnAPI(b *testing.B) {
	for _, d := range []string{"postgres", "sqlite"} {
		b.Run(d, func(b *testing.B) {
			e := start(b, d)
			ids := benchCustomersOf(b, e)
			auth := "Bearer " + e.token
			run := time.Now().UnixNano()
			benchLoad(b, func(i int) (*http.Request, error) {
				body := fmt.Appendf(nil, `{"amount_cents":%d,"receipt":"NFC-e %d"}`, 1000+i%50000, i)
				req, err := http.NewRequest("POST", e.srv.URL+pointsPath(ids[i%len(ids)]), bytes.NewReader(body))
				if err != nil {
					return nil, err
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", auth)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d-%d", run, i))
				return req, nil
			}, http.StatusCreated)
			// Every earn was applied once, and the balances are the ledger.
			var total int64
			for _, id := range ids {
				bal, sum := e.balanceAndLedger(b, id)
				if bal != sum {
					b.Fatalf("customer %s: balance %d, ledger %d", id, bal, sum)
				}
				total += bal
			}
			if total == 0 {
				b.Fatal("no points were given")
			}
		})
	}
	b.Run("openapi-static", func(b *testing.B) {
		e := start(b, "sqlite")
		benchLoad(b, func(int) (*http.Request, error) {
			return http.NewRequest("GET", e.srv.URL+"/api/v1/openapi.json", nil)
		}, http.StatusOK)
	})
}

// benchCustomersOf creates the customers the earns spread over.
func benchCustomersOf(b *testing.B, e *env) []string {
	b.Helper()
	ids := make([]string, benchCustomers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchCustomers; i += 16 {
				c := &store.Customer{Name: fmt.Sprintf("Cliente %d", i)}
				if err := e.st.CreateCustomer(context.Background(), c); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				ids[i] = c.ID
			}
		}()
	}
	wg.Wait()
	testdb.Must(b, failed, "create customers")
	return ids
}

// benchLoad warms up, then sends b.N requests made by newReq (numbered
// 0…b.N-1; the warm-up's come after) from benchClients workers over one
// keep-alive transport, and reports the rate and the latencies. Any
// status but want fails the benchmark.
func benchLoad(b *testing.B, newReq func(i int) (*http.Request, error), want int) {
	b.Helper()
	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients,
		IdleConnTimeout: 2 * time.Minute, DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: benchTimeout}
	do := func(i int) error {
		req, err := newReq(i)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		switch {
		case err != nil:
			return fmt.Errorf("read body: %w", err)
		case res.StatusCode != want:
			return fmt.Errorf("%s %s: %d %.300s", req.Method, req.URL.Path, res.StatusCode, body)
		}
		return nil
	}

	warm := runLoad(do, b.N, benchWarmup)
	if warm.errors > 0 {
		b.Fatalf("warm-up: %d of %d requests failed; first: %v", warm.errors, benchWarmup, warm.firstErr)
	}
	dialsBefore := dials.Load()
	b.ResetTimer()
	res := runLoad(do, 0, b.N)
	b.StopTimer()

	n := len(res.latencies)
	slices.Sort(res.latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(n)/res.elapsed.Seconds(), "req/s")
	b.ReportMetric(ms(percentile(res.latencies, 0.50)), "p50_ms")
	b.ReportMetric(ms(percentile(res.latencies, 0.99)), "p99_ms")
	b.ReportMetric(float64(res.errors), "errors")
	if res.timedOut {
		b.Logf("stopped after %s: %d of %d requests done", benchDeadline, n, b.N)
	}
	if d := dials.Load() - dialsBefore; d > 0 {
		b.Logf("%d new connections during the measured run (expected 0 after the warm-up)", d)
	}
	if res.errors > 0 {
		b.Fatalf("%d of %d requests failed; first: %v", res.errors, n, res.firstErr)
	}
}

type loadResult struct {
	latencies []time.Duration
	errors    int64
	firstErr  error
	elapsed   time.Duration
	timedOut  bool
}

// runLoad sends the requests first…first+total-1 from benchClients
// workers, stopping early after benchDeadline.
func runLoad(do func(i int) error, first, total int) *loadResult {
	lat := make([]time.Duration, total)
	var (
		next, done, errs atomic.Int64
		timedOut         atomic.Bool
		errOnce          sync.Once
		firstErr         error
		wg               sync.WaitGroup
	)
	t0 := time.Now()
	stop := t0.Add(benchDeadline)
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
				err := do(first + int(i))
				lat[done.Add(1)-1] = time.Since(began)
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	return &loadResult{latencies: lat[:done.Load()], errors: errs.Load(), firstErr: firstErr,
		elapsed: time.Since(t0), timedOut: timedOut.Load()}
}

// percentile returns the nearest-rank q-quantile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
