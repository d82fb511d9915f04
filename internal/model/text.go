package model

import (
	"errors"
	"strings"
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
// credentials — and for text a wasm plugin puts in a view. The text must be
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

// TextCodeInvalid is the validation code of a field whose text CheckText
// refuses; user interfaces translate "validation.invalid_text".
const TextCodeInvalid = "invalid_text"

// CheckField validates one text field of a record and records the failure
// in v under field: "required" when it is empty (after trimming spaces)
// and required, "invalid_text" when CheckText refuses it, "too_long" when
// it has more than max characters (max 0 means no bound). It returns the
// trimmed text.
func CheckField(v *ValidationError, field, s string, max int, required, multiline bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		if required {
			v.Add(field, "required")
		}
	case CheckText(s, multiline) != nil:
		v.Add(field, TextCodeInvalid)
	case max > 0 && utf8.RuneCountInString(s) > max:
		v.Add(field, "too_long")
	}
	return s
}
