package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the restore's own connection

	"github.com/portico-dev/portico/host/cli"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/migratedb/testinstall"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/internal/testdb"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	testdb.Must(t, err, "open %s", from)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	testdb.Must(t, err, "create %s", to)
	_, err = io.Copy(out, in)
	testdb.Must(t, err, "copy")
	testdb.Must(t, out.Close(), "close %s", to)
}

// TestBackupAndRestoreSQLite backs a seeded installation up with
// `portico backup` while its store is open and written to, restores the
// file the way docs/operations.md says (copied into place as the
// database), and reads the installation back through the store, secrets
// decrypting with the same key. Refusals exit 2 with a message.
func TestBackupAndRestoreSQLite(t *testing.T) {
	ctx := context.Background()
	srcURL := testdb.URL(t, "sqlite")
	src := testdb.OpenURL(t, srcURL)
	in := testinstall.Seed(t, src)
	for k, v := range map[string]string{"PORTICO_DATABASE_URL": srcURL, "PORTICO_DATA_DIR": t.TempDir(),
		"PORTICO_LOG_LEVEL": "warn", "PORTICO_LOG_FORMAT": "", "PORTICO_DEMO": "", "PORTICO_SECRET_KEY": "",
		"PORTICO_ADDR": "", "PORTICO_TRUSTED_PROXIES": ""} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	backup := filepath.Join(dir, "portico-2026-01-01.db")
	var out, errb bytes.Buffer
	if code := cli.Main([]string{"backup", "--to", backup}, &out, &errb); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), backup+": ") || !strings.Contains(out.String(), "integrity ok") || !strings.Contains(out.String(), ", 1 tenants, integrity ok") ||
		!strings.Contains(errb.String(), "Keep PORTICO_SECRET_KEY") {
		t.Errorf("backup output:\nstdout %q\nstderr %q", out.String(), errb.String())
	}
	st, err := os.Stat(backup)
	testdb.Must(t, err, "stat the backup")
	if st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", st.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Restore: the file copied into place as a new installation's database.
	restoreDir := t.TempDir()
	restored := filepath.Join(restoreDir, "portico.db")
	copyFile(t, backup, restored)
	in.Check(t, src, testdb.OpenURL(t, "sqlite://"+restored))

	// Online: a backup taken while another connection keeps writing is one
	// consistent snapshot: between the counts before and after.
	before, err := src.CountAudit(ctx, in.Tenant.ID)
	testdb.Must(t, err, "count")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := src.Audit(ctx, in.Tenant.ID, model.SystemActor("test"), "test.during_backup", "tenant", in.Tenant.ID, nil, map[string]any{"at": time.Now()}); err != nil {
				t.Errorf("write during the backup: %v", err)
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	live := filepath.Join(dir, "live.db")
	code := cli.Main([]string{"backup", "--to", live, "--from", srcURL}, io.Discard, &errb)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup during writes: exit %d: %s", code, errb.String())
	}
	after, err := src.CountAudit(ctx, in.Tenant.ID)
	testdb.Must(t, err, "count")
	liveStore := testdb.OpenURL(t, "sqlite://"+live)
	got, err := liveStore.CountAudit(ctx, in.Tenant.ID)
	testdb.Must(t, err, "count")
	if got < before || got > after || after == before {
		t.Errorf("the live backup holds %d audit entries; before %d, after %d", got, before, after)
	}

	// Another application's SQLite database (the loyalty app's): no
	// tenants, its own schema version.
	otherURL := testdb.URL(t, "sqlite")
	_, other, _, err := sqldb.Open(ctx, otherURL, sqldb.Options{})
	testdb.Must(t, err, "open")
	_, err = other.Exec(`CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL);
		INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (3, 1); CREATE TABLE points (id TEXT PRIMARY KEY)`)
	testdb.Must(t, err, "another database")
	_ = other.Close()
	out.Reset()
	otherBackup := filepath.Join(dir, "loyalty.db")
	errb.Reset()
	if code := cli.Main([]string{"backup", "--from", otherURL, "--to", otherBackup}, &out, &errb); code != 0 ||
		!regexp.MustCompile(`^`+regexp.QuoteMeta(otherBackup)+`: \d+ bytes, schema version 3, integrity ok\n$`).MatchString(out.String()) || errb.Len() != 0 {
		t.Errorf("backup of another database: exit %d, %q, %s", code, out.String(), errb.String())
	}

	pgURL := testdb.URL(t, "postgres")
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"exists", []string{"--to", backup}, backup + " exists: portico backup never overwrites a file"},
		{"no --to", nil, "--to is required\nusage: portico backup --to FILE"},
		{"stray argument", []string{"--to", filepath.Join(dir, "x.db"), "now"}, `unexpected argument "now"`},
		{"no directory", []string{"--to", filepath.Join(dir, "nope", "x.db")}, "--to: no directory " + filepath.Join(dir, "nope")},
		{"postgres", []string{"--to", filepath.Join(dir, "x.db"), "--from", pgURL}, "the database is PostgreSQL: back it up with pg_dump --format=custom"},
		{"no database", []string{"--to", filepath.Join(dir, "x.db"), "--from", "sqlite://" + filepath.Join(dir, "none.db")}, "no SQLite database at " + filepath.Join(dir, "none.db")},
	} {
		out.Reset()
		errb.Reset()
		if code := cli.Main(append([]string{"backup"}, tt.args...), &out, &errb); code != 2 || !strings.Contains(errb.String(), tt.stderr) || out.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.name, code, out.String(), errb.String(), tt.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); !os.IsNotExist(err) {
		t.Errorf("backup of a missing database created it: %v", err)
	}
}

