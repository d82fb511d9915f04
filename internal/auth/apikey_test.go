package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestAPIKeyFromHeader(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, header, want string
	}{
		{"bearer", "Bearer pk_abc", "pk_abc"},
		{"bearer any case", "bEARER pk_abc", "pk_abc"},
		{"basic, key as user", "Basic " + b64("pk_abc:"), "pk_abc"},
		{"basic, key as password", "Basic " + b64(":pk_abc"), "pk_abc"},
		{"basic any case", "basic " + b64("pk_abc:"), "pk_abc"},
		{"basic with both parts", "Basic " + b64("user:pk_abc"), ""},
		{"basic without colon", "Basic " + b64("pk_abc"), ""},
		{"basic not base64", "Basic pk_abc:", ""},
		{"basic empty", "Basic " + b64(":"), ""},
		{"no scheme", "pk_abc", ""},
		{"other scheme", "Token pk_abc", ""},
		{"bearer empty", "Bearer ", ""},
		{"space inside the key", "Bearer pk abc", ""},
		{"control character", "Basic " + b64("pk\x00abc:"), ""},
		{"too long", "Bearer " + strings.Repeat("a", MaxAuthorization), ""},
		{"empty", "", ""},
	} {
		got, ok := APIKeyFromHeader(tc.header)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: APIKeyFromHeader(%q) = %q, %v; want %q", tc.name, tc.header, got, ok, tc.want)
		}
	}
}

func FuzzAPIKeyFromHeader(f *testing.F) {
	for _, s := range []string{"Bearer pk_x", "Basic cGtfeDo=", "Basic Og==", "Basic", "Bearer  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		key, ok := APIKeyFromHeader(h)
		if !ok {
			return
		}
		if key == "" || len(key) > MaxAuthorization || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			t.Fatalf("APIKeyFromHeader(%q) = %q", h, key)
		}
		if again, ok := APIKeyFromHeader("Bearer " + key); !ok || again != key {
			t.Fatalf("the key %q does not read back as a bearer key", key)
		}
	})
}
