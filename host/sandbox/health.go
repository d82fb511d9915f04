package sandbox

import (
	"slices"
	"sync"
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
	openUntil   time.Time    // breaker open until
	cooldown    time.Duration
	trial       bool // a half-open trial call is in flight
}

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
func (st *pluginState) admit(now time.Time) (ok bool, until time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.openUntil.IsZero() {
		return true, time.Time{}
	}
	if now.Before(st.openUntil) || st.trial {
		return false, st.openUntil
	}
	st.trial = true // half-open: let one call through
	return true, time.Time{}
}

// record adds a finished call to the health and the breaker.
func (st *pluginState) record(e *Engine, now time.Time, d time.Duration, cerr *CallError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.calls++
	if len(st.durations) < durationWindow {
		st.durations = append(st.durations, d)
	} else {
		st.durations[st.next] = d
		st.next = (st.next + 1) % durationWindow
	}
	if cerr == nil {
		st.consecutive = 0
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
	if cerr.Reason == ReasonBusy || cerr.Reason == ReasonPaused || cerr.Reason == ReasonOverloaded {
		return // not the plugin's fault, or not run at all
	}
	st.consecutive++
	if st.trial || st.consecutive >= e.opts.BreakerThreshold {
		if st.trial {
			st.cooldown = min(2*st.cooldown, MaxBreakerCooldown)
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
	if time.Now().Before(st.openUntil) {
		h.Paused = true
		h.PausedUntil = st.openUntil
	}
	return h
}
