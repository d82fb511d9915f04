// Package migratedb moves a whole Portico installation from its embedded
// SQLite database to PostgreSQL (`portico migrate-db`).
//
// A run:
//
//  1. opens the source in one read-only transaction, so everything it
//     copies and verifies is one consistent snapshot, even of a live
//     database (writes made after the snapshot are not copied: stop
//     Portico first);
//  2. refuses a source whose schema is not exactly this binary's latest
//     migration (run `portico migrate` on it first);
//  3. migrates the target to that same version;
//  4. enumerates the tables from both catalogues (goose's version table
//     aside), so a table a new migration adds is never forgotten, and
//     checks that both have the same tables, columns and primary keys;
//  5. compares the target with the source and refuses a target that holds
//     rows the source does not, or the same rows with other content: that
//     is another installation, and nothing is ever overwritten;
//  6. copies the missing rows table by table in foreign-key order, in
//     batches, each batch in its own transaction with ON CONFLICT DO
//     NOTHING, converting SQLite's representations (text or numeric times,
//     0/1 booleans, blobs, JSON text) to the PostgreSQL column types read
//     from information_schema; an interrupted run is finished by running
//     it again;
//  7. moves serial and identity sequences past the copied values;
//  8. verifies every table: row counts, and a SHA-256 over canonical rows
//     in primary-key order computed the same way on both sides.
//
// Values are copied as they are: plugin secrets and launch signing keys
// stay sealed with the PORTICO_SECRET_KEY the source used, and decrypt
// only with it. The package imports no web framework.
package migratedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/migrations"
)

// Errors a run can end with; each is wrapped with the details.
var (
	// ErrUsage is a bad --from or --to.
	ErrUsage = errors.New("bad database URL")
	// ErrSource means the source cannot be read as a Portico database.
	ErrSource = errors.New("source database unusable")
	// ErrTargetUnreachable means the target PostgreSQL did not answer.
	ErrTargetUnreachable = errors.New("target database unreachable")
	// ErrVersionMismatch means the source or the target is at another
	// schema version than this binary's migrations.
	ErrVersionMismatch = errors.New("schema version mismatch")
	// ErrSchemaMismatch means the two databases' tables differ.
	ErrSchemaMismatch = errors.New("schemas differ")
	// ErrDifferentInstallation means the target holds rows the source
	// does not, or the same keys with other content.
	ErrDifferentInstallation = errors.New("target holds a different installation")
	// ErrVerification means the copy does not match the source.
	ErrVerification = errors.New("verification failed")
)

// Defaults of Options.
const (
	DefaultBatchRows  = 500
	DefaultBatchBytes = 4 << 20
)

// Options tune Run. The zero value is valid.
type Options struct {
	// BatchRows and BatchBytes bound one batch (one INSERT in one
	// transaction): at most this many rows, and a batch ends once its
	// values reach this many bytes (a 16 MiB wasm module is a batch of
	// its own). DefaultBatchRows and DefaultBatchBytes when 0.
	BatchRows  int
	BatchBytes int
	// Progress, when set, is called after every committed batch.
	Progress func(Progress)
	// Log receives the steps of the run; nothing is logged when nil.
	Log *slog.Logger
}

// Report is what a run did and found.
type Report struct {
	// Version is the schema version of both databases.
	Version int64
	// Applied lists the migrations this run applied to the target.
	Applied []int64
	// Tables holds each table's final comparison, in foreign-key order.
	Tables []TableReport
	// Sequences lists the sequences moved past the copied values.
	Sequences []string
}

// Rows returns the rows of the source and how many this run copied.
func (r *Report) Rows() (source, copied int64) {
	for _, t := range r.Tables {
		source += t.SourceRows
		copied += t.Copied
	}
	return source, copied
}

