// Package storage is Portico's persistence layer: GORM over an embedded,
// cgo-free SQLite (the zero-setup default) or PostgreSQL (production).
//
// Every method that touches tenant data takes the tenant's ID and scopes its
// query by it; a row of another tenant is reported as model.ErrNotFound, so
// guessing IDs reveals nothing. The package never imports the web framework.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/migrations"
)

// Store is the database handle shared by the whole process.
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
	// hotStmts holds the prepared statements of the per-request writes (hot).
	hotStmts atomic.Pointer[hotStmts]
	hotMu    sync.Mutex
	// batchStmts holds the prepared statements of the combined writes, by
	// text, on SQLite (batchQuery).
	batchMu    sync.Mutex
	batchStmts map[string]*sql.Stmt
	// kvq combines concurrent updates of one key (KVUpdate).
	kvq kvCombiner
	// jtis combines the concurrent launch-token inserts (ConsumeJTI).
	jtis jtiCombiner
	// swaps combines the concurrent compare-and-swaps of KV keys
	// (kvSwap, kvSwapHinted), of any keys.
	swaps swapCombiner
	// kvHints remembers the values this process last left in KV keys
	// (KVUpdate's first try).
	kvHints kvHints
	driver  string
	log     *slog.Logger
	now     func() time.Time
	// url is the database URL, for the change listener's own connection.
	url string
	// node names this Store in the changes it announces.
	node string
	// listenerName is the listener connection's application_name.
	listenerName string
	// nodeName is the operator's name for this node (SetNodeName).
	nodeName string
	cache    *storeCache
	// listening is true while Listen's connection is LISTENing.
	listening atomic.Bool

	// readyChecks coalesces concurrent readiness checks (Ready).
	readyChecks singleflight.Group

	mu      sync.Mutex
	changed []func(Change)
}

// Options tune Open. The zero value is valid.
type Options struct {
	// Logger receives slow-query and error logs; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil. Tests move it.
	Now func() time.Time
}

// Open connects to the database named by a PORTICO_DATABASE_URL value
// (sqldb.Open: for SQLite, WAL, a busy timeout, foreign keys and immediate
// transactions, which together keep concurrent writers from failing with
// SQLITE_BUSY).
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, sqlDB, driver, err := sqldb.Open(ctx, databaseURL, sqldb.Options{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	return &Store{db: db, sqlDB: sqlDB, driver: driver, log: opts.Logger, now: opts.Now,
		url: databaseURL, node: newNodeID(), cache: newStoreCache(),
		jtis:  jtiCombiner{max: maxJTIBatch},
		swaps: swapCombiner{max: maxSwapBatch, yield: true}}, nil
}

// Close releases the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Pool returns the connection pool, for its statistics (metrics). Callers
// must neither close it nor query through it: every query goes through
// the store's methods, which scope it by tenant.
func (s *Store) Pool() *sql.DB { return s.sqlDB }

// Driver returns "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// Now returns the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

func (s *Store) provider() (*goose.Provider, error) {
	return sqldb.Migrations(s.sqlDB, s.driver, migrations.FS, ".")
}

// Migrate applies every pending migration. Concurrent PostgreSQL nodes take
// an advisory lock so exactly one applies them.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		s.log.Info("migration applied", "version", r.Source.Version, "file", filepath.Base(r.Source.Path), "duration_ms", r.Duration.Milliseconds())
	}
	return nil
}

// ErrSchemaOutdated means the database is reachable but has pending
// migrations: run `portico migrate`.
var ErrSchemaOutdated = errors.New("database schema is not up to date")

// ReadyTimeout bounds one readiness check (Ready).
const ReadyTimeout = 3 * time.Second

// Ready reports whether the database answers and its schema is current.
// Concurrent callers share one check: readiness is asked by anyone who
// can reach the listener, and a flood of probes must cost the database
// one ping and one version read at a time, not one per probe. A caller
// that arrives while a check runs takes that check's answer, which is
// never older than the check's start; nothing is cached beyond it. The
// check runs without the first caller's cancellation (ReadyTimeout
// bounds it) and each caller stops waiting at its own deadline.
func (s *Store) Ready(ctx context.Context) error {
	flight := s.readyChecks.DoChan("ready", func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReadyTimeout)
		defer cancel()
		return nil, s.ready(rctx)
	})
	select {
	case r := <-flight:
		return r.Err
	case <-ctx.Done():
		return fmt.Errorf("readiness check: %w", ctx.Err())
	}
}

func (s *Store) ready(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	p, err := s.provider()
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current < target {
		return fmt.Errorf("%w: at version %d of %d", ErrSchemaOutdated, current, target)
	}
	return nil
}

// translate maps driver errors onto the model's sentinel errors.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, model.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey), isUniqueViolation(err):
		return fmt.Errorf("%s: %w", what, model.ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}
