package sandbox

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Health returns the plugin's counters over a recent window.
type Health struct {
	Calls, Errors int64
	// P50 and P95 are over the last durationWindow calls.
	P50, P95    time.Duration
	LastErrors  []ErrorEntry // newest first, at most maxLastErrors
	Paused      bool
	PausedUntil time.Time
	Logs        []LogEntry // newest first, at most maxLogs
}

// ErrorEntry is one failed call.
type ErrorEntry struct {
	At             time.Time
	Reason, Detail string
}

// LogEntry is one line a plugin logged.
type LogEntry struct {
	At             time.Time
	Level, Message string
	Attrs          map[string]string
}

// Window sizes of a plugin's health.
const (
	durationWindow = 1000
	maxLastErrors  = 20
	maxLogs        = 200
)

// pluginState is what the engine keeps per (tenant, plugin): its
// concurrency slots, breaker and health.
type pluginState struct {
	slots chan struct{} // capacity = MaxConcurrent

	mu          sync.Mutex
	calls       int64
	errors      int64
	durations   []time.Duration // ring
	next        int
	lastErrors  []ErrorEntry // oldest first
	logs        []LogEntry   // oldest first
	consecutive int          // failures in a row
	// people are the different callers (abi.User.ID) of the run of
	// failures consecutive counts, up to Options.BreakerPeople of them.
	people []string
	// trialFailedBy is the caller whose half-open trial failed last: the
	// next trial is someone else's, so one person whose calls always fail
	// cannot keep the breaker open by calling as each cooldown ends.
	trialFailedBy string
	openUntil     time.Time // breaker open until
	cooldown      time.Duration
	trial         bool // a half-open trial call is in flight
	// failing is the module version whose failures consecutive counts
	// (and that opened the breaker): another version starts afresh.
	failing string
	// gen is healthSeq at the state's latest change of what Health
	// shows (a call recorded, a line logged): ChangedHealth compares it.
	gen uint64
}

// healthSeq numbers the changes of every plugin's health in the process.
// It is process-wide rather than per engine only because a mark is just a
// position in it: two engines in one process (tests) share the numbering
// and each still finds its own changes.
var healthSeq atomic.Uint64

// changed marks a change of the state's health; st.mu is held.
func (st *pluginState) changed() { st.gen = healthSeq.Add(1) }

func (e *Engine) state(tenantID, pluginID string, maxConcurrent int) *pluginState {
	key := pluginKey{tenantID, pluginID}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.plugins[key]
	if st == nil {
		st = &pluginState{slots: make(chan struct{}, maxConcurrent)}
		e.plugins[key] = st
	} else {
		st.mu.Lock()
		if cap(st.slots) != maxConcurrent {
			// The limit changed: calls in flight keep their slots in the
			// old channel; new calls use a new one.
			st.slots = make(chan struct{}, maxConcurrent)
		}
		st.mu.Unlock()
	}
	return st
}

// admit applies the circuit breaker: it reports whether a call may run and,
// when the breaker is open, until when.
func (st *pluginState) admit(now time.Time, version, person string) (ok bool, until time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.openUntil.IsZero() {
		return true, time.Time{}
	}
	if version != st.failing {
		// Another version was activated (a fix, or a rollback) on any
		// node: the breaker that the failing one opened is closed.
		st.changed()
		st.consecutive, st.openUntil, st.cooldown, st.trial, st.failing, st.people, st.trialFailedBy = 0, time.Time{}, 0, false, "", nil, ""
		return true, time.Time{}
	}
	if now.Before(st.openUntil) || st.trial || (person != "" && person == st.trialFailedBy) {
		return false, st.openUntil
	}
	st.trial = true // half-open: let one call through
	return true, time.Time{}
}

