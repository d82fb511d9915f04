package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/model"
)

// BenchmarkPortalSession measures what a company's site does for each
// customer it sends into the portal: create a portal session (POST
// /api/v1/portal/sessions with an API key) and open its auth_url (the
// single-use redemption that starts a login and redirects), from
// portalBenchConns concurrent clients on keep-alive connections. b.N is the
// number of create+open pairs. Its peer in the same run is GET /healthz,
// Portico's smallest handler, through the same server and clients. Run it
// with
//
//	go test -run '^$' -bench PortalSession -benchtime 5000x -count 3 ./host/server/
//
// The per-key rate limit is lifted for the run (PORTICO_PORTAL_SESSION_RATE).
func BenchmarkPortalSession(b *testing.B) {
	for _, d := range benchDrivers {
		b.Run(d, func(b *testing.B) {
			p := servertest.StartWith(b, d, func(c *config.Config) { c.PortalSessionRate = 1_000_000 })
			key := newKey(b, p, p.Demo.ID, model.ScopePortalSessions)
			client := &http.Client{
				Transport: &http.Transport{MaxIdleConns: portalBenchConns, MaxIdleConnsPerHost: portalBenchConns,
					MaxConnsPerHost: portalBenchConns, DisableCompression: true},
				Timeout:       benchTimeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			body, _ := json.Marshal(map[string]any{"customer_email": "cliente@demo.portico.test", "forward": "customer_profile"})
			pair := func() error {
				req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/v1/portal/sessions", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				var ps struct {
					AuthURL string `json:"auth_url"`
				}
				err = json.NewDecoder(res.Body).Decode(&ps)
				_ = res.Body.Close()
				if err != nil || res.StatusCode != http.StatusCreated {
					return fmt.Errorf("create: status %d, %v", res.StatusCode, err)
				}
				res, err = client.Get(ps.AuthURL)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/profile" {
					return fmt.Errorf("open: status %d → %q", res.StatusCode, res.Header.Get("Location"))
				}
				return nil
			}
			health := func() error {
				res, err := client.Get(p.URL + "/healthz")
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("healthz: %d", res.StatusCode)
				}
				return nil
			}
			if err := pair(); err != nil {
				b.Fatalf("first pair: %v", err)
			}
			closedLoop(b, 200, health) // warm the connections
			peer := closedLoop(b, max(b.N, 2000), health)
			b.ResetTimer()
			res := closedLoop(b, b.N, pair)
			b.StopTimer()
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(res.rate, "pairs/s")
			b.ReportMetric(ms(res.p50), "p50_ms")
			b.ReportMetric(ms(res.p99), "p99_ms")
			b.ReportMetric(peer.rate, "peer_healthz_req/s")
			b.ReportMetric(ms(peer.p99), "peer_p99_ms")
			if res.errors > 0 {
				b.Fatalf("%d of %d pairs failed; first: %v", res.errors, b.N, res.firstErr)
			}
		})
	}
}

// portalBenchConns is the number of concurrent clients of
// BenchmarkPortalSession: a company's backend and its customers' browsers.
const portalBenchConns = 16

// loopResult is what closedLoop observed.
type loopResult struct {
	rate     float64 // completed operations per second
	p50, p99 time.Duration
	errors   int64
	firstErr error
}

// closedLoop runs op total times from portalBenchConns workers, stopping
// early after benchDeadline, and returns the rate and latencies.
func closedLoop(b *testing.B, total int, op func() error) loopResult {
	b.Helper()
	lat := make([]time.Duration, total)
	var next, done, errs atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	t0 := time.Now()
	for range portalBenchConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) || time.Since(t0) > benchDeadline {
					return
				}
				began := time.Now()
				if err := op(); err != nil {
					errs.Add(1)
					once.Do(func() { first = err })
					continue
				}
				lat[done.Add(1)-1] = time.Since(began)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	got := lat[:done.Load()]
	slices.Sort(got)
	return loopResult{rate: float64(len(got)) / elapsed.Seconds(), p50: percentile(got, .5), p99: percentile(got, .99), errors: errs.Load(), firstErr: first}
}
