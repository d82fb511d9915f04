package sandbox

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/portico-dev/portico/sdk/abi"
)

// instance is one instantiated, initialised module. It runs one call at a
// time; between calls its memory is restored to the post-initialisation
// snapshot.
type instance struct {
	mod      api.Module
	mem      *linearMemory
	snap     []byte // linear memory right after _initialize (copy reset only)
	imageLen int    // its length
	shrinker memoryShrinker
	shrinkOK bool // the memory can be shrunk back to imageLen
	alloc    api.Function
	handle   api.Function
	stderr   *stderrBuffer
	seeds    *seedRecorder // what random_get gave _initialize
	randAt   int           // offset of the Go runtime's generator state, or -1
	memMB    int
	calls    int
	reusable bool                // globals are exported and snapshotted
	globals  []api.MutableGlobal // the module's mutable globals
	gsnap    []uint64            // their values right after _initialize
	deadline atomic.Int64        // unix nanoseconds of the current call's deadline
	// wake ends a guest's sleep early: the current call's Done channel
	// (its deadline, or Close giving up waiting), see nanosleep.
	wake atomic.Pointer[wakeChan]
	// stop is the instrumented module's stop flag (nil: the runtime
	// enforces deadlines itself).
	stop api.MutableGlobal
	// idleSince is when the instance was last put in its pool; budget and
	// reservedMB are its share of the instance memory budget (budget.go).
	idleSince  time.Time
	budget     *budget
	reservedMB int
	tenant     string // whose share reservedMB is counted in
}

// watch arranges for the guest to stop when ctx is done: it sets the stop
// flag of an instrumented module. release must be called when the guest
// returned; it reports false when the flag may have been set, and the
// instance must then be discarded.
func (inst *instance) watch(ctx context.Context) (context.Context, func() bool) {
	if inst.stop == nil || ctx.Done() == nil {
		return ctx, func() bool { return true }
	}
	stop := context.AfterFunc(ctx, func() { inst.stop.Set(1) })
	return ctx, stop
}

