package sandbox

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
)

// callAs runs action as user with form values (key, value…).
func callAs(e *Engine, p Plugin, user, action string, kv ...string) (*abi.Output, error) {
	in := &abi.Input{Kind: abi.KindAction, Action: action, Form: map[string][]string{},
		User: abi.User{ID: user, Role: "cliente", Locale: "pt-BR", Tenant: p.TenantID}}
	for i := 0; i+1 < len(kv); i += 2 {
		in.Form[kv[i]] = []string{kv[i+1]}
	}
	return e.Call(context.Background(), p, loadGuest, in)
}

func detailOf(err error) string {
	if ce, ok := err.(*CallError); ok {
		return ce.Detail
	}
	return ""
}

// TestStderrBelongsToItsCall checks that what a successful call wrote to
// stderr is never attached to the next failing call on the same instance
// (another user's), and that a panic message is reported even after an
// earlier call filled the buffer: before, the 2 KiB buffer was drained only
// on failure, so user B's failure carried user A's text, and once full it
// lost every later panic message.
func TestStderrBelongsToItsCall(t *testing.T) {
	e := newEngine(t, Options{PoolSize: 1})
	for _, tc := range []struct {
		name   string
		repeat string
	}{
		{"short", "1"},
		{"buffer filled", "200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlugin("t1", "stderr-"+strings.ReplaceAll(tc.name, " ", "-")) // a fresh pool: one instance
			if _, err := callAs(e, p, "user-a", "stderr", "text", "SECRET-OF-USER-A ", "repeat", tc.repeat); err != nil {
				t.Fatal(err)
			}
			before := e.discards.Load()
			_, err := callAs(e, p, "user-b", "panic")
			if reasonOf(err) != ReasonTrap {
				t.Fatalf("got %v, want a trap", err)
			}
			if e.discards.Load() != before+1 {
				t.Fatal("the panicking call did not run on the instance of the first call")
			}
			d := detailOf(err)
			if strings.Contains(d, "SECRET-OF-USER-A") {
				t.Errorf("user B's failure carries user A's stderr: %q", d)
			}
			if !strings.Contains(d, "boom") {
				t.Errorf("user B's panic message is missing: %q", d)
			}
		})
	}
}

// TestStdioCannotBeClosed checks that a guest cannot close or renumber its
// standard descriptors for the next user: user A's call closes fd 2 (and
// tries to renumber onto it), user B's call then panics on the same
// instance, and B's panic message is reported.
func TestStdioCannotBeClosed(t *testing.T) {
	e := newEngine(t, Options{PoolSize: 1})
	for _, tc := range []struct {
		name string
		kv   []string
	}{
		{"close fd 2", []string{"fd", "2"}},
		{"close fd 1", []string{"fd", "1"}},
		{"renumber 1 onto 2", []string{"fd", "1", "to", "2"}},
		{"renumber 2 onto 7", []string{"fd", "2", "to", "7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlugin("t1", "fd-"+strings.ReplaceAll(tc.name, " ", "-"))
			out, err := callAs(e, p, "user-a", "closefd", tc.kv...)
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, out); !strings.HasPrefix(got, "refused") {
				t.Errorf("the guest could change its standard descriptors: %q", got)
			}
			before := e.discards.Load()
			_, err = callAs(e, p, "user-b", "panic")
			if reasonOf(err) != ReasonTrap || e.discards.Load() != before+1 {
				t.Fatalf("got %v, want a trap on the first call's instance", err)
			}
			if d := detailOf(err); !strings.Contains(d, "boom") {
				t.Errorf("user B's panic message is missing after user A's call: %q", d)
			}
		})
	}
}

// TestStderrBuffer checks what the buffer keeps: everything when little is
// written, the first and last bytes with a marker otherwise, and nothing
// after a reset.
func TestStderrBuffer(t *testing.T) {
	var w stderrBuffer
	_, _ = w.Write([]byte("panic: boom\n"))
	if got := w.take(); got != "panic: boom\n" {
		t.Fatalf("got %q", got)
	}
	for range 100 {
		_, _ = w.Write([]byte(strings.Repeat("a", 100)))
	}
	_, _ = w.Write([]byte("panic: late"))
	got := w.take()
	if !strings.HasPrefix(got, strings.Repeat("a", stderrHead)) || !strings.HasSuffix(got, "panic: late") ||
		!strings.Contains(got, fmt.Sprintf("[%d bytes]", 100*100+len("panic: late")-stderrHead-stderrTail)) || len(got) > stderrHead+stderrTail+32 {
		t.Fatalf("got %d bytes: %q", len(got), got)
	}
	_, _ = w.Write(make([]byte, 10_000))
	w.reset()
	if got := w.take(); got != "" {
		t.Fatalf("after reset: %q", got)
	}
}
