package storage_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
)

// BenchmarkKVCounters: 16 writers each increment their own counter key
// (a per-buyer counter, read-modify-write through KVUpdate, as kv.incr
// does) in ONE plugin's store; its peer in the same run is the same
// workload spread over 16 plugins, which share no row. With a plugin-wide
// lock per write, the first would run at a fraction of the second on
// PostgreSQL; the ratio says how close one busy plugin gets to the
// uncontended case. "one-key" is the 16 writers incrementing one counter
// (a plugin-wide total), which KVUpdate's combining serves. b.N is the
// total number of increments.
//
//	go test -run '^$' -bench KVCounters -benchtime 20000x -count 3 ./internal/storage/
func BenchmarkKVCounters(b *testing.B) {
	const writers = 16
	for _, d := range testdb.Drivers {
		b.Run(d, func(b *testing.B) {
			st := testdb.Open(b, d)
			ctx := context.Background()
			tn := newTenant(b, st, "bench").ID
			var plugins []string
			for i := range writers {
				plugins = append(plugins, newWasmPlugin(b, st, tn, fmt.Sprintf("p%02d", i)).ID)
			}
			run := func(b *testing.B, pluginOf func(w int) string, keyOf func(w int) string) {
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						key := keyOf(w)
						for next.Add(1) <= int64(b.N) {
							err := st.KVUpdate(ctx, tn, pluginOf(w), key, func(old []byte, found bool) ([]byte, bool, error) {
								n, _ := strconv.Atoi(string(old))
								return []byte(strconv.Itoa(n + 1)), true, nil
							})
							if err != nil {
								b.Errorf("increment: %v", err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
			}
			own := func(w int) string { return fmt.Sprintf("visits:%02d", w) }
			b.Run("one-plugin", func(b *testing.B) { run(b, func(int) string { return plugins[0] }, own) })
			b.Run("peer=16-plugins", func(b *testing.B) { run(b, func(w int) string { return plugins[w] }, own) })
			b.Run("one-key", func(b *testing.B) {
				run(b, func(int) string { return plugins[0] }, func(int) string { return "total" })
			})
		})
	}
}
