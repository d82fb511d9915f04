package sandbox

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Process-wide budgets. The limits of one plugin (Limits) bound what one
// plugin may take; these bound what all plugins of all tenants take
// together, so that many plugins, or many tenants, cannot exhaust the
// process.
//
//   - Executions: calls running guest code at once, over the whole process
//     (Options.MaxExecutions) and per tenant (Options.MaxTenantExecutions,
//     by default Options.TenantSharePercent of the process's — half unless
//     the operator says otherwise — so one tenant cannot take them all). A call that finds no room waits what is left of its plugin's
//     QueueWait, then fails with ReasonOverloaded.
//   - Instance memory: the sum of the memory limits of all live instances,
//     idle or running, over the process (Options.MaxInstanceMemoryMB) and
//     per tenant (Options.MaxTenantInstanceMemoryMB, by default the same
//     share of the process's, and never less than one instance of the
//     largest memory limit, MaxMemoryMB: calls parked in a host call hold their instance but
//     not an execution slot, so without a share one tenant's slow ERP
//     could hold the whole budget). The limit, not the memory in use, is
//     counted: it is what an instance may reach during a call, and an idle
//     one gives back what a call grew (releaseAbove). A new instance that
//     does not fit first evicts idle instances, oldest first: its own
//     tenant's when the tenant's share is what is spent, any tenant's
//     otherwise; when running instances hold the budget the call fails
//     with ReasonOverloaded.
//   - Idle time: an instance idle for Options.IdleTimeout is closed by a
//     background sweep.
const (
	DefaultMaxInstanceMemoryMB = 4096
	DefaultIdleTimeout         = 5 * time.Minute
)

// DefaultMaxExecutions is the default process-wide cap on calls running at
// once: four per CPU (calls often wait on an ERP rather than compute) plus
// four.
func DefaultMaxExecutions() int { return 4*runtime.GOMAXPROCS(0) + 4 }

// ReasonOverloaded: the process-wide budgets (executions, instance memory)
// are spent; the call was not run. Like busy, it is not the plugin's fault
// and does not count toward its breaker.
const ReasonOverloaded = "overloaded"

// errMemoryBudget is returned by newInstance when the instance memory
// budget is held by running instances.
var errMemoryBudget = errors.New("instance memory budget spent")

// budget counts what the process's plugins hold. It is a leaf lock: no
// other lock is taken while holding mu.
type budget struct {
	mu         sync.Mutex
	maxExec    int
	maxTenant  int
	exec       int
	tenantExec map[string]int
	// resuming counts the calls waiting to take their slot back after a
	// host call (execSlot.resume), over the process and per tenant: a call
	// not yet started leaves them room.
	resuming       int
	tenantResuming map[string]int
	maxMemMB       int
	memMB          int
	maxTenantMemMB int
	tenantMemMB    map[string]int
	changed        chan struct{} // closed and replaced when something is freed
}

func newBudget(o Options) *budget {
	return &budget{maxExec: o.MaxExecutions, maxTenant: o.MaxTenantExecutions, tenantExec: map[string]int{},
		tenantResuming: map[string]int{}, maxMemMB: o.MaxInstanceMemoryMB, maxTenantMemMB: o.MaxTenantInstanceMemoryMB,
		tenantMemMB: map[string]int{}, changed: make(chan struct{})}
}

func (b *budget) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// execSlot is one call's hold on the execution budget. The call gives it
// back while it waits in a host function on the network or the database
// (park), and takes it again when the wait ends (resume), before any call
// that has not started: the budget bounds the guest code running at once,
// which is CPU, not the calls waiting on an ERP. It is used by the call's
// own goroutine only.
type execSlot struct {
	b      *budget
	tenant string
	held   bool
}

// park gives the slot back; it does nothing when the slot is not held (or
// s is nil: a call state made without one, in tests).
func (s *execSlot) park() {
	if s == nil || !s.held {
		return
	}
	s.held = false
	s.b.releaseExec(s.tenant)
}

// resume takes the slot back, waiting as long as ctx (the call's deadline)
// allows, ahead of calls not yet started.
func (s *execSlot) resume(ctx context.Context) error {
	if s == nil || s.held {
		return nil
	}
	if err := s.b.resumeExec(ctx, s.tenant); err != nil {
		return err
	}
	s.held = true
	return nil
}

// release gives the slot back at the end of the call.
func (s *execSlot) release() { s.park() }

