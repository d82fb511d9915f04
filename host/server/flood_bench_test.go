package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/config"
)

// BenchmarkMenuDuringLoginFlood measures what a logged-in customer gets
// while 64 attackers, each pausing 50 ms between attempts, spray wrong
// passwords (each attempt its own account
// and its own address, through a trusted proxy, so no throttle stops it
// before the hash): 16 clients share out b.N menu requests. Sub-benchmarks:
// "gate" (the login queue, auth.Gate: half the cores hash, a bounded
// queue, the rest shed with 503), "no-gate" (every login hashed as it
// comes, as before), and the peer "no-flood" (the same menu load alone).
//
//	go test -run '^$' -bench MenuDuringLoginFlood -benchtime 3000x ./host/server/
func BenchmarkMenuDuringLoginFlood(b *testing.B) {
	for _, mode := range []string{"no-flood", "no-gate", "gate"} {
		b.Run(mode, func(b *testing.B) {
			p := servertest.StartWith(b, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
			if mode == "no-gate" {
				p.Server.Env.LoginGate = nil // before any login: nothing reads it yet
			}
			cookie := benchLogin(b, p)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}, Timeout: 30 * time.Second}
			ctx, stop := context.WithCancel(context.Background())
			var logins, shed atomic.Int64
			var wg sync.WaitGroup
			floodStart := time.Now()
			if mode != "no-flood" {
				var n atomic.Int64
				for range 64 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for ctx.Err() == nil {
							i := n.Add(1)
							body := fmt.Appendf(nil, `{"email":"alvo%d@demo.portico.test","password":"errada"}`, i)
							req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/api/v1/session", bytes.NewReader(body))
							req.Header.Set("Content-Type", "application/json")
							req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", (i/250)%250, i%250+1))
							res, err := client.Do(req)
							if err != nil {
								continue
							}
							_, _ = io.Copy(io.Discard, res.Body)
							_ = res.Body.Close()
							logins.Add(1)
							if res.StatusCode == http.StatusServiceUnavailable {
								shed.Add(1)
							}
							// Each attacker paces itself (at most ~1,280 attempts/s
							// in all): an unpaced loop measures the HTTP flood,
							// which a proxy in front must absorb, not the hashing.
							time.Sleep(50 * time.Millisecond)
						}
					}()
				}
				time.Sleep(500 * time.Millisecond) // let the flood build up
			}
			menu := func() error {
				req, _ := http.NewRequest(http.MethodGet, p.URL+"/api/v1/me/menu", nil)
				req.Header.Set("Cookie", sessionCookie+"="+cookie)
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("menu: %d", res.StatusCode)
				}
				return nil
			}
			b.ResetTimer()
			res := closedLoop(b, b.N, menu)
			b.StopTimer()
			stop()
			wg.Wait()
			elapsed := time.Since(floodStart)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(res.rate, "menu_req/s")
			b.ReportMetric(ms(res.p99), "menu_p99_ms")
			b.ReportMetric(float64(logins.Load())/elapsed.Seconds(), "logins/s")
			b.ReportMetric(float64(shed.Load())/elapsed.Seconds(), "shed/s")
			if res.errors > 0 {
				b.Fatalf("%d menu requests failed; first: %v", res.errors, res.firstErr)
			}
		})
	}
}
