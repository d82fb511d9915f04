package model

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/portico-dev/portico/sdk/abi"

	"github.com/portico-dev/portico/internal/document"
)

// FieldError is a validation failure of one named field. Code is a stable
// machine-readable reason that user interfaces translate.
type FieldError struct {
	Field string
	Code  string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Code) }

// ValidationError collects every field that failed, so a form can show all
// of them at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a failure of field with code.
func (e *ValidationError) Add(field, code string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Code: code})
}

// Has reports whether field has failed already.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns e when it holds failures and nil otherwise.
func (e *ValidationError) Err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// AsValidation unwraps a *ValidationError from err.
func AsValidation(err error) (*ValidationError, bool) {
	var v *ValidationError
	ok := errors.As(err, &v)
	return v, ok
}

// MaxEmailLength is the longest address accepted (RFC 5321 path limit).
const MaxEmailLength = 254

// NormalizeEmail trims surrounding spaces and lower-cases an e-mail address,
// then checks that it is one bare address (no display name, no list). Users
// are looked up by the normalised form, so "  Ana@Exemplo.COM " and
// "ana@exemplo.com" are the same account.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", errors.New("empty e-mail")
	}
	if len(s) > MaxEmailLength || !ValidText(s, false) {
		return "", errors.New("e-mail too long or not UTF-8")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", errors.New("not a bare e-mail address")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !strings.Contains(s[at:], ".") {
		return "", errors.New("e-mail needs a local part and a domain with a dot")
	}
	return s, nil
}

// NormalizeDocument strips punctuation from a CPF or CNPJ, upper-cases
// it and verifies its check digits (document.Normalize).
func NormalizeDocument(s string) (string, error) { return document.Normalize(s) }

var phoneRe = regexp.MustCompile(`^\+?[0-9]{8,15}$`)

// NormalizePhone removes spaces, dashes, dots and parentheses and checks that
// what is left is 8–15 digits with an optional leading '+'.
func NormalizePhone(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, s)
	if !phoneRe.MatchString(s) {
		return "", errors.New("phone must be 8 to 15 digits")
	}
	return s, nil
}

// FormatPhone writes a stored phone (NormalizePhone) as people read a
// Brazilian number: "(11) 98765-4321" for a mobile with its area code,
// "(11) 3456-7890" for a landline, "+55 (11) 98765-4321" with the country
// code; any other number as it is stored.
func FormatPhone(s string) string {
	rest, country := s, ""
	if r, ok := strings.CutPrefix(s, "+55"); ok && (len(r) == 10 || len(r) == 11) {
		rest, country = r, "+55 "
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return s
		}
	}
	switch len(rest) {
	case 11:
		return country + "(" + rest[:2] + ") " + rest[2:7] + "-" + rest[7:]
	case 10:
		return country + "(" + rest[:2] + ") " + rest[2:6] + "-" + rest[6:]
	}
	return s
}

// ValidSlug reports whether s is a lower-case slug of 1–48 letters, digits
// and inner hyphens (abi.ValidSlug, the plugin contract's rule).
func ValidSlug(s string) bool { return abi.ValidSlug(s) }

var colorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ValidColor reports whether s is a #rrggbb colour.
func ValidColor(s string) bool { return colorRe.MatchString(s) }

// SupportedLocales lists the portal's languages; the first is the default
// (abi.Locales).
var SupportedLocales = abi.Locales

// ValidLocale reports whether s is one of SupportedLocales.
func ValidLocale(s string) bool { return slices.Contains(SupportedLocales, s) }

// NormalizeOrigin is the one origin rule, abi.NormalizeOrigin: it returns
// the canonical form of an https origin (http only for localhost and
// loopback addresses when allowInsecureLocal is set), refusing paths,
// queries, fragments, credentials and IPv6 zone IDs.
func NormalizeOrigin(s string, allowInsecureLocal bool) (string, error) {
	return abi.NormalizeOrigin(s, allowInsecureLocal)
}

// OriginOf returns the canonical origin of an absolute URL, with the same
// scheme rules as NormalizeOrigin (abi.OriginOf).
func OriginOf(raw string, allowInsecureLocal bool) (string, error) {
	return abi.OriginOf(raw, allowInsecureLocal)
}

// NormalizeURL returns an absolute plugin URL in canonical form: an
// internationalised host converted to its ASCII (IDNA/punycode) form, then
// abi.CanonicalURL (scheme and host lower-cased, the default port removed,
// the scheme rules of NormalizeOrigin, no credentials). The IDNA step is
// the portal's (it needs golang.org/x/net); the plugin contract takes
// ASCII hosts only.
func NormalizeURL(raw string, allowInsecureLocal bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	if u.User != nil {
		return "", errors.New("credentials are not allowed in a URL")
	}
	if u.Opaque != "" {
		return "", errors.New("not a hierarchical URL")
	}
	host := u.Hostname()
	if !strings.Contains(host, ":") { // not an IPv6 literal
		if !utf8.ValidString(host) {
			return "", errors.New("host is not UTF-8")
		}
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", fmt.Errorf("host %q: %w", host, err)
		}
		// The ASCII form must itself be a valid, stable DNS name; labels that
		// encode garbage do not survive a second conversion.
		if again, err := idna.Lookup.ToASCII(ascii); err != nil || again != ascii {
			return "", fmt.Errorf("host %q has no stable ASCII form", host)
		}
		if _, ok := NormalizeHost(ascii); !ok {
			return "", fmt.Errorf("host %q is not a DNS name", host)
		}
		if u.Port() != "" {
			u.Host = ascii + ":" + u.Port()
		} else {
			u.Host = ascii
		}
	}
	return abi.CanonicalURL(u, allowInsecureLocal)
}

// IsLocalHost reports whether host names this machine (abi.IsLocalHost).
func IsLocalHost(host string) bool { return abi.IsLocalHost(host) }
