package migratedb

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func col(k kind, bits int, pgType string) column {
	return column{name: "c", kind: k, bits: bits, pgType: pgType}
}

var (
	textCol  = col(kindText, 0, "text")
	int32Col = col(kindInt, 32, "integer")
	int64Col = col(kindInt, 64, "bigint")
	int16Col = col(kindInt, 16, "smallint")
	boolCol  = col(kindBool, 0, "boolean")
	timeCol  = col(kindTime, 0, "timestamp with time zone")
	bytesCol = col(kindBytes, 0, "bytea")
	floatCol = col(kindFloat, 0, "double precision")
	jsonCol  = col(kindJSON, 0, "jsonb")
	uuidCol  = col(kindUUID, 0, "uuid")
)

func TestConvert(t *testing.T) {
	sp := time.FixedZone("BRT", -3*3600)
	for _, tt := range []struct {
		c    column
		in   any
		want any
		err  string
	}{
		{textCol, "Sérgio", "Sérgio", ""},
		{textCol, []byte("abc"), "abc", ""},
		{textCol, int64(42), "42", ""},
		{textCol, 0.25, "0.25", ""},
		{textCol, time.Date(2024, 3, 1, 9, 0, 0, 5, sp), "2024-03-01T09:00:00.000000005-03:00", ""},
		{textCol, "a\x00b", nil, "NUL character"},
		{textCol, "a\xffb", nil, "not valid UTF-8"},
		{textCol, true, nil, "a bool value cannot go into PostgreSQL's text"},
		{textCol, nil, nil, ""},
		{int32Col, int64(2147483647), int64(2147483647), ""},
		{int32Col, int64(-2147483649), nil, "does not fit PostgreSQL's integer"},
		{int16Col, int64(40000), nil, "does not fit PostgreSQL's smallint"},
		{int64Col, " 12 ", int64(12), ""},
		{int64Col, 3.0, int64(3), ""},
		{int64Col, 3.5, nil, "3.5 is not an integer"},
		{int64Col, math.Inf(1), nil, "is not an integer"},
		{int64Col, "doze", nil, `"doze" is not an integer`},
		{int64Col, true, int64(1), ""},
		{boolCol, int64(1), true, ""},
		{boolCol, int64(0), false, ""},
		{boolCol, int64(2), nil, "2 is not a boolean (0 or 1)"},
		{boolCol, "TRUE", true, ""},
		{boolCol, "f", false, ""},
		{boolCol, "talvez", nil, `"talvez" is not a boolean`},
		{timeCol, time.Date(2024, 3, 1, 9, 0, 0, 123456789, sp), time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC), ""},
		{timeCol, "2024-03-01 12:00:00", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), ""},
		{timeCol, "2024-03-01 09:00:00.5-03:00", time.Date(2024, 3, 1, 12, 0, 0, 500000000, time.UTC), ""},
		{timeCol, "2024-03-01", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), ""},
		{timeCol, "ontem", nil, `"ontem" is not a time`},
		{timeCol, int64(1700000000), nil, "a int64 value cannot go into PostgreSQL's timestamp with time zone"},
		{bytesCol, []byte{0, 1}, []byte{0, 1}, ""},
		{bytesCol, "ab", []byte("ab"), ""},
		{floatCol, int64(2), 2.0, ""},
		{floatCol, "0.5", 0.5, ""},
		{jsonCol, `{"a": 1}`, `{"a": 1}`, ""},
		{jsonCol, `{"a":`, nil, "is not a JSON document"},
		{uuidCol, "0190F8E2-0C6A-7B3E-9F00-AABBCCDDEEFF", "0190f8e2-0c6a-7b3e-9f00-aabbccddeeff", ""},
		{uuidCol, "não", nil, "is not a UUID"},
	} {
		got, err := convert(tt.c, tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("convert(%s, %#v) = %#v, %v; want error %q", tt.c.pgType, tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("convert(%s, %#v) = %#v, %v; want %#v", tt.c.pgType, tt.in, got, err, tt.want)
		}
	}
}

func TestCanonicalJSON(t *testing.T) {
	for _, tt := range []struct {
		a, b  string
		equal bool
	}{
		{`{"b": 2, "a": [1, 2.50]}`, `{"a":[1,2.5],"b":2}`, true},
		{`{"a": 1, "a": 2}`, `{"a": 2}`, true}, // the last duplicate wins, as in jsonb
		{`1e2`, `100`, true},
		{`{"a": "ã"}`, `{"a": "\u00e3"}`, true},
		{`[1, 2]`, `[2, 1]`, false},
		{`{"a": 1}`, `{"a": "1"}`, false},
	} {
		ca, err := canonicalJSON(tt.a)
		if err != nil {
			t.Fatalf("%s: %v", tt.a, err)
		}
		cb, err := canonicalJSON(tt.b)
		if err != nil {
			t.Fatalf("%s: %v", tt.b, err)
		}
		if bytes.Equal(ca, cb) != tt.equal {
			t.Errorf("%s (%s) vs %s (%s): equal %v, want %v", tt.a, ca, tt.b, cb, !tt.equal, tt.equal)
		}
	}
	for _, bad := range []string{`1e999999999`, strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2), `1 2`, `{`} {
		if _, err := canonicalJSON(bad); err == nil {
			t.Errorf("canonicalJSON(%.40q) accepted", bad)
		}
	}
}

