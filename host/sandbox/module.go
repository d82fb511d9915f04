package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/portico-dev/portico/sdk/abi"
)

// compiled is a compiled module shared by every pool that runs the same
// bytes (the same sha256).
type compiled struct {
	sha  string
	cm   wazero.CompiledModule
	refs int
	prepared
}

// prepared says how a module is run: the runtime that compiled it, the
// number of globals exportGlobals exported (-1 when the module could not
// be rewritten: its instances are then never reused, a fresh instance per
// call) and the index of the stop flag among them (-1: not instrumented,
// the runtime enforces the deadline with CloseOnContextDone).
type prepared struct {
	rt      wazero.Runtime
	globals int
	stop    int
	// randAt is where the instances found the Go runtime's generator
	// state (guestrand.go), a hint for the next instance; -1 at first,
	// randAbsent once an instance with recorded seeds had none.
	randAt *atomic.Int64
}

// prepare rewrites wasm for the pool: the deadline checks (instrument),
// then every global exported (exportGlobals). What cannot be rewritten
// falls back to the safe runtime, and to no reuse.
func (e *Engine) prepare(wasm []byte) ([]byte, prepared, error) {
	randAt := new(atomic.Int64)
	randAt.Store(-1)
	if code, stop, err := instrument(wasm); err == nil {
		if code, globals, err := exportGlobals(code); err == nil {
			return code, prepared{rt: e.rt, globals: globals, stop: stop, randAt: randAt}, nil
		}
	}
	if code, globals, err := exportGlobals(wasm); err == nil {
		return code, prepared{rt: e.rtSafe, globals: globals, stop: -1, randAt: randAt}, nil
	}
	return wasm, prepared{rt: e.rtSafe, globals: -1, stop: -1, randAt: randAt}, errRewrite
}

// requiredExports lists ABI v1's exports with their signatures.
var requiredExports = []struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
}{
	{abi.ExportInitialize, nil, nil},
	{abi.ExportVersion, nil, []api.ValueType{api.ValueTypeI32}},
	{abi.ExportAlloc, []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	{abi.ExportHandle, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI64}},
}

// allowedHostImports lists the "portico" imports with their signatures.
var allowedHostImports = map[string][2][]api.ValueType{
	abi.ImportCall:   {{api.ValueTypeI32, api.ValueTypeI32}, {api.ValueTypeI32}},
	abi.ImportResult: {{api.ValueTypeI32}, nil},
}

const wasiModule = "wasi_snapshot_preview1"

// checkTimeout bounds instantiation and _initialize where no plugin's
// limits apply (a pool refill): the longest deadline a call may have.
const checkTimeout = MaxTimeout

// compileWorkers is the number of goroutines wazero compiles one module
// with. With one, wazero never looks at the context while compiling; with
// two or more it stops between functions once the context is done, which
// is what lets loadTimeout abandon a compile that runs too long (one
// function's compile cannot be interrupted: the structure bounds of
// structure.go keep it short).
const compileWorkers = 2

// CheckABI checks a module as Check does and returns only its ABI
// version: the shape the demo's installers take (demo.CheckModule).
func (e *Engine) CheckABI(ctx context.Context, wasm []byte) (int, error) {
	info, err := e.Check(ctx, wasm)
	if err != nil {
		return 0, err
	}
	return info.ABIVersion, nil
}

// Check verifies a module as CheckUnder does, under the ceilings of Limits
// (MaxMemoryMB, MaxTimeout): what `portico plugin check` and the demo use
// when no plugin's limits are known.
func (e *Engine) Check(ctx context.Context, wasm []byte) (*Info, error) {
	return e.CheckUnder(ctx, wasm, Limits{MemoryMB: MaxMemoryMB, Timeout: MaxTimeout})
}

