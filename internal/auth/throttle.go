package auth

import (
	"sync"
	"time"
)

// Throttle counts failed logins per key inside a fixed window and locks a
// key out once it reaches its limit, until the window ends.
//
// Portico keys it twice: by tenant and account (a slow guess against one
// person) and by client IP (a spray across many accounts). The counters
// live in process memory: a multi-node deployment multiplies the budget by
// the node count, which docs/design.md records as a known limit.
type Throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	start    time.Time
}

// maxThrottleEntries caps memory. When the table is full, expired entries
// are swept; if it is still full the new key is not tracked, so existing
// lock-outs are never dropped to make room for an attacker's fresh keys.
const maxThrottleEntries = 100_000

// NewThrottle allows limit failures per key per window.
func NewThrottle(limit int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{limit: limit, window: window, now: now, entries: map[string]*throttleEntry{}}
}

// Blocked reports whether key is locked out and for how long.
func (t *Throttle) Blocked(key string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok {
		return 0, false
	}
	now := t.now()
	end := e.start.Add(t.window)
	if !now.Before(end) {
		delete(t.entries, key)
		return 0, false
	}
	if e.failures >= t.limit {
		return end.Sub(now), true
	}
	return 0, false
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	e, ok := t.entries[key]
	if ok && !now.Before(e.start.Add(t.window)) {
		ok = false
	}
	if !ok {
		if len(t.entries) >= maxThrottleEntries {
			t.sweep(now)
		}
		if len(t.entries) >= maxThrottleEntries {
			return
		}
		e = &throttleEntry{start: now}
		t.entries[key] = e
	}
	e.failures++
}

// Reset forgets key, e.g. after a successful login.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

func (t *Throttle) sweep(now time.Time) {
	for k, e := range t.entries {
		if !now.Before(e.start.Add(t.window)) {
			delete(t.entries, k)
		}
	}
}