// TestCanonicalDistinguishes: different values never encode alike, even
// when their text is alike (a string and bytes, 1 and "1", NULL and "").
func TestCanonicalDistinguishes(t *testing.T) {
	encode := func(cols []column, vals ...any) string {
		var b []byte
		for i, v := range vals {
			b = appendCanonical(b, cols[i], v)
		}
		return string(b)
	}
	tb := []column{textCol, textCol}
	seen := map[string]string{}
	for name, enc := range map[string]string{
		"ab,c":   encode(tb, "ab", "c"),
		"a,bc":   encode(tb, "a", "bc"),
		"null,":  encode(tb, nil, ""),
		",null":  encode(tb, "", nil),
		",":      encode(tb, "", ""),
		"1 int":  encode([]column{int64Col}, int64(1)),
		"1 text": encode([]column{textCol}, "1"),
		"1 byte": encode([]column{bytesCol}, []byte("1")),
		"true":   encode([]column{boolCol}, true),
	} {
		if other, ok := seen[enc]; ok {
			t.Errorf("%s and %s encode alike", name, other)
		}
		seen[enc] = name
	}
}

func TestForeignKeyOrder(t *testing.T) {
	got, err := foreignKeyOrder([]table{
		{name: "sessions", parents: []string{"users", "tenants"}},
		{name: "users", parents: []string{"tenants"}},
		{name: "tenants"},
		{name: "action_results", parents: []string{"sessions", "plugins", "tenants"}},
		{name: "plugins", parents: []string{"tenants"}},
		{name: "audit_log", parents: []string{"tenants", "elsewhere"}}, // a table outside the copy
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range got {
		names = append(names, tb.name)
	}
	if want := "tenants audit_log plugins users sessions action_results"; strings.Join(names, " ") != want {
		t.Errorf("order %v, want %s", names, want)
	}
	if _, err := foreignKeyOrder([]table{{name: "a", parents: []string{"b"}}, {name: "b", parents: []string{"a"}}}); !errors.Is(err, ErrSchemaMismatch) ||
		!strings.Contains(err.Error(), "the foreign keys of a, b form a cycle") {
		t.Errorf("cycle: %v", err)
	}
	if _, err := foreignKeyOrder([]table{{name: "a", parents: []string{"a"}}}); err == nil || !strings.Contains(err.Error(), "references itself") {
		t.Errorf("self reference: %v", err)
	}
}

func TestCompareKeys(t *testing.T) {
	for _, tt := range []struct {
		a, b []any
		want int
	}{
		{[]any{"a"}, []any{"b"}, -1},
		{[]any{"Z"}, []any{"a"}, -1}, // bytewise, like SQLite's BINARY and PostgreSQL's "C"
		{[]any{"é"}, []any{"f"}, 1},
		{[]any{"t", int64(2)}, []any{"t", int64(10)}, -1},
		{[]any{[]byte{1}}, []any{[]byte{1}}, 0},
		{[]any{false}, []any{true}, -1},
	} {
		if got := compareKeys(tt.a, tt.b); got != tt.want {
			t.Errorf("compareKeys(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzConvert feeds convert every shape of value a SQLite database can
// hand it, for every column kind: it never panics, and what it returns
// converts to itself with the same canonical encoding (the verification
// relies on converting the target's values again).
func FuzzConvert(f *testing.F) {
	f.Add(uint8(0), uint8(0), "2024-03-01 12:00:00", int64(1), 0.5)
	f.Add(uint8(3), uint8(0), "2024-03-01T09:00:00.123456789-03:00", int64(0), 0.0)
	f.Add(uint8(6), uint8(0), `{"b": [1, 2.50e1], "a": null}`, int64(-1), -0.0)
	f.Add(uint8(1), uint8(1), "", int64(math.MaxInt64), math.NaN())
	f.Add(uint8(2), uint8(0), "true", int64(2), math.Inf(-1))
	f.Add(uint8(7), uint8(0), "0190F8E2-0C6A-7B3E-9F00-AABBCCDDEEFF", int64(7), 1e300)
	cols := []column{textCol, int32Col, boolCol, timeCol, bytesCol, floatCol, jsonCol, uuidCol, int16Col, int64Col}
	f.Fuzz(func(t *testing.T, which, shape uint8, s string, n int64, x float64) {
		c := cols[int(which)%len(cols)]
		var v any
		switch shape % 6 {
		case 0:
			v = s
		case 1:
			v = []byte(s)
		case 2:
			v = n
		case 3:
			v = x
		case 4:
			v = n%2 == 0
		case 5:
			v = time.Unix(n%(1<<40), int64(x)%1e9).In(time.FixedZone("z", int(n%50000)))
		}
		got, err := convert(c, v)
		if err != nil {
			return
		}
		again, err := convert(c, got)
		if err != nil {
			t.Fatalf("convert(%s, %#v) = %#v, which does not convert again: %v", c.pgType, v, got, err)
		}
		if a, b := appendCanonical(nil, c, got), appendCanonical(nil, c, again); !bytes.Equal(a, b) {
			t.Fatalf("convert(%s, %#v) = %#v, then %#v: canonical forms differ", c.pgType, v, got, again)
		}
	})
}
