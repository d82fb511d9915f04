// Package inflight counts work under way so that a shutdown can wait for
// it: a plugin run, a mail a request left running.
package inflight

import (
	"context"
	"fmt"
	"sync"
)

// Counter counts work under way. Unlike a sync.WaitGroup it may be added
// to while someone waits (a request still being answered during a
// shutdown may start a mail), and Wait gives up when its context ends.
// The zero Counter is ready to use.
type Counter struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n returns to 0; nil while n is 0
}

// Add counts one more piece of work.
func (c *Counter) Add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.idle = make(chan struct{})
	}
	c.n++
}

// Done ends one piece of work counted by Add.
func (c *Counter) Done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n <= 0 {
		panic("inflight: Done without Add")
	}
	c.n--
	if c.n == 0 {
		close(c.idle)
		c.idle = nil
	}
}

// Wait returns when no work is under way, or when ctx ends, with an
// error that says how much was left.
func (c *Counter) Wait(ctx context.Context) error {
	c.mu.Lock()
	idle, n := c.idle, c.n
	c.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d still under way: %w", n, ctx.Err())
	}
}
