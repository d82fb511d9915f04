package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

// gzipped compresses b with gzip.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	testdb.Must(t, err, "gzip")
	testdb.Must(t, w.Close(), "gzip close")
	return buf.Bytes()
}

// gzipBomb returns n zero bytes gzipped twice ("Content-Encoding: gzip,
// gzip"): a few kilobytes on the wire.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	// One gzip member of 1 MiB of zeros, repeated: a multi-member stream
	// (RFC 1952 §2.2) that inflates to n bytes, built without compressing
	// n bytes (which took ~20 s under -race).
	member := gzipped(t, make([]byte, 1<<20))
	return gzipped(t, bytes.Repeat(member, n>>20))
}

// TestCompressedBodiesAreRefused sends a double-gzip bomb that inflates to
// 256 MiB to the unauthenticated login endpoint, and other encoded bodies
// to other routes: each is refused with 415 unsupported_content_encoding
// before anything inflates it, and the server does not allocate anything
// near the inflated size. An identity or absent encoding still works.
func TestCompressedBodiesAreRefused(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	const inflated = 256 << 20
	bomb := gzipBomb(t, inflated)
	if len(bomb) > server.BodyLimit {
		t.Fatalf("the bomb is %d bytes, over the body limit; it would not test inflation", len(bomb))
	}
	c := p.NewClient(t, "")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := c.Do("POST", "/api/v1/session", string(bomb), "Content-Type", "application/json", "Content-Encoding", "gzip, gzip", "Accept-Language", "en")
	runtime.ReadMemStats(&after)
	if r.Status != http.StatusUnsupportedMediaType || r.ErrorCode() != "unsupported_content_encoding" || !strings.Contains(string(r.Body), "Content-Encoding") {
		t.Fatalf("gzip bomb on POST /api/v1/session: %d %.300s", r.Status, r.Body)
	}
	// The server runs in this process: everything it allocated for the
	// request is in TotalAlloc. Inflating would have cost at least 256 MiB.
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("refusing a %d-byte bomb of %d MiB allocated %d KiB", len(bomb), inflated>>20, grew>>10)
	if grew > 32<<20 {
		t.Errorf("refusing a %d-byte bomb allocated %d MiB", len(bomb), grew>>20)
	}

	form := url.Values{"email": {"x@y.z"}, "password": {"x"}}.Encode()
	var deflated bytes.Buffer
	zw := zlib.NewWriter(&deflated)
	_, _ = zw.Write([]byte(form))
	_ = zw.Close()
	for _, tc := range []struct {
		name, path, ct, encoding string
		body                     []byte
	}{
		{"single gzip json", "/api/v1/session", "application/json", "gzip", gzipped(t, []byte(`{"email":"a@b.c","password":"x"}`))},
		{"deflate form", "/login", "application/x-www-form-urlencoded", "deflate", deflated.Bytes()},
		{"brotli", "/api/v1/session", "application/json", "br", []byte{0x1b, 0x00}},
		{"identity then gzip", "/api/v1/session", "application/json", "identity, gzip", gzipped(t, []byte(`{}`))},
		{"gzip module upload", "/api/v1/admin/plugins/hello/versions", "application/wasm", "gzip", gzipped(t, []byte("\x00asm\x01\x00\x00\x00"))},
		{"gzip multipart upload", "/admin/plugins/hello/versions", "multipart/form-data; boundary=x", "gzip", gzipped(t, []byte("--x--\r\n"))},
	} {
		r := c.Do("POST", tc.path, string(tc.body), "Content-Type", tc.ct, "Content-Encoding", tc.encoding)
		if r.Status != http.StatusUnsupportedMediaType || !strings.Contains(string(r.Body), "unsupported_content_encoding") && !strings.Contains(string(r.Body), "Content-Encoding") {
			t.Errorf("%s: %d %.300s", tc.name, r.Status, r.Body)
		}
	}
	// No coding at all is still a login.
	for _, enc := range []string{"", "identity"} {
		h := []string{"Content-Type", "application/json"}
		if enc != "" {
			h = append(h, "Content-Encoding", enc)
		}
		r := c.Do("POST", "/api/v1/session", `{"email":"cliente@demo.portico.test","password":"errada"}`, h...)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("Content-Encoding %q: %d %.300s", enc, r.Status, r.Body)
		}
	}
}

