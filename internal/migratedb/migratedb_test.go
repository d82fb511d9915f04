package migratedb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test's own PostgreSQL connections

	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/migratedb"
	"github.com/portico-dev/portico/internal/migratedb/testinstall"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/migrations"
)

// pg opens a plain connection to the PostgreSQL database (schema) at url.
func pg(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	testdb.Must(t, err, "open %s", url)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// sqliteDB opens a plain connection to the SQLite database at url.
func sqliteDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	_, db, _, err := sqldb.Open(context.Background(), url, sqldb.Options{})
	testdb.Must(t, err, "open %s", url)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, table string) int64 {
	t.Helper()
	var n int64
	testdb.Must(t, db.QueryRow(`SELECT COUNT(*) FROM "`+table+`"`).Scan(&n), "count %s", table)
	return n
}

// sqliteTables lists the source's tables as its catalogue does.
func sqliteTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	testdb.Must(t, err, "list tables")
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		testdb.Must(t, rows.Scan(&n), "scan")
		out = append(out, n)
	}
	return out
}

func reportTables(rep *migratedb.Report) []string {
	var out []string
	for _, t := range rep.Tables {
		out = append(out, t.Table)
	}
	slices.Sort(out)
	return out
}

// TestMoveInstallation moves a seeded SQLite installation to PostgreSQL:
// a run interrupted after three batches leaves part of it; the next run
// finishes it without duplicates; a third run copies nothing and still
// verifies; and the store on PostgreSQL reads back what the store on
// SQLite wrote, secrets decrypting with the same key.
func TestMoveInstallation(t *testing.T) {
	ctx := context.Background()
	srcURL := testdb.URL(t, "sqlite")
	src := testdb.OpenURL(t, srcURL)
	in := testinstall.Seed(t, src)
	dstURL := testdb.URL(t, "postgres")
	srcDB, dst := sqliteDB(t, srcURL), pg(t, dstURL)
	tables := sqliteTables(t, srcDB)
	var total int64
	for _, tb := range tables {
		total += count(t, srcDB, tb)
	}

	// An interrupted run: the context ends after the third batch.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := 0
	_, err := migratedb.Run(cctx, srcURL, dstURL, migratedb.Options{BatchRows: 5, Progress: func(p migratedb.Progress) {
		batches++
		if p.Copied > p.Read || p.Read > p.Rows {
			t.Errorf("progress %+v", p)
		}
		if batches == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("interrupted run: %v", err)
	}
	var partial int64
	for _, tb := range tables {
		partial += count(t, dst, tb)
	}
	if partial == 0 || partial >= total {
		t.Fatalf("after the interruption the target holds %d of %d rows", partial, total)
	}

	// The re-run finishes the copy.
	rep, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{BatchRows: 7})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if got := reportTables(rep); !slices.Equal(got, tables) {
		t.Fatalf("tables in the report %v, in the source catalogue %v", got, tables)
	}
	source, copied := rep.Rows()
	if source != total || copied != total-partial {
		t.Errorf("second run: %d source rows (want %d), %d copied (want %d)", source, total, copied, total-partial)
	}
	for _, tr := range rep.Tables {
		if !tr.Equal() || len(tr.SourceChecksum) != 64 {
			t.Errorf("table %s: %+v", tr.Table, tr)
		}
		if n := count(t, dst, tr.Table); n != count(t, srcDB, tr.Table) {
			t.Errorf("table %s: %d rows in the target, %d in the source", tr.Table, n, count(t, srcDB, tr.Table))
		}
	}
	if len(rep.Applied) != 0 {
		t.Errorf("the re-run applied migrations %v; the interrupted run had", rep.Applied)
	}

	// A third run copies nothing and verifies the same checksums.
	again, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{})
	if err != nil {
		t.Fatalf("third run: %v", err)
	}
	if _, copied := again.Rows(); copied != 0 {
		t.Errorf("third run copied %d rows", copied)
	}
	for i, tr := range again.Tables {
		if !tr.Equal() || tr.SourceChecksum != rep.Tables[i].SourceChecksum {
			t.Errorf("third run, table %s: %+v", tr.Table, tr)
		}
	}

	// The store on PostgreSQL holds the same installation.
	in.Check(t, src, testdb.OpenURL(t, dstURL))
}

