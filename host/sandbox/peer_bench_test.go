package sandbox

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/sdk/abi"
)

// The benchmarks of this file are the limits the load script
// (bench/load, `make bench-load`) sets the server's figures against. Run
// them on one core, as the script does:
//
//	taskset -c 0 go test -run '^$' -bench 'HelloRender|NoopLatency' ./host/sandbox/

// BenchmarkHelloRender is the demo's "Olá" plugin (plugins/hello, the
// module `make plugins` builds) rendering through the sandbox alone: the
// input the runner builds for the demo cliente, the plugin's grants, its
// visit counter in an in-memory KV store, and no HTTP, session, database or
// view check. With one core it is the limit of GET
// /api/v1/me/plugins/ola/view: renders/s is what one core does.
func BenchmarkHelloRender(b *testing.B) {
	hello, err := testguest.Build("../../plugins/hello")
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(b, Options{Services: newMemServices()})
	p := Plugin{TenantID: "t-demo", PluginID: "p-ola", Slug: "ola", Title: "Olá", VersionID: "v-ola",
		Grants: []string{GrantKV, GrantConfig, GrantLog}}
	load := func(context.Context) ([]byte, error) { return hello, nil }
	// As runner.Run builds it: the opaque per-plugin user id, the role and
	// language, the tenant's slug, the one granted profile field (the
	// name) and the plugin's (empty) configuration.
	in := func() *abi.Input {
		return &abi.Input{Kind: abi.KindRender, RequestID: "0198f0c2-7d41-7c3e-9a4b-3f1e2d5c6b7a",
			User: abi.User{ID: "s_3kq7hV9xN2pL5wR8tY1mZ4cB6dF0gJ", Role: "cliente", Locale: "pt-BR",
				Tenant: "construtora-exemplo", Name: "Carla Cliente"},
			Config: map[string]string{}}
	}
	ctx := context.Background()
	out, err := e.Call(ctx, p, load, in())
	if err != nil {
		b.Fatal(err)
	}
	if out.Error != "" || out.View == nil || !strings.Contains(mustJSON(b, out.View), "visita") {
		b.Fatalf("the first render is not hello's page: %s", mustJSON(b, out))
	}
	ds := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	cpu0, flt0 := cpuUsage()
	start := time.Now()
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.Call(ctx, p, load, in()); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportCPU(b, cpu0, flt0)
	b.ReportMetric(float64(len(ds))/elapsed.Seconds(), "renders/s")
	reportQuantiles(b, ds)
}

// BenchmarkNoopLatency compares a warm no-op call's latency through the
// sandbox (the deadline instrumented in, input marshalled, output parsed,
// memory and globals rewound) with plain wazero calling the same exports
// of the same guest on one instance (not instrumented, nothing rewound,
// the input marshalled once). Both report p50-µs and p99-µs; the load
// script's target is sandbox p50 ≤ 3 × wazero p50.
func BenchmarkNoopLatency(b *testing.B) {
	b.Run("sandbox", func(b *testing.B) {
		e := newEngine(b, Options{})
		p := testPlugin("t1", "noop-latency")
		in := benchInput("noop")
		ctx := context.Background()
		if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
			b.Fatal(err)
		}
		ds := make([]time.Duration, 0, 1<<16)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			if _, err := e.Call(ctx, p, loadGuest, in); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		b.StopTimer()
		reportQuantiles(b, ds)
	})
	b.Run("wazero", func(b *testing.B) {
		ctx := context.Background()
		call := plainGuest(b)
		// The bytes the sandbox sends for the same call.
		in := *benchInput("noop")
		in.ABI = abi.Version
		in.Plugin = abi.PluginInfo{Slug: "p-noop-latency", Title: "Plugin noop-latency"}
		data, err := json.Marshal(&in)
		if err != nil {
			b.Fatal(err)
		}
		if out := call(ctx, data); string(out) != string(noopOutput) {
			b.Fatalf("noop answered %q, want %q", out, noopOutput)
		}
		ds := make([]time.Duration, 0, 1<<16)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			_ = call(ctx, data)
			ds = append(ds, time.Since(t0))
		}
		b.StopTimer()
		reportQuantiles(b, ds)
	})
}

// noopOutput is the test guest's answer to the noop action.
var noopOutput = []byte(`{"view":{"blocks":[]}}`)

// plainGuest instantiates the test guest in a plain wazero runtime (the
// compiler, the shared compilation cache, WASI and stub host functions)
// and returns a function that runs one call the way the ABI defines it:
// portico_alloc, the input written into the guest's memory,
// portico_handle, and the output copied out.
func plainGuest(b *testing.B) func(context.Context, []byte) []byte {
	b.Helper()
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		b.Fatal(err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	b.Cleanup(func() { _ = rt.Close(ctx); _ = cache.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	_, err = rt.NewHostModuleBuilder(abi.ImportModule).
		NewFunctionBuilder().WithFunc(func(context.Context, api.Module, uint32, uint32) int32 { return -1 }).Export(abi.ImportCall).
		NewFunctionBuilder().WithFunc(func(context.Context, api.Module, uint32) {}).Export(abi.ImportResult).
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, guestWasm, wazero.NewModuleConfig().WithStartFunctions(abi.ExportInitialize))
	if err != nil {
		b.Fatal(err)
	}
	alloc, handle, mem := mod.ExportedFunction(abi.ExportAlloc), mod.ExportedFunction(abi.ExportHandle), mod.Memory()
	out := make([]byte, 0, 256)
	return func(ctx context.Context, in []byte) []byte {
		res, err := alloc.Call(ctx, uint64(len(in)))
		if err != nil {
			b.Fatal(err)
		}
		ptr := uint32(res[0])
		if !mem.Write(ptr, in) {
			b.Fatalf("input of %d bytes out of the guest's memory at %d", len(in), ptr)
		}
		res, err = handle.Call(ctx, uint64(ptr), uint64(len(in)))
		if err != nil {
			b.Fatal(err)
		}
		o, ok := mem.Read(uint32(res[0]>>32), uint32(res[0]))
		if !ok {
			b.Fatalf("output out of the guest's memory: %#x", res[0])
		}
		out = append(out[:0], o...)
		return out
	}
}

// reportQuantiles reports the p50 and p99 of ds (nearest rank) in
// microseconds.
func reportQuantiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(f float64) float64 {
		return float64(ds[min(len(ds)-1, int(f*float64(len(ds))))]) / float64(time.Microsecond)
	}
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}
