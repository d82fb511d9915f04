package storage

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/clip"
)

// ChangeKind names what a Change invalidates.
type ChangeKind string

// The kinds of change a write announces. Each names rows, never carries
// their data: a cache that hears one drops what it holds and reads again.
const (
	// ChangeTenant: the tenant's settings, hostnames or plugins (their
	// order, visibility, configuration, secrets, client secret, module
	// version) changed.
	ChangeTenant ChangeKind = "tenant"
	// ChangeUser: the user ID (roles, active flag, language, profile,
	// password) changed, or every session of that user ended.
	ChangeUser ChangeKind = "user"
	// ChangeSession: the session ID (a token hash) ended, or its role or
	// language changed.
	ChangeSession ChangeKind = "session"
	// ChangeAPIKeys: an API key of the tenant was revoked, and with it the
	// logins its portal sessions started.
	ChangeAPIKeys ChangeKind = "apikeys"
	// ChangeAll: forget everything. It is never sent; the listener raises
	// it locally whenever it (re)connects or loses its connection, because
	// notifications sent while it was away are lost.
	ChangeAll ChangeKind = "all"
)

// Change is one announced change.
type Change struct {
	Kind     ChangeKind
	TenantID string
	// ID is the user's ID for ChangeUser and the session's ID for
	// ChangeSession; empty otherwise.
	ID string
	// Remote reports a change heard from another node (through
	// PostgreSQL), and At when that node committed it (its clock), so a
	// listener can measure the lag. Both are zero for a local change.
	Remote bool
	At     time.Time
}

// TenantChange is the change of anything cached about a tenant.
func TenantChange(tenantID string) Change { return Change{Kind: ChangeTenant, TenantID: tenantID} }

// UserChange is the change of one user and of all their sessions.
func UserChange(tenantID, userID string) Change {
	return Change{Kind: ChangeUser, TenantID: tenantID, ID: userID}
}

// SessionChange is the change of one session.
func SessionChange(tenantID, sessionID string) Change {
	return Change{Kind: ChangeSession, TenantID: tenantID, ID: sessionID}
}

// ChangesChannel is the PostgreSQL channel changes are announced on.
const ChangesChannel = "portico_changes"

// changeMessage is a Change as sent through NOTIFY: names, the sending
// node and the time, never row data. It is far below PostgreSQL's 8,000
// byte payload limit (IDs are short).
type changeMessage struct {
	Kind     ChangeKind `json:"k"`
	TenantID string     `json:"t"`
	ID       string     `json:"id,omitempty"`
	Node     string     `json:"n"`
	AtMicros int64      `json:"at"`
}

// maxChangePayload bounds a notification read from the channel; anything
// longer is not one of ours.
const maxChangePayload = 1024

// parseChange reads a notification's payload. Anyone who can connect to
// the database can NOTIFY on the channel, so the payload is checked: a
// known kind, bounded fields. An unreadable one is reported, and the
// listener then flushes everything rather than guess.
func parseChange(payload string) (changeMessage, error) {
	var m changeMessage
	if len(payload) > maxChangePayload {
		return m, errors.New("change payload too long")
	}
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return m, fmt.Errorf("change payload: %w", err)
	}
	switch m.Kind {
	case ChangeTenant, ChangeUser, ChangeSession, ChangeAPIKeys:
	default:
		return m, fmt.Errorf("change payload: unknown kind %q", m.Kind)
	}
	if m.TenantID == "" || len(m.TenantID) > 64 || len(m.ID) > 128 || len(m.Node) > 64 {
		return m, errors.New("change payload: bad field")
	}
	if (m.Kind == ChangeUser || m.Kind == ChangeSession) && m.ID == "" {
		return m, errors.New("change payload: missing id")
	}
	return m, nil
}

// announce queues chs in the transaction tx: on PostgreSQL a NOTIFY, which
// PostgreSQL delivers to every node's listener when tx commits (and never
// if it rolls back). The writer's own process learns of them from notify,
// called after the commit, so the change takes effect there at once.
func (s *Store) announce(tx *gorm.DB, chs ...Change) error {
	if s.driver != "postgres" {
		return nil
	}
	at := s.now().UnixMicro()
	for _, ch := range chs {
		b, err := json.Marshal(changeMessage{Kind: ch.Kind, TenantID: ch.TenantID, ID: ch.ID, Node: s.node, AtMicros: at})
		if err != nil {
			return fmt.Errorf("announce change: %w", err)
		}
		if err := tx.Exec("SELECT pg_notify(?, ?)", ChangesChannel, string(b)).Error; err != nil {
			return fmt.Errorf("announce change: %w", err)
		}
	}
	return nil
}

