package model

import (
	"strings"
	"unicode/utf8"

	"github.com/portico-dev/portico/sdk/abi"
)

// Reasons CheckText gives for refusing a text (abi.ErrText*).
var (
	ErrTextNotUTF8 = abi.ErrTextNotUTF8
	ErrTextControl = abi.ErrTextControl
	ErrTextBidi    = abi.ErrTextBidi
)

// CheckText is the one text rule of Portico, abi.CheckText: valid UTF-8,
// no control character (line breaks and tabs only when multiline), no
// bidirectional control, no line or paragraph separator. The plugin
// contract and the records of the portal share it.
func CheckText(s string, multiline bool) error { return abi.CheckText(s, multiline) }

// ValidText reports whether CheckText accepts s.
func ValidText(s string, multiline bool) bool { return abi.ValidText(s, multiline) }

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