// record adds a finished call, made for person (abi.User.ID), to the
// health and the breaker.
func (st *pluginState) record(e *Engine, now time.Time, d time.Duration, version, person string, cerr *CallError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.changed()
	st.calls++
	if len(st.durations) < durationWindow {
		st.durations = append(st.durations, d)
	} else {
		st.durations[st.next] = d
		st.next = (st.next + 1) % durationWindow
	}
	if cerr == nil {
		st.consecutive, st.people, st.trialFailedBy = 0, st.people[:0], ""
		st.openUntil = time.Time{}
		st.cooldown = 0
		st.trial = false
		return
	}
	st.errors++
	st.lastErrors = append(st.lastErrors, ErrorEntry{At: now, Reason: cerr.Reason, Detail: cerr.Detail})
	if len(st.lastErrors) > maxLastErrors {
		st.lastErrors = slices.Delete(st.lastErrors, 0, len(st.lastErrors)-maxLastErrors)
	}
	if cerr.Reason == ReasonBusy || cerr.Reason == ReasonPaused || cerr.Reason == ReasonOverloaded || cerr.Reason == ReasonUnavailable {
		return // not the plugin's fault, or not run at all
	}
	if cerr.healthOnly {
		st.trial = false // a trial that ran and was only refused a card: the next call tries
		return
	}
	if version != st.failing {
		st.consecutive, st.cooldown, st.failing, st.people = 0, 0, version, st.people[:0]
	}
	st.consecutive++
	if len(st.people) < e.opts.BreakerPeople && !slices.Contains(st.people, person) {
		st.people = append(st.people, person)
	}
	if st.trial || (st.consecutive >= e.opts.BreakerThreshold && len(st.people) >= e.opts.BreakerPeople) {
		if st.trial {
			st.cooldown = min(2*st.cooldown, MaxBreakerCooldown)
			st.trialFailedBy = person
		}
		if st.cooldown == 0 {
			st.cooldown = e.opts.BreakerCooldown
		}
		st.openUntil = now.Add(st.cooldown)
		st.trial = false
	}
}

// releaseTrial ends a half-open trial that did not run (busy).
func (st *pluginState) releaseTrial() {
	st.mu.Lock()
	st.trial = false
	st.mu.Unlock()
}

func (st *pluginState) addLog(l LogEntry) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.changed()
	st.logs = append(st.logs, l)
	if len(st.logs) > maxLogs {
		st.logs = slices.Delete(st.logs, 0, len(st.logs)-maxLogs)
	}
}

// Health returns the plugin's counters over a recent window.
func (e *Engine) Health(tenantID, pluginID string) Health {
	e.mu.Lock()
	st := e.plugins[pluginKey{tenantID, pluginID}]
	e.mu.Unlock()
	if st == nil {
		return Health{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.health(time.Now())
}

// health is the state's snapshot at now; st.mu is held.
func (st *pluginState) health(now time.Time) Health {
	h := Health{Calls: st.calls, Errors: st.errors}
	if n := len(st.durations); n > 0 {
		ds := slices.Clone(st.durations)
		slices.Sort(ds)
		h.P50 = ds[(n-1)*50/100]
		h.P95 = ds[(n-1)*95/100]
	}
	for i := len(st.lastErrors) - 1; i >= 0; i-- {
		h.LastErrors = append(h.LastErrors, st.lastErrors[i])
	}
	for i := len(st.logs) - 1; i >= 0; i-- {
		h.Logs = append(h.Logs, st.logs[i])
	}
	if now.Before(st.openUntil) {
		h.Paused = true
		h.PausedUntil = st.openUntil
	}
	return h
}

// HealthMark is a position in the history of the plugins' health changes:
// ChangedHealth returns one, and given it back returns only what changed
// after it. The zero mark is before every change.
type HealthMark uint64

// PluginHealth is the health of one plugin, named by tenant and plugin.
type PluginHealth struct {
	TenantID, PluginID string
	Health
}

// ChangedHealth returns the health of every plugin whose counters or log
// lines changed after since (with the zero mark, of every plugin called or
// logging since the engine started), in no particular order, and the mark
// to pass next time. A change that happens while it runs may be returned
// now and again next time, but is never missed. When nothing changed at all
// it costs one atomic load, so a publisher may poll it often. A breaker
// that closes by itself (its cooldown ends) is not a change: a snapshot's
// PausedUntil says until when it was open.
func (e *Engine) ChangedHealth(since HealthMark) ([]PluginHealth, HealthMark) {
	mark := HealthMark(healthSeq.Load())
	if mark == since {
		return nil, mark
	}
	type named struct {
		key pluginKey
		st  *pluginState
	}
	e.mu.Lock()
	all := make([]named, 0, len(e.plugins))
	for k, st := range e.plugins {
		all = append(all, named{k, st})
	}
	e.mu.Unlock()
	now := time.Now()
	var out []PluginHealth
	for _, n := range all {
		n.st.mu.Lock()
		// A change numbered at most mark was made (under st.mu) before
		// the load above, so it is visible here; a later one is too, and
		// is returned once more next time.
		if n.st.gen > uint64(since) {
			out = append(out, PluginHealth{TenantID: n.key.tenant, PluginID: n.key.plugin, Health: n.st.health(now)})
		}
		n.st.mu.Unlock()
	}
	return out, mark
}
