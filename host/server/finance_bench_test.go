package server_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/fakeerp/erp"
	"github.com/portico-dev/portico/plugins/financeiro/calendar"
)

// BenchmarkFinance measures the finance plugin through the runtime
// (runner.Run: the portal's run path without the HTTP edge: input from the
// store, the sandbox, the view check) against the fake ERP on 127.0.0.1,
// and reports per call its total time and the plugin's own share: the
// total minus the time the ERP spent in its handler. Its peer, in the same
// run, is the hello plugin's render through the same path (the cost of any
// wasm call). docs/benchmarks.md has the numbers; run it with
//
//	go test -run '^$' -bench Finance -benchtime 300x ./host/server/
//
// "issue" follows the page, as a customer does, and registers a new slip
// each iteration (an installment and a new due date not asked before) until
// the combinations run out, then repeats them, answered from the plugin's
// store.
func BenchmarkFinance(b *testing.B) {
	ctx := context.Background()
	p := startFinancePortal(b)
	installHello(b, p.Portal)
	// New due dates up to a year ahead: enough combinations of installment
	// and date for every issue of a run to register a new slip.
	var values []model.ConfigValue
	for k, v := range erp.DemoPluginConfig("http://unused") {
		values = append(values, model.ConfigValue{Key: k, Type: model.ConfigString, Value: v})
	}
	cfg, err := p.Store.PluginConfig(ctx, p.Demo.ID, p.plugin.ID)
	testdb.Must(b, err, "load the configuration")
	for i := range values {
		for _, c := range cfg {
			if c.Key == values[i].Key {
				values[i].Value = c.Value // the real ERP URL
			}
		}
		if values[i].Key == "prazo_dias" {
			values[i].Value = "365"
		}
	}
	pl0, err := p.Store.PluginBySlug(ctx, p.Demo.ID, demo.FinanceiroSlug)
	testdb.Must(b, err, "load the plugin")
	testdb.Must(b, p.Store.ReplacePluginConfig(ctx, p.Demo.ID, demo.FinanceiroSlug, pl0.Version, values, model.SystemActor("bench")), "set prazo_dias")
	u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(b, err, "load the cliente")
	plugin := func(slug string) *model.Plugin {
		pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, slug)
		testdb.Must(b, err, "load %s", slug)
		return pl
	}
	call := func(pl *model.Plugin, action string, form map[string][]string) runner.Call {
		return runner.Call{Tenant: p.Demo, User: u, Role: model.RoleCliente, Locale: "pt-BR", Plugin: pl, Action: action, Form: form}
	}

	// The open installments and the dates a new due date may take, date
	// first, so consecutive issues are of different installments.
	var combos [][2]string
	t0 := time.Now().In(erp.Zone)
	today := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
	for _, in := range erp.DemoSeed(time.Now()).Installments[5001] {
		if in.Situation != erp.SituationOpen {
			continue
		}
		for d := 0; d <= 365; d++ {
			day := today.AddDate(0, 0, d)
			if calendar.IsBusinessDay(day) {
				combos = append(combos, [2]string{"5001:" + strings.Split(in.Number, "/")[0], day.Format(time.DateOnly)})
			}
		}
	}

	measure := func(b *testing.B, want string, next func(i int) runner.Call) {
		// One call outside the timer: the module's first instance.
		if res, err := p.Server.Runner.Run(ctx, next(-1)); err != nil || res.View == nil {
			b.Fatalf("warm-up call: %v", err)
		}
		totals := make([]time.Duration, 0, b.N)
		own := make([]time.Duration, 0, b.N)
		requests := int64(0)
		b.ResetTimer()
		for i := range b.N {
			erp0, req0 := p.erpNanos.Load(), p.erpRequests.Load()
			start := time.Now()
			res, err := p.Server.Runner.Run(ctx, next(i))
			took := time.Since(start)
			if err != nil || res.View == nil {
				b.Fatalf("call %d: %v", i, err)
			}
			if i == 0 && want != "" && !strings.Contains(fmt.Sprint(res.View.Blocks), want) {
				b.Fatalf("the view lacks %q: %v", want, res.View.Blocks)
			}
			totals = append(totals, took)
			own = append(own, took-time.Duration(p.erpNanos.Load()-erp0))
			requests += p.erpRequests.Load() - req0
		}
		b.StopTimer()
		slices.Sort(totals)
		slices.Sort(own)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(ms(percentile(totals, .5)), "p50_ms")
		b.ReportMetric(ms(percentile(totals, .99)), "p99_ms")
		b.ReportMetric(ms(percentile(own, .5)), "own_p50_ms")
		b.ReportMetric(ms(percentile(own, .99)), "own_p99_ms")
		b.ReportMetric(float64(requests)/float64(b.N), "erp_req/op")
	}

	b.Run("peer=hello-render", func(b *testing.B) {
		pl := plugin(demo.HelloSlug)
		measure(b, "Olá", func(int) runner.Call { return call(pl, "", nil) })
	})
	b.Run("list", func(b *testing.B) {
		pl := plugin(demo.FinanceiroSlug)
		measure(b, "Residencial Jardim das Flores", func(int) runner.Call { return call(pl, "", nil) })
	})
	issues := 0
	b.Run("issue", func(b *testing.B) {
		pl := plugin(demo.FinanceiroSlug)
		// As a customer does: the page first (it reads the contracts the
		// issue then relies on for snapshotTTL, 2 min).
		if _, err := p.Server.Runner.Run(ctx, call(pl, "", nil)); err != nil {
			b.Fatal(err)
		}
		measure(b, "Segunda via emitida", func(int) runner.Call {
			// Counted across the runs of -count, so no run repeats one.
			c := combos[issues%len(combos)]
			issues++
			return call(pl, "emitir", map[string][]string{"parcela": {c[0]}, "vencimento": {c[1]}})
		})
	})
}

