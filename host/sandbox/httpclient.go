package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// privateAddrError refuses a connection to a non-public address. Its
// message names the host, not the address it resolved to: it reaches the
// plugin and its gestor, who must not learn the operator's internal DNS
// answers from it.
type privateAddrError struct {
	host string
}

func (e *privateAddrError) Error() string {
	return e.host + " resolves to a private or reserved address"
}

// specialPurpose lists the IANA special-purpose ranges (RFC 6890 and its
// registry) that a plugin may never reach, beyond what the netip
// classification (private, loopback, link-local, multicast, unspecified)
// already refuses. docs/design-runtime.md explains each decision.
var specialPurpose = []netip.Prefix{
	// IPv4.
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),       // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),     // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),     // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved
	netip.MustParsePrefix("255.255.255.255/32"), // limited broadcast
	// IPv6.
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), with :: and ::1
	netip.MustParsePrefix("::ffff:0:0/96"),   // IPv4-mapped (judged unmapped first; kept for safety)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // NAT64 local use: embedding not known
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, incl. Teredo 2001::/32
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4 (deprecated, RFC 7526)
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

// nat64 is the NAT64 well-known prefix (RFC 6052): the last 32 bits are
// the IPv4 address the gateway connects to, so the address is judged by it.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// isPublic reports whether ip is a public unicast address a plugin may
// connect to. It is the one rule of the outbound HTTP guard, applied at
// dial time to every resolved address. An IPv4-mapped address is judged as
// the IPv4 address it is, a NAT64 well-known-prefix address by the IPv4
// address it embeds; every other address that embeds an IPv4 address
// (IPv4-compatible, IPv4-translated, 6to4, Teredo) is refused whole, as is
// any address with a zone.
func isPublic(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		return isPublic(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range specialPurpose {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// initHTTP builds the engine's HTTP transports: each its own connection
// pool, no proxy from the environment, and a dialer that checks every
// resolved address at connect time. One dials public addresses only; the
// other, for plugins with AllowPrivateNetwork, also the operator's
// Options.PrivateNetworks (and clientFor makes one per tenant's own list).
func (e *Engine) initHTTP() error {
	if err := checkPrefixes(e.opts.PrivateNetworks); err != nil {
		return err
	}
	e.http = &http.Client{Transport: e.transport(nil)}
	e.httpPrivate = &http.Client{Transport: e.transport(e.opts.PrivateNetworks)}
	return nil
}

func checkPrefixes(nets []netip.Prefix) error {
	for _, p := range nets {
		if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" {
			return fmt.Errorf("private network %q is not a canonical CIDR", p)
		}
	}
	return nil
}

func (e *Engine) transport(private []netip.Prefix) *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return e.dial(ctx, network, addr, private)
		},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// clientFor returns the client whose dialer applies p's private-network
// rule: public addresses only, the engine's list, or the engine's list and
// p's own (one client, and so one connection pool, per distinct list).
func (e *Engine) clientFor(p *Plugin) (*http.Client, error) {
	switch {
	case !p.AllowPrivateNetwork:
		return e.http, nil
	case len(p.PrivateNetworks) == 0:
		return e.httpPrivate, nil
	}
	key := fmt.Sprint(p.PrivateNetworks)
	if c, ok := e.httpScoped.Load(key); ok {
		return c.(*http.Client), nil
	}
	if err := checkPrefixes(p.PrivateNetworks); err != nil {
		return nil, err
	}
	nets := append(slices.Clone(e.opts.PrivateNetworks), p.PrivateNetworks...)
	c, _ := e.httpScoped.LoadOrStore(key, &http.Client{Transport: e.transport(nets)})
	return c.(*http.Client), nil
}

// closeHTTP drops the idle connections of every transport.
func (e *Engine) closeHTTP() {
	for _, c := range []*http.Client{e.http, e.httpPrivate} {
		if c != nil {
			c.CloseIdleConnections()
		}
	}
	e.httpScoped.Range(func(_, c any) bool {
		c.(*http.Client).CloseIdleConnections()
		return true
	})
}

var dialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// permitted reports whether a plugin may connect to ip: a public address,
// or one inside private (the operator's list, for a plugin that holds the
// setting).
func permitted(ip netip.Addr, private []netip.Prefix) bool {
	if isPublic(ip) {
		return true
	}
	if ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	for _, p := range private {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// dial resolves addr with the engine's resolver and connects to the first
// permitted address (see permitted). The address checked is the address
// dialled, so DNS rebinding cannot slip in between.
func (e *Engine) dial(ctx context.Context, network, addr string, private []netip.Prefix) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", addr, err)
	}
	host = strings.ToLower(host)
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip.Unmap()}
	} else {
		addrs, err := e.opts.Resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", host, err)
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				ips = append(ips, ip.Unmap())
			}
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %q: no addresses", host)
	}
	var lastErr error
	for _, ip := range ips {
		if !permitted(ip, private) {
			lastErr = &privateAddrError{host: host}
			continue
		}
		conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// doHTTP performs the http host function.
func (e *Engine) doHTTP(ctx context.Context, cs *callState, req *abi.HostRequest) *abi.HostResponse {
	// What the request may be is the plugin contract's rule, which the
	// SDK's test harness applies too (abi.CheckHTTPRequest): method, URL
	// at an allowed host, sizes, timeout and headers.
	r, herr := abi.CheckHTTPRequest(req, cs.p.AllowedHosts)
	if herr != nil {
		return &abi.HostResponse{Error: herr}
	}
	u, o := r.URL, r.Origin
	callCtx := ctx
	if req.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
		defer cancel()
	} else if deadline, ok := ctx.Deadline(); ok {
		// No timeout asked: end a little before the call does, so that
		// the plugin can still say what went wrong (abi.HTTPReserveMS).
		left := time.Until(deadline).Milliseconds()
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Duration(abi.HTTPReserveMS(left))*time.Millisecond))
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return hostErr(abi.ErrInvalid, "bad request: %s", err.Error())
	}
	for k, v := range r.Header {
		hreq.Header[k] = []string{v}
	}
	base, err := e.clientFor(cs.p)
	if err != nil {
		return hostErr(abi.ErrUpstream, "%v", err)
	}
	client := &http.Client{
		Transport: base.Transport,
		// The redirect rule is the plugin contract's (abi.CheckRedirect:
		// at most MaxHTTPRedirects, each target at an allowed host), which
		// the SDK's test harness applies too; the dialer checks the
		// address of each target.
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if herr := abi.CheckRedirect(r.URL, len(via), cs.p.AllowedHosts); herr != nil {
				return herr
			}
			return nil
		},
	}
	resp, err := client.Do(hreq)
	if err != nil {
		var pe *privateAddrError
		var he *abi.HostError
		switch {
		case errors.As(err, &pe):
			return hostErr(abi.ErrNotAllowed, "%s", pe.Error())
		case errors.As(err, &he):
			return &abi.HostResponse{Error: he}
		case callCtx.Err() != nil:
			return hostErr(abi.ErrUpstream, "request to %s timed out with the call", o)
		case ctx.Err() != nil && req.TimeoutMS == 0:
			return hostErr(abi.ErrUpstream, "request to %s did not answer before the call's deadline", o)
		case ctx.Err() != nil:
			return hostErr(abi.ErrUpstream, "request to %s timed out after %d ms", o, req.TimeoutMS)
		}
		return hostErr(abi.ErrUpstream, "request to %s failed: %s", o, err.Error())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxHTTPResponseBody+1))
	if err != nil {
		return hostErr(abi.ErrUpstream, "reading the response of %s failed: %s", o, err.Error())
	}
	if len(body) > MaxHTTPResponseBody {
		return hostErr(abi.ErrLimit, "response body exceeds the limit of %d bytes", MaxHTTPResponseBody)
	}
	return &abi.HostResponse{Status: resp.StatusCode, Headers: abi.ResponseHeaders(resp.Header), Body: body}
}
