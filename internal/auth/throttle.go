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
	pending  int // attempts reserved and not yet settled
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

// Reserve takes one attempt for key before the password is checked, so that
// concurrent attempts cannot pass the limit together (a check before the
// slow hash and a count after it let a burst of 200 through): it refuses
// when the failures plus the attempts in flight reach the limit, and says
// for how long. done settles the attempt: failed true counts it as a
// failure, false releases it (reset the key separately after a success).
func (t *Throttle) Reserve(key string) (done func(failed bool), wait time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	e, found := t.entries[key]
	if found && !now.Before(e.start.Add(t.window)) && e.pending == 0 {
		delete(t.entries, key)
		found = false
	}
	if !found {
		if len(t.entries) >= maxThrottleEntries {
			t.sweep(now)
		}
		if len(t.entries) >= maxThrottleEntries {
			// Untracked, as Fail does when the table is full.
			return func(bool) {}, 0, true
		}
		e = &throttleEntry{start: now}
		t.entries[key] = e
	}
	if e.failures >= t.limit {
		return nil, e.start.Add(t.window).Sub(now), false
	}
	if e.failures+e.pending >= t.limit {
		return nil, time.Second, false // attempts in flight: try again shortly
	}
	e.pending++
	var once sync.Once
	return func(failed bool) {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			e.pending--
			if failed {
				e.failures++
			}
		})
	}, 0, true
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
		if !now.Before(e.start.Add(t.window)) && e.pending == 0 {
			delete(t.entries, k)
		}
	}
}