// CheckUnder compiles a module (through the compilation cache) and
// verifies it speaks ABI v1: its size, its structure (no start function;
// nesting, function sizes and counts within the bounds of structure.go,
// checked before compiling), that it compiles within loadTimeout, the
// exports and their signatures, the imports (only WASI preview 1 and the
// "portico" host functions), that _initialize succeeds and
// portico_abi_version answers abi.Version within lim's timeout and memory
// limit, the limits the module will run with. Errors are *ModuleError.
func (e *Engine) CheckUnder(ctx context.Context, wasm []byte, lim Limits) (*Info, error) {
	lim = lim.normalize()
	ctx, leave, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	if len(wasm) > MaxModuleBytes {
		return nil, &ModuleError{Code: "too_large", Detail: fmt.Sprintf("module has %d bytes, the limit is %d", len(wasm), MaxModuleBytes)}
	}
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, &ModuleError{Code: "not_wasm", Detail: "not a WebAssembly binary (bad magic number)"}
	}
	sum := sha256.Sum256(wasm)
	info := &Info{SHA256: hex.EncodeToString(sum[:]), Size: len(wasm)}
	// Compile the module as Call will run it (instrumented, globals
	// exported), through the engine's shared compiled modules: never two
	// compiles of the same bytes at once (see Engine.compiling), and the
	// compilation cache then already holds the module.
	lctx, lcancel := context.WithTimeout(ctx, loadTimeout)
	c, err := e.compile(lctx, wasm)
	lcancel()
	if err != nil {
		var me *ModuleError
		switch {
		case errors.As(err, &me):
			return nil, me
		case errors.Is(lctx.Err(), context.DeadlineExceeded):
			return nil, &ModuleError{Code: "compile_timeout", Detail: fmt.Sprintf("compiling did not finish within %s", loadTimeout)}
		}
		return nil, &ModuleError{Code: "compile", Detail: err.Error()}
	}
	defer func() {
		e.mu.Lock()
		e.releaseCompiledLocked(c)
		e.mu.Unlock()
	}()
	info.Exports, info.Imports, err = verifyShape(c.cm)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	initErr := func(err error) error {
		if errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return &ModuleError{Code: "init_timeout", Detail: fmt.Sprintf("initialisation did not finish within %s (memory limit %d MiB): %v", lim.Timeout, lim.MemoryMB, err)}
		}
		return &ModuleError{Code: "init", Detail: err.Error()}
	}
	inst, err := e.instantiateGlobals(cctx, c.cm, lim.MemoryMB, c.prepared)
	if err != nil {
		return nil, initErr(err)
	}
	defer inst.close()
	ictx, release := inst.watch(cctx)
	res, err := inst.mod.ExportedFunction(abi.ExportVersion).Call(ictx)
	if !release() && err == nil {
		err = errors.New("deadline reached")
	}
	if err != nil {
		return nil, initErr(fmt.Errorf("portico_abi_version: %w", err))
	}
	info.ABIVersion = int(int32(res[0]))
	if info.ABIVersion != abi.Version {
		return nil, &ModuleError{Code: "abi_version", Detail: fmt.Sprintf("module speaks ABI version %d, the host speaks %d", info.ABIVersion, abi.Version),
			Want: abi.Version, Got: info.ABIVersion}
	}
	return info, nil
}