// Run copies the SQLite database at from (sqlite://PATH) into the
// PostgreSQL database at to (postgres://…) and verifies the copy. It
// returns the report of the last comparison it made, also with most
// errors (ErrDifferentInstallation, ErrVerification).
func Run(ctx context.Context, from, to string, o Options) (*Report, error) {
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	srcPath, err := checkURLs(from, to)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(srcPath); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not an existing SQLite file", ErrSource, srcPath)
	}
	want, err := latestMigration()
	if err != nil {
		return nil, err
	}

	_, srcDB, _, err := sqldb.Open(ctx, from, sqldb.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSource, err)
	}
	defer srcDB.Close()
	// One read-only transaction for the whole run: every read below sees
	// the same snapshot, whatever writes the source takes meanwhile.
	src, err := srcDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("%w: begin read transaction: %w", ErrSource, err)
	}
	defer func() { _ = src.Rollback() }()
	have, err := sourceVersion(ctx, src)
	if err != nil {
		return nil, err
	}
	switch {
	case have < want:
		return nil, fmt.Errorf("%w: the source is at schema version %d and this portico's migrations go to %d: run `PORTICO_DATABASE_URL=%s portico migrate` with this binary first",
			ErrVersionMismatch, have, want, from)
	case have > want:
		return nil, fmt.Errorf("%w: the source is at schema version %d, newer than this portico's migrations (%d): use the portico binary that last migrated it",
			ErrVersionMismatch, have, want)
	}
	if err := foreignKeyCheck(ctx, src); err != nil {
		return nil, err
	}

	_, dst, _, err := sqldb.Open(ctx, to, sqldb.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %w", ErrTargetUnreachable, Redact(to), err)
	}
	defer dst.Close()
	rep := &Report{Version: want}
	if rep.Applied, err = migrateTarget(ctx, dst, want); err != nil {
		return nil, err
	}
	if len(rep.Applied) > 0 {
		o.Log.Info("target migrated", "versions", len(rep.Applied), "version", want)
	}
	tables, err := readSchema(ctx, src, dst)
	if err != nil {
		return nil, err
	}

	o.Log.Info("comparing target with source", "tables", len(tables))
	before, err := compareAll(ctx, src, dst, tables)
	if err != nil {
		return nil, err
	}
	rep.Tables = before
	var foreign []string
	for _, t := range before {
		if t.Extra > 0 || t.Different > 0 {
			foreign = append(foreign, fmt.Sprintf("%s: %d extra, %d different (%s)", t.Table, t.Extra, t.Different, strings.Join(t.Examples, "; ")))
		}
	}
	if len(foreign) > 0 {
		return rep, fmt.Errorf("%w: %s; nothing was copied or overwritten: use an empty database", ErrDifferentInstallation, strings.Join(foreign, "; "))
	}

	cp := &copier{dst: dst, o: o}
	copied := make(map[string]int64, len(tables))
	for i, t := range tables {
		if before[i].Missing == 0 {
			continue
		}
		o.Log.Info("copying table", "table", t.name, "rows", before[i].SourceRows, "missing", before[i].Missing)
		n, err := cp.copyTable(ctx, src, t, before[i].SourceRows)
		copied[t.name] = n
		if err != nil {
			for j := range rep.Tables {
				rep.Tables[j].Copied = copied[rep.Tables[j].Table]
			}
			if ctx.Err() != nil {
				// Every committed batch stays; the next run skips it.
				return rep, fmt.Errorf("interrupted while copying %s after %d batches (run the same command again to finish): %w", t.name, cp.batches, ctx.Err())
			}
			return rep, err
		}
	}
	if rep.Sequences, err = resetSequences(ctx, dst); err != nil {
		return rep, err
	}

	o.Log.Info("verifying", "tables", len(tables))
	after, err := compareAll(ctx, src, dst, tables)
	if err != nil {
		return rep, err
	}
	rep.Tables = after
	var bad []string
	for i := range rep.Tables {
		rep.Tables[i].Copied = copied[rep.Tables[i].Table]
		if !rep.Tables[i].Equal() {
			bad = append(bad, rep.Tables[i].Table)
		}
	}
	if len(bad) > 0 {
		return rep, fmt.Errorf("%w: %s differ from the source", ErrVerification, strings.Join(bad, ", "))
	}
	return rep, nil
}

