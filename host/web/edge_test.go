package web

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

func TestParseHostHeader(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		ok        bool
	}{
		{"portal.outra.test", "portal.outra.test", true},
		{"Portal.Outra.Test.:8080", "portal.outra.test", true},
		{"127.0.0.1:65535", "127.0.0.1", true},
		{"[::1]:8080", "::1", true},
		{"[2001:db8::1]", "2001:db8::1", true},
		{"a@127.0.0.2", "", false},
		{"127.0.0.1:65536", "", false},
		{"127.0.0.1:", "", false},
		{"127.0.0.1:+80", "", false},
		{"127.0.0.1:1:2", "", false},
		{"::1", "", false},
		{"[fe80::1%eth0]", "", false},
		{"[127.0.0.1]", "", false},
		{"[::1]x", "", false},
		{"a b", "", false},
		{"a_b.test", "", false},
		{"a%2eb", "", false},
		{"a/b", "", false},
		{"", "", false},
		{strings.Repeat("a", MaxHostHeader+1), "", false},
	} {
		got, ok := ParseHostHeader(tc.raw)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseHostHeader(%q) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseHostHeader: whatever is accepted is a plain host[:port] with
// nothing that could point elsewhere, and its name is what the tenant
// lookup would normalize it to.
func FuzzParseHostHeader(f *testing.F) {
	for _, s := range []string{"portal.test", "a@b", "[::1]:80", "1.2.3.4:99999", "x:y", "[fe80::1%25x]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		host, ok := ParseHostHeader(raw)
		if !ok {
			return
		}
		if strings.ContainsAny(raw, "@/?#% \t\\") || host == "" || strings.ContainsAny(host, "[]@%") {
			t.Fatalf("ParseHostHeader(%q) accepted %q", raw, host)
		}
		if !strings.HasPrefix(strings.ToLower(raw), host) && !strings.HasPrefix(strings.ToLower(raw), "["+host+"]") {
			t.Fatalf("ParseHostHeader(%q) = %q, not the header's own host", raw, host)
		}
	})
}

func TestHostLines(t *testing.T) {
	for raw, want := range map[string]int{
		"Host: a\r\nAccept: x\r\n":                   1,
		"Host: a\r\nhost: b\r\n":                     2,
		"X-Host: a\r\nHost-Name: b\r\nAccept: c\r\n": 0,
		"HOST : a\r\n":                               1,
	} {
		if got := hostLines([]byte(raw)); got != want {
			t.Errorf("hostLines(%q) = %d, want %d", raw, got, want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	proxies := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	trusted := func(a netip.Addr) bool { return inPrefixes(proxies, a) }
	peerProxy := netip.MustParseAddr("10.1.1.1")
	for _, tc := range []struct {
		name string
		peer netip.Addr
		xff  []string
		want string
	}{
		{"untrusted peer ignores the header", netip.MustParseAddr("198.51.100.9"), []string{"1.1.1.1"}, "198.51.100.9"},
		{"proxy, no header", peerProxy, nil, "10.1.1.1"},
		{"one hop", peerProxy, []string{"198.51.100.2"}, "198.51.100.2"},
		{"spoofed left entry", peerProxy, []string{"10.9.9.1, 198.51.100.2"}, "198.51.100.2"},
		{"spoofed, two trusted hops", peerProxy, []string{"203.0.113.7, 198.51.100.2, 192.0.2.1"}, "198.51.100.2"},
		{"several header lines", peerProxy, []string{"203.0.113.7", "198.51.100.2, 10.2.2.2"}, "198.51.100.2"},
		{"garbage on the right falls back to the peer", peerProxy, []string{"198.51.100.2, nonsense"}, "10.1.1.1"},
		{"garbage left of the client is never reached", peerProxy, []string{"nonsense, 198.51.100.2"}, "198.51.100.2"},
		{"with a port", peerProxy, []string{"198.51.100.2:5555"}, "198.51.100.2"},
		{"IPv6 with a port", peerProxy, []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"mapped IPv4", peerProxy, []string{"::ffff:198.51.100.2"}, "198.51.100.2"},
		{"zone refused", peerProxy, []string{"fe80::1%eth0"}, "10.1.1.1"},
		{"all trusted", peerProxy, []string{"10.3.3.3, 10.4.4.4"}, "10.3.3.3"},
		{"empty entries skipped", peerProxy, []string{" , 198.51.100.2 ,"}, "198.51.100.2"},
	} {
		if got := ClientAddr(tc.peer, tc.xff, trusted); got.String() != tc.want {
			t.Errorf("%s: ClientAddr = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// FuzzClientAddr: the answer is always the peer or an address written in
// the header, never a trusted proxy when an untrusted address lies to the
// right of every other, and an untrusted peer is always itself.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.1.1.1", "1.2.3.4, 10.0.0.1")
	f.Add("10.1.1.1", "x, , [::1]:80, ::ffff:1.2.3.4")
	f.Add("8.8.8.8", "1.1.1.1")
	proxies := ParseProxies([]string{"10.0.0.0/8"})
	trusted := func(a netip.Addr) bool { return inPrefixes(proxies, a) }
	f.Fuzz(func(t *testing.T, peerText, xff string) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil {
			return
		}
		got := ClientAddr(peer, []string{xff}, trusted)
		if !got.IsValid() {
			t.Fatalf("ClientAddr(%s, %q) is not an address", peer, xff)
		}
		if !trusted(peer.Unmap()) && got != peer.Unmap() {
			t.Fatalf("untrusted peer %s became %s", peer, got)
		}
		if got != peer.Unmap() && !strings.Contains(xff, strings.TrimPrefix(got.String(), "::ffff:")) {
			// Unmapped or canonicalized forms may differ in text; check by parsing entries.
			found := false
			for _, e := range strings.Split(xff, ",") {
				if a, ok := parseForwardedAddr(strings.TrimSpace(e)); ok && a == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("ClientAddr(%s, %q) = %s, not in the header", peer, xff, got)
			}
		}
	})
}

// TestOriginIsTheHostHeader: the origin of links Portico hands out is the
// Host header's (the one that chose the tenant), even when the request
// target is in absolute form and names another host, which fasthttp's
// Request.Host prefers.
func TestOriginIsTheHostHeader(t *testing.T) {
	app := fiber.New()
	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI("http://attacker.example/forgot")
	fctx.Request.Header.SetHost("portal.construtora.test:8080")
	c := app.AcquireCtx(&fctx)
	defer app.ReleaseCtx(c)
	if got := string(c.Request().Host()); got != "attacker.example" {
		t.Fatalf("fasthttp's Request.Host = %q: the premise of this test changed", got)
	}
	if got, want := Origin(c), "http://portal.construtora.test:8080"; got != want {
		t.Errorf("Origin = %q, want %q", got, want)
	}
	if !SameOriginAs(c, "http://portal.construtora.test:8080") || SameOriginAs(c, "http://attacker.example") {
		t.Errorf("SameOriginAs does not compare with the Host header")
	}
}

// TestClientNetwork: the login throttle counts an IPv4 client by its
// address and an IPv6 client by its /64, so that rotating through the
// addresses of one subscriber's network gives no fresh budget; two /64s
// stay apart.
func TestClientNetwork(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"0.0.0.0", "0.0.0.0"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		if got := ClientNetwork(tc.in); got != tc.want {
			t.Errorf("ClientNetwork(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