// acquireExec takes an execution slot for tenant, waiting until deadline
// at most. It returns the slot, or the reason no slot was free.
func (b *budget) acquireExec(ctx context.Context, tenant string, deadline time.Time) (*execSlot, error) {
	for {
		b.mu.Lock()
		var why string
		switch {
		case b.tenantExec[tenant]+b.tenantResuming[tenant] >= b.maxTenant:
			why = fmt.Sprintf("the tenant has %d calls running, its share of the process's %d", b.tenantExec[tenant]+b.tenantResuming[tenant], b.maxExec)
		case b.exec+b.reservedLocked() >= b.maxExec:
			why = fmt.Sprintf("%d calls running in the process, the most it runs at once", b.exec+b.reservedLocked())
		default:
			b.exec++
			b.tenantExec[tenant]++
			b.mu.Unlock()
			return &execSlot{b: b, tenant: tenant, held: true}, nil
		}
		ch := b.changed
		b.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, errors.New(why)
		}
		t := time.NewTimer(wait)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return nil, errors.New(why)
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("canceled while waiting: %w", ctx.Err())
		}
	}
}

// resumeExec takes a slot back for a call of tenant that gave it up during
// a host call, until ctx is done. While it waits, calls not yet started
// count it as taken (acquireExec), so they cannot keep it from the calls
// already running.
func (b *budget) resumeExec(ctx context.Context, tenant string) error {
	b.mu.Lock()
	b.resuming++
	b.tenantResuming[tenant]++
	for b.tenantExec[tenant] >= b.maxTenant || b.exec >= b.maxExec {
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			b.mu.Lock()
			b.doneResumingLocked(tenant)
			b.notifyLocked() // a new call may fit now
			b.mu.Unlock()
			return fmt.Errorf("waiting to run again after a host call: %w", ctx.Err())
		}
		b.mu.Lock()
	}
	b.doneResumingLocked(tenant)
	b.exec++
	b.tenantExec[tenant]++
	b.mu.Unlock()
	return nil
}

// reservedLocked is how many slots the calls waiting to resume keep from
// new calls: each tenant's resumers, as many as its share still lets run.
// A tenant's resumers beyond its share could not take a free slot anyway,
// so they keep none: counting them would refuse other tenants' calls
// while slots sit idle (one tenant's backlog after a slow ERP answers).
func (b *budget) reservedLocked() int {
	n := 0
	for t, r := range b.tenantResuming {
		n += min(r, max(0, b.maxTenant-b.tenantExec[t]))
	}
	return n
}

func (b *budget) doneResumingLocked(tenant string) {
	b.resuming--
	if b.tenantResuming[tenant]--; b.tenantResuming[tenant] <= 0 {
		delete(b.tenantResuming, tenant)
	}
}

func (b *budget) releaseExec(tenant string) {
	b.mu.Lock()
	b.exec--
	if b.tenantExec[tenant]--; b.tenantExec[tenant] <= 0 {
		delete(b.tenantExec, tenant)
	}
	b.notifyLocked()
	b.mu.Unlock()
}

// executing returns the number of calls holding an execution slot.
func (b *budget) executing() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exec
}

// reserveMem counts an instance of tenant of memMB MiB against the memory
// budget. When it does not fit, tenantFull says whether the tenant's share
// is what is spent (rather than the process's budget).
func (b *budget) reserveMem(tenant string, memMB int) (ok, tenantFull bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tenantMemMB[tenant]+memMB > b.maxTenantMemMB {
		return false, true
	}
	if b.memMB+memMB > b.maxMemMB {
		return false, false
	}
	b.memMB += memMB
	b.tenantMemMB[tenant] += memMB
	return true, false
}

func (b *budget) releaseMem(tenant string, memMB int) {
	b.mu.Lock()
	b.memMB -= memMB
	if b.tenantMemMB[tenant] -= memMB; b.tenantMemMB[tenant] <= 0 {
		delete(b.tenantMemMB, tenant)
	}
	b.notifyLocked()
	b.mu.Unlock()
}

// reservedMem returns the memory limits counted, in MiB.
func (b *budget) reservedMem() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.memMB
}

// Executing returns the number of plugin calls running guest code now.
func (e *Engine) Executing() int { return e.budget.executing() }

