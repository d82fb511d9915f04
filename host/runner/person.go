package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/portico-dev/portico/host/sandbox"
)

// PerPersonInFlight is how many calls of one plugin one person may have
// running at once on one node; more wait, up to the sandbox's queue wait
// (sandbox.DefaultQueueWait), for one of theirs to end, and are then
// answered busy (503 plugin_busy, Retry-After). A plugin runs at most its
// MaxConcurrent calls (16 by default) for the whole company: without this
// share, one person's tabs, reloads or a script with their session would
// hold them all and every other customer would wait or be turned away.
// The page and its home card, or a form sent while the page loads, fit.
const PerPersonInFlight = 4

// people counts each person's calls of each plugin in flight.
type people struct {
	mu sync.Mutex
	m  map[string]*personSlots // tenant|user|plugin: only while someone holds or waits
}

type personSlots struct {
	slots chan struct{}
	users int // holding or waiting
}

// acquire takes one of key's slots, waiting up to wait (or ctx); release
// gives it back.
func (g *people) acquire(ctx context.Context, key string, wait time.Duration) (release func(), err error) {
	g.mu.Lock()
	s := g.m[key]
	if s == nil {
		s = &personSlots{slots: make(chan struct{}, PerPersonInFlight)}
		g.m[key] = s
	}
	s.users++
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		if s.users--; s.users == 0 {
			delete(g.m, key)
		}
		g.mu.Unlock()
	}
	select {
	case s.slots <- struct{}{}:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-t.C:
			leave()
			return nil, &Error{Reason: sandbox.ReasonBusy, Detail: fmt.Sprintf("the person has %d calls of this plugin under way, waited %s", PerPersonInFlight, wait)}
		case <-ctx.Done():
			leave()
			return nil, &Error{Reason: sandbox.ReasonBusy, Detail: "canceled while waiting: " + ctx.Err().Error()}
		}
	}
	return func() {
		<-s.slots
		leave()
	}, nil
}
