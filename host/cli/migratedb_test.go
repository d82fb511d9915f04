package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/cli"
	"github.com/portico-dev/portico/internal/migratedb/testinstall"
	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestMigrateDBCommand runs `portico migrate-db` in-process: a seeded
// SQLite installation moves to PostgreSQL (a line per table, the
// verification, the note on PORTICO_SECRET_KEY), the store on PostgreSQL
// reads it back, a second run copies nothing; bad arguments exit 2 and
// failures 1, each with a message that says what to do, and no password
// is ever printed.
func TestMigrateDBCommand(t *testing.T) {
	ctx := context.Background()
	srcURL := testdb.URL(t, "sqlite")
	src := testdb.OpenURL(t, srcURL)
	in := testinstall.Seed(t, src)
	dstURL := testdb.URL(t, "postgres")

	var out, errb bytes.Buffer
	if code := cli.Main([]string{"migrate-db", "--from", srcURL, "--to", dstURL, "--batch-rows", "50"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^table +source +target +copied +sha-256 +status$`),
		regexp.MustCompile(`(?m)^tenants +1 +1 +1  [0-9a-f]{16}  ok$`),
		regexp.MustCompile(`(?m)^users +4 +4 +4  [0-9a-f]{16}  ok$`),
		regexp.MustCompile(`(?m)^plugin_secrets +2 +2 +2  [0-9a-f]{16}  ok$`),
		regexp.MustCompile(`(?m)^audit_log +\d+ +\d+ +\d+  [0-9a-f]{16}  ok$`),
		regexp.MustCompile(`Verified: \d+ tables, \d+ rows, every row count and checksum equal \(schema version \d+\); this run copied \d+ rows\.`),
		regexp.MustCompile(`they decrypt only with the\nPORTICO_SECRET_KEY the SQLite installation used`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("stdout lacks %s:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "audit_log: ") || !strings.Contains(errb.String(), "rows read") {
		t.Errorf("stderr shows no progress:\n%s", errb.String())
	}
	in.Check(t, src, testdb.OpenURL(t, dstURL))

	out.Reset()
	errb.Reset()
	// Check wrote to the target (a new launch token's jti): the second run
	// finds another installation's row and refuses, naming it.
	code := cli.Main([]string{"migrate-db", "--from", srcURL, "--to", dstURL}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "target holds a different installation: launch_jtis: 1 extra") ||
		!regexp.MustCompile(`(?m)^launch_jtis .*DIFFERS: 0 missing, 1 extra, 0 different \(extra \(tenant_id, jti\)=`).MatchString(out.String()) {
		t.Errorf("run over a changed target: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}

	// A fresh target: a first run, then a second that copies nothing.
	again := testdb.URL(t, "postgres")
	for i, want := range []string{"", "this run copied 0 rows."} {
		out.Reset()
		errb.Reset()
		if code := cli.Main([]string{"migrate-db", "--from", srcURL, "--to", again}, &out, &errb); code != 0 || !strings.Contains(out.String(), want) {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i+1, code, out.String(), errb.String())
		}
	}

	old := testdb.URL(t, "sqlite")
	_, oldDB, _, err := sqldb.Open(ctx, old, sqldb.Options{})
	testdb.Must(t, err, "open")
	_, err = oldDB.Exec(`CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
		INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1)`)
	testdb.Must(t, err, "an old schema")
	_ = oldDB.Close()
	missing := filepath.Join(t.TempDir(), "nada.db")
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no flags", nil, 2, "--from and --to are required\nusage: portico migrate-db --from sqlite://PATH --to postgres://"},
		{"only from", []string{"--from", srcURL}, 2, "--from and --to are required"},
		{"stray argument", []string{"--from", srcURL, "--to", dstURL, "now"}, 2, `unexpected argument "now"`},
		{"unknown flag", []string{"--force"}, 2, "flag provided but not defined: -force"},
		{"batch too large", []string{"--from", srcURL, "--to", dstURL, "--batch-rows", "100000"}, 2, "--batch-rows must be between 1 and 10000"},
		{"from postgres", []string{"--from", dstURL, "--to", dstURL}, 2, "--from must be the SQLite database to move, sqlite://PATH"},
		{"to sqlite", []string{"--from", srcURL, "--to", "sqlite://other.db"}, 2, "--to must be the PostgreSQL database to fill"},
		{"to mysql", []string{"--from", srcURL, "--to", "mysql://root:hunter2@db/portico"}, 2, "must start with sqlite:// or postgres://"},
		{"missing source", []string{"--from", "sqlite://" + missing, "--to", dstURL}, 1, missing + " is not an existing SQLite file"},
		{"old source", []string{"--from", old, "--to", dstURL}, 1,
			fmt.Sprintf("schema version mismatch: the source is at schema version 1 and this portico's migrations go to"+
				" %d: run `PORTICO_DATABASE_URL=%s portico migrate` with this binary first", latestVersion(t), old)},
		{"unreachable target", []string{"--from", srcURL, "--to", "postgres://portico:hunter2@127.0.0.1:1/portico?connect_timeout=2"}, 1,
			"target database unreachable (postgres://portico:xxxxx@127.0.0.1:1/portico?connect_timeout=2)"},
	} {
		out.Reset()
		errb.Reset()
		code := cli.Main(append([]string{"migrate-db"}, tt.args...), &out, &errb)
		if code != tt.code || !strings.Contains(errb.String(), tt.stderr) || strings.Contains(out.String()+errb.String(), "hunter2") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and stderr with %q", tt.name, code, out.String(), errb.String(), tt.code, tt.stderr)
		}
	}
	out.Reset()
	if code := cli.Main([]string{"migrate-db", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "usage: portico migrate-db") {
		t.Errorf("--help: exit %d, %q", code, errb.String())
	}
	out.Reset()
	if cli.Main([]string{"help"}, &out, &errb); !strings.Contains(out.String(), "migrate-db") || !strings.Contains(out.String(), "backup") {
		t.Errorf("usage lacks the new commands:\n%s", out.String())
	}
}

// latestVersion is the newest migration's version in migrations/sqlite.
func latestVersion(t *testing.T) int64 {
	t.Helper()
	files, err := filepath.Glob("../../migrations/sqlite/*.sql")
	testdb.Must(t, err, "list migrations")
	var latest int64
	for _, f := range files {
		var v int64
		if _, err := fmt.Sscanf(filepath.Base(f), "%05d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}
