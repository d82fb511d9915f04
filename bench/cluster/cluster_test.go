package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    []string // scenarios
		wantErr string
	}{
		{"all leaves out pg-restart", []string{"-root", root, "all"}, []string{"scale", "exactly-once", "invalidation", "rolling-restart"}, ""},
		{"all with -pg-restart", []string{"-root", root, "-pg-restart", "all"}, scenarios, ""},
		{"pg-restart needs the flag", []string{"-root", root, "pg-restart"}, nil, "pass -pg-restart"},
		{"one scenario twice", []string{"-root", root, "scale", "scale"}, []string{"scale"}, ""},
		{"unknown scenario", []string{"-root", root, "scael"}, nil, `unknown scenario "scael"`},
		{"no scenario", []string{"-root", root}, nil, "at least one scenario"},
		{"not the repository", []string{"-root", t.TempDir(), "scale"}, nil, "not the Portico repository"},
		{"duration too long", []string{"-root", root, "-duration", "11m", "scale"}, nil, "-duration"},
		{"too many workers", []string{"-root", root, "-concurrency", "257", "scale"}, nil, "-concurrency"},
		{"pg down too long", []string{"-root", root, "-pg-down", "2m", "-pg-restart", "pg-restart"}, nil, "-pg-down"},
		{"bad rolling mode", []string{"-root", root, "-rolling-mode", "kill", "scale"}, nil, "-rolling-mode"},
		{"non-idempotent retries refused", []string{"-root", root, "-nginx-next-upstream", "error non_idempotent", "scale"}, nil, "non_idempotent"},
		{"keepalive out of range", []string{"-root", root, "-nginx-keepalive", "-1", "scale"}, nil, "-nginx-keepalive"},
		{"bad drain delay", []string{"-root", root, "-drain-delay", "soon", "scale"}, nil, "-drain-delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.scenarios, tt.want) {
				t.Errorf("scenarios = %v, want %v", cfg.scenarios, tt.want)
			}
			if cfg.duration != 30*time.Second || cfg.concurrency != 16 || cfg.tokens != 200 || cfg.changes != 200 {
				t.Errorf("defaults = %s, %d workers, %d tokens, %d changes", cfg.duration, cfg.concurrency, cfg.tokens, cfg.changes)
			}
		})
	}
}

