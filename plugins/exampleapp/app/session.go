package app

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Step 3: keep the user "logged in" to this app while they click around
// inside the frame.
//
// Why not a cookie? The app runs in an iframe on the portal's page. To the
// browser, a cookie set by the app's site inside that frame is a
// THIRD-PARTY cookie: Safari and Firefox block them by default, Chrome
// partitions or blocks them, and SameSite=Lax cookies are not sent on the
// frame's cross-site requests at all. (In the demo both run on localhost,
// which counts as one site, so cookies would seem to work there and then
// fail in production.) Partitioned cookies (CHIPS: SameSite=None; Secure;
// Partitioned) are an option on HTTPS, but not every browser has them.
//
// So the session id travels in the page itself: every link and form of the
// app carries it in its path (/s/{id}/…). The id is 256 random bits, the
// session lives only in this process's memory, it ends after 15 idle
// minutes or 1 hour in all, and pages are sent with Referrer-Policy:
// no-referrer so the id does not leak to other sites through links. Since
// a forged cross-site form cannot know the id, it is also the forms' CSRF
// protection. Copying the URL out of the frame would copy the session: keep
// the lifetime short, and launch again (a new token) for a new session.

// Session lifetimes and the store's bound.
const (
	SessionIdle     = 15 * time.Minute
	SessionAbsolute = time.Hour
	MaxSessions     = 10_000
	MaxNotes        = 20
	MaxNoteLength   = 200
)

// Session is one launched user's state in this app.
type Session struct {
	ID      string
	User    User
	Claims  Claims
	Notes   []string
	Created time.Time
	Seen    time.Time
}

// Sessions is an in-memory session store. A real app would keep them in
// its database or cache, keyed the same way.
type Sessions struct {
	mu  sync.Mutex
	m   map[string]*Session
	now func() time.Time
}

// NewSessions returns an empty store.
func NewSessions(now func() time.Time) *Sessions {
	return &Sessions{m: map[string]*Session{}, now: now}
}

// Create stores a new session for u and returns it. When the store is
// full, expired sessions are dropped first, then the oldest.
func (s *Sessions) Create(u User, c Claims) *Session {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	now := s.now()
	ss := &Session{ID: base64.RawURLEncoding.EncodeToString(b), User: u, Claims: c, Created: now, Seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= MaxSessions {
		s.sweepLocked(now)
	}
	for len(s.m) >= MaxSessions {
		var oldest *Session
		for _, x := range s.m {
			if oldest == nil || x.Created.Before(oldest.Created) {
				oldest = x
			}
		}
		delete(s.m, oldest.ID)
	}
	s.m[ss.ID] = ss
	return ss
}

// Get returns the live session id (and marks it used), or nil.
func (s *Sessions) Get(id string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[id]
	if ss == nil {
		return nil
	}
	now := s.now()
	if s.expired(ss, now) {
		delete(s.m, id)
		return nil
	}
	ss.Seen = now
	return ss
}

// AddNote appends a note to a session, within the limits.
func (s *Sessions) AddNote(ss *Session, note string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ss.Notes) >= MaxNotes {
		return false
	}
	ss.Notes = append(ss.Notes, note)
	return true
}

// Notes returns a copy of a session's notes.
func (s *Sessions) Notes(ss *Session) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), ss.Notes...)
}

// Len is the number of stored sessions.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *Sessions) expired(ss *Session, now time.Time) bool {
	return now.Sub(ss.Seen) > SessionIdle || now.Sub(ss.Created) > SessionAbsolute
}

func (s *Sessions) sweepLocked(now time.Time) {
	for id, ss := range s.m {
		if s.expired(ss, now) {
			delete(s.m, id)
		}
	}
}

// JTIs lists the token ids of the live sessions' launches (for tests and
// diagnostics: it shows that each launch used a fresh token).
func (s *Sessions) JTIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for _, ss := range s.m {
		out = append(out, ss.Claims.JTI)
	}
	return out
}
