package model

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

var allowedSites = []string{"https://www.construtora.com.br", "https://app.construtora.com.br:8443", "http://localhost:3000"}

// TestCheckReturnURLAttacks: only URLs on exactly one of the allowed
// origins pass; every look-alike a redirect check has been fooled by is
// refused.
func TestCheckReturnURLAttacks(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // "" means refused
		origin   bool   // refused for the origin (not the syntax)
	}{
		{"exact", "https://www.construtora.com.br/minha-conta?x=1#y", "https://www.construtora.com.br/minha-conta?x=1#y", false},
		{"case and default port", "HTTPS://WWW.Construtora.COM.BR:443/a", "https://www.construtora.com.br/a", false},
		{"trailing dot", "https://www.construtora.com.br./a", "https://www.construtora.com.br/a", false},
		{"explicit non-default port allowed", "https://app.construtora.com.br:8443/x", "https://app.construtora.com.br:8443/x", false},
		{"localhost in the demo", "http://localhost:3000/voltar", "http://localhost:3000/voltar", false},
		{"other host", "https://evil.example/x", "", true},
		{"look-alike suffix", "https://evilconstrutora.com.br/", "", true},
		{"allowed name as a subdomain of another", "https://www.construtora.com.br.evil.example/", "", true},
		{"sibling subdomain", "https://admin.construtora.com.br/", "", true},
		{"parent domain", "https://construtora.com.br/", "", true},
		{"other port", "https://www.construtora.com.br:8443/", "", true},
		{"allowed port missing", "https://app.construtora.com.br/", "", true},
		{"plain http", "http://www.construtora.com.br/", "", false},
		{"userinfo", "https://www.construtora.com.br@evil.example/", "", false},
		{"userinfo with password", "https://u:p@www.construtora.com.br/", "", false},
		{"backslash", "https://evil.example\\@www.construtora.com.br/", "", false},
		{"backslash path", "https://www.construtora.com.br\\evil.example", "", false},
		{"encoded dot", "https://www%2Econstrutora.com.br/", "", false},
		{"encoded at", "https://evil.example%40www.construtora.com.br/", "", false},
		{"unicode homograph", "https://www.cоnstrutora.com.br/", "", true}, // Cyrillic о
		// Browsers map a full-width dot to "." (UTS 46), so this is the
		// allowed host itself; it comes back in ASCII.
		{"fullwidth dot", "https://www．construtora．com．br/", "https://www.construtora.com.br/", false},
		{"two trailing dots", "https://www.construtora.com.br../", "", false},
		{"javascript", "javascript:alert(1)//https://www.construtora.com.br", "", false},
		{"data", "data:text/html,hi", "", false},
		{"protocol-relative", "//www.construtora.com.br/", "", false},
		{"relative path", "/minha-conta", "", false},
		{"tab inside", "https://www.constru\ttora.com.br/", "", false},
		{"newline", "https://www.construtora.com.br/\nx", "", false},
		{"space", " https://www.construtora.com.br/", "", false},
		{"empty host", "https:///x", "", false},
		{"ip address", "https://127.0.0.1/", "", true},
		{"too long", "https://www.construtora.com.br/" + strings.Repeat("a", MaxURLLength), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckReturnURL(tc.in, allowedSites, true)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("CheckReturnURL(%q) = %q, want a refusal", tc.in, got)
				}
				if tc.origin != errors.Is(err, ErrReturnURLOrigin) {
					t.Errorf("CheckReturnURL(%q): %v; refused for the origin: want %v", tc.in, err, tc.origin)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CheckReturnURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	if _, err := CheckReturnURL("http://localhost:3000/", allowedSites, false); err == nil {
		t.Error("http on localhost passed outside the demo")
	}
}

// FuzzCheckReturnURL: whatever passes is an absolute http(s) URL with no
// credentials, whose origin is exactly one of the allowed, and passes
// again unchanged.
func FuzzCheckReturnURL(f *testing.F) {
	for _, s := range []string{"https://www.construtora.com.br/x", "https://www.construtora.com.br.evil/", "https://a@b/",
		"https://www.construtora.com.br:443", "http://localhost:3000/a?b#c", "https://xn--nstrutora-q8a.com.br/"} {
		f.Add(s)
	}
	allowed := map[string]bool{}
	for _, a := range allowedSites {
		n, err := NormalizeOrigin(a, true)
		if err != nil {
			f.Fatal(err)
		}
		allowed[n] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CheckReturnURL(s, allowedSites, true)
		if err != nil {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || u.User != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("CheckReturnURL(%q) = %q: not a credential-free absolute URL", s, got)
		}
		if strings.ContainsAny(got, "\\ \t\r\n") {
			t.Fatalf("CheckReturnURL(%q) = %q: holds a backslash or space", s, got)
		}
		if !allowed[u.Scheme+"://"+u.Host] {
			t.Fatalf("CheckReturnURL(%q) = %q: origin %s is not allowed", s, got, u.Scheme+"://"+u.Host)
		}
		if again, err := CheckReturnURL(got, allowedSites, true); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func TestParseForward(t *testing.T) {
	for _, tc := range []struct {
		in, want, slug string
		ok             bool
	}{
		{"", "", "", true},
		{"customer_update_address", "customer_update_address", "", true},
		{" customer_profile ", "customer_profile", "", true},
		{"customer_invoices", "customer_invoices", "", true},
		{"plugin:financeiro", "plugin:financeiro", "financeiro", true},
		{"plugin:", "", "", false},
		{"plugin:../admin", "", "", false},
		{"plugin:Financeiro", "", "", false},
		{"customer_payment_methods", "", "", false},
		{"https://evil.example", "", "", false},
	} {
		got, slug, err := ParseForward(tc.in)
		if (err == nil) != tc.ok || got != tc.want || slug != tc.slug {
			t.Errorf("ParseForward(%q) = %q, %q, %v; want %q, %q, ok=%v", tc.in, got, slug, err, tc.want, tc.slug, tc.ok)
		}
	}
}

func TestPortalSessionStatus(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	opened := now.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		p    PortalSession
		live bool
		want string
	}{
		{"new", PortalSession{ExpiresAt: now.Add(time.Minute)}, false, PortalSessionCreated},
		{"never opened", PortalSession{ExpiresAt: now}, false, PortalSessionExpired},
		{"opened, live", PortalSession{ExpiresAt: now, OpenedAt: &opened}, true, PortalSessionLoggedIn},
		{"opened, timed out", PortalSession{ExpiresAt: now, OpenedAt: &opened}, false, PortalSessionExpired},
		{"logged out", PortalSession{ExpiresAt: now, OpenedAt: &opened, LoggedOutAt: &now}, false, PortalSessionLoggedOut},
		{"ended before opening", PortalSession{ExpiresAt: now.Add(time.Hour), LoggedOutAt: &now}, false, PortalSessionLoggedOut},
	} {
		if got := tc.p.Status(now, tc.live); got != tc.want {
			t.Errorf("%s: Status = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestAddressValidate(t *testing.T) {
	ok := Address{CEP: "01310-100", Street: "Av. Paulista", Number: "1000", City: "São Paulo", State: "sp"}
	if err := ok.Validate(); err != nil || ok.CEP != "01310100" || ok.State != "SP" {
		t.Fatalf("valid address: %v, %+v", err, ok)
	}
	if FormatCEP(ok.CEP) != "01310-100" {
		t.Errorf("FormatCEP = %q", FormatCEP(ok.CEP))
	}
	empty := Address{}
	if err := empty.Validate(); err != nil {
		t.Errorf("an empty address is no address: %v", err)
	}
	for _, tc := range []struct {
		name  string
		a     Address
		field string
		code  string
	}{
		{"short cep", Address{CEP: "0131-100", Street: "R", Number: "1", City: "C", State: "SP"}, "cep", "invalid_cep"},
		{"letters in cep", Address{CEP: "0131O-100", Street: "R", Number: "1", City: "C", State: "SP"}, "cep", "invalid_cep"},
		{"zero cep", Address{CEP: "00000-000", Street: "R", Number: "1", City: "C", State: "SP"}, "cep", "invalid_cep"},
		{"no cep", Address{Street: "R", Number: "1", City: "C", State: "SP"}, "cep", "required"},
		{"unknown state", Address{CEP: "01310100", Street: "R", Number: "1", City: "C", State: "XX"}, "state", "invalid_choice"},
		{"no city", Address{CEP: "01310100", Street: "R", Number: "1", State: "SP"}, "city", "required"},
		{"no number", Address{CEP: "01310100", Street: "R", City: "C", State: "SP"}, "number", "required"},
		{"long street", Address{CEP: "01310100", Street: strings.Repeat("r", MaxStreetLength+1), Number: "1", City: "C", State: "SP"}, "street", "too_long"},
		{"control character", Address{CEP: "01310100", Street: "R\x00", Number: "1", City: "C", State: "SP"}, "street", TextCodeInvalid},
	} {
		err := tc.a.Validate()
		v, isV := AsValidation(err)
		if !isV {
			t.Errorf("%s: %v, want a validation error", tc.name, err)
			continue
		}
		found := false
		for _, f := range v.Fields {
			found = found || f.Field == tc.field && f.Code == tc.code
		}
		if !found {
			t.Errorf("%s: %v, want %s=%s", tc.name, err, tc.field, tc.code)
		}
	}
}

func FuzzNormalizeCEP(f *testing.F) {
	for _, s := range []string{"01310-100", "01.310-100", "1", "", "٠١٣١٠١٠٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := NormalizeCEP(s)
		if !ok {
			return
		}
		if len(d) != 8 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("NormalizeCEP(%q) = %q", s, d)
		}
		if again, ok := NormalizeCEP(FormatCEP(d)); !ok || again != d {
			t.Fatalf("round trip %q -> %q -> %q", s, d, again)
		}
	})
}
