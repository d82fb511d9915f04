package admin

import (
	"strings"
	"testing"
)

// FuzzParseActivate: only the documented spellings are accepted, and each
// means what it says.
func FuzzParseActivate(f *testing.F) {
	for _, s := range []string{"", "true", "TRUE", " on ", "1", "0", "false", "off", "yes", "sim", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		on, err := ParseActivate(s)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "on":
			if err != nil || !on {
				t.Fatalf("%q: %v %v", s, on, err)
			}
		case "", "false", "0", "off":
			if err != nil || on {
				t.Fatalf("%q: %v %v", s, on, err)
			}
		default:
			if err == nil || on {
				t.Fatalf("%q accepted as %v", s, on)
			}
		}
	})
}
