package web

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/portico-dev/portico/internal/model"
)

// OriginFormOnly answers 400 bad_request to a request whose target is not
// a path (RFC 9112's origin-form; "OPTIONS *" aside), or is one that
// starts with "//". An absolute-form target ("POST
// http://other.example/forgot") is for proxies, which Portico is not, and
// fasthttp would take such a request's host from the target rather than
// from the Host header that chose the tenant (it does so for "//host/…"
// too): a link built from it (a mailed reset link) could then lead to
// another site. Origin reads the Host header anyway; this refuses the
// forms outright. RFC 9112 asks servers to accept absolute-form; no
// browser sends it to a server, so refusing it is a deliberate deviation
// (docs/design.md, "Tenancy").
func OriginFormOnly() fiber.Handler {
	return func(c *fiber.Ctx) error {
		uri := c.Request().Header.RequestURI()
		if len(uri) > 0 && uri[0] == '/' && (len(uri) == 1 || uri[1] != '/') || string(uri) == "*" && c.Method() == fiber.MethodOptions {
			return c.Next()
		}
		return Fail(fiber.StatusBadRequest, "bad_request")
	}
}

// RefuseContentEncoding answers 415 "unsupported_content_encoding" to any
// request whose body declares a Content-Encoding other than identity.
//
// No route of Portico needs a compressed request body, and Fiber's
// c.Body() (and fasthttp's multipart parser) would inflate one without a
// limit, before any size check, so a 2 KB body could cost a gigabyte.
// Refusing the header here, ahead of every handler, means no handler ever
// reaches that inflation; a module upload is sent uncompressed, its
// 16 MiB cap already counted on the wire.
func RefuseContentEncoding() fiber.Handler {
	return func(c *fiber.Ctx) error {
		refused := false
		c.Request().Header.VisitAll(func(k, v []byte) {
			if !refused && strings.EqualFold(string(k), fiber.HeaderContentEncoding) && !identityEncoding(v) {
				refused = true
			}
		})
		if refused {
			return Fail(fiber.StatusUnsupportedMediaType, "unsupported_content_encoding")
		}
		return c.Next()
	}
}

// identityEncoding reports whether a Content-Encoding value names no
// coding at all ("", "identity", or a list of only those).
func identityEncoding(v []byte) bool {
	for _, part := range bytes.Split(v, []byte{','}) {
		p := bytes.TrimSpace(part)
		if len(p) != 0 && !bytes.EqualFold(p, []byte("identity")) {
			return false
		}
	}
	return true
}

// ErrBadHost answers a request whose Host header is missing from a
// request that needs it, repeated, or not a valid host[:port]
// (RFC 9112, section 3.2: "a server MUST respond with a 400").
var ErrBadHost = Fail(fiber.StatusBadRequest, "bad_host")

// RequestHost returns the normalized host name of the request's single,
// well-formed Host header, or false when the header is repeated or
// malformed. Absent, it returns "", true: tenant resolution then answers
// unknown_host as for any host it does not know.
func RequestHost(h *fasthttp.RequestHeader) (string, bool) {
	if hostLines(h.RawHeaders()) > 1 {
		return "", false
	}
	raw := string(h.Host())
	if raw == "" {
		return "", true
	}
	return ParseHostHeader(raw)
}

// hostLines counts the Host header lines of a raw header block.
func hostLines(raw []byte) int {
	n := 0
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		name, _, ok := bytes.Cut(line, []byte{':'})
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("host")) {
			n++
		}
	}
	return n
}

// MaxHostHeader bounds the Host header value: a 253-byte name, brackets
// and a port.
const MaxHostHeader = 270

