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

// TestHereOf: the language switch comes back to the page with its query
// (a slip's ?r=, a login's ?next=), never to a place safeNext refuses.
func TestHereOf(t *testing.T) {
	for _, tc := range []struct{ path, query, want string }{
		{"/p/financeiro", "", "/p/financeiro"},
		{"/p/financeiro", "r=abc123", "/p/financeiro?r=abc123"},
		{"/login", "next=%2Fp%2Ffinanceiro", "/login?next=%2Fp%2Ffinanceiro"},
		{"/", "x=1", "/?x=1"},
		{"//evil.example", "x=1", "/"},
		{"/p/financeiro", "r=a%0d%0a", "/p/financeiro?r=a%0d%0a"}, // encoded: a query value, not a header
		{"/p/financeiro", "r=a\r\nSet-Cookie:x=1", "/p/financeiro"},
		{"/p/financeiro", "r=a\\b", "/p/financeiro"},
		{"/p/financeiro", "r=" + strings.Repeat("a", 2000), "/p/financeiro"},
	} {
		if got := hereOf(tc.path, tc.query); got != tc.want {
			t.Errorf("hereOf(%q, %.40q) = %q, want %q", tc.path, tc.query, got, tc.want)
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