// TestLiveSourceIsOneSnapshot writes to the source while a run copies it:
// the run copies and verifies the snapshot it started with, and the next
// run brings the later write over.
func TestLiveSourceIsOneSnapshot(t *testing.T) {
	ctx := context.Background()
	srcURL := testdb.URL(t, "sqlite")
	src := testdb.OpenURL(t, srcURL)
	in := testinstall.Seed(t, src)
	dstURL := testdb.URL(t, "postgres")
	before, err := src.CountAudit(ctx, in.Tenant.ID)
	testdb.Must(t, err, "count audit")
	wrote := false
	rep, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{Progress: func(migratedb.Progress) {
		if !wrote {
			wrote = true
			testdb.Must(t, src.Audit(ctx, in.Tenant.ID, model.SystemActor("test"), "test.during_copy", "tenant", in.Tenant.ID, nil, nil), "write during the copy")
		}
	}})
	if err != nil || !wrote {
		t.Fatalf("run with a write during it: %v (wrote %v)", err, wrote)
	}
	dst := pg(t, dstURL)
	if n := count(t, dst, "audit_log"); n != before {
		t.Errorf("the target has %d audit entries, the snapshot %d", n, before)
	}
	rep, err = migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	for _, tr := range rep.Tables {
		want := int64(0)
		if tr.Table == "audit_log" {
			want = 1
		}
		if tr.Copied != want {
			t.Errorf("second run copied %d rows of %s, want %d", tr.Copied, tr.Table, want)
		}
	}
}

// TestRefusesAnotherInstallation: a target holding another installation,
// or a row changed since the copy, is reported and never overwritten.
func TestRefusesAnotherInstallation(t *testing.T) {
	ctx := context.Background()
	srcURL := testdb.URL(t, "sqlite")
	testinstall.Seed(t, testdb.OpenURL(t, srcURL))

	t.Run("another tenant", func(t *testing.T) {
		dstURL := testdb.URL(t, "postgres")
		other := testdb.OpenURL(t, dstURL)
		_, err := demo.Seed(ctx, other, "https://portal.other.test")
		testdb.Must(t, err, "seed the target")
		dst := pg(t, dstURL)
		users := count(t, dst, "users")
		rep, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{})
		if !errors.Is(err, migratedb.ErrDifferentInstallation) || !strings.Contains(err.Error(), "tenants: 1 extra") {
			t.Fatalf("run into another installation: %v", err)
		}
		if rep == nil {
			t.Fatal("no report")
		}
		var tenants *migratedb.TableReport
		for i := range rep.Tables {
			if rep.Tables[i].Table == "tenants" {
				tenants = &rep.Tables[i]
			}
		}
		if tenants == nil || tenants.Extra != 1 || tenants.Missing != 1 {
			t.Fatalf("report: %+v", rep)
		}
		if n := count(t, dst, "users"); n != users || count(t, dst, "tenants") != 1 {
			t.Errorf("the refused run wrote: %d users, was %d", n, users)
		}
	})

	t.Run("changed row", func(t *testing.T) {
		dstURL := testdb.URL(t, "postgres")
		if _, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{}); err != nil {
			t.Fatalf("first run: %v", err)
		}
		dst := pg(t, dstURL)
		var id string
		testdb.Must(t, dst.QueryRow(`UPDATE users SET name = 'Outro Nome' WHERE email = $1 RETURNING id`, demo.Accounts[0].Email).Scan(&id), "change a user")
		rep, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{})
		if !errors.Is(err, migratedb.ErrDifferentInstallation) || !strings.Contains(err.Error(), `users: 0 extra, 1 different (different id="`+id+`")`) {
			t.Fatalf("run over a changed row: %v", err)
		}
		for _, tr := range rep.Tables {
			if (tr.Table == "users") != (tr.Different == 1) || tr.Extra != 0 || tr.Missing != 0 {
				t.Errorf("table %s: %+v", tr.Table, tr)
			}
		}
		var name string
		testdb.Must(t, dst.QueryRow(`SELECT name FROM users WHERE id = $1`, id).Scan(&name), "read the user")
		if name != "Outro Nome" {
			t.Errorf("the changed row was overwritten: %q", name)
		}
	})
}

