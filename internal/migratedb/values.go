package migratedb

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// kind is what a PostgreSQL column holds, as far as copying and comparing
// are concerned. Every value read from either database is converted to the
// Go type of its column's kind (convert) before it is written or hashed.
type kind int

const (
	kindText  kind = iota // string: text, character varying
	kindInt               // int64: smallint, integer, bigint (bits bounds it)
	kindBool              // bool
	kindTime              // time.Time in UTC, truncated to PostgreSQL's microseconds
	kindBytes             // []byte: bytea
	kindFloat             // float64: double precision
	kindJSON              // string holding a JSON document: json, jsonb
	kindUUID              // string, canonical lower-case form: uuid
)

func (k kind) String() string {
	return [...]string{"text", "integer", "boolean", "timestamp", "bytea", "double precision", "json", "uuid"}[k]
}

// column is one column of a table: its name and the kind of its
// PostgreSQL type.
type column struct {
	name string
	kind kind
	bits int // for kindInt: 16, 32 or 64
	// pgType is information_schema's data_type, for messages.
	pgType string
}

// pgKind maps information_schema.columns.data_type onto a kind. A type
// migrate-db does not know is an error rather than a guess: the schema
// has only the types below, and a new one must be taught here (and
// tested) before it is copied.
func pgKind(dataType string) (kind, int, error) {
	switch dataType {
	case "text", "character varying":
		return kindText, 0, nil
	case "smallint":
		return kindInt, 16, nil
	case "integer":
		return kindInt, 32, nil
	case "bigint":
		return kindInt, 64, nil
	case "boolean":
		return kindBool, 0, nil
	case "timestamp with time zone", "timestamp without time zone":
		return kindTime, 0, nil
	case "bytea":
		return kindBytes, 0, nil
	case "double precision":
		return kindFloat, 0, nil
	case "json", "jsonb":
		return kindJSON, 0, nil
	case "uuid":
		return kindUUID, 0, nil
	}
	return 0, 0, fmt.Errorf("type %q is not one migrate-db can copy", dataType)
}

// convert turns a value read from SQLite (int64, float64, string, []byte,
// bool, time.Time or nil, as the driver gives them) or from PostgreSQL into
// the Go type of kind k, ready to be written to PostgreSQL and hashed. It
// is idempotent: convert(convert(v)) == convert(v), which is what lets the
// verification run the same conversion over both databases' rows.
func convert(c column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case kindText:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		case time.Time:
			// The SQLite driver turns text that is exactly a RFC 3339
			// time back into a time.Time unless the column is declared
			// TEXT; formatting it again gives the stored text back.
			s = x.Format(time.RFC3339Nano)
		default:
			return nil, typeError(c, v)
		}
		if err := checkText(s); err != nil {
			return nil, err
		}
		return s, nil
	case kindUUID:
		s, ok := v.(string)
		if b, isBytes := v.([]byte); isBytes {
			s, ok = string(b), true
		}
		if !ok {
			return nil, typeError(c, v)
		}
		u, err := uuid.Parse(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a UUID", clip(s))
		}
		return u.String(), nil
	case kindInt:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case float64:
			if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
				return nil, fmt.Errorf("%v is not an integer", x)
			}
			n = int64(x)
		case string:
			var err error
			if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
				return nil, fmt.Errorf("%q is not an integer", clip(x))
			}
		case bool:
			if x {
				n = 1
			}
		default:
			return nil, typeError(c, v)
		}
		if c.bits < 64 && (n < -(1<<(c.bits-1)) || n > 1<<(c.bits-1)-1) {
			return nil, fmt.Errorf("%d does not fit PostgreSQL's %s", n, c.pgType)
		}
		return n, nil
	case kindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
			return nil, fmt.Errorf("%d is not a boolean (0 or 1)", x)
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "1", "t", "true":
				return true, nil
			case "0", "f", "false":
				return false, nil
			}
			return nil, fmt.Errorf("%q is not a boolean", clip(x))
		}
		return nil, typeError(c, v)
	case kindTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Truncate(time.Microsecond), nil
		case string:
			t, err := parseTime(x)
			if err != nil {
				return nil, err
			}
			return t.UTC().Truncate(time.Microsecond), nil
		case []byte:
			t, err := parseTime(string(x))
			if err != nil {
				return nil, err
			}
			return t.UTC().Truncate(time.Microsecond), nil
		}
		return nil, typeError(c, v)
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return nil, typeError(c, v)
	case kindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", clip(x))
			}
			return f, nil
		}
		return nil, typeError(c, v)
	case kindJSON:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return nil, typeError(c, v)
		}
		if err := checkText(s); err != nil {
			return nil, err
		}
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("%q is not a JSON document", clip(s))
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown column kind %d", c.kind)
}

func typeError(c column, v any) error {
	return fmt.Errorf("a %T value cannot go into PostgreSQL's %s", v, c.pgType)
}

// checkText refuses what PostgreSQL's text cannot hold: invalid UTF-8 and
// the NUL character.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8 (PostgreSQL text must be)", clip(s))
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%q holds a NUL character, which PostgreSQL text cannot", clip(s))
	}
	return nil
}

