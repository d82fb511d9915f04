package launch_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// BenchmarkExchange measures POST /api/v1/launch/exchange over real HTTP
// on 127.0.0.1 against a real server on each driver: b.N distinct tokens
// (minted beforehand) redeemed by 16 concurrent clients with keep-alive.
// It reports exchanges/s and the p50/p99 latency. Target on PostgreSQL
// (2 cores, client and server sharing them): ≥ 2,000/s with p99 ≤ 25 ms.
// Run it as: go test -run '^$' -bench Exchange -benchtime 4000x ./host/launch
//
// Its clients share the process (and, pinned, the core) with the server:
// it is for profiling the exchange in one process. The load script's
// exchange row (bench/load) sends the requests with wrk from another core.
func BenchmarkExchange(b *testing.B) {
	for _, driver := range testdb.Drivers {
		b.Run(driver, func(b *testing.B) {
			p := servertest.Start(b, driver)
			ctx := context.Background()
			id, sec := creds(b, p, p.Demo.ID, "financeiro", model.UserFieldName, model.UserFieldEmail)
			plugin, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
			testdb.Must(b, err, "plugin")
			user, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
			testdb.Must(b, err, "user")
			svc := p.Server.Launch
			bodies := make([][]byte, b.N)
			for i := range bodies {
				tok, err := svc.Mint(ctx, launch.MintInput{Tenant: p.Demo, Plugin: plugin, User: user, Role: model.RoleCliente, Locale: "pt-BR", Issuer: p.URL})
				testdb.Must(b, err, "mint")
				bodies[i] = []byte(`{"token":"` + tok + `"}`)
			}
			const workers = 16
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
			defer client.CloseIdleConnections()
			authz := basic(id, sec)
			lat := make([]time.Duration, b.N)
			var next, failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= len(bodies) {
							return
						}
						req, _ := http.NewRequest("POST", p.URL+"/api/v1/launch/exchange", bytes.NewReader(bodies[i]))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", authz)
						t0 := time.Now()
						res, err := client.Do(req)
						if err == nil {
							_, _ = io.Copy(io.Discard, res.Body)
							res.Body.Close()
						}
						lat[i] = time.Since(t0)
						if err != nil || res.StatusCode != 200 {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d exchanges failed", n, b.N)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "exchanges/s")
			b.ReportMetric(q(0.50), "p50_ms")
			b.ReportMetric(q(0.99), "p99_ms")
			b.Log(fmt.Sprintf("%s: %d exchanges in %s", driver, b.N, elapsed))
		})
	}
}
