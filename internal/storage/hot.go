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
// single-use insert. They run through database/sql directly, on GORM's own
// pool, without GORM's statement building, callbacks and reflective scan:
// on SQLite that was a third of a KV write's cost (docs/design.md, "Where
// GORM stays").
type hotStmts struct {
	kvGet, kvSwap, consumeJTI hotStmt
}

// hotStmt is one statement. On SQLite it is prepared once per store
// (SQLite prepares it again by itself after a schema change). On
// PostgreSQL it is run by its text: pgx prepares it once per connection
// and, unlike a database/sql prepared statement, prepares it again after
// an error, such as a migration by another node changing its table.
type hotStmt struct {
	db    *sql.DB
	query string    // with the driver's placeholders
	stmt  *sql.Stmt // prepared, on SQLite
}

// hotExec runs the hot statement which picks and returns how many rows
// it changed.
func (s *Store) hotExec(ctx context.Context, which func(*hotStmts) *hotStmt, args ...any) (int64, error) {
	h, err := s.hot(ctx)
	if err != nil {
		return 0, err
	}
	st := which(h)
	var res sql.Result
	if st.stmt != nil {
		res, err = st.stmt.ExecContext(ctx, args...)
	} else {
		res, err = st.db.ExecContext(ctx, st.query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// batchQuery runs the statement of a combined write (jtiCombiner,
// swapCombiner), whose text depends on how many rows it writes. On SQLite,
// which prepares a statement's text anew on every query, each text is
// prepared once per store and kept (at most one per batch size: preparing
// was half of a combined swap's cost); on PostgreSQL pgx prepares it once
// per connection.
func (s *Store) batchQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.driver == "postgres" {
		return s.sqlDB.QueryContext(ctx, query, args...)
	}
	s.batchMu.Lock()
	st := s.batchStmts[query]
	s.batchMu.Unlock()
	if st == nil {
		p, err := s.sqlDB.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		s.batchMu.Lock()
		if st = s.batchStmts[query]; st == nil { // prepared concurrently otherwise
			if s.batchStmts == nil {
				s.batchStmts = map[string]*sql.Stmt{}
			}
			s.batchStmts[query], st = p, p
			p = nil
		}
		s.batchMu.Unlock()
		if p != nil {
			_ = p.Close()
		}
	}
	return st.QueryContext(ctx, args...)
}

func (h *hotStmt) queryRow(ctx context.Context, args ...any) *sql.Row {
	if h.stmt != nil {
		return h.stmt.QueryRowContext(ctx, args...)
	}
	return h.db.QueryRowContext(ctx, h.query, args...)
}

// hotQueries are hotStmts' statements, with ? placeholders.
var hotQueries = []struct {
	query string
	stmt  func(*hotStmts) *hotStmt
}{
	{"SELECT value FROM plugin_kv WHERE tenant_id = ? AND plugin_id = ? AND key = ?",
		func(h *hotStmts) *hotStmt { return &h.kvGet }},
	{"UPDATE plugin_kv SET value = ?, updated_at = ? WHERE tenant_id = ? AND plugin_id = ? AND key = ? AND value = ?",
		func(h *hotStmts) *hotStmt { return &h.kvSwap }},
	{"INSERT INTO launch_jtis (tenant_id, jti, expires_unix) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		func(h *hotStmts) *hotStmt { return &h.consumeJTI }},
}

// hot returns the store's hot statements, preparing them on first use on
// SQLite; a failed preparation (the database unreachable) is returned and
// tried again by the next call.
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
		st := q.stmt(h)
		st.db, st.query = s.sqlDB, q.query
		if s.driver == "postgres" {
			st.query = dollarPlaceholders(q.query)
			continue
		}
		p, err := s.sqlDB.PrepareContext(ctx, q.query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare %q: %w", q.query, err), h.close())
		}
		st.stmt = p
	}
	s.hotStmts.Store(h)
	return h, nil
}

// close closes the statements prepared so far.
func (h *hotStmts) close() error {
	var errs []error
	for _, q := range hotQueries {
		if st := q.stmt(h); st.stmt != nil {
			errs = append(errs, st.stmt.Close())
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
