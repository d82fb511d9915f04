package web

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/portico-dev/portico/plugins/launchkit"
)

// Sessions inside the portal's frame, as the example app keeps them (see
// plugins/exampleapp/app/session.go and docs/design.md): a random 256-bit
// id in the path of every link and form (/s/{id}/…), never a cookie,
// because inside the frame the app is a third party whose cookies
// browsers block or partition. Pages are sent with Referrer-Policy:
// same-origin so the id does not leak to other sites, and since a forged
// cross-site form cannot know the id it is also the forms' CSRF defence
// (the POST handlers check Sec-Fetch-Site and Origin too).
//
// Sessions live in this process's memory: a restart, or a second process
// behind a load balancer without sticky sessions, sends the user back to
// the portal to open the plugin again (a new launch token, a new session).

// Session lifetimes and the store's bound. A cashier works for hours at a
// counter, so the idle time is longer than the example app's.
const (
	SessionIdle     = 30 * time.Minute
	SessionAbsolute = 4 * time.Hour
	MaxSessions     = 10_000
)

// Session is one launched user.
type Session struct {
	ID   string
	User launchkit.User
	// Staff is true for a gestor (the staff pages); a cliente or síndico
	// sees only their own points.
	Staff bool
	// CustomerID is the customer record of a cliente or síndico.
	CustomerID string
	Lang       string
	Created    time.Time
	Seen       time.Time

	mu    sync.Mutex
	flash string // a one-shot notice for the next page
}

// SetFlash leaves a notice for the next page the session shows.
func (s *Session) SetFlash(msg string) {
	s.mu.Lock()
	s.flash = msg
	s.mu.Unlock()
}

// TakeFlash returns and clears the pending notice.
func (s *Session) TakeFlash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = ""
	return f
}

// Sessions is the in-memory session store.
type Sessions struct {
	mu  sync.Mutex
	m   map[string]*Session
	now func() time.Time
}

// NewSessions returns an empty store on clock now.
func NewSessions(now func() time.Time) *Sessions {
	return &Sessions{m: map[string]*Session{}, now: now}
}

// Create stores a new session and returns it. When the store is full,
// expired sessions go first, then the oldest.
func (s *Sessions) Create(ss *Session) *Session {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	now := s.now()
	ss.ID, ss.Created, ss.Seen = base64.RawURLEncoding.EncodeToString(b), now, now
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= MaxSessions {
		for id, x := range s.m {
			if expired(x, now) {
				delete(s.m, id)
			}
		}
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
	if expired(ss, now) {
		delete(s.m, id)
		return nil
	}
	ss.Seen = now
	return ss
}

// Len is the number of stored sessions.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func expired(ss *Session, now time.Time) bool {
	return now.Sub(ss.Seen) > SessionIdle || now.Sub(ss.Created) > SessionAbsolute
}
