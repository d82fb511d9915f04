package migratedb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// maxParams is PostgreSQL's limit of parameters in one statement.
const maxParams = 65535

// Progress is reported after every batch a run commits.
type Progress struct {
	Table string
	// Read is how many of the table's source rows have been read, of
	// Rows; Copied how many this run inserted (rows the target already
	// held are skipped).
	Read, Rows, Copied int64
	// Batches counts the batches this run committed, over all tables.
	Batches int
}

// copier writes rows into the target in batches, each in its own
// transaction, with ON CONFLICT DO NOTHING: a batch either lands whole or
// not at all, and a row already there (from an interrupted run) is
// skipped, never overwritten.
type copier struct {
	dst     *sql.DB
	o       Options
	batches int
}

// copyTable copies every source row of t that the target lacks, reading
// the source (the read transaction src) in primary-key order.
func (c *copier) copyTable(ctx context.Context, src *sql.Tx, t table, total int64) (int64, error) {
	r, err := openReader(ctx, src, "source", t, false)
	if err != nil {
		return 0, err
	}
	defer r.close()
	perBatch := c.o.BatchRows
	if limit := maxParams / len(t.columns); perBatch > limit {
		perBatch = limit
	}
	var (
		args   []any
		rows   int
		size   int
		first  string
		copied int64
	)
	flush := func() error {
		if rows == 0 {
			return nil
		}
		n, err := c.insert(ctx, t, rows, args)
		if err != nil {
			return fmt.Errorf("copy table %s (batch starting at %s): %w", t.name, first, err)
		}
		copied += n
		c.batches++
		if c.o.Progress != nil {
			c.o.Progress(Progress{Table: t.name, Read: r.n, Rows: total, Copied: copied, Batches: c.batches})
		}
		args, rows, size = args[:0], 0, 0
		return nil
	}
	for {
		ok, err := r.next()
		if err != nil {
			return copied, err
		}
		if !ok {
			break
		}
		if rows == 0 {
			first = describeKey(t, r.key)
		}
		for _, v := range r.vals {
			args = append(args, v)
			size += valueSize(v)
		}
		rows++
		if rows >= perBatch || size >= c.o.BatchBytes {
			if err := flush(); err != nil {
				return copied, err
			}
		}
	}
	return copied, flush()
}

// insert writes one batch in its own transaction and returns how many rows
// were new.
func (c *copier) insert(ctx context.Context, t table, rows int, args []any) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quote(t.name))
	b.WriteString(" (")
	for i, col := range t.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(col.name))
	}
	b.WriteString(") VALUES ")
	n := 1
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range t.columns {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	tx, err := c.dst.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, b.String(), args...)
	if err != nil {
		_ = tx.Rollback()
		return 0, err
	}
	inserted, err := res.RowsAffected()
	if err != nil {
		_ = tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return inserted, nil
}

// valueSize estimates what a value weighs in a batch.
func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 8
}

// resetSequences moves every sequence a copied column draws from (serial
// and identity columns; goose's own is left alone) past the largest value
// copied, so the next row
// the application inserts does not collide. It returns "sequence → next
// value" lines for the report.
func resetSequences(ctx context.Context, dst *sql.DB) ([]string, error) {
	rows, err := dst.QueryContext(ctx, `SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name <> $1 AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL
ORDER BY table_name, column_name`, versionTable)
	if err != nil {
		return nil, fmt.Errorf("list target sequences: %w", err)
	}
	type seq struct{ table, column, name string }
	var seqs []seq
	for rows.Next() {
		var s seq
		if err := rows.Scan(&s.table, &s.column, &s.name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list target sequences: %w", err)
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list target sequences: %w", err)
	}
	var out []string
	for _, s := range seqs {
		var next int64
		q := `SELECT setval($1::regclass, COALESCE((SELECT MAX(` + quote(s.column) + `) FROM ` + quote(s.table) + `), 0) + 1, false)`
		if err := dst.QueryRowContext(ctx, q, s.name).Scan(&next); err != nil {
			return nil, fmt.Errorf("reset sequence %s: %w", s.name, err)
		}
		out = append(out, fmt.Sprintf("%s → next value %d", s.name, next))
	}
	return out, nil
}
