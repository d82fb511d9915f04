// Package sqldb opens the databases of Portico and of its first-party apps
// (the loyalty app) the one same way: a PORTICO_DATABASE_URL-style URL
// (sqlite://PATH, the cgo-free embedded default, or postgres://…), GORM
// configured alike, SQLite's pragmas for concurrent writers, pool sizes,
// and goose migrations from an embedded folder, with PostgreSQL's advisory
// lock so concurrent nodes migrate once.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ncruces/go-sqlite3/gormlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portico-dev/portico/internal/config"
)

// Options tune Open. The zero value is valid.
type Options struct {
	// Now is the clock GORM stamps rows with; time.Now when nil.
	Now func() time.Time
}

// Open connects to the database named by databaseURL and returns it with
// its driver (config.DriverSQLite or config.DriverPostgres). For SQLite it
// creates the file's directory and enables WAL, a busy timeout, foreign
// keys and immediate transactions, which together keep concurrent writers
// from failing with SQLITE_BUSY.
func Open(ctx context.Context, databaseURL string, o Options) (*gorm.DB, *sql.DB, string, error) {
	driver, dsn, err := config.ParseDatabaseURL(databaseURL)
	if err != nil {
		return nil, nil, "", fmt.Errorf("open database: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return o.Now().UTC() },
		SkipDefaultTransaction: true,
		// SQLite: GORM's prepared statements save re-parsing. PostgreSQL:
		// pgx caches a prepared statement per connection by itself, in
		// transactions too, where GORM's would prepare and deallocate it
		// around every statement (two more round trips each); measured in
		// docs/benchmarks.md ("PostgreSQL statements").
		PrepareStmt:    driver == config.DriverSQLite,
		TranslateError: true,
	}
	var dialector gorm.Dialector
	switch driver {
	case config.DriverSQLite:
		if dir := filepath.Dir(dsn); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, nil, "", fmt.Errorf("create database directory: %w", err)
			}
		}
		if err := createPrivate(dsn); err != nil {
			return nil, nil, "", err
		}
		dialector = gormlite.Open("file:" + dsn + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=foreign_keys(1)&_pragma=synchronous(normal)&_txlock=immediate")
	case config.DriverPostgres:
		dialector = postgres.Open(dsn)
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("open %s database: %w", driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, "", fmt.Errorf("open %s database: %w", driver, err)
	}
	if driver == config.DriverSQLite {
		// One writer at a time is SQLite's model; readers share WAL snapshots.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, nil, "", fmt.Errorf("connect to %s database: %w", driver, err)
	}
	return db, sqlDB, driver, nil
}

// createPrivate creates the database file path, when it does not exist,
// readable by its owner only: it holds every tenant's users, sessions and
// sealed secrets, and a data directory that already existed may be open to
// others. An existing file is left as it is. SQLite makes its -wal and
// -shm files with the process's umask, and deletes and makes them again
// as connections come and go: the commands set a private umask
// (RestrictFileModes).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("create the database file: %w", err)
	}
	return f.Close()
}

// Migrations returns the goose provider of the migrations in dir/{driver}
// of fsys (one folder per dialect, the same version numbers in both).
// On PostgreSQL it takes an advisory lock, so exactly one of several nodes
// applies them.
func Migrations(sqlDB *sql.DB, driver string, fsys fs.FS, dir string) (*goose.Provider, error) {
	sub, err := fs.Sub(fsys, filepath.ToSlash(filepath.Join(dir, driver)))
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", driver, err)
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if driver == config.DriverPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migration provider: %w", err)
	}
	return p, nil
}
