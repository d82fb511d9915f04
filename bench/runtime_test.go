// Package bench compares Portico's plugin runtime (host/sandbox) with the
// Extism Go SDK on the same machine, in one `go test -bench` run, with the
// same guest logic built for each (guests/portico, guests/extism). See
// README.md.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/sdk/abi"
)

var (
	porticoWasm, porticoWarmWasm, extismWasm []byte
	tmpDir                                   string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "portico-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tmpDir = dir
	for _, g := range []struct {
		pkg, out, ldflags string
		dst               *[]byte
	}{
		{"./guests/portico", "portico.wasm", "", &porticoWasm},
		{"./guests/portico", "portico-warm.wasm", "-X main.warm=1", &porticoWarmWasm},
		{"./guests/extism", "extism.wasm", "", &extismWasm},
	} {
		out := filepath.Join(dir, g.out)
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-ldflags", g.ldflags, "-o", out, g.pkg)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", g.pkg, err, b)
			return 1
		}
		if *g.dst, err = os.ReadFile(out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

func input(action string) *abi.Input {
	return &abi.Input{Kind: abi.KindAction, Action: action,
		User: abi.User{ID: "u1", Role: "cliente", Locale: "pt-BR", Tenant: "t1", Name: "Maria"}}
}

// caller runs one call of the named action and returns the output's size.
type caller func(action string) (int, error)

func porticoCaller(b *testing.B, wasm []byte) caller {
	ctx := context.Background()
	e, err := sandbox.New(ctx, sandbox.Options{CacheDir: filepath.Join(tmpDir, "wazero"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close(ctx) })
	p := sandbox.Plugin{TenantID: "t1", PluginID: "bench", Slug: "bench", Title: "Bench", VersionID: "v1"} // default limits: 2 s deadline, 64 MiB
	load := func(context.Context) ([]byte, error) { return wasm, nil }
	ins := map[string]*abi.Input{"noop": input("noop"), "render": input("render")}
	return func(action string) (int, error) {
		out, err := e.Call(ctx, p, load, ins[action])
		if err != nil {
			return 0, err
		}
		if action == "render" && (out.View == nil || len(out.View.Blocks) != 3) {
			return 0, fmt.Errorf("bad render: %+v", out)
		}
		return 1, nil
	}
}

func extismCaller(b *testing.B, timeoutMS uint64) caller {
	ctx := context.Background()
	manifest := extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: extismWasm}}, Timeout: timeoutMS}
	cp, err := extism.NewCompiledPlugin(ctx, manifest, extism.PluginConfig{EnableWasi: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cp.Close(ctx) })
	plugin, err := cp.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = plugin.Close(ctx) })
	ins := map[string][]byte{}
	for _, a := range []string{"noop", "render"} {
		ins[a], _ = json.Marshal(input(a))
	}
	return func(action string) (int, error) {
		rc, out, err := plugin.Call(action, ins[action])
		if err != nil || rc != 0 {
			return 0, fmt.Errorf("extism %s: rc %d: %w", action, rc, err)
		}
		if action == "render" {
			var o abi.Output
			if err := json.Unmarshal(out, &o); err != nil || o.View == nil || len(o.View.Blocks) != 3 {
				return 0, fmt.Errorf("bad render %q: %v", out, err)
			}
		}
		return len(out), nil
	}
}

// runtimes are the contenders: Portico (deadline always enforced, state
// rewound after every call), with the plain guest and with the guest that
// warms encoding/json at initialisation; Extism without and with a
// timeout (the same instance reused, no rewind: one user's state is visible
// to the next).
func runtimes() []struct {
	name string
	new  func(*testing.B) caller
} {
	return []struct {
		name string
		new  func(*testing.B) caller
	}{
		{"portico", func(b *testing.B) caller { return porticoCaller(b, porticoWasm) }},
		{"portico-warm", func(b *testing.B) caller { return porticoCaller(b, porticoWarmWasm) }},
		{"extism", func(b *testing.B) caller { return extismCaller(b, 0) }},
		{"extism-timeout", func(b *testing.B) caller { return extismCaller(b, 2000) }},
	}
}

func BenchmarkNoop(b *testing.B)   { benchAction(b, "noop") }
func BenchmarkRender(b *testing.B) { benchAction(b, "render") }

func benchAction(b *testing.B, action string) {
	for _, rt := range runtimes() {
		b.Run(rt.name, func(b *testing.B) {
			call := rt.new(b)
			for range 20 { // warm up
				if _, err := call(action); err != nil {
					b.Fatal(err)
				}
			}
			ds := make([]time.Duration, 0, 1<<16)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := call(action); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// cpuTime is the process's CPU time (user + system): unlike ns/op it does
// not count the time spent waiting for a core on a loaded machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
