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
// leaving the rest to everything else — and at most Queue more wait. A
// request over a bound is turned away at once (ErrGateFull, ErrGateKey),
// to be answered 503 or 429 with Retry-After, instead of waiting.
//
// The places are shared so that a flood cannot keep people out:
//   - one client (Lane.Client, an address or a known browser's account)
//     holds at most PerKey places;
//   - Reserved places are kept for browsers where the account logged in
//     before (Lane.Known, a cookie an attacker cannot forge): a flood of
//     attempts from new browsers fills the others only, and returning
//     customers keep logging in;
//   - the logins of one tenant (Lane.Tenant) from new browsers hold at
//     most PerTenant places, so a flood aimed at one tenant leaves room
//     for the others' on a shared installation.
type Gate struct {
	slots     chan struct{}
	queue     int
	perKey    int
	reserved  int
	perTenant int

	mu       sync.Mutex
	inside   int // running or waiting
	unknown  int // of which from new browsers
	byKey    map[string]int
	byTenant map[string]int // new browsers' places per tenant
}

// Lane says whose login asks for a place.
type Lane struct {
	Client string // the client's key: its network, or a known browser's account
	Tenant string
	Known  bool // a browser where this account logged in before
}

// Errors of Enter.
var (
	// ErrGateFull: the places this login may take are all held.
	ErrGateFull = errors.New("too many logins in progress")
	// ErrGateKey: this client already holds PerKey places.
	ErrGateKey = errors.New("too many logins in progress from this client")
)

// GateOptions size a Gate; zero values take the defaults.
type GateOptions struct {
	Slots     int // default max(1, NumCPU/2)
	Queue     int // default 8 × Slots
	PerKey    int // default 2
	Reserved  int // default a third of Slots+Queue, at least 1
	PerTenant int // default the new browsers' places less a quarter of them (at least one left for other tenants)
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
	places := o.Slots + o.Queue
	if o.Reserved <= 0 {
		o.Reserved = max(1, places/3)
	}
	o.Reserved = min(o.Reserved, places-1) // new browsers keep one place
	if o.PerTenant <= 0 {
		unknown := places - o.Reserved
		o.PerTenant = max(1, unknown-max(1, unknown/4))
	}
	return &Gate{slots: make(chan struct{}, o.Slots), queue: o.Queue, perKey: o.PerKey, reserved: o.Reserved,
		perTenant: o.PerTenant, byKey: map[string]int{}, byTenant: map[string]int{}}
}

// Enter takes a place for lane and waits for a slot (or ctx). The caller
// runs the verification and then calls release exactly once.
func (g *Gate) Enter(ctx context.Context, lane Lane) (release func(), err error) {
	places := cap(g.slots) + g.queue
	g.mu.Lock()
	switch {
	case g.byKey[lane.Client] >= g.perKey:
		g.mu.Unlock()
		return nil, ErrGateKey
	case g.inside >= places,
		!lane.Known && (g.unknown >= places-g.reserved || g.byTenant[lane.Tenant] >= g.perTenant):
		g.mu.Unlock()
		return nil, ErrGateFull
	}
	g.inside++
	g.byKey[lane.Client]++
	if !lane.Known {
		g.unknown++
		g.byTenant[lane.Tenant]++
	}
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		g.inside--
		if g.byKey[lane.Client]--; g.byKey[lane.Client] <= 0 {
			delete(g.byKey, lane.Client)
		}
		if !lane.Known {
			g.unknown--
			if g.byTenant[lane.Tenant]--; g.byTenant[lane.Tenant] <= 0 {
				delete(g.byTenant, lane.Tenant)
			}
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
