package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBytes(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"ação", 2, "a"},   // "ç" is 2 bytes: not split
		{"ação", 3, "aç"},  // exactly after "ç"
		{"a\xffb", 3, "a"}, // the invalid byte becomes U+FFFD (3 bytes)
		{"a\xffb", 5, "a\uFFFDb"},
		{"😀x", 3, ""}, // a 4-byte character does not fit
		{"abc", -1, ""},
		{"", 0, ""},
	} {
		if got := Bytes(tt.s, tt.n); got != tt.want {
			t.Errorf("Bytes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestMarked(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"ação", 2, "a…"},
		{"a\xff", 4, "a\uFFFD"}, // repaired, not cut: no mark
	} {
		if got := Marked(tt.s, tt.n); got != tt.want {
			t.Errorf("Marked(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestRunes(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"ação", 4, "ação"},
		{"ação", 2, "aç"},
		{"ação", 0, ""},
		{"😀😀", 1, "😀"},
		{"abc", -2, ""},
	} {
		if got := Runes(tt.s, tt.n); got != tt.want {
			t.Errorf("Runes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// FuzzClip: whatever the input, Bytes and Marked give valid UTF-8 within
// their bounds that begins the repaired input, and Runes a prefix of at
// most n characters.
func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "abc", "ação", "a\xffb", "😀x", strings.Repeat("é", 40)} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n %= 200
		valid := strings.ToValidUTF8(s, "\uFFFD")
		b := Bytes(s, n)
		if !utf8.ValidString(b) || len(b) > max(n, 0) || !strings.HasPrefix(valid, b) {
			t.Fatalf("Bytes(%q, %d) = %q", s, n, b)
		}
		m := Marked(s, n)
		if !utf8.ValidString(m) || len(m) > max(n, 0)+len(Mark) || (m != valid && m != b+Mark) {
			t.Fatalf("Marked(%q, %d) = %q", s, n, m)
		}
		r := Runes(s, n)
		if !strings.HasPrefix(s, r) || utf8.RuneCountInString(r) > max(n, 0) && r != s {
			t.Fatalf("Runes(%q, %d) = %q", s, n, r)
		}
	})
}
