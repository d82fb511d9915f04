package abi

import (
	"errors"
	"unicode"
	"unicode/utf8"
)

// Reasons CheckText gives for refusing a text.
var (
	ErrTextNotUTF8 = errors.New("text is not valid UTF-8")
	ErrTextControl = errors.New("text holds a control character")
	ErrTextBidi    = errors.New("text holds a bidirectional control or a line/paragraph separator")
)

// CheckText is the one rule for text that Portico accepts from outside —
// names, titles, configuration values, search queries, IDs in URLs,
// credentials — and for text a plugin puts in a view. The text must be
// valid UTF-8 and hold no control character (NUL included; line feed,
// carriage return and tab only when multiline), no bidirectional embedding,
// override or isolate (U+202A–U+202E, U+2066–U+2069) and no line or
// paragraph separator (U+2028, U+2029). Such characters break PostgreSQL
// (NUL, invalid UTF-8), reorder what an admin list shows, or split what
// looks like one line. It returns nil or one of ErrTextNotUTF8,
// ErrTextControl and ErrTextBidi. Lengths are the caller's to check.
func CheckText(s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return ErrTextNotUTF8
	}
	for _, r := range s {
		if err := checkRune(r, multiline); err != nil {
			return err
		}
	}
	return nil
}

// ValidText reports whether CheckText accepts s.
func ValidText(s string, multiline bool) bool { return CheckText(s, multiline) == nil }

func checkRune(r rune, multiline bool) error {
	if unicode.IsControl(r) {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return nil
		}
		return ErrTextControl
	}
	if r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
		return ErrTextBidi
	}
	return nil
}
