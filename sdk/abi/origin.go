package abi

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// This file holds the one origin rule of Portico. The host applies it to
// the origins a gestor allows a plugin (and to the --allow-host flags of
// `portico plugin run`), to the links a view holds, to the URLs of the
// plugin's HTTP host calls and to the headers it derives from origins; the
// SDK's test harness applies the same rule. An origin is compared for
// exact equality of its canonical form, never by suffix.

// Reasons NormalizeOrigin gives, so that a gestor can be told which is
// wrong with an allowed host.
var (
	// ErrOriginScheme: the scheme is missing or not https (http only for
	// localhost and loopback addresses, in the demo and development).
	ErrOriginScheme = errors.New("only https is allowed")
	// ErrOriginNotBare: the origin has a path, query, fragment or
	// credentials; an origin is only scheme://host[:port].
	ErrOriginNotBare = errors.New("an origin has only a scheme, a host and an optional port")
)

// NormalizeOrigin parses s as a web origin (scheme://host[:port]) and returns
// its canonical form: lower-case scheme and host, default port removed. Only
// https is accepted, plus http for localhost and loopback addresses when
// allowInsecureLocal is set (the demo and development). Paths, queries,
// fragments and credentials are refused.
func NormalizeOrigin(s string, allowInsecureLocal bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("parse origin: %w", err)
	}
	if u.Scheme == "" {
		return "", ErrOriginScheme // "erp.example.com": no scheme at all
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return "", ErrOriginNotBare
	}
	return canonicalOrigin(u, httpLocal(allowInsecureLocal))
}

// OriginOf returns the canonical origin of an absolute URL, with the same
// scheme rules as NormalizeOrigin.
func OriginOf(raw string, allowInsecureLocal bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	if u.User != nil {
		return "", errors.New("credentials are not allowed in a URL")
	}
	return canonicalOrigin(u, httpLocal(allowInsecureLocal))
}

// MatchOrigin returns the canonical origin of the absolute URL u and
// whether it is one of allowed (origins in any spelling NormalizeOrigin
// accepts, such as "https://erp.example.com:443"). Plain http is matched
// for any host: the scheme rule is applied when an origin is admitted to
// an allow-list (NormalizeOrigin), and an http URL only ever matches an
// http origin of the list. It returns "" when u has no such origin
// (another scheme, credentials, a host that is not a DNS name or an IP
// address without a zone ID, a bad port).
func MatchOrigin(u *url.URL, allowed []string) (string, bool) {
	if u.User != nil {
		return "", false
	}
	o, err := canonicalOrigin(u, anyHTTP)
	if err != nil {
		return "", false
	}
	for _, a := range allowed {
		au, err := url.Parse(strings.TrimSpace(a))
		if err != nil || au.User != nil || au.RawQuery != "" || au.Fragment != "" || (au.Path != "" && au.Path != "/") || au.Opaque != "" {
			continue
		}
		if c, err := canonicalOrigin(au, anyHTTP); err == nil && c == o {
			return o, true
		}
	}
	return o, false
}

// httpRule says for which hosts plain http is accepted.
type httpRule func(host string) bool

func httpLocal(allowInsecureLocal bool) httpRule {
	return func(host string) bool { return allowInsecureLocal && IsLocalHost(host) }
}

func anyHTTP(string) bool { return true }

// canonicalOrigin returns u's origin, built only from checked parts: a DNS
// name (NormalizeHost) or an IP address without an IPv6 zone ID, and a
// port of 1 to 65535. Whatever it returns is therefore safe to write into
// a header (no ';', ',', space, quote or '%').
func canonicalOrigin(u *url.URL, http httpRule) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", errors.New("missing host")
	}
	if strings.Contains(host, ":") || strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("host %q is not an IPv6 address without a zone ID", host)
		}
		host = a.String()
	} else if n, ok := NormalizeHost(host); !ok || n != host {
		return "", fmt.Errorf("host %q is not a DNS name or an IP address", host)
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", fmt.Errorf("port %q out of range", port)
		}
	}
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !http(host) {
			return "", ErrOriginScheme
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", ErrOriginScheme
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

// NormalizeURL returns an absolute URL in canonical form: scheme and host
// lower-cased, the default port removed, with the scheme rules of
// NormalizeOrigin. It refuses credentials, opaque URLs, spaces and control
// characters, and a host that is not an ASCII DNS name or an IP address
// (an internationalised name is written in its xn-- form).
func NormalizeURL(raw string, allowInsecureLocal bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("parse url: %w", err)
	}
	return CanonicalURL(u, allowInsecureLocal)
}

// CanonicalURL is NormalizeURL for a parsed URL.
func CanonicalURL(u *url.URL, allowInsecureLocal bool) (string, error) {
	if u.User != nil {
		return "", errors.New("credentials are not allowed in a URL")
	}
	if u.Opaque != "" {
		return "", errors.New("not a hierarchical URL")
	}
	origin, err := canonicalOrigin(u, httpLocal(allowInsecureLocal))
	if err != nil {
		return "", err
	}
	rest := u.EscapedPath()
	if rest == "" {
		rest = "/"
	}
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		rest += "#" + u.EscapedFragment()
	}
	out := origin + rest
	// What is stored must read back as the same origin later (the portal
	// and the launch page derive their CSP from it), and hold no space or
	// control character.
	if strings.ContainsFunc(out, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", errors.New("space or control character in the URL")
	}
	if again, err := OriginOf(out, allowInsecureLocal); err != nil || again != origin {
		return "", errors.New("the URL does not read back as the same origin")
	}
	return out, nil
}

// NormalizeHost lower-cases a host (a Host header value, or the host of a
// URL) and strips its port and a trailing dot. It reports whether what is
// left is a DNS name (letters, digits and inner hyphens in labels of at
// most 63 bytes, at most 253 bytes) or a bracketed IPv6 address.
func NormalizeHost(h string) (string, bool) {
	h = strings.ToLower(strings.TrimSpace(h))
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", false
		}
		h = h[1:end]
		if h == "" || strings.Trim(h, "0123456789abcdef:.") != "" {
			return "", false
		}
		return h, true
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return h, true
}

// IsLocalHost reports whether host names this machine.
func IsLocalHost(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// MaxAllowedHosts bounds the origins a plugin may be allowed to reach.
const MaxAllowedHosts = 20

// ErrTooManyAllowedHosts is CheckAllowedHosts's problem with a list of
// more than MaxAllowedHosts origins.
var ErrTooManyAllowedHosts = fmt.Errorf("more than %d allowed hosts", MaxAllowedHosts)

// CheckAllowedHosts is the rule the portal applies to a plugin's allowed
// hosts when a gestor saves them: at most MaxAllowedHosts, each an origin
// NormalizeOrigin accepts (https only; http for localhost and loopback
// addresses when allowInsecureLocal is set, as in the demo). It returns
// the canonical form of each accepted origin (never nil) and one error per
// problem: ErrTooManyAllowedHosts first, then one naming each refused
// origin and why. Whether the plugin may reach a private address is not
// part of it: that takes the operator's list and a gestor's setting, and
// is checked on the address dialled.
func CheckAllowedHosts(hosts []string, allowInsecureLocal bool) ([]string, []error) {
	var problems []error
	if len(hosts) > MaxAllowedHosts {
		problems = append(problems, ErrTooManyAllowedHosts)
	}
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		o, err := NormalizeOrigin(h, allowInsecureLocal)
		if err != nil {
			problems = append(problems, fmt.Errorf("allowed host %q: %w", h, err))
			continue
		}
		out = append(out, o)
	}
	return out, problems
}
