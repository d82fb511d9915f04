package inflight

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestWaitWhileAdding: work added while someone waits is waited for too,
// without the panic a sync.WaitGroup may raise there; a Wait whose
// context ends says so.
func TestWaitWhileAdding(t *testing.T) {
	var c Counter
	if err := c.Wait(context.Background()); err != nil {
		t.Fatalf("idle counter: %v", err)
	}
	c.Add()
	waited := make(chan error, 1)
	go func() { waited <- c.Wait(context.Background()) }()
	var wg sync.WaitGroup
	for range 100 { // added and done while Wait waits
		wg.Add(1)
		c.Add()
		go func() {
			defer wg.Done()
			c.Done()
		}()
	}
	wg.Wait()
	select {
	case err := <-waited:
		t.Fatalf("Wait returned (%v) with one piece of work under way", err)
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with an ended context: %v", err)
	}
	c.Done()
	if err := <-waited; err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func TestDoneWithoutAddPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Done without Add did not panic")
		}
	}()
	var c Counter
	c.Done()
}
