package auth

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// Gate is the bounded, fair queue in front of password hashing at login.
// An argon2id verification costs tens of milliseconds of a core; during a
// flood of logins, hashing every request at once would starve every other
// request (the menus of people already logged in) and queue without end.
// So at most Slots verifications run at once — by default half the cores,
// leaving the rest to everything else — at most Queue more wait, and one
// key (a client address) holds at most PerKey of the places, running or
// waiting, so one attacker cannot fill the queue for everyone else. A
// request over a bound is turned away at once (ErrGateFull, ErrGateKey),
// to be answered 503 or 429 with Retry-After, instead of waiting.
type Gate struct {
	slots  chan struct{}
	queue  int
	perKey int

	mu     sync.Mutex
	inside int // running or waiting
	byKey  map[string]int
}

// Errors of Enter.
var (
	// ErrGateFull: Slots are busy and Queue requests already wait.
	ErrGateFull = errors.New("too many logins in progress")
	// ErrGateKey: this key already holds PerKey places.
	ErrGateKey = errors.New("too many logins in progress from this client")
)

// GateOptions size a Gate; zero values take the defaults.
type GateOptions struct {
	Slots  int // default max(1, NumCPU/2)
	Queue  int // default 8 × Slots
	PerKey int // default 2
}

// NewGate returns a gate sized by o.
func NewGate(o GateOptions) *Gate {
	if o.Slots <= 0 {
		o.Slots = max(1, runtime.NumCPU()/2)
	}
	if o.Queue <= 0 {
		o.Queue = 8 * o.Slots
	}
	if o.PerKey <= 0 {
		o.PerKey = 2
	}
	return &Gate{slots: make(chan struct{}, o.Slots), queue: o.Queue, perKey: o.PerKey, byKey: map[string]int{}}
}

// Enter takes a place for key and waits for a slot (or ctx). The caller
// runs the verification and then calls release exactly once.
func (g *Gate) Enter(ctx context.Context, key string) (release func(), err error) {
	g.mu.Lock()
	switch {
	case g.byKey[key] >= g.perKey:
		g.mu.Unlock()
		return nil, ErrGateKey
	case g.inside >= cap(g.slots)+g.queue:
		g.mu.Unlock()
		return nil, ErrGateFull
	}
	g.inside++
	g.byKey[key]++
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		g.inside--
		if g.byKey[key]--; g.byKey[key] <= 0 {
			delete(g.byKey, key)
		}
		g.mu.Unlock()
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-g.slots
			leave()
		})
	}, nil
}

// Inside returns how many requests hold a place, running or waiting.
func (g *Gate) Inside() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inside
}
