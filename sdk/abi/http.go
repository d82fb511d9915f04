package abi

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// This file holds the rules of the http host function (OpHTTP) that do not
// need a network: what a plugin's request may be (CheckHTTPRequest), which
// redirects are followed (CheckRedirect) and what of the answer is passed
// back (ResponseHeaders). The host's HTTP client applies them, and so does
// the SDK's test harness; the network rules (addresses dialled, private
// networks) are the host's alone. This package imports no net/http: it is
// compiled into every plugin.

// Limits of the http host function, beyond the bodies' (limits.go).
const (
	MaxHTTPHeaders   = 50 // headers of a request, and of a response passed back
	MaxHTTPRedirects = 5  // redirects followed, each target re-checked (CheckRedirect)
)

// HTTPUserAgent is the User-Agent of a plugin's request that sets none.
const HTTPUserAgent = "Portico-Plugin/1"

// HTTPMethods are the methods a plugin's request may use.
var HTTPMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// forbiddenHeaders are request headers the host's HTTP client owns: the
// target, the framing and the hop-by-hop headers. Every Proxy-* header is
// refused too.
var forbiddenHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Upgrade": true,
	"Te": true, "Trailer": true, "Keep-Alive": true, "Proxy-Authorization": true, "Proxy-Connection": true,
}

// HTTPRequest is a plugin's request as the host sends it: what
// CheckHTTPRequest made of a HostRequest.
type HTTPRequest struct {
	Method string   // one of HTTPMethods
	URL    *url.URL // absolute, at one of the allowed hosts, without its fragment
	Origin string   // URL's canonical origin, for messages
	// Header holds the request's headers under their canonical names
	// (CanonicalHeaderKey), with User-Agent HTTPUserAgent when the plugin
	// set none.
	Header map[string]string
}

// CheckHTTPRequest checks a plugin's http host request as the host does
// before it sends anything, in this order: the method (HTTPMethods, any
// case; empty is GET), an absolute URL (ErrInvalid) of one of allowed
// (MatchOrigin; ErrNotAllowed), a body of at most MaxHTTPRequestBody bytes
// and at most MaxHTTPHeaders headers (ErrLimit), a timeout of 0 to
// MaxTimeoutMS (ErrInvalid), then each header (CheckHTTPHeader).
func CheckHTTPRequest(req *HostRequest, allowed []string) (*HTTPRequest, *HostError) {
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = "GET"
	}
	if !slices.Contains(HTTPMethods, method) {
		return nil, hostError(ErrInvalid, "method %q is not allowed", req.Method)
	}
	u, err := url.Parse(req.URL)
	if err != nil || !u.IsAbs() {
		return nil, hostError(ErrInvalid, "url %q is not an absolute URL", req.URL)
	}
	o, ok := MatchOrigin(u, allowed)
	if !ok {
		if o == "" {
			return nil, hostError(ErrNotAllowed, "url %q is not an http(s) URL without credentials", req.URL)
		}
		return nil, hostError(ErrNotAllowed, "origin %s is not in the plugin's allowed hosts", o)
	}
	u.Fragment, u.RawFragment = "", ""
	if len(req.Body) > MaxHTTPRequestBody {
		return nil, hostError(ErrLimit, "request body of %d bytes exceeds the limit of %d", len(req.Body), MaxHTTPRequestBody)
	}
	if len(req.Headers) > MaxHTTPHeaders {
		return nil, hostError(ErrLimit, "%d headers exceed the limit of %d", len(req.Headers), MaxHTTPHeaders)
	}
	if req.TimeoutMS < 0 || req.TimeoutMS > MaxTimeoutMS {
		return nil, hostError(ErrInvalid, "timeout_ms %d is outside 0 to %d", req.TimeoutMS, MaxTimeoutMS)
	}
	header := make(map[string]string, len(req.Headers)+1)
	for k, v := range req.Headers {
		ck, herr := CheckHTTPHeader(k, v)
		if herr != nil {
			return nil, herr
		}
		header[ck] = v
	}
	if header["User-Agent"] == "" {
		header["User-Agent"] = HTTPUserAgent
	}
	return &HTTPRequest{Method: method, URL: u, Origin: o, Header: header}, nil
}

// CheckHTTPHeader checks one header a plugin sets on its request and
// returns its canonical name. The name must be an HTTP token and the value
// hold no control character but tab ("bad header", ErrInvalid); the
// headers the host's client owns — Host, Content-Length,
// Transfer-Encoding, the hop-by-hop headers (Connection, Upgrade, TE,
// Trailer, Keep-Alive) and every Proxy-* header — may not be set
// (ErrInvalid).
func CheckHTTPHeader(name, value string) (string, *HostError) {
	if !ValidHeaderName(name) || !ValidHeaderValue(value) {
		return "", hostError(ErrInvalid, "bad header %q", name)
	}
	ck := CanonicalHeaderKey(name)
	if forbiddenHeaders[ck] || strings.HasPrefix(ck, "Proxy-") {
		return "", hostError(ErrInvalid, "header %q may not be set", name)
	}
	return ck, nil
}

// ValidHeaderName reports whether s is an HTTP header field name: a
// non-empty token (RFC 9110, section 5.6.2).
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidHeaderValue reports whether s may be a header field's value: no
// control character (bytes 0 to 31 and 127) but horizontal tab.
func ValidHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// CanonicalHeaderKey returns the canonical form of a header name, as
// net/http writes it: the first letter and each letter after a hyphen
// upper case, the others lower case ("content-type" is "Content-Type").
// A name that is not a token (ValidHeaderName) is returned as it is.
func CanonicalHeaderKey(s string) string {
	if !ValidHeaderName(s) {
		return s
	}
	b := []byte(s)
	upper := true
	for i, c := range b {
		switch {
		case upper && c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case !upper && c >= 'A' && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
		upper = c == '-'
	}
	return string(b)
}

// CheckRedirect decides whether the host follows the n-th redirect of a
// request (1 for the first) to the URL to: at most MaxHTTPRedirects are
// followed (past them the request fails, ErrUpstream), and each target
// must be at one of allowed, by the same rule as the request's own URL
// (MatchOrigin; ErrNotAllowed). It returns nil when the redirect is
// followed.
func CheckRedirect(to *url.URL, n int, allowed []string) *HostError {
	if n > MaxHTTPRedirects {
		return hostError(ErrUpstream, "stopped after %d redirects", MaxHTTPRedirects)
	}
	if o, ok := MatchOrigin(to, allowed); !ok {
		if o == "" {
			o = to.Redacted()
		}
		return hostError(ErrNotAllowed, "redirect to %s is not in the allowed hosts", o)
	}
	return nil
}

// ResponseHeaders is what the host passes back of a response's headers:
// the first value of each, at most MaxHTTPHeaders of them.
func ResponseHeaders(h map[string][]string) map[string]string {
	out := make(map[string]string, min(len(h), MaxHTTPHeaders))
	for k, v := range h {
		if len(out) >= MaxHTTPHeaders {
			break
		}
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

func hostError(code, format string, args ...any) *HostError {
	return &HostError{Code: code, Message: fmt.Sprintf(format, args...)}
}
