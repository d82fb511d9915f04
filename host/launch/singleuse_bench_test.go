package launch_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// singleUseClients is BenchmarkExchange's number of concurrent clients.
const singleUseClients = 16

// BenchmarkSingleUse is BenchmarkExchange's limit on PostgreSQL: the
// single-use statement alone, sent with pgx (a pool of 16 connections,
// pgx's statement cache) by 16 concurrent clients, b.N distinct token ids,
// each statement its own transaction. It reports statements/s and the
// p50/p99 latency. The load script (bench/load, `make bench-load`) wants
// the exchange's rate ≥ 0.5 × this one, both run on one core:
//
//	taskset -c 0 go test -run '^$' -bench 'Exchange/postgres|SingleUse' -benchtime 4000x ./host/launch
//
// Two statements:
//
//   - insert: what the exchange runs (storage.Store.ConsumeJTI), an insert
//     into launch_jtis (migrations; its foreign key to tenants included)
//     that conflicts on a token id already used;
//   - update: the form, UPDATE … SET used_at = now() WHERE jti = $1
//     AND used_at IS NULL RETURNING jti, on a table of b.N unused ids
//     made for the run.
func BenchmarkSingleUse(b *testing.B) {
	ctx := context.Background()
	url := testdb.URL(b, "postgres")
	st, err := storage.Open(ctx, url, storage.Options{Logger: testdb.Logger(b)})
	testdb.Must(b, err, "open store")
	b.Cleanup(func() { _ = st.Close() })
	testdb.Must(b, st.Migrate(ctx), "migrate")
	tn := &model.Tenant{Slug: "bench", Name: "Bench", Hostnames: []string{"bench.portico.test"}}
	testdb.Must(b, tn.Validate(false), "validate tenant")
	testdb.Must(b, st.CreateTenant(ctx, tn, model.SystemActor("bench")), "create tenant")

	cfg, err := pgxpool.ParseConfig(url)
	testdb.Must(b, err, "parse %s", url)
	cfg.MaxConns, cfg.MinConns = singleUseClients, singleUseClients
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	testdb.Must(b, err, "pool")
	b.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, "CREATE TABLE single_use (jti TEXT PRIMARY KEY, used_at TIMESTAMPTZ)")
	testdb.Must(b, err, "create single_use")

	b.Run("insert", func(b *testing.B) {
		jtis := newJTIs(b.N)
		expires := time.Now().Add(time.Hour).Unix()
		const q = "INSERT INTO launch_jtis (tenant_id, jti, expires_unix) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
		runSingleUse(b, pool, jtis, func(ctx context.Context, c *pgxpool.Conn, jti string) error {
			tag, err := c.Exec(ctx, q, tn.ID, jti, expires)
			if err == nil && tag.RowsAffected() != 1 {
				err = fmt.Errorf("jti %s: %d rows inserted, want 1", jti, tag.RowsAffected())
			}
			return err
		})
	})
	b.Run("update", func(b *testing.B) {
		jtis := newJTIs(b.N)
		rows := make([][]any, len(jtis))
		for i, j := range jtis {
			rows[i] = []any{j}
		}
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"single_use"}, []string{"jti"}, pgx.CopyFromRows(rows))
		testdb.Must(b, err, "insert %d unused ids", len(rows))
		_, err = pool.Exec(ctx, "ANALYZE single_use")
		testdb.Must(b, err, "analyze single_use")
		const q = "UPDATE single_use SET used_at = now() WHERE jti = $1 AND used_at IS NULL RETURNING jti"
		runSingleUse(b, pool, jtis, func(ctx context.Context, c *pgxpool.Conn, jti string) error {
			var got string
			if err := c.QueryRow(ctx, q, jti).Scan(&got); err != nil {
				return fmt.Errorf("jti %s: %w", jti, err)
			}
			return nil
		})
	})
}

// newJTIs returns n distinct random token ids like the launch service's.
func newJTIs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = auth.NewToken()[:22]
	}
	return out
}

// runSingleUse runs do once for each of jtis from singleUseClients
// workers, each holding its own pooled connection, and reports
// statements/s, p50_ms and p99_ms; any error fails b.
func runSingleUse(b *testing.B, pool *pgxpool.Pool, jtis []string, do func(context.Context, *pgxpool.Conn, string) error) {
	ctx := context.Background()
	conns := make([]*pgxpool.Conn, singleUseClients)
	for i := range conns {
		c, err := pool.Acquire(ctx)
		testdb.Must(b, err, "acquire a connection")
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	// One statement per connection first: pgx prepares and caches it.
	warm := newJTIs(len(conns))
	for i, c := range conns {
		_ = do(ctx, c, warm[i]) // the update finds no such row; only the preparation matters
	}
	lat := make([]time.Duration, len(jtis))
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jtis) {
					return
				}
				t0 := time.Now()
				err := do(ctx, c, jtis[i])
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d statements failed; first: %v", n, len(jtis), firstErr.Load())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(jtis))/elapsed.Seconds(), "statements/s")
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
}
