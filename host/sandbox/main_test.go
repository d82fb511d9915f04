package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/sdk/abi"
)

// Guests are built from source by internal/testguest, once per source for
// every package and run; no .wasm is committed.
var (
	guestWasm []byte // testdata/guests/multi, ABI version 1
	cacheDir  string // compilation cache shared by the tests' engines
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// The guest and its compiled code are cached across packages and runs
	// (internal/testguest): compiling a Go guest under -race takes ~30 s.
	cacheDir = testguest.WazeroDir()
	var err error
	if guestWasm, err = testguest.Build("./testdata/guests/multi"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// newEngine returns an engine on the shared compilation cache, closed at
// the end of the test.
func newEngine(tb testing.TB, opts Options) *Engine {
	tb.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = cacheDir
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.BreakerThreshold == 0 {
		opts.BreakerThreshold = 1000
	}
	if opts.BreakerPeople == 0 {
		opts.BreakerPeople = 1 // the breaker's tests call as one user
	}
	e, err := New(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// testPlugin returns a plugin with the longest timeout a gestor may set, so
// that a loaded CI machine (two cores running every package's tests) does not
// turn a slow instantiation into a failure; a test about timeouts sets its own.
func testPlugin(tenant, id string) Plugin {
	return Plugin{TenantID: tenant, PluginID: id, Slug: "p-" + id, Title: "Plugin " + id, VersionID: "v-" + id,
		Limits: Limits{Timeout: MaxTimeout}}
}

func loadGuest(context.Context) ([]byte, error) { return guestWasm, nil }

// call runs action with form values (key, value, key, value…).
func call(e *Engine, p Plugin, action string, kv ...string) (*abi.Output, error) {
	return callAs(e, p, "u1", action, kv...)
}

// text returns the text of the output's first text block.
func text(tb testing.TB, out *abi.Output) string {
	tb.Helper()
	if out == nil || out.View == nil || len(out.View.Blocks) == 0 {
		tb.Fatalf("no view in %+v", out)
	}
	return out.View.Blocks[0].Text
}

// hostReq runs the guest's "host" action with a HostRequest and returns the
// HostResponse it got.
func hostReq(tb testing.TB, e *Engine, p Plugin, req abi.HostRequest, kv ...string) *abi.HostResponse {
	tb.Helper()
	b, _ := json.Marshal(req)
	out, err := call(e, p, "host", append([]string{"req", string(b)}, kv...)...)
	if err != nil {
		tb.Fatalf("host %s: %v", req.Op, err)
	}
	var r abi.HostResponse
	if err := json.Unmarshal([]byte(text(tb, out)), &r); err != nil {
		tb.Fatalf("host %s: response %q: %v", req.Op, text(tb, out), err)
	}
	return &r
}

func reasonOf(err error) string {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// tinyModule hand-assembles a minimal module with ABI v1's exports:
// _initialize runs init (e.g. {0x0b} or {0x00, 0x0b} for a trap) and
// portico_abi_version returns version. It compiles in milliseconds even
// under -race.
func tinyModule(version byte, init ...byte) []byte {
	if len(init) == 0 {
		init = []byte{0x0b}
	}
	sec := func(id byte, payload ...byte) []byte { return append([]byte{id, byte(len(payload))}, payload...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var exports []byte
	exports = append(exports, 5)
	for i, n := range []string{abi.ExportInitialize, abi.ExportVersion, abi.ExportAlloc, abi.ExportHandle} {
		exports = append(append(exports, name(n)...), 0x00, byte(i))
	}
	exports = append(append(exports, name("memory")...), 0x02, 0x00)
	body := func(code ...byte) []byte { return append([]byte{byte(len(code) + 1), 0x00}, code...) }
	var code []byte
	code = append(code, 4)
	code = append(code, body(init...)...)
	code = append(code, body(0x41, version, 0x0b)...)
	code = append(code, body(0x41, 0x00, 0x0b)...)
	code = append(code, body(0x42, 0x00, 0x0b)...)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 4, 0x60, 0, 0, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e)...)
	m = append(m, sec(3, 4, 0, 1, 2, 3)...)
	m = append(m, sec(5, 1, 0, 1)...)
	m = append(m, sec(7, exports...)...)
	m = append(m, sec(10, code...)...)
	return m
}

// idleInstance returns the one idle instance of p's pool.
func idleInstance(tb testing.TB, e *Engine, p Plugin) *instance {
	tb.Helper()
	e.mu.Lock()
	pl := e.pools[poolKey{p.TenantID, p.VersionID}]
	e.mu.Unlock()
	if pl == nil {
		tb.Fatal("no pool")
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if len(pl.idle) != 1 {
		tb.Fatalf("%d idle instances, want 1", len(pl.idle))
	}
	return pl.idle[0]
}