// compareAll compares every table, reading the target in one
// repeatable-read transaction so that all tables are seen at one moment.
func compareAll(ctx context.Context, src *sql.Tx, dst *sql.DB, tables []table) ([]TableReport, error) {
	tx, err := dst.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin target read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	out := make([]TableReport, 0, len(tables))
	for _, t := range tables {
		r, err := compareTable(ctx, src, tx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// checkURLs checks that from is a sqlite:// URL and to a postgres:// one,
// and returns the SQLite file's path.
func checkURLs(from, to string) (string, error) {
	driver, srcPath, err := config.ParseDatabaseURL(from)
	if err != nil {
		return "", fmt.Errorf("%w: --from: %w", ErrUsage, err)
	}
	if driver != config.DriverSQLite {
		return "", fmt.Errorf("%w: --from must be the SQLite database to move, sqlite://PATH (got %s)", ErrUsage, Redact(from))
	}
	driver, _, err = config.ParseDatabaseURL(to)
	if err != nil {
		return "", fmt.Errorf("%w: --to: %w", ErrUsage, err)
	}
	if driver != config.DriverPostgres {
		return "", fmt.Errorf("%w: --to must be the PostgreSQL database to fill, postgres://USER:PASSWORD@HOST:5432/DB?sslmode=… (got %s)", ErrUsage, Redact(to))
	}
	u, err := url.Parse(to)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%w: --to %s is not a postgres://HOST/DB URL", ErrUsage, Redact(to))
	}
	return srcPath, nil
}

// Redact hides a password in a database URL before it is printed: the
// one in the user part, and a password query parameter (which the
// PostgreSQL driver also reads).
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.LastIndexByte(u, '@'); i > 0 {
			return "…" + u[i:]
		}
		return "…"
	}
	if q := p.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}

// latestMigration is the newest schema version this binary carries.
func latestMigration() (int64, error) {
	entries, err := fs.ReadDir(migrations.FS, config.DriverSQLite)
	if err != nil {
		return 0, fmt.Errorf("read embedded migrations: %w", err)
	}
	var latest int64
	for _, e := range entries {
		num, _, _ := strings.Cut(path.Base(e.Name()), "_")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	if latest == 0 {
		return 0, errors.New("no embedded migrations")
	}
	return latest, nil
}

// sourceVersion reads the schema version goose recorded in the source.
func sourceVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, versionTable).Scan(&n); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrSource, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: it has no %s table: not a Portico database, or never migrated (run `portico migrate` on it)", ErrSource, versionTable)
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version_id) FROM `+versionTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("%w: read schema version: %w", ErrSource, err)
	}
	return v.Int64, nil
}

// maxFKProblems bounds the foreign-key violations a refusal lists.
const maxFKProblems = 5

// foreignKeyCheck refuses a source whose rows break its foreign keys
// (possible in SQLite if they were ever off): PostgreSQL would refuse
// them halfway through the copy.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT "table", rowid, parent FROM pragma_foreign_key_check`)
	if err != nil {
		return fmt.Errorf("%w: foreign key check: %w", ErrSource, err)
	}
	defer rows.Close()
	var problems []string
	total := 0
	for rows.Next() {
		var tbl, parent string
		var rowid sql.NullInt64
		if err := rows.Scan(&tbl, &rowid, &parent); err != nil {
			return fmt.Errorf("%w: foreign key check: %w", ErrSource, err)
		}
		total++
		if len(problems) < maxFKProblems {
			problems = append(problems, fmt.Sprintf("%s rowid %d references a missing %s", tbl, rowid.Int64, parent))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: foreign key check: %w", ErrSource, err)
	}
	if total > 0 {
		return fmt.Errorf("%w: %d rows break a foreign key (%s): fix them in the source first", ErrSource, total, strings.Join(problems, "; "))
	}
	return nil
}

// migrateTarget applies this binary's migrations to the target and
// returns the versions applied; a target already beyond them is refused.
func migrateTarget(ctx context.Context, dst *sql.DB, want int64) ([]int64, error) {
	var exists bool
	if err := dst.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1)`,
		versionTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read target schema version: %w", err)
	}
	if exists {
		var v sql.NullInt64
		if err := dst.QueryRowContext(ctx, `SELECT MAX(version_id) FROM `+versionTable).Scan(&v); err != nil {
			return nil, fmt.Errorf("read target schema version: %w", err)
		}
		if v.Int64 > want {
			return nil, fmt.Errorf("%w: the target is at schema version %d, newer than this portico's migrations (%d) and the source's", ErrVersionMismatch, v.Int64, want)
		}
	}
	p, err := sqldb.Migrations(dst, config.DriverPostgres, migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate target: %w", err)
	}
	var applied []int64
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}