// TestNewTableConversionsAndSequences adds a table the code has never
// heard of, on both sides, with the representations SQLite holds (text
// times in several forms, 0/1 booleans, blobs, JSON text, an upper-case
// UUID, reals) and a serial key: it is copied in foreign-key order,
// converted to the PostgreSQL types, verified, and its sequence moved past
// the copied keys. A value that does not fit is refused with its table,
// row and column.
func TestNewTableConversionsAndSequences(t *testing.T) {
	ctx := context.Background()
	srcURL, dstURL := testdb.URL(t, "sqlite"), testdb.URL(t, "postgres")
	srcStore := testdb.OpenURL(t, srcURL)
	tenant := &model.Tenant{Slug: "acme", Name: "Acme", Hostnames: []string{"portal.acme.test"}}
	testdb.Must(t, tenant.Validate(false), "tenant")
	testdb.Must(t, srcStore.CreateTenant(ctx, tenant, model.SystemActor("test")), "tenant")
	testdb.OpenURL(t, dstURL) // migrated, so widgets can reference tenants
	src, dst := sqliteDB(t, srcURL), pg(t, dstURL)
	_, err := src.Exec(`CREATE TABLE widgets (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL REFERENCES tenants(id),
		label TEXT NOT NULL, flag BOOLEAN NOT NULL, at DATETIME, raw BLOB, doc TEXT, n INTEGER, ratio REAL, ref TEXT)`)
	testdb.Must(t, err, "create source table")
	_, err = dst.Exec(`CREATE TABLE widgets (id BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
		label TEXT NOT NULL, flag BOOLEAN NOT NULL, at TIMESTAMPTZ, raw BYTEA, doc JSONB, n INTEGER, ratio DOUBLE PRECISION, ref UUID)`)
	testdb.Must(t, err, "create target table")
	for _, row := range [][]any{
		{"sqlite time", 1, "2024-03-01 12:34:56", []byte{0, 0xff}, `{"b": 1, "a": [1, 2.50], "c": {"z": null, "y": "ã"}}`, 7, 0.1, "0190F8E2-0C6A-7B3E-9F00-AABBCCDDEEFF"},
		{"rfc3339 offset", 0, "2024-03-01T09:34:56.123456789-03:00", nil, `[]`, nil, nil, nil},
		{"null time", 1, nil, []byte{}, nil, -2147483648, -0.5, "0190f8e2-0c6a-7b3e-9f00-000000000001"},
	} {
		_, err := src.Exec(`INSERT INTO widgets (tenant_id, label, flag, at, raw, doc, n, ratio, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{tenant.ID}, row...)...)
		testdb.Must(t, err, "insert %v", row[0])
	}
	_, err = src.Exec(`UPDATE widgets SET id = 40 WHERE label = 'null time'`)
	testdb.Must(t, err, "move an id")

	rep, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	order := reportTables(rep)
	if !slices.Contains(order, "widgets") {
		t.Fatalf("widgets not copied: %v", order)
	}
	var tenantsAt, widgetsAt int
	for i, tr := range rep.Tables {
		switch tr.Table {
		case "tenants":
			tenantsAt = i
		case "widgets":
			widgetsAt = i
			if tr.Copied != 3 || !tr.Equal() {
				t.Errorf("widgets: %+v", tr)
			}
		}
	}
	if widgetsAt < tenantsAt {
		t.Errorf("widgets copied before tenants")
	}
	if len(rep.Sequences) != 1 || !strings.HasSuffix(rep.Sequences[0], ".widgets_id_seq → next value 41") {
		t.Errorf("sequences: %v", rep.Sequences)
	}
	var next int64
	testdb.Must(t, dst.QueryRow(`SELECT nextval('widgets_id_seq')`).Scan(&next), "nextval")
	if next != 41 {
		t.Errorf("next id %d, want 41", next)
	}
	type widget struct {
		flag  bool
		at    sql.NullTime
		raw   []byte
		doc   sql.NullString
		n     sql.NullInt64
		ratio sql.NullFloat64
		ref   sql.NullString
	}
	read := func(label string) widget {
		var w widget
		testdb.Must(t, dst.QueryRow(`SELECT flag, at, raw, doc::text, n, ratio, ref::text FROM widgets WHERE label = $1`, label).
			Scan(&w.flag, &w.at, &w.raw, &w.doc, &w.n, &w.ratio, &w.ref), "read %s", label)
		return w
	}
	w := read("sqlite time")
	if !w.flag || !w.at.Time.Equal(time.Date(2024, 3, 1, 12, 34, 56, 0, time.UTC)) || string(w.raw) != "\x00\xff" ||
		w.doc.String != `{"a": [1, 2.50], "b": 1, "c": {"y": "ã", "z": null}}` || w.n.Int64 != 7 || w.ratio.Float64 != 0.1 ||
		w.ref.String != "0190f8e2-0c6a-7b3e-9f00-aabbccddeeff" {
		t.Errorf("sqlite time: %+v", w)
	}
	w = read("rfc3339 offset")
	if w.flag || !w.at.Time.Equal(time.Date(2024, 3, 1, 12, 34, 56, 123456000, time.UTC)) || w.raw != nil || w.doc.String != "[]" || w.n.Valid || w.ref.Valid {
		t.Errorf("rfc3339 offset: %+v", w)
	}
	w = read("null time")
	if w.at.Valid || w.raw == nil || len(w.raw) != 0 || w.doc.Valid || w.n.Int64 != -2147483648 {
		t.Errorf("null time: %+v", w)
	}

	for _, bad := range []struct{ set, want string }{
		{`flag = 7`, `source table widgets, row id=40: column flag: 7 is not a boolean (0 or 1)`},
		{`n = 2147483648`, `column n: 2147483648 does not fit PostgreSQL's integer`},
		{`at = 'amanhã'`, `column at: "amanhã" is not a time`},
		{`doc = '{"a":'`, `column doc: "{\"a\":" is not a JSON document`},
		{`label = CAST(x'41ff' AS TEXT)`, `column label: "A\xff" is not valid UTF-8`},
	} {
		_, err := src.Exec(`UPDATE widgets SET ` + bad.set + ` WHERE id = 40`)
		testdb.Must(t, err, "break a row")
		_, err = migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.set, err, bad.want)
		}
		_, err = src.Exec(`UPDATE widgets SET flag = 1, n = -2147483648, at = NULL, doc = NULL, label = 'null time' WHERE id = 40`)
		testdb.Must(t, err, "repair the row")
	}
	if _, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{}); err != nil {
		t.Errorf("run after the repairs: %v", err)
	}

	// A column only one side has is a schema mismatch, named.
	_, err = dst.Exec(`ALTER TABLE widgets ADD COLUMN extra TEXT`)
	testdb.Must(t, err, "add a column")
	if _, err := migratedb.Run(ctx, srcURL, dstURL, migratedb.Options{}); !errors.Is(err, migratedb.ErrSchemaMismatch) ||
		!strings.Contains(err.Error(), "column widgets.extra is in the target but not in the source") {
		t.Errorf("extra target column: %v", err)
	}
}

