package storage_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestPluginHealth: two nodes publish their health of a plugin into one
// database and each reads both; a new publication replaces the node's row;
// bounds apply; tenants do not see each other's; a node that stops
// refreshing is left out after PluginHealthStale and swept; a deleted
// plugin's rows are not refreshed; a retiring node's rows go at once.
func TestPluginHealth(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var clock atomic.Int64
			clock.Store(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).UnixNano())
			now := func() time.Time { return time.Unix(0, clock.Load()) }
			advance := func(d time.Duration) { clock.Add(int64(d)) }
			url := testdb.URL(t, d)
			open := func() *storage.Store {
				st, err := storage.Open(ctx, url, storage.Options{Now: now, Logger: testdb.Logger(t)})
				testdb.Must(t, err, "open")
				t.Cleanup(func() { _ = st.Close() })
				testdb.Must(t, st.Migrate(ctx), "migrate")
				return st
			}
			n1, n2 := open(), open()
			if n1.Node() == "" || n1.Node() == n2.Node() || n1.NodeHost() != "" {
				t.Fatalf("nodes %q and %q named %q (no name unless the operator gives one)", n1.Node(), n2.Node(), n1.NodeHost())
			}
			n1.SetNodeName("  web-1  ")
			if n1.NodeHost() != "web-1" {
				t.Fatalf("node name %q", n1.NodeHost())
			}

			a := newTenant(t, n1, "alfa", "alfa.test")
			b := newTenant(t, n1, "beta", "beta.test")
			p1, p2 := newWasmPlugin(t, n1, a.ID, "boleto"), newWasmPlugin(t, n1, a.ID, "extrato")
			q := newWasmPlugin(t, n1, b.ID, "boleto")

			open1 := now().Add(30 * time.Second)
			var errs []storage.HealthError
			for i := range 25 { // newest first
				errs = append(errs, storage.HealthError{At: now().Add(-time.Duration(i) * time.Second), Reason: "trap",
					Detail: fmt.Sprintf("erro %d", i)})
			}
			errs[0].Detail = strings.Repeat("é", storage.PluginHealthMaxText) // 2 bytes each: cut at a character
			var logs []storage.HealthLog
			for i := range 60 {
				logs = append(logs, storage.HealthLog{At: now().Add(-time.Duration(i) * time.Second), Level: "info", Message: fmt.Sprintf("linha %d", i)})
			}
			logs[0].Attrs = map[string]string{}
			for i := range 40 {
				logs[0].Attrs[fmt.Sprintf("k%02d", i)] = "v"
			}
			h1 := storage.PluginHealth{TenantID: a.ID, PluginID: p1.ID, Calls: 10, Errors: 2, P50: 1500 * time.Microsecond,
				P95: 12345 * time.Microsecond, LastErrors: errs, Logs: logs, BreakerOpenUntil: open1,
				NodeID: "forged", NodeHost: "forged", UpdatedAt: now().Add(time.Hour)} // ignored
			testdb.Must(t, n1.PublishPluginHealth(ctx, []storage.PluginHealth{
				h1,
				{TenantID: a.ID, PluginID: q.ID, Calls: 99},           // another tenant's plugin: left out
				{TenantID: a.ID, PluginID: "nao-existe", Calls: 99},   // no such plugin: left out
				{TenantID: b.ID, PluginID: q.ID, Calls: 1, Errors: 1}, // tenant beta
				{TenantID: b.ID, PluginID: q.ID, Calls: 3, Errors: 1}, // the same plugin again: the last wins
			}), "publish on n1")
			advance(time.Second)
			testdb.Must(t, n2.PublishPluginHealth(ctx, []storage.PluginHealth{
				{TenantID: a.ID, PluginID: p1.ID, Calls: 5, P50: time.Millisecond, P95: 40 * time.Millisecond},
				{TenantID: a.ID, PluginID: p2.ID, Calls: 7},
			}), "publish on n2")
			testdb.Must(t, n2.PublishPluginHealth(ctx, nil), "publish nothing")

			byNode := func(st *storage.Store, tenantID, pluginID string) map[string]storage.PluginHealth {
				t.Helper()
				hs, err := st.PluginHealthOf(ctx, tenantID, pluginID)
				testdb.Must(t, err, "read health")
				out := map[string]storage.PluginHealth{}
				for _, h := range hs {
					if h.TenantID != tenantID || h.PluginID != pluginID {
						t.Errorf("asked for %s/%s, got a row of %s/%s", tenantID, pluginID, h.TenantID, h.PluginID)
					}
					out[h.NodeID] = h
				}
				return out
			}
			// Either node reads both.
			for _, reader := range []*storage.Store{n1, n2} {
				got := byNode(reader, a.ID, p1.ID)
				if len(got) != 2 {
					t.Fatalf("p1 on %d nodes, want 2: %+v", len(got), got)
				}
				g1, g2 := got[n1.Node()], got[n2.Node()]
				if g1.Calls != 10 || g1.Errors != 2 || g1.P50 != 1500*time.Microsecond || g1.P95 != 12345*time.Microsecond ||
					!g1.BreakerOpenUntil.Equal(open1) || g1.NodeHost != n1.NodeHost() || !g1.UpdatedAt.Equal(now().Add(-time.Second)) {
					t.Errorf("n1's row: %+v", g1)
				}
				if g2.Calls != 5 || g2.P95 != 40*time.Millisecond || !g2.BreakerOpenUntil.IsZero() || !g2.UpdatedAt.Equal(now()) {
					t.Errorf("n2's row: %+v", g2)
				}
				// Bounds: 20 errors and 50 lines, newest first; texts cut
				// at a character; at most 32 attributes.
				if len(g1.LastErrors) != storage.PluginHealthMaxErrors || g1.LastErrors[1].Detail != "erro 1" ||
					g1.LastErrors[19].Detail != "erro 19" || !g1.LastErrors[1].At.Equal(errs[1].At) {
					t.Errorf("n1's errors: %d, %+v", len(g1.LastErrors), g1.LastErrors)
				}
				if d := g1.LastErrors[0].Detail; len(d) != storage.PluginHealthMaxText || !utf8.ValidString(d) {
					t.Errorf("a long detail became %d bytes (valid UTF-8: %v)", len(d), utf8.ValidString(d))
				}
				if len(g1.Logs) != storage.PluginHealthMaxLogs || g1.Logs[0].Message != "linha 0" || g1.Logs[49].Message != "linha 49" ||
					len(g1.Logs[0].Attrs) != storage.PluginHealthMaxAttrs || g1.Logs[0].Attrs["k00"] != "v" {
					t.Errorf("n1's logs: %d, first %+v", len(g1.Logs), g1.Logs[0])
				}
			}
			if got := byNode(n1, a.ID, q.ID); len(got) != 0 {
				t.Errorf("a row under tenant alfa for beta's plugin: %+v", got)
			}
			if got := byNode(n1, b.ID, q.ID); len(got) != 1 || got[n1.Node()].Calls != 3 {
				t.Errorf("beta's plugin: %+v", got)
			}
			// Another tenant's ID with the plugin's: nothing.
			if got := byNode(n1, b.ID, p1.ID); len(got) != 0 {
				t.Errorf("tenant beta read alfa's plugin: %+v", got)
			}
			sum, err := n2.TenantPluginHealth(ctx, a.ID)
			testdb.Must(t, err, "tenant health")
			var names []string
			for _, h := range sum {
				names = append(names, h.PluginID+"@"+h.NodeID)
				if h.TenantID != a.ID || h.LastErrors != nil || h.Logs != nil {
					t.Errorf("summary row %+v", h)
				}
			}
			want := []string{p1.ID + "@" + n1.Node(), p1.ID + "@" + n2.Node(), p2.ID + "@" + n2.Node()}
			slices.Sort(names)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("tenant summary %v, want %v", names, want)
			}

			// A new publication replaces the node's row.
			testdb.Must(t, n1.PublishPluginHealth(ctx, []storage.PluginHealth{{TenantID: a.ID, PluginID: p1.ID, Calls: 11, Errors: 2}}), "publish again")
			if g := byNode(n2, a.ID, p1.ID)[n1.Node()]; g.Calls != 11 || !g.BreakerOpenUntil.IsZero() || len(g.LastErrors) != 0 || len(g.Logs) != 0 {
				t.Errorf("after the second publication: %+v", g)
			}

			// n1 keeps refreshing, n2 stops: past PluginHealthStale n2's
			// rows are not read, and the sweep deletes them.
			advance(storage.PluginHealthStale - 30*time.Second)
			if n, err := n1.RefreshPluginHealth(ctx); err != nil || n != 2 { // p1 and beta's q
				t.Fatalf("refresh: %d, %v", n, err)
			}
			advance(31 * time.Second)
			if got := byNode(n1, a.ID, p1.ID); len(got) != 1 || got[n1.Node()].Calls != 11 {
				t.Errorf("after n2 went quiet: %+v", got)
			}
			if n, err := n1.SweepPluginHealth(ctx); err != nil || n != 2 {
				t.Errorf("sweep: %d, %v; want n2's 2 rows", n, err)
			}
			if n, err := n1.CountPluginHealthForTest(ctx); err != nil || n != 2 {
				t.Errorf("%d rows left, %v; want n1's 2", n, err)
			}

			// A deleted plugin is neither published nor refreshed: its row
			// ages out.
			testdb.Must(t, n1.DeletePlugin(ctx, a.ID, p1.Slug, p1.Version, testActor), "delete p1")
			testdb.Must(t, n1.PublishPluginHealth(ctx, []storage.PluginHealth{{TenantID: a.ID, PluginID: p1.ID, Calls: 12}}), "publish deleted")
			if n, err := n1.RefreshPluginHealth(ctx); err != nil || n != 1 { // q only
				t.Errorf("refresh after the delete: %d, %v", n, err)
			}
			advance(storage.PluginHealthStale + time.Second)
			if n, err := n1.SweepPluginHealth(ctx); err != nil || n != 2 {
				t.Errorf("sweep after the delete: %d, %v", n, err)
			}

			// Retiring deletes the node's rows at once, and only its own.
			testdb.Must(t, n1.PublishPluginHealth(ctx, []storage.PluginHealth{{TenantID: a.ID, PluginID: p2.ID, Calls: 1}}), "publish p2 on n1")
			testdb.Must(t, n2.PublishPluginHealth(ctx, []storage.PluginHealth{{TenantID: a.ID, PluginID: p2.ID, Calls: 2}}), "publish p2 on n2")
			testdb.Must(t, n1.RetirePluginHealth(ctx), "retire n1")
			if got := byNode(n2, a.ID, p2.ID); len(got) != 1 || got[n2.Node()].Calls != 2 {
				t.Errorf("after n1 retired: %+v", got)
			}

			// Whatever is stored in the lists, a read returns a bounded list
			// or none, never an error.
			for _, junk := range []string{"", "null", "{}", `[{"at":"ontem"}]`, "[" + strings.Repeat(`{"message":"x"},`, 30000) + "{}]",
				`[{"message":"` + strings.Repeat("x", 5000) + `"}]`} {
				testdb.Must(t, n2.SetPluginHealthColumnForTest(ctx, p2.ID, "logs", junk), "write junk")
				hs, err := n1.PluginHealthOf(ctx, a.ID, p2.ID)
				if err != nil || len(hs) != 1 || len(hs[0].Logs) > storage.PluginHealthMaxLogs {
					t.Errorf("junk %.40q: %v, %+v", junk, err, hs)
					continue
				}
				for _, l := range hs[0].Logs {
					if len(l.Message) > storage.PluginHealthMaxText {
						t.Errorf("junk %.40q: a message of %d bytes", junk, len(l.Message))
					}
				}
			}
		})
	}
}