func TestQuickDefaults(t *testing.T) {
	cfg, err := parseFlags([]string{"-root", "../..", "-quick", "-tokens", "7", "scale"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.duration != 6*time.Second || cfg.concurrency != 8 || cfg.changes != 20 {
		t.Errorf("quick defaults = %s, %d workers, %d changes", cfg.duration, cfg.concurrency, cfg.changes)
	}
	if cfg.tokens != 7 {
		t.Errorf("-tokens 7 gave %d", cfg.tokens)
	}
	if !slices.Equal(cfg.flagArgs, []string{"-root", "../..", "-quick", "-tokens", "7"}) {
		t.Errorf("flag args = %v", cfg.flagArgs)
	}
}

func TestCheckLoopbackURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", true},
		{"postgres://postgres@localhost/postgres", true},
		{"postgresql://u@[::1]:5432/db", true},
		{"postgres://postgres@10.0.0.5:5432/postgres", false},
		{"postgres://postgres@db.example.com/postgres", false},
		{"mysql://root@127.0.0.1/x", false},
		{"127.0.0.1:5432", false},
	} {
		if err := checkLoopbackURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestNginxConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := nginxConfig{Dir: dir, Listen: "127.0.0.1:18080", NextUpstream: defaultNextUpstream, Keepalive: 32,
		Servers: []upstreamServer{{Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2", Down: true}}}
	text, err := cfg.render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"server 127.0.0.1:1 max_fails=3 fail_timeout=2s;",
		"server 127.0.0.1:2 max_fails=3 fail_timeout=2s down;",
		"listen 127.0.0.1:18080;",
		"proxy_next_upstream error timeout;",
		"pid " + dir + "/nginx.pid;",
		"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
		"proxy_set_header Host $http_host;",
		"keepalive 32;",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("configuration lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "non_idempotent") || strings.Contains(text, "user ") {
		t.Errorf("unexpected directive:\n%s", text)
	}
	cfg0 := cfg
	cfg0.Keepalive = 0
	if text, err := cfg0.render(); err != nil || strings.Contains(text, "keepalive ") {
		t.Errorf("keepalive 0: %v\n%s", err, text)
	}
	if _, err := (nginxConfig{Dir: dir, Listen: "127.0.0.1:1", NextUpstream: "error"}).render(); err == nil {
		t.Error("a configuration without servers rendered")
	}
	if _, err := (nginxConfig{Dir: dir, Listen: "127.0.0.1:1", NextUpstream: "error non_idempotent", Servers: cfg.Servers}).render(); err == nil {
		t.Error("non_idempotent retries rendered")
	}
	// nginx itself accepts it, when it is installed.
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Skip("nginx is not installed")
		}
		bin = "/usr/sbin/nginx"
	}
	n := &nginx{bin: bin, dir: dir, addr: "127.0.0.1:18080", nextUpstream: defaultNextUpstream}
	if err := n.write(cfg.Servers); err != nil {
		t.Fatal(err)
	}
	if err := n.test(); err != nil {
		t.Fatal(err)
	}
}

func TestNginxProxiesAndRetries(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("nginx is not installed")
			}
			t.Skip("nginx is not installed")
		}
		bin = "/usr/sbin/nginx"
	}
	// One upstream answers, the other is a closed port: every request,
	// a POST included, must reach the live one (a refused connection was
	// never sent), and X-Upstream says which nodes were tried.
	var posts atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		w.Write([]byte("ok"))
	})}
	livePort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	deadPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(livePort))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	n := &nginx{bin: bin, dir: t.TempDir(), addr: "127.0.0.1:" + itoa(port), nextUpstream: defaultNextUpstream}
	live, dead := "127.0.0.1:"+itoa(livePort), "127.0.0.1:"+itoa(deadPort)
	// The dead one first: nginx's round robin tries it for the first request.
	servers := []upstreamServer{{Addr: dead}, {Addr: live}}
	if err := n.start(t.Context(), servers); err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	for i := range 6 {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, n.base()+"/x", strings.NewReader("{}"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("%s %d: %d %q (X-Upstream %q)", method, i, res.StatusCode, body, res.Header.Get("X-Upstream"))
		}
		if up := res.Header.Get("X-Upstream"); !strings.HasSuffix(up, live) {
			t.Errorf("X-Upstream %q does not end with the live node %s", up, live)
		}
	}
	if n := posts.Load(); n != 3 {
		t.Errorf("the live node got %d POSTs, want 3", n)
	}
	// Reloading with the live node down leaves nothing: nginx answers 502
	// itself, which describe tells from a node's answer.
	if err := n.reload([]upstreamServer{{Addr: dead}, {Addr: live, Down: true}}); err != nil {
		t.Fatal(err)
	}
	a := do(t.Context(), http.DefaultClient, call{method: "GET", url: n.base() + "/x"})
	if class, _ := a.describe(); class != "502 (nginx)" {
		t.Errorf("with no live node: %s", class)
	}
}