// ParseHostHeader validates a Host header value as uri-host [":" port]
// (RFC 9110, section 7.2) and returns the normalized host name. It is
// stricter than the RFC's reg-name: only DNS names (letters, digits,
// hyphens and dots, as model.NormalizeHost), IPv4 addresses and bracketed
// IPv6 addresses without a zone; a port is 1–5 digits up to 65535. Userinfo
// ("a@host"), spaces, percent-encoding and anything else are refused.
func ParseHostHeader(raw string) (string, bool) {
	if raw == "" || len(raw) > MaxHostHeader {
		return "", false
	}
	host, port := raw, ""
	if strings.HasPrefix(raw, "[") {
		end := strings.IndexByte(raw, ']')
		if end < 0 {
			return "", false
		}
		host, port = raw[:end+1], raw[end+1:]
		a, err := netip.ParseAddr(raw[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
	} else if i := strings.IndexByte(raw, ':'); i >= 0 {
		host, port = raw[:i], raw[i:]
	}
	if port != "" {
		digits, ok := strings.CutPrefix(port, ":")
		if !ok || digits == "" || len(digits) > 5 || strings.Trim(digits, "0123456789") != "" {
			return "", false
		}
		if n, err := strconv.Atoi(digits); err != nil || n > 65535 {
			return "", false
		}
	}
	if !strings.HasPrefix(host, "[") && strings.Trim(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" {
		return "", false
	}
	return model.NormalizeHost(host)
}

// ParseProxies turns PORTICO_TRUSTED_PROXIES entries (IPs or CIDRs, already
// validated by package config) into prefixes; an entry that parses as
// neither is skipped.
func ParseProxies(entries []string) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range entries {
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(e); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// maxForwardedHops bounds how many X-Forwarded-For entries ClientAddr
// walks; a chain of more trusted proxies than this is not a real network.
const maxForwardedHops = 32

// ClientAddr returns the address of the client that sent a request: the
// peer itself unless the peer is a trusted proxy; then the right-most
// X-Forwarded-For entry that is not a trusted proxy, walking from the
// right (the entries a trusted proxy appended), so a client cannot choose
// its address by sending its own X-Forwarded-For ahead of the proxy's.
// xff holds every X-Forwarded-For line in order. An entry that is not an
// IP address (or ip:port) stops the walk and the peer is returned: a
// garbled header must not name anyone. When every entry is a trusted
// proxy, the left-most one is the client.
func ClientAddr(peer netip.Addr, xff []string, trusted func(netip.Addr) bool) netip.Addr {
	peer = peer.Unmap()
	if !trusted(peer) {
		return peer
	}
	last := peer
	hops := 0
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			entry := line
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				entry, line = line[j+1:], line[:j]
			} else {
				line = ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if hops++; hops > maxForwardedHops {
				return last
			}
			a, ok := parseForwardedAddr(entry)
			if !ok {
				return peer
			}
			if !trusted(a) {
				return a
			}
			last = a
		}
	}
	return last
}

// parseForwardedAddr parses one X-Forwarded-For entry: an IP address, or
// an address with a port ("1.2.3.4:5", "[::1]:5"). Zones are refused.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// inPrefixes reports whether a is inside one of ps.
func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the request's client address as text (see ClientAddr),
// for the login throttle's key, the audit log's actor and the logs'
// client_ip. Nothing else in Portico reads the client address.
func (e *Env) ClientIP(c *fiber.Ctx) string {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var xff []string
	if len(e.Proxies) > 0 {
		c.Request().Header.VisitAll(func(k, v []byte) {
			if strings.EqualFold(string(k), fiber.HeaderXForwardedFor) {
				xff = append(xff, string(v))
			}
		})
	}
	a := ClientAddr(peer, xff, func(a netip.Addr) bool { return inPrefixes(e.Proxies, a) })
	if !a.IsValid() {
		return c.Context().RemoteIP().String()
	}
	return a.String()
}

// LoginIPKey is the login throttle's per-client key of a request: the
// tenant and the client's network (ClientNetwork of ClientIP).
func (e *Env) LoginIPKey(c *fiber.Ctx) string {
	return Tenant(c).ID + "|ip|" + ClientNetwork(e.ClientIP(c))
}

// LoginNetKey is the login throttle's key of the wider network a request
// comes from (the IPv6 /48 of ClientIP), and false for an IPv4 client,
// whose address is already its network.
func (e *Env) LoginNetKey(c *fiber.Ctx) (string, bool) {
	a, err := netip.ParseAddr(e.ClientIP(c))
	if err != nil || a.Unmap().Is4() {
		return "", false
	}
	p, err := a.WithZone("").Prefix(48)
	if err != nil {
		return "", false
	}
	return Tenant(c).ID + "|net|" + p.String(), true
}

// ClientNetwork is a client address as the login throttle and the login
// queue count it: an IPv4 address as it is, an IPv6 address as its /64.
// An IPv6 subscriber is given a whole /64 (or more) and can send from any
// of its 2^64 addresses, so counting addresses would give an attacker a
// fresh budget per request. Text that is not an address is kept as it is.
func ClientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
