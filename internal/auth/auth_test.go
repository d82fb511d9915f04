package auth

import (
	"context"
	"strings"
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
