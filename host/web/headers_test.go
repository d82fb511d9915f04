package web

import (
	"strings"
	"testing"

	"github.com/portico-dev/portico/internal/model"
)

func TestCSPSources(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"https://erp.example.com"}, "https://erp.example.com"},
		{[]string{"'self'", "https://erp.example.com:8443"}, "'self' https://erp.example.com:8443"},
		{[]string{"https://[2001:db8::1]"}, "https://[2001:db8::1]"},
		{[]string{"https://[fe80::1%x;frame-ancestors *;x]"}, "'none'"},
		{[]string{"https://a.example.com,https"}, "'none'"},
		{[]string{"https://a.example.com/"}, "'none'"},
		{[]string{"https://A.example.com"}, "'none'"},
		{[]string{"*"}, "'none'"},
		{[]string{"'self'", "https://a.example.com; frame-ancestors *"}, "'self'"},
		{[]string{"http://localhost:8080"}, "http://localhost:8080"},
		{[]string{"http://erp.example.com"}, "'none'"},
		{nil, "'none'"},
	} {
		if got := CSPSources(true, tc.in...); got != tc.want {
			t.Errorf("CSPSources(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzPluginURLToCSP follows a plugin URL the way the portal does — validated
// and normalised when stored, its origin taken when the page is served —
// and also hands the raw text straight to FrameCSP, as a row written behind
// Portico's back would be: the policy must keep exactly the directives of
// DefaultCSP, with one frame-ancestors and a frame-src of 'self' and
// canonical origins only.
func FuzzPluginURLToCSP(f *testing.F) {
	for _, s := range []string{"https://erp.example.com/a", "https://[fe80::1%2525x;frame-ancestors%2520*;x]/a",
		"https://[fe80::1%25x]/a", "https://a.example.com,https://evil.example/a", "http://localhost:8080/x",
		"https://[::1]:8443/", "https://Ação.com.br/x?y=1#z", "https://a.example.com;frame-ancestors *"} {
		f.Add(s, true)
	}
	directives := strings.Count(DefaultCSP, ";")
	f.Fuzz(func(t *testing.T, raw string, insecure bool) {
		candidates := []string{raw}
		if stored, err := model.NormalizeURL(raw, insecure); err == nil {
			if origin, err := model.OriginOf(stored, insecure); err == nil {
				candidates = append(candidates, origin)
			} else {
				t.Fatalf("stored URL %q (from %q) has no origin: %v", stored, raw, err)
			}
		}
		for _, c := range candidates {
			csp := FrameCSP(insecure, "'self'", c)
			if strings.Count(csp, ";") != directives || strings.Contains(csp, ",") || strings.Count(csp, "frame-ancestors") != 1 {
				t.Fatalf("source %q changed the policy: %q", c, csp)
			}
			for _, r := range csp {
				if r < 0x21 && r != ' ' || r > 0x7e {
					t.Fatalf("source %q put %U into the policy %q", c, r, csp)
				}
			}
			frameSrc := strings.TrimPrefix(strings.Split(csp[strings.Index(csp, "frame-src "):], ";")[0], "frame-src ")
			for _, tok := range strings.Split(frameSrc, " ") {
				if tok != "'self'" && !strings.HasPrefix(tok, "https://") && !strings.HasPrefix(tok, "http://") {
					t.Fatalf("source %q gave frame-src token %q in %q", c, tok, csp)
				}
			}
		}
	})
}