// TestBackupAndRestorePostgres backs a seeded PostgreSQL installation up
// with pg_dump --format=custom and restores it with pg_restore into a new,
// empty database, as docs/operations.md says, then reads it back through
// the store, secrets decrypting with the same key.
func TestBackupAndRestorePostgres(t *testing.T) {
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		testdb.Unavailable(t, "pg_dump", err)
	}
	pgRestore, err := exec.LookPath("pg_restore")
	if err != nil {
		testdb.Unavailable(t, "pg_restore", err)
	}
	ctx := context.Background()
	srcURL := testdb.URL(t, "postgres")
	src := testdb.OpenURL(t, srcURL)
	in := testinstall.Seed(t, src)

	// testdb gives each test a schema (search_path) in a shared database:
	// dump that schema only. An installation dumps its whole database.
	u, err := url.Parse(srcURL)
	testdb.Must(t, err, "parse %s", srcURL)
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	base := u.String()
	dump := filepath.Join(t.TempDir(), "portico.dump")
	if out, err := exec.Command(pgDump, "--format=custom", "--schema="+schema, "--file="+dump, "--dbname="+base).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}

	admin, err := sql.Open("pgx", base)
	testdb.Must(t, err, "connect")
	defer admin.Close()
	dbName := "portico_restore_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(auth.NewToken()))[:12]
	_, err = admin.ExecContext(ctx, `CREATE DATABASE "`+dbName+`"`)
	testdb.Must(t, err, "create database %s", dbName)
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS "`+dbName+`" WITH (FORCE)`); err != nil {
			t.Logf("drop database %s: %v", dbName, err)
		}
	})
	ru := *u
	ru.Path = "/" + dbName
	restoreBase := ru.String()
	if out, err := exec.Command(pgRestore, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname="+restoreBase, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	rq := ru.Query()
	rq.Set("search_path", schema)
	ru.RawQuery = rq.Encode()
	restored := testdb.OpenURL(t, ru.String())
	if err := restored.Ready(ctx); err != nil {
		t.Fatalf("the restored database is not ready: %v", err)
	}
	in.Check(t, src, restored)
}
