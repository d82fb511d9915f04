package auth

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPasswordRoundTrip(t *testing.T) {
	ctx := context.Background()
	h, err := HashPassword(ctx, "portico-demo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	h2, _ := HashPassword(ctx, "portico-demo")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	if err := VerifyPassword(ctx, h, "portico-demo"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, wrong := range []string{"", "portico-demo ", "Portico-demo", strings.Repeat("x", 1000)} {
		if err := VerifyPassword(ctx, h, wrong); err == nil {
			t.Fatalf("wrong password %q accepted", wrong)
		}
	}
	if err := VerifyPassword(ctx, "", ""); err == nil {
		t.Fatal("empty hash accepted")
	}
	for _, bad := range []string{"plain", "$argon2id$v=19$m=999999999,t=1,p=1$AAAA$AAAA", "$bcrypt$x"} {
		if err := VerifyPassword(ctx, bad, "x"); err == nil {
			t.Fatalf("malformed hash %q accepted", bad)
		}
	}
	if _, err := HashPassword(ctx, strings.Repeat("x", MaxPasswordLength+1)); err == nil {
		t.Fatal("overlong password hashed")
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || len(a) != 43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || len(HashToken(a)) != 64 {
		t.Fatal("hash")
	}
	if !EqualTokens(a, a) || EqualTokens(a, b) {
		t.Fatal("EqualTokens")
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := NewThrottle(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if _, blocked := th.Blocked("k"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("k")
	}
	wait, blocked := th.Blocked("k")
	if !blocked || wait != time.Minute {
		t.Fatalf("after 3 failures: %v %v", wait, blocked)
	}
	if _, blocked := th.Blocked("other"); blocked {
		t.Fatal("keys are not independent")
	}
	now = now.Add(30 * time.Second)
	if wait, _ := th.Blocked("k"); wait != 30*time.Second {
		t.Fatalf("wait %v", wait)
	}
	now = now.Add(31 * time.Second)
	if _, blocked := th.Blocked("k"); blocked {
		t.Fatal("still blocked after the window")
	}
	th.Fail("k")
	th.Reset("k")
	th.Fail("k")
	th.Fail("k")
	if _, blocked := th.Blocked("k"); blocked {
		t.Fatal("Reset did not forget failures")
	}
}

// TestThrottleReserveIsExact: of a burst of concurrent attempts that all
// fail, exactly the limit get to check a password; the rest are refused
// before hashing. Released attempts (successes) give their place back.
func TestThrottleReserveIsExact(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(5, 15*time.Minute, func() time.Time { return now })
	var wg sync.WaitGroup
	var admitted, refused atomic.Int32
	start := make(chan struct{})
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			done, _, ok := th.Reserve("ip")
			if !ok {
				refused.Add(1)
				return
			}
			admitted.Add(1)
			time.Sleep(5 * time.Millisecond) // the hash
			done(true)
		}()
	}
	close(start)
	wg.Wait()
	if admitted.Load() != 5 || refused.Load() != 55 {
		t.Fatalf("admitted %d, refused %d; want 5 and 55", admitted.Load(), refused.Load())
	}
	if wait, blocked := th.Blocked("ip"); !blocked || wait != 15*time.Minute {
		t.Errorf("after the burst: blocked %v for %s, want 15m", blocked, wait)
	}

	// Successes release their reservation: a key with 4 failures admits
	// one attempt at a time, and again after it is released.
	th2 := NewThrottle(5, time.Minute, func() time.Time { return now })
	for range 4 {
		th2.Fail("acct")
	}
	done, _, ok := th2.Reserve("acct")
	if !ok {
		t.Fatal("the fifth attempt was refused")
	}
	if _, wait, ok := th2.Reserve("acct"); ok || wait != time.Second {
		t.Errorf("a sixth attempt while the fifth is in flight: ok %v wait %s; want refused for 1s", ok, wait)
	}
	done(false)
	done(true) // settling twice counts once
	if _, _, ok := th2.Reserve("acct"); !ok {
		t.Error("after a release the next attempt was refused")
	}
}
