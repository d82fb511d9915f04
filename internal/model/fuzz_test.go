package model

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets check properties that must hold for any input: no
// panic, idempotence of normalisation, and the output's own invariants.

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ana@exemplo.com", " A@B.CO ", "a <b@c.d>", "\"x y\"@e.com", "a@b", "@", "ä@ö.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		if got != strings.ToLower(got) || strings.TrimSpace(got) != got || len(got) > MaxEmailLength || !utf8.ValidString(got) {
			t.Fatalf("NormalizeEmail(%q) = %q breaks an invariant", s, got)
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"https://a.com/x?y#z", "https://Ação.com.br", "http://localhost:1/", "https://[::1]:8443/", "javascript:x"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		got, err := NormalizeURL(s, insecure)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("NormalizeURL(%q) = %q: not a clean URL (%v)", s, got, err)
		}
		if again, err := NormalizeURL(got, insecure); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