// TestMalformedMultipartKeepsTheRequest: a multipart body that does not
// parse is the handler's to refuse. Parsed before routing, it made
// fasthttp reset the request (path and headers), and an API client got
// the portal's HTML error page in pt-BR instead of JSON in its language.
func TestMalformedMultipartKeepsTheRequest(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	body := "--zzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nemail"
	for _, path := range []string{"/api/v1/admin/users/import", "/api/v1/admin/tenant"} {
		r := c.Do("POST", path, body, "Content-Type", "multipart/form-data; boundary=zzz", "Accept-Language", "en")
		if r.Status != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
			r.ErrorCode() != "unauthenticated" || !strings.Contains(string(r.Body), "Log in") {
			t.Errorf("%s: %d %s %.300s", path, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	}
}

// rawExchange writes req on a fresh TCP connection and reads one response.
func rawExchange(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	testdb.Must(t, err, "dial")
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, req)
	testdb.Must(t, err, "write request")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	testdb.Must(t, err, "read response to %q", req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestHostHeaderMustBeOneValidHost sends requests over a raw TCP connection
// with repeated and malformed Host headers: each is a 400 bad_host before
// any tenant is resolved (neither tenant's data, nor unknown_host). A
// single valid Host still picks its tenant.
func TestHostHeaderMustBeOneValidHost(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	_, port, _ := net.SplitHostPort(p.Addr)
	get := func(hosts ...string) string {
		var b strings.Builder
		b.WriteString("GET /api/v1/me/menu HTTP/1.1\r\n")
		for _, h := range hosts {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("Accept-Language: en\r\nConnection: close\r\n\r\n")
		return b.String()
	}
	for _, tc := range []struct {
		name string
		req  string
	}{
		{"two Host lines, other tenant last", get("Host: "+p.Addr, "Host: "+servertest.OtherHost)},
		{"two Host lines, same host", get("Host: "+p.Addr, "Host: "+p.Addr)},
		{"lower-case duplicate", get("Host: "+p.Addr, "host: "+servertest.OtherHost)},
		{"userinfo", get("Host: a@127.0.0.1:" + port)},
		{"userinfo to the other tenant", get("Host: x@" + servertest.OtherHost)},
		{"space inside", get("Host: 127.0.0.1 :" + port)},
		{"port out of range", get("Host: 127.0.0.1:99999")},
		{"empty port", get("Host: 127.0.0.1:")},
		{"non-numeric port", get("Host: 127.0.0.1:http")},
		{"two ports", get("Host: 127.0.0.1:1:2")},
		{"percent-encoded", get("Host: portal%2eoutra.test")},
		{"underscore", get("Host: portal_outra.test")},
		{"IPv6 zone", get("Host: [fe80::1%25eth0]")},
		{"IPv6 unbracketed", get("Host: ::1")},
		{"path in host", get("Host: 127.0.0.1/x")},
	} {
		status, body := rawExchange(t, p.Addr, tc.req)
		if status != http.StatusBadRequest || !strings.Contains(body, `"bad_host"`) {
			t.Errorf("%s: %d %.300s", tc.name, status, body)
		}
	}
	// A single valid Host: the API answers for its tenant (401 without a
	// session), and an unknown one is still 404 unknown_host.
	for _, tc := range []struct {
		host   string
		status int
		code   string
	}{
		{"Host: " + p.Addr, 401, "unauthenticated"},
		{"Host: " + servertest.OtherHost, 401, "unauthenticated"},
		{"Host: PORTAL.OUTRA.TEST.", 401, "unauthenticated"},
		{"Host: nowhere.test", 404, "unknown_host"},
		{"Host: [::1]:" + port, 404, "unknown_host"},
	} {
		status, body := rawExchange(t, p.Addr, get(tc.host))
		if status != tc.status || !strings.Contains(body, `"`+tc.code+`"`) {
			t.Errorf("%s: %d %.300s", tc.host, status, body)
		}
	}
}

// TestForwardedForCannotChooseTheThrottleKey runs the server behind a
// trusted proxy (127.0.0.1, which appends the real client 198.51.100.2 to
// X-Forwarded-For) and sends failed logins whose own X-Forwarded-For entry
// changes every time: the login throttle keys on the right-most untrusted
// address, so the per-IP budget runs out and 429 arrives.
func TestForwardedForCannotChooseTheThrottleKey(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	c := p.NewClient(t, "")
	limited := 0
	for i := 0; i < 2*server.IPFailures && limited == 0; i++ {
		// A different account each time, so only the per-IP budget counts.
		body := map[string]string{"email": fmt.Sprintf("ninguem%d@demo.portico.test", i), "password": "errada"}
		r := c.Do("POST", "/api/v1/session", body, "X-Forwarded-For", fmt.Sprintf("10.%d.%d.1, 198.51.100.2", i/250, i%250))
		switch r.Status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limited = i + 1
		default:
			t.Fatalf("login %d: %d %.300s", i, r.Status, r.Body)
		}
	}
	if limited == 0 {
		t.Fatalf("no 429 after %d failed logins: the spoofed X-Forwarded-For entry chose the throttle key", 2*server.IPFailures)
	}
	if limited != server.IPFailures+1 {
		t.Fatalf("429 came at attempt %d, want %d: the spoofed X-Forwarded-For entry chose the throttle key", limited, server.IPFailures+1)
	}
	// Another real client behind the same proxy keeps its own budget.
	r := c.Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password},
		"X-Forwarded-For", "198.51.100.2, 198.51.100.3")
	if r.Status != http.StatusOK {
		t.Errorf("login from another client behind the proxy: %d %.300s", r.Status, r.Body)
	}
}

// TestCSRFTokenOnlyFromBodyOrHeader: a logged-in portal form post whose
// _csrf is only in the query string is refused; the same token in the
// body or the X-CSRF-Token header passes.
func TestCSRFTokenOnlyFromBodyOrHeader(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	for _, tc := range []struct {
		name   string
		query  bool
		body   bool
		header bool
		status int
	}{
		{"query only", true, false, false, http.StatusForbidden},
		{"body", false, true, false, http.StatusSeeOther},
		{"header", false, false, true, http.StatusSeeOther},
	} {
		c := p.NewClient(t, "")
		login := csrfOf(t, c.Do("GET", "/login", nil))
		if r := c.Do("POST", "/login", url.Values{"_csrf": {login}, "email": {"cliente@demo.portico.test"}, "password": {demo.Password}}); r.Status != http.StatusSeeOther {
			t.Fatalf("log in: %d %.300s", r.Status, r.Body)
		}
		token := csrfOf(t, c.Do("GET", "/", nil))
		path, form, h := "/locale", url.Values{"locale": {"es"}}, []string{}
		if tc.query {
			path += "?_csrf=" + url.QueryEscape(token)
		}
		if tc.body {
			form.Set("_csrf", token)
		}
		if tc.header {
			h = append(h, "X-CSRF-Token", token)
		}
		if r := c.Do("POST", path, form, h...); r.Status != tc.status {
			t.Errorf("%s: %d, want %d: %.300s", tc.name, r.Status, tc.status, r.Body)
		}
	}
}

// TestPreLoginCSRFNeedsAServerIssuedToken: the login form's double-submit
// check accepts only a cookie the server issued for this tenant, not any
// equal cookie and field.
func TestPreLoginCSRFNeedsAServerIssuedToken(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	creds := url.Values{"email": {"cliente@demo.portico.test"}, "password": {demo.Password}}
	with := func(token string) url.Values {
		v := url.Values{"_csrf": {token}}
		for k, vs := range creds {
			v[k] = vs
		}
		return v
	}
	// A token the other tenant issued.
	other := p.NewClient(t, servertest.OtherHost)
	otherToken := csrfOf(t, other.Do("GET", "/login", nil))
	for _, forged := range []string{"x", strings.Repeat("A", 43), strings.Repeat("A", 43) + "." + strings.Repeat("B", 43), otherToken} {
		c := p.NewClient(t, "")
		r := c.Do("POST", "/login", with(forged), "Cookie", "portico_csrf="+forged)
		if r.Status != http.StatusForbidden {
			t.Errorf("forged pre-login token %.20q: %d %.300s", forged, r.Status, r.Body)
		}
	}
	// The server's own token works.
	c := p.NewClient(t, "")
	token := csrfOf(t, c.Do("GET", "/login", nil))
	if r := c.Do("POST", "/login", with(token)); r.Status != http.StatusSeeOther {
		t.Errorf("issued token: %d %.300s", r.Status, r.Body)
	}
}

// TestOriginCheckComparesScheme: an Origin with our host and port but
// another scheme is another origin. Behind a trusted proxy that says the
// client came over https, the https origin is ours and the http one not.
func TestOriginCheckComparesScheme(t *testing.T) {
	login := map[string]string{"email": "cliente@demo.portico.test", "password": "errada"}
	direct := servertest.Start(t, "sqlite")
	proxied := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })
	for _, tc := range []struct {
		name   string
		p      *servertest.Portal
		origin string
		header []string
		status int
	}{
		{"same origin", direct, "http://%s", nil, http.StatusUnauthorized},
		{"https origin over http", direct, "https://%s", nil, http.StatusForbidden},
		{"other scheme", direct, "ftp://%s", nil, http.StatusForbidden},
		{"null", direct, "null", nil, http.StatusForbidden},
		{"origin with a path", direct, "http://%s/x", nil, http.StatusForbidden},
		{"untrusted X-Forwarded-Proto", direct, "https://%s", []string{"X-Forwarded-Proto", "https"}, http.StatusForbidden},
		{"https behind the proxy", proxied, "https://%s", []string{"X-Forwarded-Proto", "https"}, http.StatusUnauthorized},
		{"http origin behind an https proxy", proxied, "http://%s", []string{"X-Forwarded-Proto", "https"}, http.StatusForbidden},
	} {
		origin := tc.origin
		if strings.Contains(origin, "%s") {
			origin = fmt.Sprintf(origin, tc.p.Addr)
		}
		c := tc.p.NewClient(t, "")
		r := c.Do("POST", "/api/v1/session", login, append([]string{"Origin", origin}, tc.header...)...)
		if r.Status != tc.status {
			t.Errorf("%s: %d, want %d: %.300s", tc.name, r.Status, tc.status, r.Body)
		}
		if tc.status == http.StatusForbidden && r.ErrorCode() != "cross_origin" {
			t.Errorf("%s: code %q, want cross_origin", tc.name, r.ErrorCode())
		}
	}
}

