package abi

import (
	"errors"
	"net/url"
	"strconv"
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

func TestCheckAllowedHosts(t *testing.T) {
	many := make([]string, MaxAllowedHosts+1)
	for i := range many {
		many[i] = "https://h" + strconv.Itoa(i) + ".example.com"
	}
	for _, tc := range []struct {
		name     string
		hosts    []string
		insecure bool
		want     []string // the accepted origins
		problems []string // a part of each problem, in order
	}{
		{"none", nil, false, []string{}, nil},
		{"canonical forms", []string{"https://ERP.example.com:443", "https://b.example.com:8443/"}, false, []string{"https://erp.example.com", "https://b.example.com:8443"}, nil},
		{"http", []string{"http://erp.example.com"}, false, []string{}, []string{`allowed host "http://erp.example.com": only https is allowed`}},
		{"http on a private address", []string{"http://10.1.2.3:8080"}, false, []string{}, []string{`"http://10.1.2.3:8080": only https is allowed`}},
		{"https on a private address: the dialer's to judge", []string{"https://10.1.2.3:8443"}, false, []string{"https://10.1.2.3:8443"}, nil},
		{"localhost in production", []string{"http://localhost:8091"}, false, []string{}, []string{"only https is allowed"}},
		{"localhost in the demo", []string{"http://localhost:8091"}, true, []string{"http://localhost:8091"}, nil},
		{"another http host in the demo", []string{"http://erp.example.com"}, true, []string{}, []string{"only https is allowed"}},
		{"path", []string{"https://erp.example.com/api"}, false, []string{}, []string{"an origin has only a scheme, a host and an optional port"}},
		{"one bad among good", []string{"https://a.example.com", "ftp://b.example.com"}, false, []string{"https://a.example.com"}, []string{`"ftp://b.example.com"`}},
		{"at the limit", many[:MaxAllowedHosts], false, many[:MaxAllowedHosts], nil},
		{"above the limit", many, false, many, []string{"more than 20 allowed hosts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := CheckAllowedHosts(tc.hosts, tc.insecure)
			if got == nil || strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("accepted %q, want %q", got, tc.want)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems %v, want %d", problems, len(tc.problems))
			}
			for i, p := range problems {
				if !strings.Contains(p.Error(), tc.problems[i]) {
					t.Errorf("problem %d: %v, want %q", i, p, tc.problems[i])
				}
			}
			if len(tc.hosts) > MaxAllowedHosts && !errors.Is(problems[0], ErrTooManyAllowedHosts) {
				t.Errorf("first problem %v, want ErrTooManyAllowedHosts", problems[0])
			}
		})
	}
}

// FuzzCheckAllowedHosts: every origin is either accepted in its canonical
// form or named in a problem, never both.
func FuzzCheckAllowedHosts(f *testing.F) {
	f.Add("https://a.com", "http://localhost:3000", true)
	f.Add("http://10.1.2.3:8080", "https://a.com/x", false)
	f.Fuzz(func(t *testing.T, a, b string, insecure bool) {
		got, problems := CheckAllowedHosts([]string{a, b}, insecure)
		if len(got)+len(problems) != 2 {
			t.Fatalf("%d accepted and %d problems for 2 origins", len(got), len(problems))
		}
		for _, o := range got {
			if n, err := NormalizeOrigin(o, insecure); err != nil || n != o {
				t.Fatalf("accepted %q, which is not canonical", o)
			}
		}
	})
}