// changeTx runs fn in a transaction that announces chs, then tells this
// process's caches. It returns fn's error untranslated.
func (s *Store) changeTx(ctx context.Context, fn func(tx *gorm.DB) error, chs ...Change) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.announce(tx, chs...)
	})
	if err != nil {
		return err
	}
	s.notify(chs...)
	return nil
}

// OnChange registers fn to run for every change: after a write of this
// process commits, when another node's change is heard, and with ChangeAll
// whenever changes may have been missed. fn must be quick and must not
// call the store.
func (s *Store) OnChange(fn func(Change)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed = append(s.changed, fn)
}

func (s *Store) notify(chs ...Change) {
	s.mu.Lock()
	fns := append([]func(Change){}, s.changed...)
	s.mu.Unlock()
	for _, ch := range chs {
		s.cache.apply(ch)
		for _, fn := range fns {
			fn(ch)
		}
	}
}

// Coherent reports whether this process hears every change another
// process makes, so that caching what it reads is safe: always on SQLite,
// which one process serves, and on PostgreSQL while the listener (Listen)
// is connected. While it is false the store's own caches are bypassed.
func (s *Store) Coherent() bool {
	return s.driver != "postgres" || s.listening.Load()
}

// ListenOptions tune Listen.
type ListenOptions struct {
	// ReconnectDelay is the pause before reconnecting after the
	// connection is lost; 500 ms when zero.
	ReconnectDelay time.Duration
	// OnState is told when the listener connects (true) and when it
	// loses its connection (false); optional (metrics).
	OnState func(up bool)
}

// Listen keeps a connection LISTENing on ChangesChannel and applies every
// change another node announces, until ctx ends. On every (re)connect and
// every lost connection it flushes all caches (ChangeAll): notifications
// sent while it was away are lost, and the caches are bypassed (Coherent
// is false) until it is listening again. It returns at once on SQLite.
func (s *Store) Listen(ctx context.Context, opts ListenOptions) error {
	if s.driver != "postgres" {
		return nil
	}
	cfg, err := pgx.ParseConfig(s.url)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.listenerName = "portico"
	if v := cfg.RuntimeParams["application_name"]; v != "" {
		s.listenerName = v
	}
	s.listenerName += "-listener-" + s.node
	cfg.RuntimeParams["application_name"] = s.listenerName
	if opts.ReconnectDelay == 0 {
		opts.ReconnectDelay = 500 * time.Millisecond
	}
	down := func() {
		if s.listening.Swap(false) {
			s.log.Warn("change listener disconnected: caches bypassed until it reconnects")
			if opts.OnState != nil {
				opts.OnState(false)
			}
		}
		s.notify(Change{Kind: ChangeAll})
	}
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			down()
			return pgx.ConnectConfig(ctx, cfg)
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				s.log.Warn("change listener", "err", err)
				down()
			}
		},
		ReconnectDelay: opts.ReconnectDelay,
	}
	l.Handle(ChangesChannel, &changeHandler{s: s, up: func() {
		s.notify(Change{Kind: ChangeAll})
		if !s.listening.Swap(true) {
			s.log.Info("change listener connected")
			if opts.OnState != nil {
				opts.OnState(true)
			}
		}
	}})
	err = l.Listen(ctx)
	s.listening.Store(false)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// ListenerName is the application_name of this store's listener
// connection, as pg_stat_activity shows it: the database URL's
// application_name (or "portico"), "-listener-" and the node's random ID.
// It is set when Listen starts.
func (s *Store) ListenerName() string { return s.listenerName }

// changeHandler applies notifications; as a pgxlisten.BacklogHandler it is
// called once LISTEN is in place on each new connection.
type changeHandler struct {
	s  *Store
	up func()
}

func (h *changeHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h.up()
	return nil
}

func (h *changeHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	m, err := parseChange(n.Payload)
	if err != nil {
		// Something this node cannot read (a newer node's kind of change
		// during an upgrade, or anyone's pg_notify on the channel): every
		// cache is flushed, since the change is unknown, and the listener
		// goes on. Returning the error would have pgxlisten report it
		// through LogError, which marks the listener down on a connection
		// that stays up: the caches would stay bypassed until it dropped.
		h.s.log.Warn("change listener: unreadable notification, caches flushed", "payload", clip.Marked(n.Payload, 120), "err", err)
		h.s.notify(Change{Kind: ChangeAll})
		return nil
	}
	if m.Node == h.s.node {
		return nil // this process applied it after its commit
	}
	h.s.notify(Change{Kind: m.Kind, TenantID: m.TenantID, ID: m.ID, Remote: true, At: time.UnixMicro(m.AtMicros)})
	return nil
}

// newNodeID names this Store in the changes it announces, so its own
// listener can skip them.
func newNodeID() string { return rand.Text()[:16] }
