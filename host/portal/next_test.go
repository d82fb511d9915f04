package portal

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                              "/",
		"/":                             "/",
		"/p/financeiro":                 "/p/financeiro",
		"/gestor?x=1":                   "/gestor?x=1",
		"//evil.example":                "/",
		"/\\evil.example":               "/",
		"https://evil.example":          "/",
		"javascript:alert(1)":           "/",
		"p/financeiro":                  "/",
		"/a\r\nSet-Cookie: x=1":         "/",
		"/" + strings.Repeat("a", 2000): "/",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%.40q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext checks that whatever comes in, the result is a path on this
// site: browsers resolve it against the portal's own origin.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/%2f%2fx", "http://x", "/\t/x", "/..//x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.exemplo.com.br/login")
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse", s, got)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) = %q leaves the site: %s", s, got, r)
		}
		if strings.ContainsAny(got, "\\\r\n\t") || strings.HasPrefix(got, "//") {
			t.Fatalf("safeNext(%q) = %q", s, got)
		}
	})
}
