package migratedb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// versionTable is goose's bookkeeping table: each side keeps its own (the
// target's is written by its own migrations), so it is never copied.
const versionTable = "goose_db_version"

// table is one table to copy: its columns in PostgreSQL's order, which of
// them form the primary key, and the tables its foreign keys reference.
type table struct {
	name    string
	columns []column
	key     []int // indexes into columns, in the key's order
	parents []string
}

// readSchema enumerates the tables of both databases from their catalogues
// (so a table added by a new migration is copied without anyone listing
// it), checks that both have the same tables, columns and primary keys,
// and returns the tables in foreign-key order: every table after the
// tables it references.
func readSchema(ctx context.Context, src *sql.Tx, dst *sql.DB) ([]table, error) {
	srcTables, err := sqliteTables(ctx, src)
	if err != nil {
		return nil, err
	}
	dstTables, err := postgresTables(ctx, dst)
	if err != nil {
		return nil, err
	}
	var problems []string
	for name := range srcTables {
		if _, ok := dstTables[name]; !ok {
			problems = append(problems, fmt.Sprintf("table %s is in the source but not in the target", name))
		}
	}
	var tables []table
	for name, t := range dstTables {
		s, ok := srcTables[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s is in the target but not in the source", name))
			continue
		}
		problems = append(problems, sameColumns(t, s)...)
		tables = append(tables, *t)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("%w: %s", ErrSchemaMismatch, strings.Join(problems, "; "))
	}
	return foreignKeyOrder(tables)
}

// sqliteTable is what the source's catalogue says of a table.
type sqliteTable struct {
	columns []string
	key     []string
}

func sqliteTables(ctx context.Context, tx *sql.Tx) (map[string]*sqliteTable, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list source tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list source tables: %w", err)
		}
		if n != versionTable {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list source tables: %w", err)
	}
	out := make(map[string]*sqliteTable, len(names))
	for _, n := range names {
		rows, err := tx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			return nil, fmt.Errorf("read source table %s: %w", n, err)
		}
		t := &sqliteTable{}
		keyAt := map[int64]string{}
		for rows.Next() {
			var col string
			var pk int64
			if err := rows.Scan(&col, &pk); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read source table %s: %w", n, err)
			}
			t.columns = append(t.columns, col)
			if pk > 0 {
				keyAt[pk] = col
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read source table %s: %w", n, err)
		}
		for i := int64(1); i <= int64(len(keyAt)); i++ {
			t.key = append(t.key, keyAt[i])
		}
		out[n] = t
	}
	return out, nil
}

func postgresTables(ctx context.Context, db *sql.DB) (map[string]*table, error) {
	out := map[string]*table{}
	rows, err := db.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list target tables: %w", err)
	}
	var problems []string
	for rows.Next() {
		var tn, cn, dt string
		if err := rows.Scan(&tn, &cn, &dt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list target tables: %w", err)
		}
		if tn == versionTable {
			continue
		}
		t := out[tn]
		if t == nil {
			t = &table{name: tn}
			out[tn] = t
		}
		k, bits, err := pgKind(dt)
		if err != nil {
			problems = append(problems, fmt.Sprintf("column %s.%s: %v", tn, cn, err))
		}
		t.columns = append(t.columns, column{name: cn, kind: k, bits: bits, pgType: dt})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list target tables: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrSchemaMismatch, strings.Join(problems, "; "))
	}

	rows, err = db.QueryContext(ctx, `SELECT tc.table_name, kcu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name
WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'PRIMARY KEY'
ORDER BY tc.table_name, kcu.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("read target primary keys: %w", err)
	}
	for rows.Next() {
		var tn, cn string
		if err := rows.Scan(&tn, &cn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read target primary keys: %w", err)
		}
		if t := out[tn]; t != nil {
			for i, c := range t.columns {
				if c.name == cn {
					t.key = append(t.key, i)
				}
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read target primary keys: %w", err)
	}

	rows, err = db.QueryContext(ctx, `SELECT child.relname, parent.relname
FROM pg_constraint k
JOIN pg_class child ON child.oid = k.conrelid
JOIN pg_class parent ON parent.oid = k.confrelid
JOIN pg_namespace n ON n.oid = child.relnamespace
WHERE k.contype = 'f' AND n.nspname = current_schema()
ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read target foreign keys: %w", err)
	}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read target foreign keys: %w", err)
		}
		if t := out[child]; t != nil && !slices.Contains(t.parents, parent) {
			t.parents = append(t.parents, parent)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read target foreign keys: %w", err)
	}
	return out, nil
}