// instantiateGlobals creates and initialises an instance of cm, prepared as
// prep says, whose memory may grow to memMB MiB.
func (e *Engine) instantiateGlobals(ctx context.Context, cm wazero.CompiledModule, memMB int, prep prepared) (*instance, error) {
	nglobals := prep.globals
	inst := &instance{
		mem:    &linearMemory{limit: uint64(memMB) << 20},
		stderr: &stderrBuffer{},
		seeds:  &seedRecorder{},
		memMB:  memMB,
		randAt: -1,
	}
	for _, m := range cm.ExportedMemories() {
		if uint64(m.Min())<<16 > inst.mem.limit {
			return nil, fmt.Errorf("the module needs %d KiB of memory at start, the limit is %d MiB", uint64(m.Min())<<6, memMB)
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		inst.deadline.Store(dl.UnixNano())
	}
	inst.wake.Store(&wakeChan{ctx.Done()})
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(). // a reactor: _initialize is called below
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.nanosleep).
		WithRandSource(inst.seeds).
		WithStderr(inst.stderr)
	actx := experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(func(capacity, _ uint64) experimental.LinearMemory {
		if cowSupported && !e.copyReset && nglobals >= 0 {
			if mapped, err := reserveMemory(int(inst.mem.limit)); err == nil {
				inst.mem.mapped = mapped
				inst.mem.buf = mapped[:0:0]
				return inst.mem
			}
		}
		inst.mem.buf = make([]byte, 0, min(capacity, inst.mem.limit))
		return inst.mem
	}))
	mod, err := prep.rt.InstantiateModule(actx, cm, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst.mod = mod
	if prep.stop >= 0 {
		g, ok := mod.ExportedGlobal(globalExportPrefix + strconv.Itoa(prep.stop)).(api.MutableGlobal)
		if !ok {
			inst.close()
			return nil, errors.New("instrumented module lacks its stop flag")
		}
		inst.stop = g
	}
	ictx, release := inst.watch(ctx)
	_, err = mod.ExportedFunction(abi.ExportInitialize).Call(ictx)
	if !release() && err == nil {
		err = errors.New("deadline reached")
	}
	if err != nil {
		inst.close()
		if inst.mem.refused.Load() {
			return nil, fmt.Errorf("_initialize: out of memory (limit %d MiB)", memMB)
		}
		return nil, fmt.Errorf("_initialize: %w %s", err, inst.stderr.take())
	}
	inst.alloc = mod.ExportedFunction(abi.ExportAlloc)
	inst.handle = mod.ExportedFunction(abi.ExportHandle)
	if mod.Memory() == nil || inst.alloc == nil || inst.handle == nil {
		inst.close()
		return nil, errors.New("module lacks memory or exports")
	}
	inst.imageLen = len(inst.mem.buf)
	if prep.randAt != nil && prep.randAt.Load() != randAbsent {
		seeds := inst.seeds.seeds()
		inst.randAt = locateRuntimeRand(inst.mem.buf, seeds, prep.randAt.Load())
		switch {
		case inst.randAt >= 0:
			prep.randAt.Store(int64(inst.randAt))
		case len(seeds) > 0:
			// Absent only when never found: an instance that did not
			// find it where an earlier one did leaves the hint alone.
			prep.randAt.CompareAndSwap(-1, randAbsent)
		}
	}
	inst.shrinker, inst.shrinkOK = newMemoryShrinker(mod.Memory())
	if inst.mem.mapped == nil || inst.mem.freeze(inst.imageLen) != nil {
		inst.snap = append([]byte(nil), inst.mem.buf...)
	}
	if nglobals >= 0 {
		inst.reusable = true
		for i := range nglobals {
			g := mod.ExportedGlobal(globalExportPrefix + strconv.Itoa(i))
			if g == nil {
				inst.reusable = false
				break
			}
			if mg, ok := g.(api.MutableGlobal); ok {
				inst.globals = append(inst.globals, mg)
				inst.gsnap = append(inst.gsnap, mg.Get())
			}
		}
	}
	inst.stderr.take()
	return inst, nil
}

