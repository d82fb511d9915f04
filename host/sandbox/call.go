package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/portico-dev/portico/sdk/abi"
)

// callState is the state of one call, reachable from the host functions
// through the call's context.
type callState struct {
	e      *Engine
	p      *Plugin
	st     *pluginState
	inst   *instance
	slot   *execSlot // given back while a host call waits (dispatch)
	grants map[string]bool

	hostCalls int
	flood     bool // the host call budget was spent
	logLines  int
	logBytes  int
	pending   []byte // HostResponse waiting for host_result
}

type callKey struct{}

// loadTimeout bounds loading and compiling a module on a call's path.
const loadTimeout = 30 * time.Second

// Call runs one render or action. load returns the module bytes and is only
// called when the (TenantID, VersionID) module is not compiled yet. A
// failed call returns a *CallError; the instance that ran it is discarded.
func (e *Engine) Call(ctx context.Context, p Plugin, load func(context.Context) ([]byte, error), in *abi.Input) (*abi.Output, error) {
	ctx, leave, err := e.enter(ctx)
	if err != nil {
		return nil, &CallError{Reason: ReasonUnavailable, Detail: err.Error()}
	}
	defer leave()
	p.Limits = p.Limits.normalize()
	st := e.state(p.TenantID, p.PluginID, p.Limits.MaxConcurrent)
	start := time.Now()
	failAs := func(cerr *CallError) (*abi.Output, error) {
		reason, detail := cerr.Reason, cerr.Detail
		if !p.Unrecorded {
			now := time.Now()
			st.record(e, now, now.Sub(start), p.VersionID, in.User.ID, cerr)
		}
		e.log.Warn("plugin call failed", "tenant_id", p.TenantID, "plugin_id", p.PluginID, "plugin_slug", p.Slug,
			"version_id", p.VersionID, "reason", reason, "detail", detail)
		return nil, cerr
	}
	fail := func(reason, detail string) (*abi.Output, error) {
		return failAs(&CallError{Reason: reason, Detail: detail})
	}
	if !p.Unrecorded {
		if ok, until := st.admit(start, p.VersionID, in.User.ID); !ok {
			return fail(ReasonPaused, "circuit breaker open until "+until.UTC().Format(time.RFC3339))
		}
	}
	// releaseTrial ends a half-open trial this call took and did not run;
	// an unrecorded call never takes one.
	releaseTrial := func() {
		if !p.Unrecorded {
			st.releaseTrial()
		}
	}
	// Wait for a concurrency slot, at most QueueWait.
	slots := st.slotsChan()
	select {
	case slots <- struct{}{}:
	default:
		t := time.NewTimer(p.Limits.QueueWait)
		select {
		case slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			releaseTrial()
			return fail(ReasonBusy, fmt.Sprintf("%d calls in flight, waited %s", cap(slots), p.Limits.QueueWait))
		case <-ctx.Done():
			t.Stop()
			releaseTrial()
			return fail(ReasonBusy, "canceled while waiting: "+ctx.Err().Error())
		}
	}
	defer func() { <-slots }()
	// Then for the process's execution budget, in what is left of the
	// queue wait.
	slot, err := e.budget.acquireExec(ctx, p.TenantID, start.Add(p.Limits.QueueWait))
	if err != nil {
		releaseTrial()
		return fail(ReasonOverloaded, err.Error())
	}
	defer slot.release()

	// Loading and compiling is the host's work (bounded by loadTimeout, not
	// by the plugin's deadline); the deadline covers instantiation and the
	// guest's code.
	lctx, lcancel := context.WithTimeout(ctx, loadTimeout)
	pl, err := e.getPool(lctx, &p, load)
	lcancel()
	if err != nil {
		if errors.Is(err, ErrServiceUnavailable) {
			releaseTrial()
			return fail(ReasonUnavailable, err.Error())
		}
		return fail(ReasonLoad, err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx, p.Limits.Timeout)
	defer cancel()
	inst, err := e.get(cctx, pl, p.Limits.MemoryMB)
	if err != nil {
		if errors.Is(err, errMemoryBudget) {
			releaseTrial()
			return fail(ReasonOverloaded, err.Error())
		}
		if cctx.Err() != nil {
			return fail(ReasonTimeout, "instantiate: "+err.Error())
		}
		return fail(ReasonLoad, err.Error())
	}
	out, cerr := e.run(cctx, &p, st, inst, slot, in)
	if cerr != nil {
		e.discard(pl, inst)
		return fail(cerr.Reason, cerr.Detail)
	}
	inst.calls++
	if inst.calls >= RecycleAfterCalls || !inst.restore() {
		e.discard(pl, inst)
	} else {
		// A plugin may run MaxConcurrent calls at once: keeping fewer idle
		// instances would close one after a burst and instantiate another
		// at the next (measured: a fifth of the CPU of 16 concurrent views
		// of the demo plugin went to instantiation with two kept). Idle
		// instances still count in the memory budget and are closed after
		// IdleTimeout.
		e.put(pl, inst, max(e.opts.PoolSize, p.Limits.MaxConcurrent))
	}
	if p.Accept != nil {
		if err := p.Accept(out); err != nil {
			var ho healthOnlyError
			return failAs(&CallError{Reason: ReasonMalformed, Detail: err.Error(), healthOnly: errors.As(err, &ho)})
		}
	}
	if !p.Unrecorded {
		now := time.Now()
		st.record(e, now, now.Sub(start), p.VersionID, in.User.ID, nil)
	}
	return out, nil
}

func (st *pluginState) slotsChan() chan struct{} {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.slots
}

// run performs the exported calls on inst and classifies any failure.
func (e *Engine) run(ctx context.Context, p *Plugin, st *pluginState, inst *instance, slot *execSlot, in *abi.Input) (*abi.Output, *CallError) {
	input := *in
	input.ABI = abi.Version
	input.Plugin = abi.PluginInfo{Slug: p.Slug, Title: p.Title}
	grants := make(map[string]bool, len(p.Grants))
	for _, g := range p.Grants {
		grants[g] = true
	}
	if !grants[GrantConfig] {
		input.Config = nil
	}
	data, err := json.Marshal(&input)
	if err != nil {
		return nil, &CallError{Reason: ReasonMalformed, Detail: "encode input: " + err.Error()}
	}
	if len(data) > p.Limits.MaxInputBytes {
		return nil, &CallError{Reason: ReasonMalformed, Detail: fmt.Sprintf("input of %d bytes exceeds the limit of %d", len(data), p.Limits.MaxInputBytes)}
	}
	cs := &callState{e: e, p: p, st: st, inst: inst, slot: slot, grants: grants}
	ctx = context.WithValue(ctx, callKey{}, cs)
	if dl, ok := ctx.Deadline(); ok {
		inst.deadline.Store(dl.UnixNano())
	}
	inst.wake.Store(&wakeChan{ctx.Done()})
	inst.stderr.reset() // what an earlier call wrote is not this call's
	if err := inst.refreshRand(); err != nil {
		return nil, &CallError{Reason: ReasonTrap, Detail: "refresh the guest's random state: " + err.Error()}
	}
	_, release := inst.watch(ctx)
	out, cerr := e.callGuest(ctx, cs, inst, data)
	if !release() && cerr == nil {
		// The deadline passed just as the guest returned: its stop flag
		// may be set, so the instance cannot be reused.
		cerr = &CallError{Reason: ReasonTimeout, Detail: fmt.Sprintf("no answer within %s", p.Limits.Timeout)}
	}
	return out, cerr
}

// callGuest passes the input to the guest and reads its output.
func (e *Engine) callGuest(ctx context.Context, cs *callState, inst *instance, data []byte) (*abi.Output, *CallError) {
	p := cs.p
	res, err := inst.alloc.Call(ctx, uint64(len(data)))
	if err != nil {
		return nil, e.classify(ctx, cs, "portico_alloc", err)
	}
	ptr := uint32(res[0])
	if !inst.mod.Memory().Write(ptr, data) {
		return nil, &CallError{Reason: ReasonMalformed, Detail: "portico_alloc returned a buffer outside memory"}
	}
	res, err = inst.handle.Call(ctx, uint64(ptr), uint64(len(data)))
	if err != nil {
		return nil, e.classify(ctx, cs, "portico_handle", err)
	}
	if cs.flood {
		return nil, &CallError{Reason: ReasonHostCalls, Detail: fmt.Sprintf("more than %d host calls", p.Limits.MaxHostCalls)}
	}
	optr, olen := uint32(res[0]>>32), uint32(res[0])
	if int64(olen) > int64(p.Limits.MaxOutputBytes) {
		return nil, &CallError{Reason: ReasonMalformed, Detail: fmt.Sprintf("output of %d bytes exceeds the limit of %d", olen, p.Limits.MaxOutputBytes)}
	}
	raw, ok := inst.mod.Memory().Read(optr, olen)
	if !ok {
		return nil, &CallError{Reason: ReasonMalformed, Detail: fmt.Sprintf("output at %#x+%d is outside memory", optr, olen)}
	}
	out, err := parseOutput(raw, p.Limits.MaxOutputBytes)
	if err != nil {
		return nil, &CallError{Reason: ReasonMalformed, Detail: err.Error()}
	}
	if ctx.Err() != nil {
		// Decoding is part of the call: one that ends past the deadline
		// is a timeout, whatever the output.
		return nil, &CallError{Reason: ReasonTimeout, Detail: fmt.Sprintf("no answer within %s (output decoded past the deadline)", p.Limits.Timeout)}
	}
	return out, nil
}

// classify turns an error of an exported call into a CallError.
func (e *Engine) classify(ctx context.Context, cs *callState, fn string, err error) *CallError {
	// What this call wrote to stderr, bounded by stderrBuffer.
	stderr := strings.TrimSpace(cs.inst.stderr.take())
	msg, _, _ := strings.Cut(err.Error(), "\n") // drop wazero's wasm stack trace
	detail := fn + ": " + msg
	if stderr != "" {
		detail += " (stderr: " + stderr + ")"
	}
	var exit *sys.ExitError
	switch {
	case cs.flood:
		return &CallError{Reason: ReasonHostCalls, Detail: fmt.Sprintf("more than %d host calls", cs.p.Limits.MaxHostCalls)}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &CallError{Reason: ReasonTimeout, Detail: fmt.Sprintf("no answer within %s", cs.p.Limits.Timeout)}
	case ctx.Err() != nil:
		return &CallError{Reason: ReasonTimeout, Detail: "canceled: " + ctx.Err().Error()}
	case cs.inst.mem.refused.Load():
		return &CallError{Reason: ReasonMemory, Detail: fmt.Sprintf("memory limit of %d MiB reached; %s", cs.inst.memMB, detail)}
	case errors.As(err, &exit):
		return &CallError{Reason: ReasonTrap, Detail: fmt.Sprintf("%s: exited with code %d (stderr: %s)", fn, exit.ExitCode(), stderr)}
	}
	return &CallError{Reason: ReasonTrap, Detail: detail}
}

// parseOutput decodes the guest's JSON output: exactly one JSON object with
// a view or an error. Decoding is bounded by the view's limits
// (abi.DecodeOutput): an output of many empty elements is refused at the
// first element past a limit instead of being decoded whole.
func parseOutput(raw []byte, maxBytes int) (*abi.Output, error) {
	if len(raw) > maxBytes {
		return nil, fmt.Errorf("output of %d bytes exceeds the limit of %d", len(raw), maxBytes)
	}
	out, err := abi.DecodeOutput(raw)
	if err != nil {
		return nil, err
	}
	if out.View == nil && out.Error == "" && out.Settings == nil {
		return nil, errors.New("output has neither a view, settings nor an error")
	}
	if out.View != nil && out.View.Blocks == nil {
		out.View.Blocks = []abi.Block{}
	}
	return out, nil
}

// logAttrs are the attributes naming a plugin in the host's log.
func (cs *callState) logAttrs() []any {
	return []any{slog.String("tenant_id", cs.p.TenantID), slog.String("plugin_id", cs.p.PluginID), slog.String("plugin_slug", cs.p.Slug)}
}
