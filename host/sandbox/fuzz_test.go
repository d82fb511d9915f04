package sandbox

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/portico-dev/portico/sdk/abi"
)

func FuzzParseOutput(f *testing.F) {
	for _, s := range []string{`{"view":{"blocks":[]}}`, `{"error":"x"}`, `{}`, `null`, `{"view":null}`, `{"view":{"blocks":[{"type":"table","rows":[["a"]]}]}} x`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := parseOutput(b, 1<<16)
		if err != nil {
			return
		}
		if out.View == nil && out.Error == "" {
			t.Fatalf("accepted an output with neither view nor error: %q", b)
		}
		if out.View != nil && out.View.Blocks == nil {
			t.Fatalf("nil blocks accepted: %q", b)
		}
	})
}

func FuzzParseHostRequest(f *testing.F) {
	for _, s := range []string{`{"op":"http","url":"https://a.com","headers":{"a":"b"},"body":"AAEC"}`, `{"op":"kv.get","key":"k"}`, `{"op":""}`, `{"body":"!!"}`, `1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseHostRequest(b)
		if err != nil {
			return
		}
		if req.Op == "" {
			t.Fatalf("accepted a request without op: %q", b)
		}
		if req.Op == "http" && req.URL != "" {
			if u, err := url.Parse(req.URL); err == nil && u.IsAbs() {
				if o, ok := abi.MatchOrigin(u, []string{"https://a.com"}); ok && o != "https://a.com" {
					t.Fatalf("%q allowed as %v", req.URL, o)
				}
			}
		}
	})
}

// FuzzExportGlobals feeds the module rewriter arbitrary bytes: it must not
// panic, and what it returns must still parse as sections.
func FuzzExportGlobals(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x06\x06\x01\x7f\x01\x41\x00\x0b"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x06\x06\x01\x7f\x01\x41\x00\x0b\x07\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, n, err := exportGlobals(b)
		if err != nil || n == 0 {
			return
		}
		if _, n2, err := exportGlobals(out); err == nil && n2 != n {
			t.Fatalf("rewritten module has %d globals, want %d", n2, n)
		}
	})
}

// FuzzIsPublic checks the outbound guard's address rule on every IPv4
// address the fuzzer tries, in each IPv6 spelling that embeds it: mapped
// and NAT64 addresses are judged as the IPv4 address, and compatible,
// translated, 6to4 and Teredo spellings are never public.
func FuzzIsPublic(f *testing.F) {
	for _, s := range [][]byte{{8, 8, 8, 8}, {127, 0, 0, 1}, {10, 0, 0, 1}, {169, 254, 169, 254}, {0, 0, 0, 0}, {255, 255, 255, 255}, {100, 64, 1, 1}} {
		f.Add(s, uint16(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, hi uint16) {
		if len(b) != 4 {
			if len(b) == 16 {
				isPublic(netip.AddrFrom16([16]byte(b))) // must not panic
			}
			return
		}
		v4 := netip.AddrFrom4([4]byte(b))
		pub := isPublic(v4)
		spell := func(prefix ...byte) netip.Addr {
			var a [16]byte
			copy(a[:], prefix)
			copy(a[12:], b)
			return netip.AddrFrom16(a)
		}
		if got := isPublic(spell(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff)); got != pub {
			t.Fatalf("mapped %s: %v, IPv4: %v", v4, got, pub)
		}
		if got := isPublic(spell(0, 0x64, 0xff, 0x9b)); got != pub {
			t.Fatalf("NAT64 %s: %v, IPv4: %v", v4, got, pub)
		}
		for name, a := range map[string]netip.Addr{
			"compatible":  spell(),
			"translated":  spell(0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0),
			"6to4":        netip.AddrFrom16([16]byte{0x20, 0x02, b[0], b[1], b[2], b[3], byte(hi >> 8), byte(hi)}),
			"teredo":      netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0, byte(hi >> 8), byte(hi), 0, 0, 0, 0, 0, 0, ^b[0], ^b[1], ^b[2], ^b[3]}),
			"local NAT64": spell(0, 0x64, 0xff, 0x9b, 0, 1),
		} {
			if isPublic(a) {
				t.Fatalf("%s spelling %s of %s is public", name, a, v4)
			}
		}
		if pub && (v4.IsPrivate() || v4.IsLoopback() || v4.IsLinkLocalUnicast() || v4.IsMulticast() || v4.IsUnspecified()) {
			t.Fatalf("%s is public", v4)
		}
	})
}

// FuzzHeaderRule: the header rule the host and the SDK's test harness
// share (abi.CheckHTTPHeader, standard library only) reads a header's name
// and value exactly as golang.org/x/net/http/httpguts and net/http do:
// valid names, valid values and canonical names.
func FuzzHeaderRule(f *testing.F) {
	for _, s := range [][2]string{{"X-Api-Key", "k"}, {"host", "a"}, {"x a", "b"}, {"X", "a\r\nB: c"}, {"x-\x80", "\x80\t"}, {"", ""}, {"proxy-foo", "1"}, {"a-b-", "\x7f"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if got, want := abi.ValidHeaderName(name), httpguts.ValidHeaderFieldName(name); got != want {
			t.Fatalf("ValidHeaderName(%q) = %v, httpguts says %v", name, got, want)
		}
		if got, want := abi.ValidHeaderValue(value), httpguts.ValidHeaderFieldValue(value); got != want {
			t.Fatalf("ValidHeaderValue(%q) = %v, httpguts says %v", value, got, want)
		}
		if got, want := abi.CanonicalHeaderKey(name), http.CanonicalHeaderKey(name); got != want {
			t.Fatalf("CanonicalHeaderKey(%q) = %q, net/http says %q", name, got, want)
		}
	})
}
