package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/admin/api"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// slowUpload opens a connection and sends the headers of a module upload
// announcing n bytes, then sent bytes of the body, and stops there, as a
// slow client would. Write errors are ignored: a server that answers from
// the headers may close the connection before the body is in.
func slowUpload(t *testing.T, p *servertest.Portal, host, path string, n, sent int, header ...string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", p.Addr)
	testdb.Must(t, err, "dial")
	t.Cleanup(func() { conn.Close() })
	if host == "" {
		host = p.Addr
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/wasm\r\nContent-Length: %d\r\nAccept-Language: en\r\n", path, host, n)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&req, "%s: %s\r\n", header[i], header[i+1])
	}
	req.WriteString("\r\n")
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(req.Bytes()); err != nil {
		return conn
	}
	_, _ = conn.Write(make([]byte, sent))
	return conn
}

// answer is what a server said on a connection.
type answer struct {
	status     int
	retryAfter string
	body       string
	err        error
}

// readAnswer reads one response from conn, waiting at most 10 s.
func readAnswer(conn net.Conn, br *bufio.Reader) answer {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if br == nil {
		br = bufio.NewReader(conn)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	return answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: string(b)}
}

// TestUploadLargeBodyNeedsCredentials opens many slow module uploads with
// no credential, a wrong key or an unknown host, each announcing 15 MiB and
// sending 1 MiB of it: all are refused from their headers (401, 404), and
// the server holds no memory for their bodies.
func TestUploadLargeBodyNeedsCredentials(t *testing.T) {
	f := start(t, "sqlite")
	newWasmPlugin(t, f, "modulo")
	upload := adminPrefix + "/plugins/modulo/versions"
	const announced, sent = 15 << 20, 1 << 20
	type client struct {
		name   string
		host   string
		header []string
		status int
		code   string
	}
	var clients []client
	for i := 0; i < 20; i++ {
		clients = append(clients, client{"anonymous", "", nil, 401, "unauthenticated"})
	}
	clients = append(clients,
		client{"wrong key", "", []string{"Authorization", "Bearer nope"}, 401, "invalid_api_key"},
		client{"other tenant's key", servertest.OtherHost, []string{"Authorization", "Bearer " + f.key}, 401, "invalid_api_key"},
		client{"unknown host", "nowhere.test", []string{"Authorization", "Bearer " + f.key}, 404, "unknown_host"},
		client{"the UI route, anonymous", "", nil, 401, "Log in to continue."},
	)
	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, len(clients))
	for i, c := range clients {
		path := upload
		if strings.HasPrefix(c.name, "the UI route") {
			path = "/admin/plugins/modulo/versions"
		}
		conns[i] = slowUpload(t, f.p, c.host, path, announced, sent, c.header...)
	}
	runtime.GC()
	runtime.ReadMemStats(&during)
	// The server runs in this process. Buffering the announced bodies
	// would take 24 × 15 MiB; the bound leaves room for everything else.
	grew := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	if grew > 48<<20 {
		t.Errorf("%d slow anonymous uploads grew the heap by %d MiB", len(clients), grew>>20)
	}
	t.Logf("%d slow anonymous uploads of %d MiB announced: heap grew by %d KiB", len(clients), announced>>20, grew>>10)
	answers := make([]answer, len(clients))
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = readAnswer(conns[i], nil)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		c := clients[i]
		if a.err != nil || a.status != c.status || !strings.Contains(a.body, `"`+c.code+`"`) && !strings.Contains(a.body, c.code+"<") {
			t.Errorf("%s (%d): %d %v %.200s; want %d %s", c.name, i, a.status, a.err, a.body, c.status, c.code)
		}
	}
}

