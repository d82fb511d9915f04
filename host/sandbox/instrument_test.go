package sandbox

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/portico-dev/portico/sdk/abi"
)

// loopModule hand-assembles a module with ABI v1's exports whose
// portico_handle loops forever; extra is inserted before the loop (e.g. a
// SIMD instruction the instrumenter does not know).
func loopModule(extra ...byte) []byte {
	sec := func(id byte, payload ...byte) []byte { return append([]byte{id, byte(len(payload))}, payload...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var exports []byte
	exports = append(exports, 5)
	for i, n := range []string{abi.ExportInitialize, abi.ExportVersion, abi.ExportAlloc, abi.ExportHandle} {
		exports = append(append(exports, name(n)...), 0x00, byte(i))
	}
	exports = append(append(exports, name("memory")...), 0x02, 0x00)
	body := func(code ...byte) []byte { return append([]byte{byte(len(code) + 1), 0x00}, code...) }
	handle := append(append([]byte{}, extra...), 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b) // loop br 0 end; i64.const 0
	var code []byte
	code = append(code, 4)
	code = append(code, body(0x0b)...)
	code = append(code, body(0x41, 1, 0x0b)...)
	code = append(code, body(0x41, 0x00, 0x0b)...)
	code = append(code, body(handle...)...)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 4, 0x60, 0, 0, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e)...)
	m = append(m, sec(3, 4, 0, 1, 2, 3)...)
	m = append(m, sec(5, 1, 0, 1)...)
	m = append(m, sec(7, exports...)...)
	m = append(m, sec(10, code...)...)
	return m
}

// TestDeadlineBothRuntimes checks that a guest looping forever is stopped
// at its deadline both when the module is instrumented (the stop flag) and
// when it is not (a SIMD instruction the rewriter does not know: wazero's
// CloseOnContextDone), and that each ran on the runtime it should.
func TestDeadlineBothRuntimes(t *testing.T) {
	simd := append([]byte{0xfd, 0x0c}, make([]byte, 16)...) // v128.const 0
	simd = append(simd, 0x1a)                               // drop
	e := newEngine(t, Options{})
	for _, tt := range []struct {
		name         string
		wasm         []byte
		instrumented bool
	}{
		{"instrumented", loopModule(), true},
		{"simd", loopModule(simd...), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, prep, err := e.prepare(tt.wasm)
			if err != nil {
				t.Fatal(err)
			}
			if (prep.stop >= 0) != tt.instrumented || (prep.rt == e.rt) != tt.instrumented {
				t.Fatalf("instrumented = %v, want %v", prep.stop >= 0, tt.instrumented)
			}
			p := testPlugin("t1", "loop-"+tt.name)
			p.Limits.Timeout = 200 * time.Millisecond
			load := func(context.Context) ([]byte, error) { return tt.wasm, nil }
			for range 2 { // the second call runs on a refilled instance
				if _, err := e.Call(context.Background(), p, load, &abi.Input{Kind: abi.KindRender}); reasonOf(err) != ReasonTimeout {
					t.Fatalf("got %v, want a timeout", err)
				}
			}
		})
	}
}

// TestInstrumentGoGuest rewrites the Go test guest (every test of this
// package then runs it instrumented): the result compiles, and
// instrumenting it again adds a second flag with consistent indices.
func TestInstrumentGoGuest(t *testing.T) {
	code, stop, err := instrument(guestWasm)
	if err != nil {
		t.Fatal(err)
	}
	if stop <= 0 || bytes.Equal(code, guestWasm) {
		t.Fatalf("stop flag %d; module unchanged: %v", stop, bytes.Equal(code, guestWasm))
	}
	// The rewritten module is valid: wazero compiles it.
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(sharedTestCache(t)))
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cm.ExportedFunctions()); got < 4 {
		t.Fatalf("%d exports", got)
	}
	// Instrumenting twice adds a second flag and budget (indices stay consistent).
	code2, stop2, err := instrument(code)
	if err != nil || stop2 != stop+2 {
		t.Fatalf("second pass: stop %d, %v", stop2, err)
	}
	if _, err := rt.CompileModule(ctx, code2); err != nil {
		t.Fatal(err)
	}
}

func sharedTestCache(t *testing.T) wazero.CompilationCache {
	c, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// FuzzInstrument feeds the deadline instrumenter arbitrary bytes: it must
// not panic, and a module it rewrote must rewrite again with one more flag and budget.
func FuzzInstrument(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(loopModule())
	f.Add(tinyModule(1))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x06\x06\x01\x7f\x01\x41\x00\x0b\x0a\x04\x01\x02\x00\x0b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, stop, err := instrument(b)
		if err != nil {
			return
		}
		if _, stop2, err := instrument(out); err != nil || stop2 != stop+2 {
			t.Fatalf("rewritten module: stop %d (want %d), %v", stop2, stop+2, err)
		}
	})
}

// TestLoopingGuestsDoNotBlockGC runs four looping guests at once while the
// host forces garbage collections. Compiled wasm cannot be preempted, so a
// guest that never leaves it blocks every stop-the-world and, with it, the
// timer that would stop it: before the budget's periodic exit to Go this
// hung the whole process. Every call must end in a timeout.
func TestLoopingGuestsDoNotBlockGC(t *testing.T) {
	e := newEngine(t, Options{})
	p := testPlugin("t1", "loopers")
	p.Limits.Timeout = 300 * time.Millisecond
	done := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				_, err := call(e, p, "loop")
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(done)
	<-gcDone
	close(errs)
	for err := range errs {
		if reasonOf(err) != ReasonTimeout {
			t.Errorf("looping call: %v, want a timeout", err)
		}
	}
}
