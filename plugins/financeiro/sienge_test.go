package main

import (
	"encoding/json"
	"testing"
)

func TestParseCents(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1250", 125000, true}, {"1250.5", 125050, true}, {"1250.05", 125005, true}, {"0", 0, true},
		{"1250.055", 0, false}, {"-1", 0, false}, {"1e3", 0, false}, {".5", 0, false}, {"", 0, false},
		{"12345678901234", 0, false}, {"1.2.3", 0, false}, {"+1", 0, false},
	} {
		got, err := parseCents(json.Number(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseCents(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseCents: an amount the ERP sends is read exactly or refused, and
// what is read writes back to the same cents.
func FuzzParseCents(f *testing.F) {
	for _, s := range []string{"1250", "1250.5", "0.01", "1e3", "-0", "99999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCents(json.Number(s))
		if err != nil {
			return
		}
		if c < 0 {
			t.Fatalf("parseCents(%q) = %d, negative", s, c)
		}
		back, err := parseCents(formatCents(c))
		if err != nil || back != c {
			t.Fatalf("parseCents(%q) = %d, written %s, read back %d, %v", s, c, formatCents(c), back, err)
		}
	})
}

func TestOpaqueID(t *testing.T) {
	for s, want := range map[string]bool{"5001": true, "a-b_C": true, "": false, "../x": false, "1 2": false, "a/b": false,
		"1234567890123456789012345678901234567890": true, "12345678901234567890123456789012345678901": false} {
		if opaqueID(s) != want {
			t.Errorf("opaqueID(%q) = %v", s, !want)
		}
	}
}
