package migratedb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// TableReport is what migrate-db found in one table: rows on each side,
// rows this run inserted, the checksum of each side, and the rows that
// differ, by primary key.
type TableReport struct {
	Table      string
	SourceRows int64
	TargetRows int64
	// Copied is the number of rows this run inserted (0 when the target
	// already held them all).
	Copied int64
	// SourceChecksum and TargetChecksum are the hex SHA-256 of the
	// table's canonical rows in primary-key order, computed the same way
	// on both sides.
	SourceChecksum string
	TargetChecksum string
	// Missing rows are in the source but not in the target; Extra rows in
	// the target but not in the source; Different rows have the same
	// primary key and different content.
	Missing, Extra, Different int64
	// Examples names the primary keys of a few extra or different rows
	// (missing ones when there are none of those).
	Examples []string
}

// Equal reports whether the target holds exactly the source's rows.
func (r TableReport) Equal() bool {
	return r.Missing == 0 && r.Extra == 0 && r.Different == 0 &&
		r.SourceRows == r.TargetRows && r.SourceChecksum == r.TargetChecksum
}

// maxExamples bounds TableReport.Examples.
const maxExamples = 3

// querier is a *sql.Tx or a *sql.DB.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rowReader reads one table's rows from one side in primary-key order,
// converts them to their PostgreSQL kinds, and hashes their canonical
// form as it goes.
type rowReader struct {
	side  string // "source" or "target", for messages
	t     table
	rows  *sql.Rows
	raw   []any
	ptrs  []any
	vals  []any // the current row, converted
	key   []any // the current row's primary key
	prev  []any
	canon []byte // the current row's canonical encoding
	n     int64
	sum   hash.Hash
	lenb  []byte
}

func openReader(ctx context.Context, q querier, side string, t table, postgres bool) (*rowReader, error) {
	rows, err := q.QueryContext(ctx, selectSQL(t, postgres))
	if err != nil {
		return nil, fmt.Errorf("read %s table %s: %w", side, t.name, err)
	}
	r := &rowReader{side: side, t: t, rows: rows, raw: make([]any, len(t.columns)), ptrs: make([]any, len(t.columns)),
		vals: make([]any, len(t.columns)), sum: sha256.New()}
	for i := range r.raw {
		r.ptrs[i] = &r.raw[i]
	}
	// The checksum covers the table's name and columns too.
	r.sum.Write([]byte(t.name))
	for _, c := range t.columns {
		r.sum.Write([]byte{0})
		r.sum.Write([]byte(c.name))
	}
	return r, nil
}

// next reads the next row; false at the end of the table.
func (r *rowReader) next() (bool, error) {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return false, fmt.Errorf("read %s table %s: %w", r.side, r.t.name, err)
		}
		return false, nil
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		return false, fmt.Errorf("read %s table %s: %w", r.side, r.t.name, err)
	}
	var bad error
	for i, c := range r.t.columns {
		v, err := convert(c, r.raw[i])
		if err != nil && bad == nil {
			bad = fmt.Errorf("column %s: %w", c.name, err)
		}
		r.vals[i] = v
	}
	r.prev, r.key = r.key, make([]any, len(r.t.key))
	for i, k := range r.t.key {
		r.key[i] = r.vals[k]
		if r.key[i] == nil && bad == nil {
			bad = fmt.Errorf("primary key column %s is NULL", r.t.columns[k].name)
		}
	}
	if bad != nil {
		return false, fmt.Errorf("%s table %s, row %s: %w", r.side, r.t.name, r.describeRaw(), bad)
	}
	if r.prev != nil && compareKeys(r.prev, r.key) >= 0 {
		return false, fmt.Errorf("%s table %s: row %s came after %s: rows are not in primary-key order, or a key repeats",
			r.side, r.t.name, describeKey(r.t, r.key), describeKey(r.t, r.prev))
	}
	r.canon = r.canon[:0]
	for i, c := range r.t.columns {
		r.canon = appendCanonical(r.canon, c, r.vals[i])
	}
	r.lenb = binary.AppendUvarint(r.lenb[:0], uint64(len(r.canon)))
	r.sum.Write(r.lenb)
	r.sum.Write(r.canon)
	r.n++
	return true, nil
}

func (r *rowReader) checksum() string { return hex.EncodeToString(r.sum.Sum(nil)) }

func (r *rowReader) close() { _ = r.rows.Close() }

// describeRaw names the current row by its key's values as read, before
// conversion (used when conversion failed).
func (r *rowReader) describeRaw() string {
	key := make([]any, len(r.t.key))
	for i, k := range r.t.key {
		key[i] = r.raw[k]
	}
	return describeKey(r.t, key)
}

// describeKey formats a primary key for a message: id=… or
// (a, b)=(…, …).
func describeKey(t table, key []any) string {
	names := make([]string, len(t.key))
	vals := make([]string, len(key))
	for i, k := range t.key {
		names[i] = t.columns[k].name
	}
	for i, v := range key {
		switch x := v.(type) {
		case []byte:
			vals[i] = "x'" + clip(hex.EncodeToString(x)) + "'"
		case string:
			vals[i] = fmt.Sprintf("%q", clip(x))
		default:
			vals[i] = fmt.Sprint(x)
		}
	}
	if len(names) == 1 {
		return names[0] + "=" + vals[0]
	}
	return "(" + strings.Join(names, ", ") + ")=(" + strings.Join(vals, ", ") + ")"
}

// compareTable reads t from both sides in primary-key order, merging the
// two streams: it counts each side's rows, hashes each side, and counts
// the rows missing from the target, extra in it, or different.
func compareTable(ctx context.Context, src, dst querier, t table) (TableReport, error) {
	rep := TableReport{Table: t.name}
	s, err := openReader(ctx, src, "source", t, false)
	if err != nil {
		return rep, err
	}
	defer s.close()
	d, err := openReader(ctx, dst, "target", t, true)
	if err != nil {
		return rep, err
	}
	defer d.close()
	sOK, err := s.next()
	if err != nil {
		return rep, err
	}
	dOK, err := d.next()
	if err != nil {
		return rep, err
	}
	var missing []string
	for sOK || dOK {
		c := 0
		switch {
		case !dOK:
			c = -1
		case !sOK:
			c = 1
		default:
			c = compareKeys(s.key, d.key)
		}
		switch {
		case c < 0:
			rep.Missing++
			if len(missing) < maxExamples {
				missing = append(missing, "missing "+describeKey(t, s.key))
			}
			sOK, err = s.next()
		case c > 0:
			rep.Extra++
			if len(rep.Examples) < maxExamples {
				rep.Examples = append(rep.Examples, "extra "+describeKey(t, d.key))
			}
			dOK, err = d.next()
		default:
			if string(s.canon) != string(d.canon) {
				rep.Different++
				if len(rep.Examples) < maxExamples {
					rep.Examples = append(rep.Examples, "different "+describeKey(t, s.key))
				}
			}
			if sOK, err = s.next(); err == nil {
				dOK, err = d.next()
			}
		}
		if err != nil {
			return rep, err
		}
	}
	if len(rep.Examples) == 0 {
		rep.Examples = missing
	}
	rep.SourceRows, rep.TargetRows = s.n, d.n
	rep.SourceChecksum, rep.TargetChecksum = s.checksum(), d.checksum()
	return rep, nil
}
