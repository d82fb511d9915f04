package abi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestCheckHTTPRequest(t *testing.T) {
	allowed := []string{"https://erp.example.com"}
	headers := func(n int) map[string]string {
		h := map[string]string{}
		for i := range n {
			h["X-H"+strconv.Itoa(i)] = "v"
		}
		return h
	}
	for _, tc := range []struct {
		name string
		req  HostRequest
		code string // "" when the request passes
		msg  string // a part of the message
	}{
		{"get", HostRequest{URL: "https://erp.example.com/a"}, "", ""},
		{"post in lower case", HostRequest{Method: "post", URL: "https://erp.example.com/a", Body: []byte("{}")}, "", ""},
		{"an allowed origin in another spelling", HostRequest{URL: "https://ERP.example.com:443/a#frag"}, "", ""},
		{"headers", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"authorization": "Bearer t", "X-Tab": "a\tb"}}, "", ""},
		{"headers at the limit", HostRequest{URL: "https://erp.example.com/a", Headers: headers(MaxHTTPHeaders)}, "", ""},
		{"bad method", HostRequest{Method: "CONNECT", URL: "https://erp.example.com/a"}, ErrInvalid, `method "CONNECT" is not allowed`},
		{"relative url", HostRequest{URL: "/a"}, ErrInvalid, "is not an absolute URL"},
		{"unparsable url", HostRequest{URL: "::"}, ErrInvalid, "is not an absolute URL"},
		{"unlisted origin", HostRequest{URL: "https://evil.example.com/a"}, ErrNotAllowed, "origin https://evil.example.com is not in the plugin's allowed hosts"},
		{"another scheme", HostRequest{URL: "http://erp.example.com/a"}, ErrNotAllowed, "not in the plugin's allowed hosts"},
		{"credentials", HostRequest{URL: "https://u:p@erp.example.com/a"}, ErrNotAllowed, "not an http(s) URL without credentials"},
		{"file", HostRequest{URL: "file:///etc/passwd"}, ErrNotAllowed, "not an http(s) URL"},
		{"body above the limit", HostRequest{Method: "POST", URL: "https://erp.example.com/a", Body: make([]byte, MaxHTTPRequestBody+1)}, ErrLimit, "request body of"},
		{"too many headers", HostRequest{URL: "https://erp.example.com/a", Headers: headers(MaxHTTPHeaders + 1)}, ErrLimit, "51 headers exceed the limit of 50"},
		{"negative timeout", HostRequest{URL: "https://erp.example.com/a", TimeoutMS: -1}, ErrInvalid, "timeout_ms -1"},
		{"timeout above the longest call", HostRequest{URL: "https://erp.example.com/a", TimeoutMS: MaxTimeoutMS + 1}, ErrInvalid, "timeout_ms"},
		{"Host", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"Host": "other"}}, ErrInvalid, `header "Host" may not be set`},
		{"host in lower case", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"host": "other"}}, ErrInvalid, `header "host" may not be set`},
		{"Content-Length", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"Content-Length": "1"}}, ErrInvalid, "may not be set"},
		{"Transfer-Encoding", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"transfer-encoding": "chunked"}}, ErrInvalid, "may not be set"},
		{"Connection", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"Connection": "close"}}, ErrInvalid, "may not be set"},
		{"TE", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"TE": "trailers"}}, ErrInvalid, "may not be set"},
		{"Proxy-Authorization", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"Proxy-Authorization": "x"}}, ErrInvalid, "may not be set"},
		{"any Proxy- header", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"proxy-anything": "x"}}, ErrInvalid, "may not be set"},
		{"CRLF in a value", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"X": "a\r\nB: c"}}, ErrInvalid, `bad header "X"`},
		{"space in a name", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"X A": "b"}}, ErrInvalid, `bad header "X A"`},
		{"empty name", HostRequest{URL: "https://erp.example.com/a", Headers: map[string]string{"": "b"}}, ErrInvalid, `bad header ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, herr := CheckHTTPRequest(&tc.req, allowed)
			if tc.code == "" {
				if herr != nil {
					t.Fatalf("refused: %v", herr)
				}
				if r.URL.Fragment != "" || r.Header["User-Agent"] != HTTPUserAgent || r.Origin != "https://erp.example.com" {
					t.Fatalf("request %+v", r)
				}
				for k := range r.Header {
					if k != http.CanonicalHeaderKey(k) {
						t.Fatalf("header name %q is not canonical", k)
					}
				}
				return
			}
			if herr == nil || herr.Code != tc.code || !strings.Contains(herr.Message, tc.msg) {
				t.Fatalf("got %v, want %s containing %q", herr, tc.code, tc.msg)
			}
		})
	}
	// The method is upper case, a plugin's User-Agent is kept.
	r, herr := CheckHTTPRequest(&HostRequest{Method: "patch", URL: "https://erp.example.com/", Headers: map[string]string{"user-agent": "mine/1"}}, allowed)
	if herr != nil || r.Method != "PATCH" || r.Header["User-Agent"] != "mine/1" {
		t.Fatalf("%+v %v", r, herr)
	}
}

func TestResponseHeaders(t *testing.T) {
	h := map[string][]string{"A": {"1", "2"}, "B": {}}
	for i := range 2 * MaxHTTPHeaders {
		h["X-"+strconv.Itoa(i)] = []string{"v"}
	}
	out := ResponseHeaders(h)
	if len(out) != MaxHTTPHeaders {
		t.Fatalf("%d headers passed back", len(out))
	}
	if out := ResponseHeaders(map[string][]string{"A": {"1", "2"}, "B": {}}); len(out) != 1 || out["A"] != "1" {
		t.Fatalf("%v", out)
	}
}

// FuzzCheckHTTPHeader: a header passes only with a token name, a value
// without control characters but tab, and a canonical name (as net/http
// writes it) that the host's client does not own.
func FuzzCheckHTTPHeader(f *testing.F) {
	for _, s := range [][2]string{{"X-Api-Key", "k"}, {"host", "a"}, {"x a", "b"}, {"X", "a\r\nB: c"}, {"proxy-foo", "1"}, {"", ""}, {"te", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		ck, herr := CheckHTTPHeader(name, value)
		if herr != nil {
			if herr.Code != ErrInvalid {
				t.Fatalf("code %q", herr.Code)
			}
			return
		}
		if ck != http.CanonicalHeaderKey(name) || !ValidHeaderName(ck) {
			t.Fatalf("%q passed as %q", name, ck)
		}
		if forbiddenHeaders[ck] || strings.HasPrefix(ck, "Proxy-") {
			t.Fatalf("header %q passed", name)
		}
		for i := 0; i < len(value); i++ {
			if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
				t.Fatalf("value %q passed", value)
			}
		}
	})
}

func TestCheckRedirect(t *testing.T) {
	allowed := []string{"https://erp.example.com", "https://files.example.com:8443"}
	for _, tc := range []struct {
		to   string
		n    int
		code string
		msg  string
	}{
		{"https://erp.example.com/x", 1, "", ""},
		{"https://ERP.example.com:443/x", MaxHTTPRedirects, "", ""},
		{"https://files.example.com:8443/f", 2, "", ""},
		{"https://erp.example.com/x", MaxHTTPRedirects + 1, ErrUpstream, "stopped after 5 redirects"},
		{"https://evil.example.com/x", 1, ErrNotAllowed, "redirect to https://evil.example.com is not in the allowed hosts"},
		{"http://erp.example.com/x", 1, ErrNotAllowed, "redirect to http://erp.example.com is not"},
		{"https://files.example.com/f", 1, ErrNotAllowed, "redirect to https://files.example.com is not"},
		{"https://u:secret@erp.example.com/x", 1, ErrNotAllowed, "redirect to https://u:xxxxx@erp.example.com/x is not"},
		{"file:///etc/passwd", 1, ErrNotAllowed, "redirect to file:///etc/passwd is not"},
	} {
		u, err := url.Parse(tc.to)
		if err != nil {
			t.Fatal(err)
		}
		herr := CheckRedirect(u, tc.n, allowed)
		switch {
		case tc.code == "" && herr != nil:
			t.Errorf("redirect %d to %s: %v", tc.n, tc.to, herr)
		case tc.code != "" && (herr == nil || herr.Code != tc.code || !strings.Contains(herr.Message, tc.msg)):
			t.Errorf("redirect %d to %s: %v, want %s containing %q", tc.n, tc.to, herr, tc.code, tc.msg)
		}
	}
}

// FuzzCheckRedirect: a redirect is followed only within the count and to
// a URL whose origin MatchOrigin finds among the allowed hosts; a refusal
// never shows a password.
func FuzzCheckRedirect(f *testing.F) {
	f.Add("https://erp.example.com/x", 1)
	f.Add("https://u:p@erp.example.com/x", 1)
	f.Add("http://erp.example.com/x", 6)
	f.Fuzz(func(t *testing.T, raw string, n int) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		allowed := []string{"https://erp.example.com"}
		herr := CheckRedirect(u, n, allowed)
		if herr == nil {
			if _, ok := MatchOrigin(u, allowed); !ok || n > MaxHTTPRedirects {
				t.Fatalf("redirect %d to %q followed", n, raw)
			}
			return
		}
		if p, ok := u.User.Password(); ok && p != "" && p != "xxxxx" && strings.Contains(herr.Message, u.User.String()) {
			t.Fatalf("the refusal shows the password: %q", herr.Message)
		}
	})
}