// BenchmarkFinanceSlowERP measures how many of a customer's contracts the
// finance page shows when every ERP request takes the same time, through
// the runtime under the demo's 5 s call: on the first load and after each
// of two "Tentar novamente", once the plugin knows its call's time (it
// learns it first from a page whose installments hang, as it would from
// any request the host ends). docs/financeiro.md ("When the ERP is slow")
// has the numbers; each case is one measurement of 10 to 20 s, so run it
// once:
//
//	go test -run '^$' -bench FinanceSlowERP -benchtime 1x ./host/server/
func BenchmarkFinanceSlowERP(b *testing.B) {
	for _, tc := range []struct{ delayMS, contracts int }{{160, 20}, {300, 15}, {900, 15}, {1200, 15}, {1200, 2}} {
		b.Run(fmt.Sprintf("delay=%dms/contracts=%d", tc.delayMS, tc.contracts), func(b *testing.B) {
			p := startFinancePortalSeeded(b, demo.TenantSlug, withUnits(erp.DemoSeed(time.Now()), 101, tc.contracts-1))
			cliente := p.NewClient(b, "")
			cliente.Login("cliente@demo.portico.test", demo.Password)
			// The module's first instance, and the call's time the plugin
			// learns, on another customer's page.
			ambos := p.NewClient(b, "")
			ambos.Login("ambos@demo.portico.test", demo.Password)
			p.erp.SetFault(erp.Fault{Mode: erp.FaultHang, Endpoint: erp.EndpointInstallments})
			ambos.Do("GET", "/p/financeiro", nil)
			p.erp.SetFault(erp.Fault{Mode: erp.FaultSlow, DelayMS: tc.delayMS})
			b.ResetTimer()
			start := time.Now()
			page := cliente.Do("GET", "/p/financeiro", nil)
			first := time.Since(start)
			shown, _ := financeShown(string(page.Body))
			if !strings.Contains(string(page.Body), "wasm-table") {
				b.Fatalf("no installments shown: %.2000s", page.Body)
			}
			b.ReportMetric(float64(shown), "shown_first")
			b.ReportMetric(first.Seconds(), "s_first")
			for try := 1; try <= 2; try++ {
				if !strings.Contains(string(page.Body), `data-action="voltar"`) {
					break
				}
				m := csrfRe.FindSubmatch(page.Body)
				if m == nil {
					b.Fatalf("no csrf token in %.300s", page.Body)
				}
				page = cliente.Follow(cliente.Do("POST", "/p/financeiro/actions/voltar", url.Values{"_csrf": {string(m[1])}}))
				shown, _ = financeShown(string(page.Body))
				b.ReportMetric(float64(shown), fmt.Sprintf("shown_retry%d", try))
			}
			b.StopTimer()
			b.ReportMetric(0, "ns/op")
		})
	}
}
