package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// hotStmts are the statements of the writes made per request on a busy
// portal: the KV write's common case (a read and a compare-and-swap, on
// every plugin call that counts something) and the launch exchange's
// single-use insert. They are prepared once per store and run through
// database/sql directly, on GORM's own pool, without GORM's statement
// building, callbacks and reflective scan: on SQLite that was a third of a
// KV write's cost (docs/design.md, "Where GORM stays").
type hotStmts struct {
	kvGet, kvSwap, consumeJTI *sql.Stmt
}

// hotQueries are hotStmts' statements, with ? placeholders.
var hotQueries = []struct {
	query string
	stmt  func(*hotStmts) **sql.Stmt
}{
	{"SELECT value FROM plugin_kv WHERE tenant_id = ? AND plugin_id = ? AND key = ?",
		func(h *hotStmts) **sql.Stmt { return &h.kvGet }},
	{"UPDATE plugin_kv SET value = ?, updated_at = ? WHERE tenant_id = ? AND plugin_id = ? AND key = ? AND value = ?",
		func(h *hotStmts) **sql.Stmt { return &h.kvSwap }},
	{"INSERT INTO launch_jtis (tenant_id, jti, expires_unix) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		func(h *hotStmts) **sql.Stmt { return &h.consumeJTI }},
}

// hot returns the store's prepared hot statements, preparing them on
// first use; a failed preparation (the database unreachable) is returned
// and tried again by the next call.
func (s *Store) hot(ctx context.Context) (*hotStmts, error) {
	if h := s.hotStmts.Load(); h != nil {
		return h, nil
	}
	s.hotMu.Lock()
	defer s.hotMu.Unlock()
	if h := s.hotStmts.Load(); h != nil {
		return h, nil
	}
	h := &hotStmts{}
	for _, q := range hotQueries {
		query := q.query
		if s.driver == "postgres" {
			query = dollarPlaceholders(query)
		}
		st, err := s.sqlDB.PrepareContext(ctx, query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", q.query, err), h.close())
		}
		*q.stmt(h) = st
	}
	s.hotStmts.Store(h)
	return h, nil
}

// close closes the statements prepared so far.
func (h *hotStmts) close() error {
	var errs []error
	for _, q := range hotQueries {
		if st := *q.stmt(h); st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// dollarPlaceholders numbers the ? placeholders of q for PostgreSQL: $1,
// $2… The queries it is given hold no ? in a literal.
func dollarPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
