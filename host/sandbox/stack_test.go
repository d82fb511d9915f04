package sandbox

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/portico-dev/portico/host/sandbox/internal/wasmbin"
	"github.com/portico-dev/portico/sdk/abi"
)

// deepModule hand-assembles an ABI v1 module whose portico_handle calls a
// function that recurses depth frames deep, returns normally and answers
// an empty view.
func deepModule(depth int32) []byte {
	out := `{"view":{"blocks":[]}}`
	name := func(b []byte, s string) []byte { return append(wasmbin.AppendULEB(b, uint64(len(s))), s...) }
	exports := []byte{5}
	for i, n := range []string{abi.ExportInitialize, abi.ExportVersion, abi.ExportAlloc, abi.ExportHandle} {
		exports = append(name(exports, n), 0x00, byte(i))
	}
	exports = append(name(exports, "memory"), 0x02, 0x00)
	sleb := func(v int32) []byte { // signed LEB128
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	// handle: rec(depth); drop; the output is at 0 and len(out) long.
	handle := append(append([]byte{0x00, 0x41}, sleb(depth)...), 0x10, 0x04, 0x1a, 0x42)
	handle = append(append(handle, sleb(int32(len(out)))...), 0x0b)
	// rec(n): n == 0 ? 0 : rec(n-1) + 1
	rec := []byte{0x00, 0x20, 0x00, 0x04, 0x7f, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x04, 0x41, 0x01, 0x6a, 0x05, 0x41, 0x00, 0x0b, 0x0b}
	bodies := [][]byte{{0x00, 0x0b}, {0x00, 0x41, 0x01, 0x0b}, {0x00, 0x41, 0x80, 0x08, 0x0b}, handle, rec}
	code := wasmbin.AppendULEB(nil, uint64(len(bodies)))
	for _, b := range bodies {
		code = append(wasmbin.AppendULEB(code, uint64(len(b))), b...)
	}
	data := append(wasmbin.AppendULEB([]byte{1, 0x00, 0x41, 0x00, 0x0b}, uint64(len(out))), out...)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = wasmbin.AppendSection(m, wasmbin.SectionType, []byte{4, 0x60, 0, 0, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e})
	m = wasmbin.AppendSection(m, wasmbin.SectionFunction, []byte{5, 0, 1, 2, 3, 2})
	m = wasmbin.AppendSection(m, wasmbin.SectionMemory, []byte{1, 0, 1})
	m = wasmbin.AppendSection(m, wasmbin.SectionExport, exports)
	m = wasmbin.AppendSection(m, wasmbin.SectionCode, code)
	return wasmbin.AppendSection(m, wasmbin.SectionData, data)
}

// TestDeepCallStackNotKept: a call that recursed deep and returned
// normally leaves its instance in the pool, but not the call stack wazero
// grew for it (~8 MiB for 100,000 frames, ~81 MiB for a million), which no
// memory limit counts. 100,000 frames are eight times maxKeptStack and
// take well under the call's deadline on a loaded CI machine under -race
// (a million took 13 s there).
func TestDeepCallStackNotKept(t *testing.T) {
	e := newEngine(t, Options{})
	for _, tt := range []struct {
		name  string
		depth int32
		fresh bool // the function is taken again after the call
	}{
		{"shallow", 10, false},
		{"a hundred thousand frames", 100_000, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wasm := deepModule(tt.depth)
			p := testPlugin("A", "deep-"+tt.name)
			p.Limits.MemoryMB = 1
			load := func(context.Context) ([]byte, error) { return wasm, nil }
			if _, err := e.Call(context.Background(), p, load, &abi.Input{Kind: abi.KindRender}); err != nil {
				t.Fatalf("first call: %v", err)
			}
			inst := idleInstance(t, e, p)
			before := inst.handle
			if _, err := e.Call(context.Background(), p, load, &abi.Input{Kind: abi.KindRender}); err != nil {
				t.Fatalf("second call: %v", err)
			}
			if again := idleInstance(t, e, p); again != inst {
				t.Fatal("the instance was replaced, not reused")
			}
			n, ok := callStackBytes(inst.handle)
			if !ok || n > maxKeptStack {
				t.Fatalf("the idle instance keeps a call stack of %d bytes (readable: %v), limit %d", n, ok, maxKeptStack)
			}
			if fresh := inst.handle != before; fresh != tt.fresh {
				t.Errorf("function taken again: %v, want %v", fresh, tt.fresh)
			}
		})
	}
}

// TestCallStackProbe: the stack size of wazero's compiled functions is
// readable (callStackBytes); when a wazero upgrade moves it, this fails
// instead of instances silently taking their functions again every call.
func TestCallStackProbe(t *testing.T) {
	e := newEngine(t, Options{})
	p := testPlugin("A", "probe")
	if _, err := e.Call(context.Background(), p, loadGuest, &abi.Input{Kind: abi.KindRender}); err != nil {
		t.Fatal(err)
	}
	inst := idleInstance(t, e, p)
	for name, f := range map[string]api.Function{"handle": inst.handle, "alloc": inst.alloc} {
		if n, ok := callStackBytes(f); !ok || n <= 0 {
			t.Errorf("%s (%T): stack of %d bytes, readable %v", name, f, n, ok)
		}
	}
}
