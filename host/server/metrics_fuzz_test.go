package server

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// FuzzBearerMatches: the metrics token check accepts exactly
// "Bearer <token>" (any case of the scheme, surrounding spaces trimmed)
// within MaxMetricsAuthorization bytes, and nothing else.
func FuzzBearerMatches(f *testing.F) {
	const token = "m3tr1c5-m3tr1c5-m3tr1c5-m3tr1c5-m3tr1c5-"
	want := sha256.Sum256([]byte(token))
	for _, s := range []string{"", "Bearer", "Bearer ", "Bearer " + token, "bearer " + token, "Bearer  " + token + " ",
		"Basic " + token, token, "Bearer " + token[:10], "Bearer " + token + "x", "Bearer\t" + token} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := bearerMatches(h, want)
		exact := len(h) <= MaxMetricsAuthorization && len(h) > 7 && strings.EqualFold(h[:7], "bearer ") &&
			strings.TrimSpace(h[7:]) == token
		if got != exact {
			t.Fatalf("bearerMatches(%q) = %v, want %v", h, got, exact)
		}
	})
}
