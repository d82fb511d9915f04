package pix

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// errEmpty is wrapped (with ErrText) when a text is empty after folding.
var errEmpty = errors.New("empty")

// fold writes s in the BR Code's character set, printable ASCII: letters
// with accents lose them ("São João" → "Sao Joao"), typographic quotes,
// dashes and the ordinal indicators become their ASCII look-alikes, runs of
// spaces become one space, and the result is cut to limit bytes. A control
// character or a character with no ASCII form (an emoji, a CJK ideograph)
// is an error, and so is a text left empty.
func fold(what, s string, limit int) (string, error) {
	if len(s) > 4*MaxPayload {
		return "", fmt.Errorf("%w: %s is %d bytes", ErrText, what, len(s))
	}
	var b strings.Builder
	space := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return "", fmt.Errorf("%w: %s is not valid UTF-8", ErrText, what)
			}
		}
		if r == ' ' || r == '\u00a0' || r == '\t' {
			space = true
			continue
		}
		a, ok := asciiOf(r)
		if !ok {
			return "", fmt.Errorf("%w: %s has %q, which has no ASCII form", ErrText, what, r)
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(a)
	}
	out := b.String()
	if len(out) > limit {
		out = strings.TrimRight(out[:limit], " ")
	}
	if out == "" {
		return "", fmt.Errorf("%w: %s is %w", ErrText, what, errEmpty)
	}
	return out, nil
}

// asciiOf returns the ASCII form of a rune.
func asciiOf(r rune) (string, bool) {
	if r >= 0x21 && r <= 0x7E {
		return string(r), true
	}
	if a, ok := latin[r]; ok {
		return a, true
	}
	return "", false
}

// latin maps the letters of Portuguese, Spanish and the other Latin-1
// languages, and a few typographic marks, to ASCII.
var latin = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "A", 'Å': "A", 'Æ': "AE",
	'Ç': "C", 'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E",
	'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I", 'Ð': "D", 'Ñ': "N",
	'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "O", 'Ø': "O",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'Ý': "Y", 'Þ': "TH", 'ß': "ss",
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae",
	'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ð': "d", 'ñ': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'þ': "th", 'ÿ': "y",
	'Œ': "OE", 'œ': "oe", 'Š': "S", 'š': "s", 'Ž': "Z", 'ž': "z", 'Ÿ': "Y",
	'ª': "a", 'º': "o", '°': "o",
	'‘': "'", '’': "'", '‚': "'", '“': `"`, '”': `"`, '„': `"`,
	'–': "-", '—': "-", '…': "...", '´': "'",
}