// clip shortens a value quoted in an error message. It cuts bytes, not
// characters, and repairs nothing: the value is quoted with %q, which
// shows an invalid byte as \xff, the very thing such a message is about
// (internal/clip would turn it into U+FFFD).
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "…"
}

// timeLayouts are the shapes of time text SQLite databases hold: RFC 3339
// (how the driver writes time.Time) and SQLite's own "YYYY-MM-DD HH:MM:SS"
// forms (CURRENT_TIMESTAMP), with or without fractions and an offset. A
// time without an offset is UTC, as SQLite's date functions read it.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// maxTimeText bounds the text parseTime looks at.
const maxTimeText = 64

// parseTime reads a time stored as text in SQLite.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxTimeText {
		return time.Time{}, fmt.Errorf("%q is not a time", clip(s))
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", clip(s))
}

// appendCanonical appends the canonical encoding of v, a value convert
// returned for c, to buf: a tag byte and the value, lengths prefixed, so
// no two different rows encode alike. Times are microseconds since the
// Unix epoch (PostgreSQL's precision); JSON documents are compared
// decoded (jsonb reorders keys and drops spaces).
func appendCanonical(buf []byte, c column, v any) []byte {
	if v == nil {
		return append(buf, 'N')
	}
	switch x := v.(type) {
	case string:
		if c.kind == kindJSON {
			if canon, err := canonicalJSON(x); err == nil {
				buf = append(buf, 'J')
				buf = binary.AppendUvarint(buf, uint64(len(canon)))
				return append(buf, canon...)
			}
		}
		buf = append(buf, 'S')
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		return append(buf, x...)
	case int64:
		return binary.AppendVarint(append(buf, 'I'), x)
	case bool:
		if x {
			return append(buf, 'B', 1)
		}
		return append(buf, 'B', 0)
	case time.Time:
		return binary.AppendVarint(append(buf, 'T'), x.UnixMicro())
	case []byte:
		buf = append(buf, 'X')
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		return append(buf, x...)
	case float64:
		bits := math.Float64bits(x)
		if math.IsNaN(x) {
			bits = math.Float64bits(math.NaN())
		}
		return binary.BigEndian.AppendUint64(append(buf, 'F'), bits)
	}
	panic(fmt.Sprintf("migratedb: no canonical form for %T", v))
}

// maxJSONDepth bounds the nesting canonicalJSON accepts (jsonb's own limit
// is far higher, but a document this deep is compared as text instead).
const maxJSONDepth = 200

// maxJSONNumber bounds the length of a JSON number canonicalJSON reads
// exactly, and maxJSONExponent its exponent.
const (
	maxJSONNumber   = 1000
	maxJSONExponent = 1000
)

func exponentTooLarge(n string) bool {
	i := strings.IndexAny(n, "eE")
	if i < 0 {
		return false
	}
	e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
	return err != nil || e > maxJSONExponent || e < -maxJSONExponent
}

// canonicalJSON re-encodes a JSON document with sorted object keys, no
// insignificant space, the last of duplicate keys, and numbers as exact
// rationals, so a document compares equal to what jsonb stored for it.
func canonicalJSON(s string) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("more than one JSON value")
	}
	var out bytes.Buffer
	if err := writeCanonicalJSON(&out, v, 0); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeCanonicalJSON(out *bytes.Buffer, v any, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			out.Write(kb)
			out.WriteByte(':')
			if err := writeCanonicalJSON(out, x[k], depth+1); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case []any:
		out.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := writeCanonicalJSON(out, e, depth+1); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case json.Number:
		// big.Rat would expand an exponent like 1e999999999 into that
		// many digits: such a number is compared as text instead.
		if len(x) > maxJSONNumber || exponentTooLarge(string(x)) {
			return fmt.Errorf("number %q too large to compare", clip(string(x)))
		}
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return fmt.Errorf("number %q", clip(string(x)))
		}
		out.WriteString(r.RatString())
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		out.Write(b)
	}
	return nil
}

// compareKeys orders two primary keys (the converted values of the key
// columns) the way both databases' ORDER BY does for the key kinds
// migrate-db accepts: text and UUIDs bytewise (SQLite's BINARY collation,
// PostgreSQL's "C"), integers numerically, byte strings bytewise, false
// before true.
func compareKeys(a, b []any) int {
	for i := range a {
		var c int
		switch x := a[i].(type) {
		case string:
			c = strings.Compare(x, b[i].(string))
		case int64:
			y := b[i].(int64)
			switch {
			case x < y:
				c = -1
			case x > y:
				c = 1
			}
		case []byte:
			c = bytes.Compare(x, b[i].([]byte))
		case bool:
			y := b[i].(bool)
			switch {
			case !x && y:
				c = -1
			case x && !y:
				c = 1
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// keyKind reports whether rows can be ordered by a key column of kind k
// identically in both databases.
func keyKind(k kind) bool {
	switch k {
	case kindText, kindInt, kindBytes, kindBool, kindUUID:
		return true
	}
	return false
}
