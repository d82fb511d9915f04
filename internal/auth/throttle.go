package auth

import (
	"context"
	"sync"
	"time"
)

// Limiter is a budget of failed attempts per key: a key that reaches its
// limit inside its window is locked out until the window ends. The login
// keys it twice, by tenant and account (a slow guess against one person)
// and by tenant and client address (a spray across many accounts); the
// forgot-password page keys it by address asked for and by client.
//
// storage.Throttle keeps the counters in the database, so every node of
// an installation shares one exact budget; Local keeps them in this
// process, for tests and for callers that are per node on purpose (the
// launch exchange, docs/design-launch.md). A method fails only when the
// counters cannot be read or written; a caller then refuses the attempt
// (fails closed) rather than let it through unthrottled.
type Limiter interface {
	// Reserve takes one attempt for key before the costly check (the
	// password hash), so that concurrent attempts cannot pass the limit
	// together: it refuses when the failures plus the attempts in flight
	// reach the limit, and says for how long. A granted reservation must
	// be settled once (Reservation.Settle).
	Reserve(ctx context.Context, key string) (*Reservation, error)
	// Fail records a failed attempt for key without a reservation.
	Fail(ctx context.Context, key string) error
	// Reset forgets key, e.g. after a successful login.
	Reset(ctx context.Context, key string) error
	// Blocked reports whether key is locked out and for how long.
	Blocked(ctx context.Context, key string) (wait time.Duration, blocked bool, err error)
}

// Reservation is the answer of Limiter.Reserve: granted (OK) and to be
// settled once with the attempt's outcome, or refused for Wait.
type Reservation struct {
	// OK is true when the attempt may go on.
	OK bool
	// Wait is, for a refused reservation, how long the key stays locked
	// (or, when only attempts in flight fill the budget, a second).
	Wait time.Duration

	once   sync.Once
	settle func(ctx context.Context, failed bool) error
}

// Granted returns a granted reservation that settle settles; Limiter
// implementations call it.
func Granted(settle func(ctx context.Context, failed bool) error) *Reservation {
	return &Reservation{OK: true, settle: settle}
}

// Refused returns a refused reservation that lasts wait.
func Refused(wait time.Duration) *Reservation {
	return &Reservation{Wait: wait}
}

// Settle ends a granted reservation: failed true counts the attempt as a
// failure, false releases it (reset the key separately after a success).
// Only the first call does anything, so a deferred Settle(ctx, false)
// after an explicit one is safe; settling a refused reservation is a
// no-op. ctx should outlive the request (context.WithoutCancel): a client
// that went away must not leave its reservation unsettled.
func (r *Reservation) Settle(ctx context.Context, failed bool) error {
	var err error
	r.once.Do(func() {
		if r.OK && r.settle != nil {
			err = r.settle(ctx, failed)
		}
	})
	return err
}

// Local is a Limiter over a Throttle in process memory: each node counts
// on its own, so N nodes allow N times the budget. Its methods never fail.
type Local struct{ T *Throttle }

// Reserve implements Limiter.
func (l Local) Reserve(_ context.Context, key string) (*Reservation, error) {
	done, wait, ok := l.T.Reserve(key)
	if !ok {
		return Refused(wait), nil
	}
	return Granted(func(_ context.Context, failed bool) error { done(failed); return nil }), nil
}

// Fail implements Limiter.
func (l Local) Fail(_ context.Context, key string) error { l.T.Fail(key); return nil }

// Reset implements Limiter.
func (l Local) Reset(_ context.Context, key string) error { l.T.Reset(key); return nil }

// Blocked implements Limiter.
func (l Local) Blocked(_ context.Context, key string) (time.Duration, bool, error) {
	wait, blocked := l.T.Blocked(key)
	return wait, blocked, nil
}

// Throttle counts failed attempts per key inside a fixed window and locks
// a key out once it reaches its limit, until the window ends. The counters
// live in process memory (a multi-node deployment multiplies the budget
// by the node count): Local makes it a Limiter; the login and the
// forgot-password page use storage.Throttle instead, shared by every node,
// and the launch exchange keeps this one on purpose
// (docs/design-launch.md).
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