// TestConnectionsAreBounded: past PORTICO_MAX_CONNECTIONS open
// connections (idle keep-alives included) a new one is answered 503 and
// closed, and once one closes a new one is served again.
func TestConnectionsAreBounded(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.MaxConnections = 3 })
	get := func(conn net.Conn) (int, error) {
		if _, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", p.Addr); err != nil {
			return 0, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", p.Addr)
		testdb.Must(t, err, "dial")
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	var open []net.Conn
	for i := range 3 {
		conn := dial()
		if code, err := get(conn); err != nil || code != http.StatusOK {
			t.Fatalf("connection %d: %d %v", i, code, err)
		}
		open = append(open, conn) // kept alive, idle
	}
	if code, err := get(dial()); err == nil && code != http.StatusServiceUnavailable {
		t.Fatalf("a fourth connection: %d, want 503 (or closed)", code)
	}
	open[0].Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, err := get(dial()); err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection served after one closed")
		}
	}
}

// TestHTTPSCookiesAreHostOnly: behind a proxy that says the client came
// over https, the session and login-form CSRF cookies are __Host- cookies
// (Secure, Path=/, no Domain), which no other host of the site can set; a
// bare portico_session cookie, which a sibling subdomain could plant with
// Domain=.parent and a longer Path so that the browser sends it first,
// logs no one in there. Over plain http (the demo) the bare names stay.
func TestHTTPSCookiesAreHostOnly(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })
	https := []string{"X-Forwarded-Proto", "https", "Origin", "https://" + p.Addr}
	cookies := func(r *servertest.Response) map[string]*http.Cookie {
		out := map[string]*http.Cookie{}
		for _, v := range r.Header.Values("Set-Cookie") {
			ck, err := http.ParseSetCookie(v)
			testdb.Must(t, err, "parse %q", v)
			out[ck.Name] = ck
		}
		return out
	}
	hostOnly := func(ck *http.Cookie) bool { return ck != nil && ck.Secure && ck.Path == "/" && ck.Domain == "" }

	c := p.NewClient(t, "")
	if got := cookies(c.Do("GET", "/login", nil, https...)); !hostOnly(got["__Host-portico_csrf"]) || got["portico_csrf"] != nil {
		t.Errorf("the login page's cookies over https: %v", got)
	}
	r := c.Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}, https...)
	got := cookies(r)
	if r.Status != http.StatusOK || !hostOnly(got["__Host-portico_session"]) || got["portico_session"] != nil {
		t.Fatalf("login over https: %d, cookies %v", r.Status, got)
	}
	token := got["__Host-portico_session"].Value
	me := func(cookie string) string {
		r := p.NewClient(t, "").Do("GET", "/api/v1/me", nil, append([]string{"Cookie", cookie}, https...)...)
		var body struct{ Email string }
		if r.Status == http.StatusOK {
			r.JSON(t, &body)
		}
		return fmt.Sprint(r.Status, " ", body.Email)
	}
	for _, tc := range []struct{ cookie, want string }{
		{"__Host-portico_session=" + token, "200 cliente@demo.portico.test"},
		{"portico_session=" + token, "401 "}, // what a sibling could plant
		{"portico_session=" + token + "; __Host-portico_session=x", "401 "},
	} {
		if got := me(tc.cookie); got != tc.want {
			t.Errorf("Cookie: %s → %s, want %s", tc.cookie, got, tc.want)
		}
	}
	// Over plain http the cookie keeps its bare name.
	plain := servertest.Start(t, "sqlite").NewClient(t, "")
	r = plain.Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password})
	if got := cookies(r); got["portico_session"] == nil || got["portico_session"].Secure {
		t.Errorf("login over http: cookies %v", got)
	}
}
