package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/portico-dev/portico/internal/migratedb"
)

const migrateDBUsage = "usage: portico migrate-db --from sqlite://PATH --to postgres://USER:PASSWORD@HOST:5432/DB?sslmode=require"

// migrateDBMain runs `portico migrate-db --from sqlite://PATH --to
// postgres://…`: it moves a whole installation from the embedded SQLite
// database to PostgreSQL and verifies it (package migratedb). It prints a
// line per table on stdout and progress on stderr. Usage errors and bad
// URLs exit 2; anything else that stops it (an unreachable target, a
// schema version mismatch, a target holding another installation, a
// failed verification, an interruption) exits 1, and running the same
// command again is always safe.
func migrateDBMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("portico migrate-db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), migrateDBUsage)
		fs.PrintDefaults()
	}
	from := fs.String("from", "", "the SQLite database to move, sqlite://PATH (stop portico first)")
	to := fs.String("to", "", "the PostgreSQL database to fill, postgres://… (empty, or holding an interrupted copy of this one)")
	batch := fs.Int("batch-rows", migratedb.DefaultBatchRows, "rows per batch; each batch is one transaction")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portico migrate-db: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *from == "" || *to == "":
		return fail("--from and --to are required\n%s", migrateDBUsage)
	case *batch < 1 || *batch > 10000:
		return fail("--batch-rows must be between 1 and 10000")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "Moving %s to %s.\n", *from, migratedb.Redact(*to))
	var last time.Time
	rep, err := migratedb.Run(ctx, *from, *to, migratedb.Options{
		BatchRows: *batch,
		Log:       slog.New(slog.NewTextHandler(stderr, nil)),
		Progress: func(p migratedb.Progress) {
			if now := time.Now(); now.Sub(last) >= time.Second || p.Read == p.Rows {
				last = now
				fmt.Fprintf(stderr, "  %s: %d of %d rows read, %d copied\n", p.Table, p.Read, p.Rows, p.Copied)
			}
		},
	})
	if rep != nil {
		printMigrateReport(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico migrate-db: %v\n", err)
		if errors.Is(err, migratedb.ErrUsage) {
			return 2
		}
		return 1
	}
	rows, copied := rep.Rows()
	fmt.Fprintf(stdout, "\nVerified: %d tables, %d rows, every row count and checksum equal (schema version %d); this run copied %d rows.\n",
		len(rep.Tables), rows, rep.Version, copied)
	fmt.Fprintf(stdout, "Plugin secrets and launch signing keys were copied as they are, encrypted: they decrypt only with the\n"+
		"PORTICO_SECRET_KEY the SQLite installation used (the demo's is PORTICO_DATA_DIR/secret.key). Start portico with it:\n"+
		"  PORTICO_DATABASE_URL='%s' PORTICO_SECRET_KEY=… portico serve\n", migratedb.Redact(*to))
	return 0
}

// printMigrateReport writes one line per table: rows on each side, rows
// copied by this run, the first 16 hex digits of the checksum, and what
// differs.
func printMigrateReport(w io.Writer, rep *migratedb.Report) {
	width := len("table")
	for _, t := range rep.Tables {
		width = max(width, len(t.Table))
	}
	fmt.Fprintf(w, "%-*s %9s %9s %9s  %-16s  %s\n", width, "table", "source", "target", "copied", "sha-256", "status")
	for _, t := range rep.Tables {
		sum, status := short(t.SourceChecksum), "ok"
		if !t.Equal() {
			sum = short(t.SourceChecksum) + "≠" + short(t.TargetChecksum)
			status = fmt.Sprintf("DIFFERS: %d missing, %d extra, %d different", t.Missing, t.Extra, t.Different)
			if len(t.Examples) > 0 {
				status += " (" + strings.Join(t.Examples, "; ") + ")"
			}
		}
		fmt.Fprintf(w, "%-*s %9d %9d %9d  %-16s  %s\n", width, t.Table, t.SourceRows, t.TargetRows, t.Copied, sum, status)
	}
	for _, s := range rep.Sequences {
		fmt.Fprintf(w, "sequence %s\n", s)
	}
}

func short(sum string) string {
	if len(sum) > 16 {
		return sum[:16]
	}
	return sum
}
