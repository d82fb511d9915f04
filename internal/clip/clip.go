// Package clip shortens text that came from outside (a browser, a plugin,
// an ERP, a file) before it is stored in a bounded column, logged or
// quoted in a message: always at a character boundary, so the result is
// valid UTF-8 whatever the input held.
package clip

import (
	"strings"
	"unicode/utf8"
)

// Mark is what Marked appends to a text it cut.
const Mark = "…"

// Bytes returns s as valid UTF-8 (each invalid byte sequence becomes
// U+FFFD) in at most n bytes, cut at a character boundary. n < 0 is 0.
func Bytes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	n = max(n, 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Marked is Bytes followed by Mark when s was cut, so a reader sees that
// more was there: the result has at most n+len(Mark) bytes.
func Marked(s string, n int) string {
	c := Bytes(s, n)
	if len(c) < len(strings.ToValidUTF8(s, "\uFFFD")) {
		return c + Mark
	}
	return c
}

// Runes returns the first n characters of s, for limits counted in
// characters (a PostgreSQL varchar(n), a field a person sees). s is
// returned as it is when it is not longer.
func Runes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	n = max(n, 0)
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