// sameColumns lists how a target table differs from the source's: its
// columns (as sets: ALTER TABLE appends in both dialects, but order is
// irrelevant since columns are named) and its primary key (in order).
func sameColumns(t *table, s *sqliteTable) []string {
	var problems []string
	for _, c := range t.columns {
		if !slices.Contains(s.columns, c.name) {
			problems = append(problems, fmt.Sprintf("column %s.%s is in the target but not in the source", t.name, c.name))
		}
	}
	for _, name := range s.columns {
		if !slices.ContainsFunc(t.columns, func(c column) bool { return c.name == name }) {
			problems = append(problems, fmt.Sprintf("column %s.%s is in the source but not in the target", t.name, name))
		}
	}
	var key []string
	for _, i := range t.key {
		key = append(key, t.columns[i].name)
		if !keyKind(t.columns[i].kind) {
			problems = append(problems, fmt.Sprintf("primary key column %s.%s is a %s: migrate-db orders rows by primary key and supports text, integer, bytea, boolean and uuid keys", t.name, t.columns[i].name, t.columns[i].pgType))
		}
	}
	switch {
	case len(key) == 0:
		problems = append(problems, fmt.Sprintf("table %s has no primary key: migrate-db needs one to re-run safely (ON CONFLICT) and to compare rows", t.name))
	case !slices.Equal(key, s.key):
		problems = append(problems, fmt.Sprintf("table %s: primary key (%s) in the target, (%s) in the source", t.name, strings.Join(key, ", "), strings.Join(s.key, ", ")))
	}
	return problems
}

// foreignKeyOrder sorts tables so that each comes after every table it
// references (Kahn's algorithm, ties by name, so the order is stable). A
// table that references itself, or a cycle, is refused: rows would have
// to be ordered by their parents, which migrate-db does not do.
func foreignKeyOrder(tables []table) ([]table, error) {
	byName := make(map[string]table, len(tables))
	for _, t := range tables {
		byName[t.name] = t
	}
	done := make(map[string]bool, len(tables))
	var out []table
	for len(out) < len(tables) {
		var ready []string
		for _, t := range tables {
			if done[t.name] {
				continue
			}
			ok := true
			for _, p := range t.parents {
				if p == t.name {
					return nil, fmt.Errorf("%w: table %s references itself, which migrate-db does not support", ErrSchemaMismatch, t.name)
				}
				if _, known := byName[p]; known && !done[p] {
					ok = false
				}
			}
			if ok {
				ready = append(ready, t.name)
			}
		}
		if len(ready) == 0 {
			var left []string
			for _, t := range tables {
				if !done[t.name] {
					left = append(left, t.name)
				}
			}
			slices.Sort(left)
			return nil, fmt.Errorf("%w: the foreign keys of %s form a cycle", ErrSchemaMismatch, strings.Join(left, ", "))
		}
		slices.Sort(ready)
		for _, n := range ready {
			done[n] = true
			out = append(out, byName[n])
		}
	}
	return out, nil
}

// quote quotes an identifier for either database.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// selectSQL is the query that reads every row of t in primary-key order:
// the same columns in the same order on both sides. On PostgreSQL, text
// keys are ordered with the "C" collation (bytewise, like SQLite's
// BINARY), and json and uuid values are read as text.
func selectSQL(t table, postgres bool) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quote(c.name)
		if postgres && (c.kind == kindJSON || c.kind == kindUUID) {
			cols[i] += "::text"
		}
	}
	order := make([]string, len(t.key))
	for i, k := range t.key {
		c := t.columns[k]
		order[i] = quote(c.name)
		if postgres && c.kind == kindText {
			order[i] += ` COLLATE "C"`
		}
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + quote(t.name) + " ORDER BY " + strings.Join(order, ", ")
}
