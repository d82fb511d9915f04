package sandbox

import (
	"net/url"
	"testing"
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
				p := Plugin{AllowedHosts: []string{"https://a.com"}}
				if o, ok := p.allowed(u); ok && (o.scheme != "https" || o.host != "a.com" || o.port != "443") {
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
