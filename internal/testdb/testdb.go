// Package testdb opens real, isolated databases for tests: a fresh SQLite
// file per test, and a fresh PostgreSQL schema per test on the server named
// by PORTICO_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
//
// Outside CI (CI unset), a test that needs PostgreSQL is skipped with the
// reason printed when the server is unreachable; with CI=true it fails.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema setup

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/storage"
)

// DefaultPostgresURL is used when PORTICO_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Drivers lists the backends every store test runs on.
var Drivers = []string{"sqlite", "postgres"}

// InCI reports whether missing services must fail tests instead of skipping.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// Unavailable skips the test, or fails it under CI, for a missing service.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("skipping: %s unavailable (%v); set CI=true to make this a failure", what, err)
}

// URL returns a database URL for a fresh, empty database of driver, and
// registers its removal with t.Cleanup.
func URL(t testing.TB, driver string) string {
	t.Helper()
	switch driver {
	case "sqlite":
		return "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "portico.db"))
	case "postgres":
		return postgresSchema(t)
	}
	t.Fatalf("unknown driver %q", driver)
	return ""
}

// Open returns a migrated store on a fresh database of driver.
func Open(t testing.TB, driver string) *storage.Store {
	t.Helper()
	return OpenWith(t, driver, storage.Options{})
}

// OpenWith is Open with options (a clock, for instance); a nil Logger
// logs to the test.
//
// A SQLite store starts as a copy of a database this process migrated
// once (migratedSQLite): SQLite runs as Go code translated from its C
// (github.com/ncruces/go-sqlite3), which the race detector instruments, so
// migrating every test's database took about half a second of CPU under
// -race. The copy is then migrated like any database, which finds nothing
// to apply. Tests of the migrations themselves start from URL's empty
// database.
func OpenWith(t testing.TB, driver string, opts storage.Options) *storage.Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = Logger(t)
	}
	u := URL(t, driver)
	if driver == "sqlite" {
		image, err := migratedSQLite()
		if err != nil {
			t.Fatalf("migrated sqlite image: %v", err)
		}
		if err := os.WriteFile(strings.TrimPrefix(u, "sqlite://"), image, 0o600); err != nil {
			t.Fatalf("write sqlite database: %v", err)
		}
	}
	return openURL(t, u, opts)
}

// migratedSQLite returns the bytes of a SQLite database file holding every
// migration, made once per process.
var migratedSQLite = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "portico-testdb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	ctx := context.Background()
	st, err := storage.Open(ctx, "sqlite://"+filepath.ToSlash(path), storage.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	// Closing the last connection checkpoints the write-ahead log into
	// the file, which then holds everything.
	if err := st.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, fmt.Errorf("%s-wal outlived the store", path)
	}
	return os.ReadFile(path)
})

// OpenURL opens and migrates another store on the database url (from URL):
// two stores on one PostgreSQL schema play two Portico nodes.
func OpenURL(t testing.TB, url string) *storage.Store {
	t.Helper()
	return openURL(t, url, storage.Options{Logger: Logger(t)})
}

func openURL(t testing.TB, url string, opts storage.Options) *storage.Store {
	t.Helper()
	ctx := context.Background()
	st, err := storage.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	return st
}

func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PORTICO_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		Unavailable(t, "PostgreSQL at "+redact(base), err)
	}
	schema := "t_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(auth.NewToken()))[:20]
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		_ = db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse PORTICO_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

// Logger returns a logger that writes through t.Log, so output appears only
// for failing tests.
// Lines written after the test ended (by a server goroutine still
// draining) are dropped instead of panicking.
func Logger(t testing.TB) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Must fails the test on err.
func Must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// Listen runs st's change listener until the test ends and waits until it
// is listening (at once on SQLite).
func Listen(t testing.TB, st *storage.Store) {
	t.Helper()
	ListenWith(t, st, storage.ListenOptions{})
}

// ListenWith is Listen with options.
func ListenWith(t testing.TB, st *storage.Store, opts storage.ListenOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := st.Listen(ctx, opts); err != nil {
			t.Errorf("listen: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !st.Coherent() {
		if time.Now().After(deadline) {
			t.Fatal("the change listener did not connect within 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
