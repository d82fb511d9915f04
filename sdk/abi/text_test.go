package abi

import (
	"errors"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		multiline bool
		want      error
	}{
		{"plain", "Construtora Exemplo", false, nil},
		{"accents and emoji", "Ação Çã 🏠 日本", false, nil},
		{"empty", "", false, nil},
		{"nul", "a\x00b", false, ErrTextControl},
		{"nul multiline", "a\x00b", true, ErrTextControl},
		{"escape", "a\x1b[2Jb", false, ErrTextControl},
		{"delete", "a\x7fb", false, ErrTextControl},
		{"c1 control", "a\u0085b", true, ErrTextControl},
		{"line feed one line", "a\nb", false, ErrTextControl},
		{"line feed multiline", "a\nb\r\n\tc", true, nil},
		{"right-to-left override", "abc\u202edcba", false, ErrTextBidi},
		{"left-to-right embedding", "\u202aabc", false, ErrTextBidi},
		{"first strong isolate", "a\u2068b\u2069", true, ErrTextBidi},
		{"line separator", "a\u2028b", true, ErrTextBidi},
		{"paragraph separator", "a\u2029b", false, ErrTextBidi},
		{"invalid utf-8", "a\xffb", false, ErrTextNotUTF8},
		{"truncated sequence", "a\xc3", true, ErrTextNotUTF8},
		{"surrogate encoded", "\xed\xa0\x80", false, ErrTextNotUTF8},
		{"right-to-left mark is allowed", "שלום\u200f", false, nil},
	} {
		if got := CheckText(tc.in, tc.multiline); !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%s: CheckText(%q, %v) = %v, want %v", tc.name, tc.in, tc.multiline, got, tc.want)
		}
	}
}

// FuzzCheckText checks that whatever CheckText accepts is valid UTF-8 with
// no control character (but line breaks and tabs when multiline), no bidi
// control and no separator — and that PostgreSQL's one refusal, NUL, is
// always among what it refuses.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"Ana", "a\x00b", "a\u202eb", "a\u2028b", "a\nb", "\xff", "Ação", "\t", "\u0085"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		err := CheckText(s, multiline)
		if ValidText(s, multiline) != (err == nil) {
			t.Fatalf("ValidText and CheckText disagree on %q", s)
		}
		if err != nil {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		for _, r := range s {
			switch {
			case r == 0:
				t.Fatalf("accepted NUL in %q", s)
			case unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')):
				t.Fatalf("accepted control %U in %q (multiline=%v)", r, s, multiline)
			case unicode.Is(unicode.Bidi_Control, r) && r != '\u200e' && r != '\u200f' && r != '\u061c':
				t.Fatalf("accepted bidi control %U in %q", r, s)
			case r == '\u2028' || r == '\u2029':
				t.Fatalf("accepted separator %U in %q", r, s)
			}
		}
	})
}