// verifyShape checks the exports and imports of a compiled module.
func verifyShape(cm wazero.CompiledModule) (exports, imports []string, err error) {
	for _, d := range cm.ImportedFunctions() {
		mod, name, _ := d.Import()
		imports = append(imports, mod+"."+name)
		switch mod {
		case wasiModule:
		case abi.ImportModule:
			sig, ok := allowedHostImports[name]
			if !ok {
				return nil, nil, &ModuleError{Code: "bad_import", Detail: "unknown host function " + mod + "." + name}
			}
			if !slices.Equal(d.ParamTypes(), sig[0]) || !slices.Equal(d.ResultTypes(), sig[1]) {
				return nil, nil, &ModuleError{Code: "bad_import", Detail: "host function " + mod + "." + name + " has the wrong signature"}
			}
		default:
			return nil, nil, &ModuleError{Code: "bad_import", Detail: "import from module " + mod + " (" + name + ") is not provided"}
		}
	}
	ex := cm.ExportedFunctions()
	for name := range ex {
		exports = append(exports, name)
	}
	slices.Sort(exports)
	for _, r := range requiredExports {
		d, ok := ex[r.name]
		if !ok {
			return nil, nil, &ModuleError{Code: "missing_export", Detail: "missing export " + r.name}
		}
		if !slices.Equal(d.ParamTypes(), r.params) || !slices.Equal(d.ResultTypes(), r.results) {
			return nil, nil, &ModuleError{Code: "missing_export", Detail: "export " + r.name + " has the wrong signature"}
		}
	}
	for _, d := range cm.ImportedMemories() {
		mod, name, _ := d.Import()
		return nil, nil, &ModuleError{Code: "bad_import", Detail: "imported memory " + mod + "." + name + " is not provided"}
	}
	if len(cm.ExportedMemories()) == 0 {
		return nil, nil, &ModuleError{Code: "missing_export", Detail: "the module exports no memory"}
	}
	// A module may import one function several times (Go's wasip1 port
	// imports fd_write twice): Info lists each import once, sorted.
	slices.Sort(imports)
	return exports, slices.Compact(imports), nil
}

// compile returns the shared compiled module for wasm, compiling it (through
// the cache) when no pool holds it yet. The caller owns one reference.
func (e *Engine) compile(ctx context.Context, wasm []byte) (*compiled, error) {
	sum := sha256.Sum256(wasm)
	sha := hex.EncodeToString(sum[:])
	for {
		e.mu.Lock()
		if c := e.compiled[sha]; c != nil {
			c.refs++
			e.mu.Unlock()
			return c, nil
		}
		wait, busy := e.compiling[sha]
		if !busy {
			done := make(chan struct{})
			e.compiling[sha] = done
			e.mu.Unlock()
			c, err := e.compileOnce(ctx, wasm, sha)
			e.mu.Lock()
			delete(e.compiling, sha)
			close(done)
			e.mu.Unlock()
			return c, err
		}
		e.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("compile module: %w", ctx.Err())
		}
	}
}

// compileOnce compiles wasm; only one goroutine at a time compiles a given
// sha256 (see Engine.compiling).
func (e *Engine) compileOnce(ctx context.Context, wasm []byte, sha string) (*compiled, error) {
	if len(wasm) > MaxModuleBytes {
		return nil, fmt.Errorf("module has %d bytes, the limit is %d", len(wasm), MaxModuleBytes)
	}
	if err := checkStructure(wasm); err != nil {
		return nil, err
	}
	code, prep, err := e.prepare(wasm)
	if err != nil {
		e.log.Warn("plugin module globals not exportable; no instance reuse", "sha256", sha, "error", err)
	} else if prep.stop < 0 {
		e.log.Info("plugin module not instrumented; deadline enforced by the slower runtime", "sha256", sha)
	}
	cm, err := prep.rt.CompileModule(experimental.WithCompilationWorkers(ctx, compileWorkers), code)
	if err != nil {
		return nil, fmt.Errorf("compile module: %w", err)
	}
	if _, _, err := verifyShape(cm); err != nil {
		_ = cm.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		_ = cm.Close(context.WithoutCancel(ctx))
		return nil, errors.New("engine closed")
	}
	c := &compiled{sha: sha, cm: cm, refs: 1, prepared: prep}
	e.compiled[sha] = c
	return c, nil
}

// release drops one reference to c, closing it when unused. Callers hold e.mu.
func (e *Engine) releaseCompiledLocked(c *compiled) {
	c.refs--
	if c.refs <= 0 {
		delete(e.compiled, c.sha)
		_ = c.cm.Close(context.Background())
	}
}