// nanosleep sleeps at most until the current call's deadline, so a guest's
// time.Sleep cannot hold a call beyond its timeout, and wakes when the
// call is cancelled (Close giving up waiting for it).
func (inst *instance) nanosleep(ns int64) {
	d := time.Duration(ns)
	if dl := inst.deadline.Load(); dl != 0 {
		d = min(d, time.Until(time.Unix(0, dl)))
	}
	if d <= 0 {
		return
	}
	w := inst.wake.Load()
	if w == nil || w.done == nil {
		time.Sleep(d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.done: // the call was cancelled: its stop flag ends the guest next
	}
}

// wakeChan holds the channel that ends a guest's sleep (instance.wake).
type wakeChan struct{ done <-chan struct{} }

// restore rewinds the instance to its post-initialisation state: the
// memory image comes back (copy-on-write or copied), whatever a call wrote
// above it is zeroed (Go's allocator assumes memory it obtains is zero),
// the memory is shrunk back to the image's size and the globals are set
// back. It reports false when the instance should be discarded instead.
func (inst *instance) restore() bool {
	if !inst.reusable || len(inst.mem.buf) < inst.imageLen {
		return false
	}
	if !inst.mem.rewind(inst.snap, inst.imageLen) {
		return false
	}
	if len(inst.mem.buf) != inst.imageLen {
		ok := inst.shrinkOK && inst.shrinker.shrink(inst.mod.Memory(), inst.mem, inst.imageLen)
		if !ok && len(inst.mem.buf)-inst.imageLen > RecycleGrowth {
			return false
		}
	}
	for i, g := range inst.globals {
		g.Set(inst.gsnap[i])
	}
	inst.alloc = inst.freshIfGrown(inst.alloc, abi.ExportAlloc)
	inst.handle = inst.freshIfGrown(inst.handle, abi.ExportHandle)
	return inst.alloc != nil && inst.handle != nil
}

// maxKeptStack is the call stack an idle instance may keep for each of
// its exported functions. wazero's compiled code gives every api.Function
// its own call stack, grown by doubling as deep calls need it (up to
// 400 MB) and never shrunk; that memory is not the plugin's linear memory,
// so neither its memory limit nor the instance memory budget counts it. A
// call that recursed a million frames deep and returned normally left
// ~81 MiB with the idle instance. The function is therefore taken again
// from the module after such a call: the new one starts with a small stack
// and the grown one is garbage.
const maxKeptStack = 1 << 20

// freshIfGrown returns f, or the module's export name taken again when f's
// call stack grew past maxKeptStack (or its size cannot be read: another
// wazero engine).
func (inst *instance) freshIfGrown(f api.Function, name string) api.Function {
	if n, ok := callStackBytes(f); ok && n <= maxKeptStack {
		return f
	}
	return inst.mod.ExportedFunction(name)
}

// callStackBytes reads the size, in bytes, of the call stack wazero keeps
// in an api.Function (the unexported field stack of its call engine). ok is false when f has no such field: TestCallStackProbe fails
// then, so that a wazero upgrade that moves it is noticed, and instances
// take their functions again after every call until it is fixed.
func callStackBytes(f api.Function) (n int, ok bool) {
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	cached, found := stackFields.Load(v.Type())
	field, _ := cached.(stackField)
	if !found {
		field.index = -1
		if sf, ok := v.Elem().Type().FieldByName("stack"); ok && len(sf.Index) == 1 && sf.Type.Kind() == reflect.Slice {
			field = stackField{index: sf.Index[0], elem: int(sf.Type.Elem().Size())}
		}
		stackFields.Store(v.Type(), field)
	}
	if field.index < 0 {
		return 0, false
	}
	return v.Elem().Field(field.index).Len() * field.elem, true
}

// stackField is where an api.Function implementation keeps its stack: the
// field's index (-1: none) and the size of its elements (the compiler's
// stack is bytes, the interpreter's 8-byte words).
type stackField struct{ index, elem int }

// stackFields caches a stackField per api.Function implementation type.
var stackFields sync.Map

func (inst *instance) close() {
	if inst.mod != nil {
		_ = inst.mod.Close(context.Background())
	}
	inst.unreserve()
}

// pool holds the idle instances of one (tenant, plugin version).
type pool struct {
	key       poolKey
	plugin    string // the plugin the version belongs to
	comp      *compiled
	mu        sync.Mutex
	idle      []*instance
	memMB     int
	closed    bool
	refilling bool
}

// getPool returns the pool of p's version, loading and compiling the module
// on first use. Creating it drops the pools of the plugin's other versions
// in this tenant: only the activating process is told of a version change
// (Evict), so every other process learns of it here, at the first call of
// the new version, and no stale version's instances stay resident.
func (e *Engine) getPool(ctx context.Context, p *Plugin, load func(context.Context) ([]byte, error)) (*pool, error) {
	key := poolKey{p.TenantID, p.VersionID}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("engine closed")
	}
	if pl := e.pools[key]; pl != nil {
		e.mu.Unlock()
		return pl, nil
	}
	e.mu.Unlock()
	if load == nil {
		return nil, errors.New("no module loader")
	}
	wasm, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load module: %w", err)
	}
	c, err := e.compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.closed { // Close swapped the pools out meanwhile: add none it would not drain
		e.releaseCompiledLocked(c)
		e.mu.Unlock()
		return nil, errors.New("engine closed")
	}
	if pl := e.pools[key]; pl != nil { // loaded concurrently
		e.releaseCompiledLocked(c)
		e.mu.Unlock()
		return pl, nil
	}
	pl := &pool{key: key, plugin: p.PluginID, comp: c}
	var stale []*pool
	for k, old := range e.pools {
		if k.tenant == key.tenant && old.plugin == p.PluginID {
			delete(e.pools, k)
			e.releaseCompiledLocked(old.comp)
			stale = append(stale, old)
		}
	}
	e.pools[key] = pl
	e.mu.Unlock()
	// Draining closes idle instances; calls in flight on a stale pool finish,
	// and their instances are closed on return because the pool is closed.
	for _, old := range stale {
		old.drain(ctx)
	}
	return pl, nil
}

