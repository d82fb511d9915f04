package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestGateBounds: Slots run, Queue wait, one key holds at most PerKey
// places, and a freed place serves the next request.
func TestGateBounds(t *testing.T) {
	g := NewGate(GateOptions{Slots: 1, Queue: 2, PerKey: 2, Reserved: 1, PerTenant: 3})
	ctx := context.Background()
	r1, err := g.Enter(ctx, Lane{Client: "a", Known: true})
	if err != nil {
		t.Fatal(err)
	}
	// "a" waits for the slot with its second place.
	waited := make(chan error, 1)
	go func() {
		r, err := g.Enter(ctx, Lane{Client: "a", Known: true})
		if err == nil {
			r()
		}
		waited <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for g.Inside() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Enter(ctx, Lane{Client: "a", Known: true}); !errors.Is(err, ErrGateKey) {
		t.Fatalf("a third place for one key: %v", err)
	}
	// "b" takes the last queue place; "c" finds the gate full.
	bctx, cancel := context.WithCancel(ctx)
	bDone := make(chan error, 1)
	go func() {
		_, err := g.Enter(bctx, Lane{Client: "b", Known: true})
		bDone <- err
	}()
	for g.Inside() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Enter(ctx, Lane{Client: "c", Known: true}); !errors.Is(err, ErrGateFull) {
		t.Fatalf("a full gate: %v", err)
	}
	cancel() // b gives up waiting and leaves its place
	if err := <-bDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("b: %v", err)
	}
	r1()
	r1() // a second release is harmless
	if err := <-waited; err != nil {
		t.Fatalf("the waiting request: %v", err)
	}
	if g.Inside() != 0 {
		t.Fatalf("places left behind: %d", g.Inside())
	}
	r, err := g.Enter(ctx, Lane{Client: "c", Known: true})
	if err != nil {
		t.Fatalf("after the rush: %v", err)
	}
	r()
}

// TestGateSharesItsPlaces: a flood of logins from new browsers of one
// tenant, from ever new clients, cannot take the places kept for other
// tenants nor those kept for browsers known to their accounts.
func TestGateSharesItsPlaces(t *testing.T) {
	// 6 places: 2 kept for known browsers; of the 4 others, one tenant's
	// new browsers may hold 3 (the default: a quarter left to others).
	g := NewGate(GateOptions{Slots: 1, Queue: 5, Reserved: 2})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	// take enters lane and returns Enter's refusal, or nil once it holds a
	// place (running or waiting; the waiters leave with ctx).
	take := func(l Lane) error {
		t.Helper()
		n++
		errc := make(chan error, 1)
		go func() {
			r, err := g.Enter(ctx, l)
			errc <- err
			if err == nil {
				<-ctx.Done()
				r()
			}
		}()
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			select {
			case err := <-errc:
				if err != nil {
					return err
				}
				return nil // took the running slot
			default:
			}
			if g.Inside() >= n {
				return nil // waiting in the queue
			}
		}
		t.Fatalf("lane %+v neither entered nor was refused", l)
		return nil
	}
	for i := range 3 {
		if err := take(Lane{Client: fmt.Sprint("a", i), Tenant: "A"}); err != nil {
			t.Fatalf("tenant A's login %d: %v", i, err)
		}
	}
	if err := take(Lane{Client: "a3", Tenant: "A"}); !errors.Is(err, ErrGateFull) {
		t.Fatalf("a fourth new browser of tenant A: %v, want ErrGateFull", err)
	}
	n--
	if err := take(Lane{Client: "b0", Tenant: "B"}); err != nil {
		t.Fatalf("tenant B during A's flood: %v", err)
	}
	if err := take(Lane{Client: "b1", Tenant: "B"}); !errors.Is(err, ErrGateFull) {
		t.Fatalf("a new browser past the places new browsers may hold: %v, want ErrGateFull", err)
	}
	n--
	for i := range 2 {
		if err := take(Lane{Client: fmt.Sprint("known", i), Tenant: "A", Known: true}); err != nil {
			t.Fatalf("known browser %d: %v", i, err)
		}
	}
	if err := take(Lane{Client: "known2", Tenant: "B", Known: true}); !errors.Is(err, ErrGateFull) {
		t.Fatalf("past every place: %v, want ErrGateFull", err)
	}
}