// TestRefusals covers what a run refuses before it copies anything.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	latest := int64(0)
	entries, err := os.ReadDir("../../migrations/sqlite")
	testdb.Must(t, err, "read migrations")
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%05d_", &v); err == nil && v > latest {
			latest = v
		}
	}

	current := testdb.URL(t, "sqlite")
	testdb.OpenURL(t, current)
	old := testdb.URL(t, "sqlite")
	_, oldDB, _, err := sqldb.Open(ctx, old, sqldb.Options{})
	testdb.Must(t, err, "open")
	p, err := sqldb.Migrations(oldDB, config.DriverSQLite, migrations.FS, ".")
	testdb.Must(t, err, "provider")
	_, err = p.UpTo(ctx, 5)
	testdb.Must(t, err, "migrate to 5")
	_ = oldDB.Close()
	newer := testdb.URL(t, "sqlite")
	testdb.OpenURL(t, newer)
	_, err = sqliteDB(t, newer).Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`)
	testdb.Must(t, err, "pretend a newer schema")
	foreign := testdb.URL(t, "sqlite")
	_, err = sqliteDB(t, foreign).Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY)`)
	testdb.Must(t, err, "not a Portico database")
	broken := testdb.URL(t, "sqlite")
	testdb.OpenURL(t, broken)
	conn, err := sqliteDB(t, broken).Conn(ctx) // the pragma holds for one connection
	testdb.Must(t, err, "connection")
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`)
	testdb.Must(t, err, "foreign keys off")
	_, err = conn.ExecContext(ctx, `INSERT INTO tenant_hosts (hostname, tenant_id, created_at) VALUES ('x.test', 'no-such-tenant', '2024-01-01T00:00:00Z')`)
	testdb.Must(t, err, "orphan row")

	pgURL := testdb.URL(t, "postgres")
	newerPG := testdb.URL(t, "postgres")
	testdb.OpenURL(t, newerPG)
	_, err = pg(t, newerPG).Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`)
	testdb.Must(t, err, "pretend a newer target")
	missing := "sqlite://" + filepath.Join(t.TempDir(), "nope.db")

	for _, tt := range []struct {
		name, from, to string
		err            error
		msg            string
	}{
		{"from postgres", pgURL, pgURL, migratedb.ErrUsage, "--from must be the SQLite database to move, sqlite://PATH"},
		{"to sqlite", current, current, migratedb.ErrUsage, "--to must be the PostgreSQL database to fill"},
		{"from mysql", "mysql://db/portico", pgURL, migratedb.ErrUsage, `--from: "mysql://db/portico" must start with sqlite:// or postgres://`},
		{"to without host", current, "postgres:///portico", migratedb.ErrUsage, "is not a postgres://HOST/DB URL"},
		{"password redacted", current, "mysql://u:hunter2@db/x", migratedb.ErrUsage, "--to:"},
		{"missing file", missing, pgURL, migratedb.ErrSource, "nope.db is not an existing SQLite file"},
		{"not portico", foreign, pgURL, migratedb.ErrSource, "no goose_db_version table: not a Portico database"},
		{"older source", old, pgURL, migratedb.ErrVersionMismatch,
			fmt.Sprintf("the source is at schema version 5 and this portico's migrations go to %d: run `PORTICO_DATABASE_URL=%s portico migrate`", latest, old)},
		{"newer source", newer, pgURL, migratedb.ErrVersionMismatch, fmt.Sprintf("the source is at schema version 9999, newer than this portico's migrations (%d)", latest)},
		{"broken foreign keys", broken, pgURL, migratedb.ErrSource, "1 rows break a foreign key (tenant_hosts rowid 1 references a missing tenants)"},
		{"unreachable target", current, "postgres://portico:hunter2@127.0.0.1:1/portico?sslmode=disable&connect_timeout=2", migratedb.ErrTargetUnreachable,
			"target database unreachable (postgres://portico:xxxxx@127.0.0.1:1/portico"},
		{"newer target", current, newerPG, migratedb.ErrVersionMismatch, "the target is at schema version 9999"},
	} {
		rep, err := migratedb.Run(ctx, tt.from, tt.to, migratedb.Options{})
		if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v; want %v with %q", tt.name, err, tt.err, tt.msg)
		}
		if rep != nil {
			t.Errorf("%s: a report %+v", tt.name, rep)
		}
	}
	// Nothing was written to the target the refusals named.
	var n int
	testdb.Must(t, pg(t, pgURL).QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n), "list tables")
	if n != 0 {
		t.Errorf("the refused runs created %d tables in the target", n)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://portico:s3cret@db:5432/portico?sslmode=require":     "postgres://portico:xxxxx@db:5432/portico?sslmode=require",
		"postgres://portico@db/portico?password=s3cret&sslmode=disable": "postgres://portico@db/portico?password=xxxxx&sslmode=disable",
		"postgres://db/portico":       "postgres://db/portico",
		"sqlite://data/portico.db":    "sqlite://data/portico.db",
		"postgres://u:p@[::1:5432/db": "…@[::1:5432/db",
	} {
		got := migratedb.Redact(in)
		if got != want || strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