func TestParseStatCPU(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want time.Duration
	}{
		{"1234 (portico) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 12 0 100 0 0", 2 * time.Second},
		{"99 (a) b) c) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond},
		{"garbage", 0},
		{"1 (x) S 1", 0},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3", 0},
	} {
		if got := parseStatCPU([]byte(tt.raw)); got != tt.want {
			t.Errorf("parseStatCPU(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	var samples []sample
	for i := 1; i <= 100; i++ {
		samples = append(samples, sample{kind: kMenu, at: time.Duration(i-1) * 10 * time.Millisecond, dur: time.Duration(i) * time.Millisecond, status: 200})
	}
	samples = append(samples,
		sample{kind: kMenu, at: 500 * time.Millisecond, dur: time.Second, status: 503, fail: "503 database_unavailable"},
		sample{kind: kPage, at: 600 * time.Millisecond, dur: time.Millisecond, status: 200},
		sample{kind: kPage, at: 2 * time.Second, dur: time.Hour, status: 200}) // outside the window
	all, per := summarize(samples, 0, time.Second)
	if all.n != 102 || all.failed != 1 {
		t.Fatalf("all = %+v", all)
	}
	if len(per) != 2 || per[0].kind != kMenu || per[1].kind != kPage {
		t.Fatalf("per = %+v", per)
	}
	m := per[0]
	if m.p50 != 50*time.Millisecond || m.p99 != 99*time.Millisecond || m.max != 100*time.Millisecond || m.failed != 1 || m.rate != 100 {
		t.Errorf("menu = %+v", m)
	}
	g := failures(samples, 0, time.Second)
	if len(g) != 1 || g[0].count != 1 || g[0].class != "503 database_unavailable" {
		t.Errorf("failures = %+v", g)
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
}

func TestDescribe(t *testing.T) {
	nginx502 := "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	for _, tt := range []struct {
		name          string
		a             answer
		class, detail string
	}{
		{"portico json", answer{status: 503, header: http.Header{"Server": {"nginx"}},
			body: []byte(`{"error":{"code":"database_unavailable","message":"O portal está temporariamente indisponível."}}`)},
			"503 database_unavailable", "O portal está temporariamente indisponível."},
		{"nginx page", answer{status: 502, header: http.Header{"Server": {"nginx"}}, body: []byte(nginx502)}, "502 (nginx)", "502 Bad Gateway"},
		{"portico page", answer{status: 503, header: http.Header{"Server": {"nginx"}}, body: []byte("<title>Indisponível</title>")}, "503 (portico)", "Indisponível"},
		{"plain page", answer{status: 503, header: http.Header{}, body: []byte("<title>503</title><h1>503</h1><p class=\"x\">O portal est&aacute; <b>indispon&iacute;vel</b>.</p><p>2</p>")},
			"503 (portico)", "503 — O portal está indisponível ."},
		{"redirect", answer{status: 303, header: http.Header{"Location": {"/login"}}}, "303 (portico)", "Location: /login"},
		{"refused", answer{err: syscall.ECONNREFUSED}, "transport: connection refused", "connection refused"},
		{"eof", answer{err: io.ErrUnexpectedEOF}, "transport: connection closed before the answer (EOF)", "unexpected EOF"},
		{"other", answer{err: errors.New("boom")}, "transport: other", "boom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			class, detail := tt.a.describe()
			if class != tt.class || detail != tt.detail {
				t.Errorf("describe = %q, %q; want %q, %q", class, detail, tt.class, tt.detail)
			}
		})
	}
}

func TestExtractors(t *testing.T) {
	page := []byte(`<form><input type="hidden" name="portico_token" value="eyJh.eyJp.c2ln"><p>x</p>`)
	if tok, ok := launchToken(page); !ok || tok != "eyJh.eyJp.c2ln" {
		t.Errorf("launchToken = %q, %v", tok, ok)
	}
	for _, bad := range []string{`name="portico_token" value="a.b"`, `name="portico_token" value=""`, `no token`,
		`name="portico_token" value="` + strings.Repeat("a", 5000) + `.b.c"`} {
		if tok, ok := launchToken([]byte(bad)); ok {
			t.Errorf("launchToken(%.40q) = %q", bad, tok)
		}
	}
	if n, ok := visitNumber([]byte(`<p>Esta é a sua visita nº 42.</p>`)); !ok || n != 42 {
		t.Errorf("visitNumber = %d, %v", n, ok)
	}
	for _, bad := range []string{"Esta é a sua visita nº 0.", "visita nº .", "visita nº 1234567890123."} {
		if n, ok := visitNumber([]byte(bad)); ok {
			t.Errorf("visitNumber(%q) = %d", bad, n)
		}
	}
	issued := []byte(`{"view":{"blocks":[{"type":"alert","text":"Segunda via emitida.","tone":"success"},{"type":"kv","items":[{"label":"Nosso número","value":"12345670009000001"}]}]}}`)
	if ours, _, ok := slipOf(issued); !ok || ours != "12345670009000001" {
		t.Errorf("slipOf = %q, %v", ours, ok)
	}
	polite := []byte(`{"view":{"blocks":[{"type":"alert","text":"O financeiro está indisponível no momento.","tone":"error"}]}}`)
	if _, alert, ok := slipOf(polite); ok || alert != "O financeiro está indisponível no momento." {
		t.Errorf("slipOf(polite) = %q, %v", alert, ok)
	}
	if p, ok := pathOf("http://127.0.0.1:8080/portal-session/abc?x=1"); !ok || p != "/portal-session/abc?x=1" {
		t.Errorf("pathOf = %q, %v", p, ok)
	}
	if _, ok := pathOf("/relative"); ok {
		t.Error("pathOf accepted a relative URL")
	}
	h := http.Header{"Set-Cookie": {"portico_device=x; Path=/", "portico_session=abc; Path=/; HttpOnly"}}
	if c := sessionCookie(h); c != "portico_session=abc" {
		t.Errorf("sessionCookie = %q", c)
	}
}

func TestTableAndQuoting(t *testing.T) {
	tb := &table{header: []string{"a", "b"}}
	tb.add("x|y", "line\nbreak")
	var b bytes.Buffer
	tb.write(&b)
	want := "| a | b |\n|---|---|\n| x\\|y | line break |\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	for in, want := range map[string]string{"-quick": "-quick", "error timeout": "'error timeout'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := clip("ação", 2); got != "a…" {
		t.Errorf("clip = %q", got)
	}
}

func TestExplainFailures(t *testing.T) {
	text := explainFailures([]*failureGroup{{class: "502 (nginx)", detail: "502 Bad Gateway"}, {class: "503 database_unavailable"}, {class: "200 but no visit count on the page"}})
	if !strings.Contains(text, "no live upstreams") || !strings.Contains(text, "Retry-After") {
		t.Errorf("explanation:\n%s", text)
	}
	if explainFailures(nil) != "" {
		t.Error("an explanation for no failure")
	}
}

func FuzzExtractors(f *testing.F) {
	f.Add([]byte(`<input type="hidden" name="portico_token" value="eyJh.eyJp.c2ln">`))
	f.Add([]byte(`Esta é a sua visita nº 7.`))
	f.Add([]byte(`{"view":{"blocks":[{"type":"alert","tone":"success"},{"type":"kv","items":[{"label":"Nosso número","value":"1"}]}]}}`))
	f.Add([]byte(`{"error":{"code":"x","message":"y"}}`))
	f.Add([]byte("<title>\xff</title><center>nginx"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if tok, ok := launchToken(b); ok && (len(tok) > maxToken || strings.Count(tok, ".") != 2) {
			t.Fatalf("launchToken accepted %q", tok)
		}
		if n, ok := visitNumber(b); ok && n <= 0 {
			t.Fatalf("visitNumber = %d", n)
		}
		if ours, _, ok := slipOf(b); ok && ours == "" {
			t.Fatal("slipOf: an issued slip without a number")
		}
		for _, st := range []int{200, 303, 410, 502, 503} {
			class, detail := answer{status: st, header: http.Header{}, body: b}.describe()
			if class == "" || len(detail) > 200+len("…") {
				t.Fatalf("describe = %q, %d bytes of detail", class, len(detail))
			}
		}
		if p, ok := pathOf(string(b)); ok && !strings.HasPrefix(p, "/") {
			t.Fatalf("pathOf = %q", p)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
