package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGateBounds: Slots run, Queue wait, one key holds at most PerKey
// places, and a freed place serves the next request.
func TestGateBounds(t *testing.T) {
	g := NewGate(GateOptions{Slots: 1, Queue: 2, PerKey: 2})
	ctx := context.Background()
	r1, err := g.Enter(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// "a" waits for the slot with its second place.
	waited := make(chan error, 1)
	go func() {
		r, err := g.Enter(ctx, "a")
		if err == nil {
			r()
		}
		waited <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for g.Inside() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Enter(ctx, "a"); !errors.Is(err, ErrGateKey) {
		t.Fatalf("a third place for one key: %v", err)
	}
	// "b" takes the last queue place; "c" finds the gate full.
	bctx, cancel := context.WithCancel(ctx)
	bDone := make(chan error, 1)
	go func() {
		_, err := g.Enter(bctx, "b")
		bDone <- err
	}()
	for g.Inside() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Enter(ctx, "c"); !errors.Is(err, ErrGateFull) {
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
	r, err := g.Enter(ctx, "c")
	if err != nil {
		t.Fatalf("after the rush: %v", err)
	}
	r()
}
