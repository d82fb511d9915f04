package sandbox

import (
	"strings"
	"testing"
	"time"
)

// TestHostileGuests runs each hostile behaviour on one plugin: the call
// fails with the right reason, its instance is discarded, and the next
// normal call on the same plugin succeeds.
func TestHostileGuests(t *testing.T) {
	e := newEngine(t, Options{})
	p := testPlugin("t1", "hostile")
	p.Limits = Limits{Timeout: MaxTimeout, MemoryMB: 32, MaxOutputBytes: 64 << 10, MaxHostCalls: 50}
	tests := []struct {
		action string
		kv     []string
		reason string
		detail string
		limits *Limits
	}{
		{"loop", nil, ReasonTimeout, "no answer within", &Limits{Timeout: 300 * time.Millisecond, MemoryMB: 32}},
		{"membomb", nil, ReasonMemory, "32 MiB", nil},
		{"bigalloc", []string{"mb", "100"}, ReasonMemory, "32 MiB", nil},
		{"trap", nil, ReasonTrap, "out of bounds", nil},
		{"panic", nil, ReasonTrap, "boom", nil},
		// Deep recursion grows the goroutine stack until the memory limit
		// (Go's own stack limit is 1 GB); a small limit makes it quick.
		{"recurse", nil, ReasonMemory, "16 MiB", &Limits{Timeout: MaxTimeout, MemoryMB: 16}},
		{"huge", []string{"bytes", "100000"}, ReasonMalformed, "exceeds the limit", nil},
		{"malformed", nil, ReasonMalformed, "not valid JSON", nil},
		{"empty", nil, ReasonMalformed, "neither a view, settings nor an error", nil},
		{"badptr", nil, ReasonMalformed, "outside memory", nil},
		{"flood", nil, ReasonHostCalls, "more than 50 host calls", nil},
	}
	if _, err := call(e, p, "render"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			before := e.discards.Load()
			q := p
			if tt.limits != nil {
				q.Limits = *tt.limits
			}
			_, err := call(e, q, tt.action, tt.kv...)
			if reasonOf(err) != tt.reason {
				t.Fatalf("%s: got %v, want reason %q", tt.action, err, tt.reason)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("%s: detail %q lacks %q", tt.action, err, tt.detail)
			}
			if e.discards.Load() != before+1 {
				t.Errorf("%s: instance not discarded", tt.action)
			}
			out, err := call(e, p, "render")
			if err != nil || len(out.View.Blocks) != 3 {
				t.Fatalf("%s: next call failed: %v", tt.action, err)
			}
		})
	}
	h := e.Health("t1", "hostile")
	if h.Errors != int64(len(tests)) || h.Calls != int64(2*len(tests)+1) {
		t.Errorf("health counts: %d errors, %d calls", h.Errors, h.Calls)
	}
	if len(h.LastErrors) == 0 || h.LastErrors[0].Reason != ReasonHostCalls {
		t.Errorf("last errors not newest first: %+v", h.LastErrors)
	}
}