// TestUploadLargeBodiesAreCapped holds api.MaxUploadsPerTenant
// authenticated uploads of one tenant mid-body: that tenant's next one is
// refused at once with 429 uploads_busy and Retry-After, while another
// tenant's still gets a slot (one company cannot turn the others away);
// an upload to a plugin that does not exist, or is not wasm, is refused
// from its headers without a slot. Once the holders end, a real module
// uploads again by API key and by a gestor's session.
func TestUploadLargeBodiesAreCapped(t *testing.T) {
	f := start(t, "sqlite")
	f.byKey.HTTP.Timeout = 2 * time.Minute
	newWasmPlugin(t, f, "modulo")
	upload := adminPrefix + "/plugins/modulo/versions"
	const announced = 2 << 20
	bearer := []string{"Authorization", "Bearer " + f.key}
	u, _ := url.Parse(f.p.URL)
	var sessionCookie string
	for _, ck := range f.gestor.HTTP.Jar.Cookies(u) {
		if ck.Name == "portico_session" {
			// The name the cookie has over https (web.CookieName): the
			// gate, which sees no scheme, takes either; the plain name is
			// the one the real uploads below send.
			sessionCookie = "__Host-" + ck.Name + "=" + ck.Value
		}
	}
	if sessionCookie == "" {
		t.Fatal("the gestor client has no session cookie")
	}

	// Hold every slot: "Expect: 100-continue" makes the server say when it
	// has taken the headers (and granted the limit) before the body.
	hold := func(name, host string, h []string) net.Conn {
		t.Helper()
		conn := slowUpload(t, f.p, host, upload, announced, 0, append([]string{"Expect", "100-continue"}, h...)...)
		br := bufio.NewReader(conn)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil || !strings.Contains(line, " 100 ") {
			t.Fatalf("%s: %q %v, want 100 Continue", name, line, err)
		}
		_, _ = conn.Write(make([]byte, 64<<10))
		return conn
	}
	holders := make([]net.Conn, api.MaxUploadsPerTenant)
	for i := range holders {
		h := bearer
		if i%2 == 1 {
			h = []string{"Cookie", sessionCookie, "X-CSRF-Token", f.csrf}
		}
		holders[i] = hold(fmt.Sprintf("holder %d", i), "", h)
	}
	for _, tc := range []struct{ path, code string }{
		{adminPrefix + "/plugins/nenhum/versions", "plugin_not_found"},
		{adminPrefix + "/plugins/documentos/versions", "plugin_not_wasm"},
	} {
		a := readAnswer(slowUpload(t, f.p, "", tc.path, announced, 0, bearer...), nil)
		if a.err != nil || !strings.Contains(a.body, `"`+tc.code+`"`) {
			t.Errorf("a large upload to %s: %d %v %.300s; want %s", tc.path, a.status, a.err, a.body, tc.code)
		}
	}
	// Another company's upload still gets a slot.
	otherKey, _ := f.newKey(t, f.p.Other.ID, model.ScopeAdmin)
	otherClient := f.keyClient(t, servertest.OtherHost, otherKey)
	if r := otherClient.Do("POST", adminPrefix+"/plugins", map[string]any{"slug": "modulo", "name": "Módulo",
		"title": "Módulo", "type": "wasm", "icon": "financeiro", "visible_to": "ambos", "auth_type": "none"}); r.Status != 201 {
		t.Fatalf("create the other tenant's wasm plugin: %d %.300s", r.Status, r.Body)
	}
	holders = append(holders, hold("another tenant's upload", servertest.OtherHost, []string{"Authorization", "Bearer " + otherKey}))
	for _, h := range [][]string{bearer, {"Cookie", sessionCookie, "X-CSRF-Token", f.csrf}} {
		conn := slowUpload(t, f.p, "", upload, announced, 0, h...)
		a := readAnswer(conn, nil)
		if a.err != nil || a.status != http.StatusTooManyRequests || a.retryAfter != fmt.Sprint(api.UploadRetryAfter) || !strings.Contains(a.body, `"uploads_busy"`) {
			t.Fatalf("upload beyond the cap (%s): %d retry-after %q %v %.300s", h[0], a.status, a.retryAfter, a.err, a.body)
		}
	}
	// A small upload needs no slot: it still reaches the handler.
	if r := f.byKey.Do("POST", upload, string(admintest.HandABI(99)), "Content-Type", "application/wasm"); r.Status != 422 {
		t.Errorf("small upload while the slots are held: %d %.300s", r.Status, r.Body)
	}

	for _, c := range holders {
		c.Close()
	}
	// The holders' slots are released as the server sees their
	// connections end; retry (bounded) until it has.
	module := admintest.Padded(t, admintest.HandABI(1), announced)
	var r *servertest.Response
	for i := 0; i < 100; i++ {
		r = f.byKey.Do("POST", upload, string(module), "Content-Type", "application/wasm")
		if r.Status != http.StatusTooManyRequests {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("a %d-byte module by API key after the holders left: %d %.300s", announced, r.Status, r.Body)
	}
	body, ct := admintest.MultipartBody(t, nil, admintest.Padded(t, admintest.HandABI(1), announced+1))
	if r = f.gestor.Do("POST", upload, body, "Content-Type", ct); r.Status != http.StatusCreated {
		t.Fatalf("a multipart module by the gestor's session: %d %.300s", r.Status, r.Body)
	}
}

// TestUploadOverTheLimitSaysSo sends an admin's module upload whose body
// passes api.UploadBodyLimit, by the API and by the admin UI's form: the
// server refuses it from its headers, and the answer names the module's
// limit (module_too_large, "16 MiB") in the reader's language, as a module
// that fits the body but not the limit is answered, not the generic
// body_too_large (which any other route's body over the server's limit
// keeps: TestAdminVersionsBadUploads). A user import over the server's
// limit is answered likewise with the file's limit (csv_too_large).
func TestUploadOverTheLimitSaysSo(t *testing.T) {
	f := start(t, "sqlite")
	newWasmPlugin(t, f, "modulo")
	u, _ := url.Parse(f.p.URL)
	var sessionCookie string
	for _, ck := range f.gestor.HTTP.Jar.Cookies(u) {
		if ck.Name == "portico_session" {
			// The name the cookie has over https (web.CookieName): the
			// gate, which sees no scheme, takes either; the plain name is
			// the one the real uploads below send.
			sessionCookie = "__Host-" + ck.Name + "=" + ck.Value
		}
	}
	for _, tc := range []struct {
		name, path string
		n          int
		header     []string
		code, want string
	}{
		{"API, by key", adminPrefix + "/plugins/modulo/versions", api.UploadBodyLimit + 1,
			[]string{"Authorization", "Bearer " + f.key}, "module_too_large", `"fields":{"module":"The module is larger than the 16 MiB limit."}`},
		{"API, by session", adminPrefix + "/plugins/modulo/versions?activate=true", 64 << 20,
			[]string{"Cookie", sessionCookie, "X-CSRF-Token", f.csrf}, "module_too_large", `"message":"The module is larger than the 16 MiB limit."`},
		{"admin UI form", "/admin/plugins/modulo/versions", api.UploadBodyLimit + 1,
			[]string{"Cookie", sessionCookie}, "", "The module is larger than the 16 MiB limit."},
		// A user import over the server's limit names the file's limit too.
		{"user import, API", adminPrefix + "/users/import", 1<<20 + 1,
			[]string{"Authorization", "Bearer " + f.key}, "csv_too_large", `"message":"The file is over 960 KB. Split it into smaller parts."`},
		{"user import, admin UI form", "/admin/users/import/", 3 << 20,
			[]string{"Cookie", sessionCookie}, "", "The file is over 960 KB. Split it into smaller parts."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := readAnswer(slowUpload(t, f.p, "", tc.path, tc.n, 0, tc.header...), nil)
			if a.err != nil || a.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d %v %.300s, want 413", a.status, a.err, a.body)
			}
			if tc.code != "" && !strings.Contains(a.body, `"code":"`+tc.code+`"`) {
				t.Errorf("code: %.300s, want %s", a.body, tc.code)
			}
			if !strings.Contains(a.body, tc.want) {
				t.Errorf("body: %.400s, want %s", a.body, tc.want)
			}
		})
	}
}