// TestHealthListBound: a list is cut to PluginHealthMaxJSON bytes by
// leaving out its oldest entries, and what is left decodes as it was.
func TestHealthListBound(t *testing.T) {
	big := map[string]string{}
	for i := range storage.PluginHealthMaxAttrs {
		big[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", storage.PluginHealthMaxText)
	}
	var logs []storage.HealthLog
	for i := range storage.PluginHealthMaxLogs {
		logs = append(logs, storage.HealthLog{At: time.Unix(int64(1000-i), 0).UTC(), Level: "info", Message: fmt.Sprint(i), Attrs: big})
	}
	s := storage.EncodeHealthListForTest(logs)
	if len(s) > storage.PluginHealthMaxJSON {
		t.Fatalf("encoded %d bytes, over %d", len(s), storage.PluginHealthMaxJSON)
	}
	got := storage.DecodeHealthListForTest(s)
	if len(got) == 0 || len(got) == len(logs) || got[0].Message != "0" || got[len(got)-1].Message != fmt.Sprint(len(got)-1) ||
		len(got[0].Attrs) != storage.PluginHealthMaxAttrs {
		t.Fatalf("kept %d of %d lines (first %q)", len(got), len(logs), got[0].Message)
	}
	// Small lines all fit.
	for i := range logs {
		logs[i].Attrs = nil
	}
	if got := storage.DecodeHealthListForTest(storage.EncodeHealthListForTest(logs)); len(got) != storage.PluginHealthMaxLogs {
		t.Errorf("kept %d small lines", len(got))
	}
}

// FuzzDecodeHealthList: whatever text is in a list column, the read
// neither panics nor returns more or longer entries than the bounds.
func FuzzDecodeHealthList(f *testing.F) {
	f.Add(`[{"at":"2026-12-04T12:00:00Z","level":"info","message":"ok","attrs":{"k":"v"}}]`)
	f.Add(`[{"message":"\xff\xfe"}]`)
	f.Add(`[null,1,"x"]`)
	f.Add(`{"a":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		got := storage.DecodeHealthListForTest(s)
		if len(got) > storage.PluginHealthMaxLogs {
			t.Fatalf("%d lines", len(got))
		}
		for _, l := range got {
			if len(l.Message) > storage.PluginHealthMaxText || len(l.Level) > storage.PluginHealthMaxWord ||
				len(l.Attrs) > storage.PluginHealthMaxAttrs || !utf8.ValidString(l.Message) {
				t.Fatalf("line out of bounds: %+v", l)
			}
		}
		// What was read encodes within the bound.
		if e := storage.EncodeHealthListForTest(got); len(e) > storage.PluginHealthMaxJSON {
			t.Fatalf("encoded %d bytes", len(e))
		}
	})
}

// BenchmarkPublishPluginHealth measures one publication of 1 and of 100
// plugins with full lists (20 errors, 50 log lines of ~80 bytes), and the
// refresh of an idle node's 100 rows, on each database.
func BenchmarkPublishPluginHealth(b *testing.B) {
	for _, d := range testdb.Drivers {
		b.Run(d, func(b *testing.B) {
			ctx := context.Background()
			st := testdb.Open(b, d)
			tn := newTenant(b, st, "alfa", "alfa.test")
			var hs []storage.PluginHealth
			for i := range 100 {
				p := newWasmPlugin(b, st, tn.ID, fmt.Sprintf("p%03d", i))
				h := storage.PluginHealth{TenantID: tn.ID, PluginID: p.ID, Calls: 1000, Errors: 20, P50: time.Millisecond, P95: 9 * time.Millisecond}
				for j := range storage.PluginHealthMaxErrors {
					h.LastErrors = append(h.LastErrors, storage.HealthError{At: time.Now(), Reason: "timeout", Detail: fmt.Sprintf("erp did not answer in 5s (%d)", j)})
				}
				for j := range storage.PluginHealthMaxLogs {
					h.Logs = append(h.Logs, storage.HealthLog{At: time.Now(), Level: "info", Message: fmt.Sprintf("boleto emitido para o contrato %d", j),
						Attrs: map[string]string{"contrato": "123456", "parcela": "7"}})
				}
				hs = append(hs, h)
			}
			for _, n := range []int{1, 100} {
				b.Run(fmt.Sprintf("plugins=%d", n), func(b *testing.B) {
					for b.Loop() {
						if err := st.PublishPluginHealth(ctx, hs[:n]); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run("refresh", func(b *testing.B) {
				for b.Loop() {
					if _, err := st.RefreshPluginHealth(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