// newInstance creates an instance of pl's module counted against the
// memory budget. When it does not fit and evict is set, idle instances
// are closed, oldest first, until it does; otherwise, or when running
// instances hold the budget, it fails with errMemoryBudget.
func (e *Engine) newInstance(ctx context.Context, pl *pool, memMB int, evict bool) (*instance, error) {
	tenant := pl.key.tenant
	for {
		ok, tenantFull := e.budget.reserveMem(tenant, memMB)
		if ok {
			break
		}
		evictFrom := "" // any tenant
		if tenantFull {
			evictFrom = tenant
		}
		if !evict || !e.evictOldestIdle(evictFrom) {
			if tenantFull {
				return nil, fmt.Errorf("%w: the tenant's instances hold %d MiB of memory limits, a new instance needs %d MiB more, at most %d MiB per tenant",
					errMemoryBudget, e.budget.tenantReservedMem(tenant), memMB, e.budget.maxTenantMemMB)
			}
			return nil, fmt.Errorf("%w: %d MiB of instance memory limits held, a new instance needs %d MiB more, at most %d MiB",
				errMemoryBudget, e.budget.reservedMem(), memMB, e.budget.maxMemMB)
		}
	}
	inst, err := e.instantiateGlobals(ctx, pl.comp.cm, memMB, pl.comp.prepared)
	if err != nil {
		e.budget.releaseMem(tenant, memMB)
		return nil, err
	}
	inst.reservedMB = memMB
	inst.tenant = tenant
	inst.budget = e.budget
	return inst, nil
}

// tenantReservedMem returns the memory limits counted for tenant, in MiB.
func (b *budget) tenantReservedMem(tenant string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tenantMemMB[tenant]
}

// unreserve gives the instance's memory reservation back (once).
func (inst *instance) unreserve() {
	if inst.budget != nil && inst.reservedMB > 0 {
		inst.budget.releaseMem(inst.tenant, inst.reservedMB)
		inst.reservedMB = 0
	}
}

// pools returns the engine's pools.
func (e *Engine) poolList() []*pool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*pool, 0, len(e.pools))
	for _, pl := range e.pools {
		out = append(out, pl)
	}
	return out
}

// evictOldestIdle closes the idle instance idle the longest, of tenant's
// pools or, when tenant is "", of any pool. It reports false when there is
// none.
func (e *Engine) evictOldestIdle(tenant string) bool {
	for range 3 { // another call may take the chosen instance first
		var (
			oldest *instance
			from   *pool
		)
		for _, pl := range e.poolList() {
			if tenant != "" && pl.key.tenant != tenant {
				continue
			}
			pl.mu.Lock()
			for _, inst := range pl.idle {
				if oldest == nil || inst.idleSince.Before(oldest.idleSince) {
					oldest, from = inst, pl
				}
			}
			pl.mu.Unlock()
		}
		if oldest == nil {
			return false
		}
		if from.remove(oldest) {
			oldest.close()
			e.evictions.Add(1)
			return true
		}
	}
	return false
}

// remove takes inst out of the pool's idle instances; it reports false
// when inst was no longer idle there.
func (pl *pool) remove(inst *instance) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for i, in := range pl.idle {
		if in == inst {
			pl.idle = append(pl.idle[:i:i], pl.idle[i+1:]...)
			return true
		}
	}
	return false
}

// sweepIdle closes the instances idle since before now - IdleTimeout and
// returns how many it closed.
func (e *Engine) sweepIdle(now time.Time) int {
	var expired []*instance
	for _, pl := range e.poolList() {
		pl.mu.Lock()
		var keep []*instance
		for _, inst := range pl.idle {
			if now.Sub(inst.idleSince) >= e.opts.IdleTimeout {
				expired = append(expired, inst)
			} else {
				keep = append(keep, inst)
			}
		}
		pl.idle = keep
		pl.mu.Unlock()
	}
	for _, inst := range expired {
		inst.close()
	}
	return len(expired)
}

// sweeper runs sweepIdle every quarter of IdleTimeout, and trims the
// compilation cache every cacheTrimEvery, until stop is closed.
func (e *Engine) sweeper(stop <-chan struct{}) {
	defer e.work.Done()
	t := time.NewTicker(max(e.opts.IdleTimeout/4, time.Millisecond))
	defer t.Stop()
	trim := time.NewTicker(cacheTrimEvery)
	defer trim.Stop()
	for {
		select {
		case <-stop:
			return
		case <-trim.C:
			e.trimCacheNow()
		case <-t.C:
			if n := e.sweepIdle(time.Now()); n > 0 {
				e.log.Debug("idle plugin instances closed", "count", n, "idle_timeout", e.opts.IdleTimeout.String())
			}
		}
	}
}
