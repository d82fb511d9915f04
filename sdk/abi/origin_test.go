package abi

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct {
		in       string
		insecure bool
		want     string
		ok       bool
	}{
		{"https://www.Exemplo.com.br", false, "https://www.exemplo.com.br", true},
		{"https://exemplo.com:443/", false, "https://exemplo.com", true},
		{"https://exemplo.com:8443", false, "https://exemplo.com:8443", true},
		{"http://exemplo.com", false, "", false},
		{"http://localhost:3000", false, "", false},
		{"http://localhost:3000", true, "http://localhost:3000", true},
		{"http://127.0.0.1", true, "http://127.0.0.1", true},
		{"http://evil.com", true, "", false},
		{"https://exemplo.com/path", false, "", false},
		{"https://user:pw@exemplo.com", false, "", false},
		{"https://exemplo.com?x=1", false, "", false},
		{"javascript:alert(1)", true, "", false},
		{"data:text/html,hi", true, "", false},
		{"//exemplo.com", false, "", false},
		{"", false, "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeOrigin(tt.in, tt.insecure)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeOrigin(%q, %v) = %q, %v; want %q, ok=%v", tt.in, tt.insecure, got, err, tt.want, tt.ok)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Portal.Construtora.com.br", "portal.construtora.com.br", true},
		{"localhost:8080", "localhost", true},
		{"127.0.0.1:8080", "127.0.0.1", true},
		{"[::1]:8080", "::1", true},
		{"example.com.", "example.com", true},
		{"", "", false},
		{"bad_host.com", "", false},
		{"-bad.com", "", false},
		{"a..b", "", false},
		{"[::1", "", false},
		{"evil.com/path", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeHost(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://a.com", "http://localhost:3000", "https://a.com:443/", "javascript:x", "https://u@a.com", "HTTPS://A.COM"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		got, err := NormalizeOrigin(s, insecure)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("output %q does not parse: %v", got, err)
		}
		if u.Scheme != "https" && !(insecure && u.Scheme == "http" && IsLocalHost(u.Hostname())) {
			t.Fatalf("NormalizeOrigin(%q) = %q: scheme not allowed", s, got)
		}
		if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("NormalizeOrigin(%q) = %q: more than an origin", s, got)
		}
		if again, err := NormalizeOrigin(got, insecure); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"localhost:8080", "[::1]:80", "A.B.C", "x..y", "", "[", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeHost(s)
		if !ok {
			return
		}
		if got == "" || got != strings.ToLower(got) || strings.ContainsAny(got, "/?#@ \t") {
			t.Fatalf("NormalizeHost(%q) = %q breaks an invariant", s, got)
		}
	})
}

// TestMatchOrigin: the runtime's and the harness's allow-list match of an
// HTTP call's URL uses the same canonical form as NormalizeOrigin.
func TestMatchOrigin(t *testing.T) {
	allowed := []string{"https://erp.example.com:443", "http://127.0.0.1:8081", "http://erp.test:9000"}
	for _, tc := range []struct {
		url, origin string
		ok          bool
	}{
		{"https://ERP.example.com/x?y", "https://erp.example.com", true},
		{"https://erp.example.com:443/", "https://erp.example.com", true},
		{"http://127.0.0.1:8081/a", "http://127.0.0.1:8081", true},
		{"http://erp.test:9000/", "http://erp.test:9000", true},
		{"http://erp.example.com/", "http://erp.example.com", false},
		{"https://erp.example.com:8443/", "https://erp.example.com:8443", false},
		{"https://erp.example.com./", "", false},
		{"https://evil.example/", "https://evil.example", false},
		{"https://u:p@erp.example.com/", "", false},
		{"https://[fe80::1%25eth0]/", "", false},
		{"ftp://erp.example.com/", "", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := MatchOrigin(u, allowed); o != tc.origin || ok != tc.ok {
			t.Errorf("MatchOrigin(%s) = %q, %v; want %q, %v", tc.url, o, ok, tc.origin, tc.ok)
		}
	}
}
