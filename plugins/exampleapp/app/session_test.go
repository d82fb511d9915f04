package app

import (
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	s := NewSessions(func() time.Time { return clock })
	a := s.Create(User{ID: "u1"}, Claims{JTI: "j1"})
	if len(a.ID) != 43 {
		t.Fatalf("session id %q: want 256 bits in base64url", a.ID)
	}
	tests := []struct {
		name  string
		after time.Duration // since the previous step
		alive bool
	}{
		{"just created", 0, true},
		{"used within the idle time", SessionIdle - time.Second, true},
		{"used again within the idle time", SessionIdle - time.Second, true},
		{"used again within the idle time", SessionIdle - time.Second, true},
		{"used again, just under an hour", SessionIdle - time.Second, true},
		{"past the absolute limit though never idle", SessionIdle - time.Second, false},
	}
	for _, tc := range tests {
		clock = clock.Add(tc.after)
		if got := s.Get(a.ID) != nil; got != tc.alive {
			t.Errorf("%s (%v after start): alive %v, want %v", tc.name, clock.Sub(now), got, tc.alive)
		}
	}
	b := s.Create(User{ID: "u2"}, Claims{})
	clock = clock.Add(SessionIdle + time.Second)
	if s.Get(b.ID) != nil {
		t.Errorf("idle session still alive")
	}
	if s.Get("") != nil || s.Get("nope") != nil {
		t.Errorf("unknown id found a session")
	}

	// Notes are bounded.
	c := s.Create(User{ID: "u3"}, Claims{})
	for i := range MaxNotes + 1 {
		ok := s.AddNote(c, "n")
		if ok != (i < MaxNotes) {
			t.Fatalf("note %d accepted=%v", i, ok)
		}
	}

	// The store is bounded: the oldest session goes first.
	s = NewSessions(func() time.Time { return clock })
	first := s.Create(User{ID: "first"}, Claims{})
	for range MaxSessions {
		clock = clock.Add(time.Millisecond)
		s.Create(User{ID: "x"}, Claims{})
	}
	if s.Len() != MaxSessions || s.Get(first.ID) != nil {
		t.Errorf("store holds %d sessions (want %d) and the oldest alive=%v", s.Len(), MaxSessions, s.Get(first.ID) != nil)
	}
}
