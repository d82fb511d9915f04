package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

func benchInput(action string) *abi.Input {
	return &abi.Input{Kind: abi.KindAction, Action: action,
		User: abi.User{ID: "u1", Role: "cliente", Locale: "pt-BR", Tenant: "t1", Name: "Maria"}}
}

// BenchmarkCallNoop is the host's overhead per call: a warm instance, the
// deadline enforced (the instrumented budget), input marshalled, output parsed,
// memory and globals restored.
func BenchmarkCallNoop(b *testing.B) {
	for _, mode := range resetModes() {
		b.Run(mode.name, func(b *testing.B) { benchCallNoop(b, mode.copyReset) })
	}
}

func benchCallNoop(b *testing.B, copyReset bool) {
	e := newEngine(b, Options{})
	e.copyReset = copyReset
	p := testPlugin("t1", "noop")
	in := benchInput("noop")
	ctx := context.Background()
	if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, flt0 := cpuUsage()
	for b.Loop() {
		if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, flt0)
}

// cpuUsage returns the process's CPU time (user + system) and minor page
// faults so far.
func cpuUsage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Minflt
}

// reportCPU reports the CPU time and page faults per operation since cpu0
// and flt0: unlike ns/op, CPU time does not count the time the benchmark
// waited for a core on a loaded machine.
func reportCPU(b *testing.B, cpu0 time.Duration, flt0 int64) {
	cpu1, flt1 := cpuUsage()
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(flt1-flt0)/float64(b.N), "faults/op")
}

// BenchmarkCallRender is a real render (JSON decode, a 50-row table, JSON
// encode in the guest); it reports p50 and p99.
func BenchmarkCallRender(b *testing.B) {
	for _, mode := range resetModes() {
		b.Run(mode.name, func(b *testing.B) { benchCallRender(b, mode.copyReset) })
	}
}

func benchCallRender(b *testing.B, copyReset bool) {
	e := newEngine(b, Options{})
	e.copyReset = copyReset
	p := testPlugin("t1", "render")
	in := benchInput("render")
	ctx := context.Background()
	if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
		b.Fatal(err)
	}
	ds := make([]time.Duration, 0, 100_000)
	b.ResetTimer()
	cpu0, flt0 := cpuUsage()
	for b.Loop() {
		start := time.Now()
		if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	reportCPU(b, cpu0, flt0)
	b.ReportMetric(float64(e.discards.Load()), "discards")
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)*50/100].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkCallRenderParallel measures calls per second with GOMAXPROCS
// goroutines on one plugin.
func BenchmarkCallRenderParallel(b *testing.B) {
	e := newEngine(b, Options{PoolSize: 8})
	p := testPlugin("t1", "par")
	p.Limits = Limits{MaxConcurrent: 8}
	in := benchInput("render")
	ctx := context.Background()
	if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkHundredThousandCalls runs 100,000 renders once and reports the
// host's heap and RSS before and after.
func BenchmarkHundredThousandCalls(b *testing.B) {
	e := newEngine(b, Options{})
	p := testPlugin("t1", "flat")
	in := benchInput("render")
	ctx := context.Background()
	measure := func() (heap, rss float64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / (1 << 20), rssMiB()
	}
	for range 1000 { // warm up: pool, caches
		if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
			b.Fatal(err)
		}
	}
	h0, r0 := measure()
	b.ResetTimer()
	cpu0, flt0 := cpuUsage()
	start := time.Now()
	for range 100_000 {
		if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(time.Since(start).Microseconds())/100_000, "µs/call")
	reportCPU(b, cpu0, flt0)
	b.ReportMetric(float64(e.discards.Load()), "discards")
	h1, r1 := measure()
	b.ReportMetric(h0, "heap-before-MiB")
	b.ReportMetric(h1, "heap-after-MiB")
	b.ReportMetric(r0, "rss-before-MiB")
	b.ReportMetric(r1, "rss-after-MiB")
}

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkStartup20 measures an engine start with 20 distinct modules
// already in the on-disk compilation cache: New, then compile and
// instantiate each (the first call of each plugin after a restart).
func BenchmarkStartup20(b *testing.B) {
	dir := filepath.Join(cacheDir, "startup20")
	ctx := context.Background()
	mods := make([][]byte, 20)
	for i := range mods {
		// A custom section makes each module distinct (another sha256).
		name := fmt.Sprintf("variant-%02d", i)
		mods[i] = append(append(slices.Clone(guestWasm), 0x00, byte(len(name)+2), byte(len(name))), name...)
		mods[i] = append(mods[i], 0x00)
	}
	warm, err := New(ctx, Options{CacheDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range mods { // fill the cache (slow the first time only)
		if _, err := warm.compile(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	_ = warm.Close(ctx)
	b.Run("sequential", func(b *testing.B) {
		cpu0, flt0 := cpuUsage()
		defer func() { reportCPU(b, cpu0, flt0) }()
		for b.Loop() {
			e, err := New(ctx, Options{CacheDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			for i, m := range mods {
				p := testPlugin("t1", strconv.Itoa(i))
				if _, err := e.Call(ctx, p, func(context.Context) ([]byte, error) { return m, nil }, benchInput("noop")); err != nil {
					b.Fatal(err)
				}
			}
			_ = e.Close(ctx)
		}
	})
	// Preload: compile and warm all 20 concurrently, then the first calls.
	b.Run("preload", func(b *testing.B) {
		cpu0, flt0 := cpuUsage()
		defer func() { reportCPU(b, cpu0, flt0) }()
		for b.Loop() {
			e, err := New(ctx, Options{CacheDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			items := make([]PreloadItem, len(mods))
			for i, m := range mods {
				items[i] = PreloadItem{Plugin: testPlugin("t1", strconv.Itoa(i)), Load: func(context.Context) ([]byte, error) { return m, nil }}
			}
			if err := e.Preload(ctx, items); err != nil {
				b.Fatal(err)
			}
			for _, it := range items {
				if _, err := e.Call(ctx, it.Plugin, it.Load, benchInput("noop")); err != nil {
					b.Fatal(err)
				}
			}
			if d := e.discards.Load(); d != 0 {
				b.Fatalf("%d discards", d)
			}
			_ = e.Close(ctx)
		}
	})
}