// get returns an idle instance or a new one.
func (e *Engine) get(ctx context.Context, pl *pool, memMB int) (*instance, error) {
	pl.mu.Lock()
	var stale []*instance
	if pl.memMB != memMB { // the plugin's memory limit changed
		stale, pl.idle = pl.idle, nil
		pl.memMB = memMB
	}
	var inst *instance
	if n := len(pl.idle); n > 0 {
		inst = pl.idle[n-1]
		pl.idle = pl.idle[:n-1]
	}
	pl.mu.Unlock()
	for _, s := range stale {
		s.close()
	}
	if inst != nil {
		return inst, nil
	}
	return e.newInstance(ctx, pl, memMB, true)
}

// put returns a healthy, restored instance to the pool, which keeps at
// most keep idle instances (closing the others).
func (e *Engine) put(pl *pool, inst *instance, keep int) {
	pl.mu.Lock()
	if !pl.closed && inst.memMB == pl.memMB && len(pl.idle) < keep {
		inst.idleSince = time.Now()
		pl.idle = append(pl.idle, inst)
		inst = nil
	}
	pl.mu.Unlock()
	if inst != nil {
		inst.close()
	}
}

// refillWait is how long a background refill waits for one of its
// tenant's execution slots before it gives up.
const refillWait = 250 * time.Millisecond

// discard closes a failed or worn instance and refills the pool in the
// background so the next call finds a warm instance. The refill runs the
// plugin's _initialize, which is the tenant's CPU like any call: it takes
// one of the tenant's execution slots, and is skipped when none is free
// within refillWait (the next call then instantiates within its own
// slot). Otherwise a plugin failing on purpose would get up to
// checkTimeout of CPU per failure outside the tenant's share.
func (e *Engine) discard(pl *pool, inst *instance) {
	e.discards.Add(1)
	inst.close()
	pl.mu.Lock()
	if pl.closed || pl.refilling || len(pl.idle) >= e.opts.PoolSize {
		pl.mu.Unlock()
		return
	}
	pl.refilling = true
	memMB := pl.memMB
	pl.mu.Unlock()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.work.Add()
	e.mu.Unlock()
	go func() {
		defer e.work.Done()
		ctx, cancel := context.WithTimeout(e.base, checkTimeout) // ends early if Close gives up waiting
		defer cancel()
		var fresh *instance
		// A moment's wait: the failed call that asked for the refill
		// still holds its own slot until it returns.
		slot, err := e.budget.acquireExec(ctx, pl.key.tenant, time.Now().Add(refillWait))
		if err == nil {
			fresh, err = e.newInstance(ctx, pl, memMB, false)
			slot.release()
		}
		pl.mu.Lock()
		pl.refilling = false
		pl.mu.Unlock()
		if slot == nil {
			e.log.Debug("plugin instance refill skipped: no execution slot free", "tenant_id", pl.key.tenant, "version_id", pl.key.version, "reason", err)
			return
		}
		if err != nil {
			e.log.Warn("plugin instance refill failed", "tenant_id", pl.key.tenant, "version_id", pl.key.version, "error", err)
			return
		}
		e.put(pl, fresh, e.opts.PoolSize)
	}()
}

func (pl *pool) drain(_ context.Context) {
	pl.mu.Lock()
	idle := pl.idle
	pl.idle = nil
	pl.closed = true
	pl.mu.Unlock()
	for _, inst := range idle {
		inst.close()
	}
}

// Evict drops the pooled instances and compiled code of one plugin version
// (after a version change or deletion). Calls in flight finish normally.
func (e *Engine) Evict(tenantID, versionID string) {
	key := poolKey{tenantID, versionID}
	e.mu.Lock()
	pl := e.pools[key]
	if pl != nil {
		delete(e.pools, key)
		e.releaseCompiledLocked(pl.comp)
	}
	e.mu.Unlock()
	if pl != nil {
		pl.drain(context.Background())
	}
}
