package cli

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/sqldb"
)

const backupUsage = "usage: portico backup --to FILE [--from sqlite://PATH]"

// backupMain runs `portico backup --to FILE`: an online backup of the
// embedded SQLite database (PORTICO_DATABASE_URL, or --from) while portico
// may keep serving. SQLite's VACUUM INTO writes one consistent snapshot
// into a hidden file next to FILE (mode 0600: it holds password hashes
// and sealed secrets); the copy is checked (quick_check, schema version)
// and only then appears as FILE, which is never overwritten. PostgreSQL
// is backed up with pg_dump (docs/operations.md). Usage errors, a
// PostgreSQL URL and an existing FILE exit 2; a failure exits 1.
func backupMain(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("portico backup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), backupUsage)
		flags.PrintDefaults()
	}
	to := flags.String("to", "", "the backup file to write (must not exist)")
	from := flags.String("from", "", "the SQLite database, sqlite://PATH (default PORTICO_DATABASE_URL)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portico backup: "+format+"\n", a...)
		return 2
	}
	switch {
	case flags.NArg() > 0:
		return fail("unexpected argument %q", flags.Arg(0))
	case *to == "":
		return fail("--to is required\n%s", backupUsage)
	}
	dbURL := *from
	if dbURL == "" {
		cfg, err := config.Load(nil)
		if err != nil {
			fmt.Fprintf(stderr, "portico: %v\n", err)
			return 2
		}
		dbURL = cfg.DatabaseURL
	}
	driver, path, err := config.ParseDatabaseURL(dbURL)
	switch {
	case err != nil:
		return fail("%v", err)
	case driver != config.DriverSQLite:
		return fail("the database is PostgreSQL: back it up with pg_dump --format=custom (see docs/operations.md, \"Backup and restore\")")
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return fail("no SQLite database at %s", path)
	}
	dest, err := filepath.Abs(*to)
	if err != nil {
		return fail("--to: %v", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fail("%s exists: portico backup never overwrites a file", dest)
	}
	if st, err := os.Stat(filepath.Dir(dest)); err != nil || !st.IsDir() {
		return fail("--to: no directory %s", filepath.Dir(dest))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := backupSQLite(ctx, dbURL, dest)
	if errors.Is(err, fs.ErrExist) {
		return fail("%s exists: portico backup never overwrites a file", dest)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico backup: %v\n", err)
		return 1
	}
	if res.tenants < 0 { // not Portico's database
		fmt.Fprintf(stdout, "%s: %d bytes, schema version %d, integrity ok\n", dest, res.size, res.version)
		return 0
	}
	fmt.Fprintf(stdout, "%s: %d bytes, schema version %d, %d tenants, integrity ok\n", dest, res.size, res.version, res.tenants)
	fmt.Fprintln(stderr, "Keep PORTICO_SECRET_KEY (the demo's: PORTICO_DATA_DIR/secret.key) with the backup, stored apart from it:\n"+
		"without it the plugin secrets and launch signing keys in the backup cannot be decrypted. See docs/operations.md.")
	return 0
}

// backupResult describes a backup file that passed its check; tenants is
// -1 for a database without a tenants table.
type backupResult struct {
	size, version, tenants int64
}

// backupSQLite writes a consistent copy of the SQLite database at dbURL to
// dest: VACUUM INTO a hidden temporary file in dest's directory (created
// 0600 and empty, as VACUUM INTO requires), a read-only check of the copy,
// then a hard link to dest, which fails rather than replace a file that
// appeared meanwhile. The temporary file is removed in every case.
func backupSQLite(ctx context.Context, dbURL, dest string) (*backupResult, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath)
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	_, db, _, err := sqldb.Open(ctx, dbURL, sqldb.Options{})
	if err != nil {
		return nil, err
	}
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, tmpPath)
	_ = db.Close()
	if err != nil {
		return nil, fmt.Errorf("vacuum into %s: %w", tmpPath, err)
	}
	res, err := checkBackup(ctx, tmpPath)
	if err != nil {
		return nil, fmt.Errorf("check the backup: %w", err)
	}
	f, err := os.Open(tmpPath)
	if err != nil {
		return nil, err
	}
	err = f.Sync()
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("sync the backup: %w", err)
	}
	if err := os.Link(tmpPath, dest); err != nil {
		return nil, err
	}
	return res, nil
}

// checkBackup opens a backup read-only and checks its pages
// (PRAGMA quick_check), and reads its schema version and its tenants.
func checkBackup(ctx context.Context, path string) (*backupResult, error) {
	// The "sqlite3" database/sql driver is ncruces/go-sqlite3's, which
	// internal/sqldb links in.
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return nil, err
	}
	if check != "ok" {
		return nil, fmt.Errorf("quick_check: %s", check)
	}
	res := &backupResult{}
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version`).Scan(&res.version); err != nil {
		return nil, fmt.Errorf("schema version: %w", err)
	}
	// Portico's database has tenants; another (the loyalty app's) has not.
	res.tenants = -1
	var hasTenants int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tenants'`).Scan(&hasTenants); err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	if hasTenants > 0 {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&res.tenants); err != nil {
			return nil, fmt.Errorf("tenants: %w", err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	res.size = st.Size()
	return res, nil
}
