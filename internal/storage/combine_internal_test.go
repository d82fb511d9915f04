package storage

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestCombinerKeys: a write of one key never waits for a write of another;
// the ops of a key that queue behind its write go in writes of at most
// max, in arrival order, the lone op under its caller's own context; and
// a key leaves the combiner when its last write ends.
func TestCombinerKeys(t *testing.T) {
	c := &combiner[int]{max: 2}
	ctx := context.WithValue(context.Background(), struct{}{}, "caller")
	var mu sync.Mutex
	var writes [][]int
	record := func(_ context.Context, ops []int) {
		mu.Lock()
		writes = append(writes, slices.Clone(ops))
		mu.Unlock()
	}

	started, hold, firstDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(firstDone)
		if err := c.do(ctx, "a", 0, func(wctx context.Context, ops []int) {
			if wctx != ctx {
				t.Error("a lone op's write did not run under its caller's context")
			}
			close(started)
			<-hold
			record(wctx, ops)
		}); err != nil {
			t.Error(err)
		}
	}()
	<-started

	// Key b is written while a's write is held.
	bDone := make(chan error, 1)
	go func() { bDone <- c.do(ctx, "b", 9, record) }()
	select {
	case err := <-bDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the write of key b waited for the write of key a")
	}

	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.do(ctx, "a", i, record) }()
		for waiting(c, "a") < i {
			time.Sleep(time.Millisecond)
		}
	}
	close(hold)
	<-firstDone
	wg.Wait()

	want := [][]int{{9}, {0}, {1, 2}, {3}}
	if !slices.EqualFunc(writes, want, slices.Equal) {
		t.Fatalf("writes %v, want %v", writes, want)
	}
	if n := len(c.queues); n != 0 {
		t.Fatalf("%d keys still in the combiner after their writes", n)
	}
	if w, b := c.writes.Load(), c.batches.Load(); w != 4 || b != 1 {
		t.Fatalf("writes %d (of several: %d), want 4 (1)", w, b)
	}
}

// waiting is how many ops of key wait for its write under way.
func waiting(c *combiner[int], key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.queues[key]; q != nil {
		return len(q.pending)
	}
	return 0
}
