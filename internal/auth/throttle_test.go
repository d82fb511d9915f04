package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReservationSettlesOnce: only the first Settle of a granted
// reservation reaches its Limiter (a deferred release after an explicit
// failure is safe), its error is returned, and a refused reservation
// settles nothing.
func TestReservationSettlesOnce(t *testing.T) {
	ctx := context.Background()
	var calls []bool
	boom := errors.New("database gone")
	r := Granted(func(_ context.Context, failed bool) error { calls = append(calls, failed); return boom })
	if err := r.Settle(ctx, true); !errors.Is(err, boom) {
		t.Fatalf("first settle: %v, want the limiter's error", err)
	}
	if err := r.Settle(ctx, false); err != nil {
		t.Fatalf("second settle: %v", err)
	}
	if len(calls) != 1 || !calls[0] {
		t.Fatalf("settlements reaching the limiter: %v, want [true]", calls)
	}
	refused := Refused(time.Minute)
	if refused.OK || refused.Wait != time.Minute || refused.Settle(ctx, true) != nil {
		t.Fatalf("refused reservation: %+v", refused)
	}
}

// TestLocalLimiter: the in-memory Limiter keeps Throttle's rules.
func TestLocalLimiter(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	var l Limiter = Local{T: NewThrottle(2, time.Minute, func() time.Time { return now })}
	a, _ := l.Reserve(ctx, "k")
	b, _ := l.Reserve(ctx, "k")
	if c, _ := l.Reserve(ctx, "k"); !a.OK || !b.OK || c.OK || c.Wait != time.Second {
		t.Fatalf("two places: %v %v, third %+v", a.OK, b.OK, c)
	}
	_ = a.Settle(ctx, true)
	_ = b.Settle(ctx, true)
	_ = b.Settle(ctx, true) // once
	wait, blocked, err := l.Blocked(ctx, "k")
	if !blocked || wait != time.Minute || err != nil {
		t.Fatalf("after 2 failures: %v %v %v", wait, blocked, err)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := l.Fail(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, blocked, _ := l.Blocked(ctx, "k"); blocked {
		t.Fatal("1 of 2 failures after a reset: blocked")
	}
}
