package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Demo account and session cookie (internal/demo, host/web).
const (
	demoEmail     = "cliente@demo.portico.test"
	demoPassword  = "portico-demo"
	demoTenant    = "construtora-exemplo"
	sessionCookie = "portico_session"
	// benchCustomers is how many customers the script logs in, through
	// portal sessions, for the rows whose requests go as many users.
	benchCustomers = 16
)

// readyTimeout bounds the wait for /readyz after the server listens: a
// fresh data directory compiles the demo's two wasm plugins first.
const readyTimeout = 3 * time.Minute

// portal is a running Portico with the demo, logged in as the demo
// cliente.
type portal struct {
	db      string // "SQLite" or "PostgreSQL"
	base    string // http://127.0.0.1:PORT
	cookie  string // the session cookie's value
	dataDir string // its PORTICO_DATA_DIR
	pprof   string // http://127.0.0.1:PORT of its metrics listener with PORTICO_PPROF, with -profile
	// pprofToken is that listener's PORTICO_METRICS_TOKEN (random per run).
	pprofToken string
	// customers holds the session cookies of benchCustomers customers
	// logged in through portal sessions.
	customers []string
	p         *proc
}

// httpClient sends the script's own requests (readiness, login, checks):
// no redirects followed, no compression asked for (as wrk).
var httpClient = &http.Client{
	Timeout:       15 * time.Second,
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// startPortal starts bin/portico serve with the demo on a fresh data
// directory and databaseURL ("" for SQLite in the data directory), pinned
// to cpu, from the repository root (the demo reads bin/plugins/*.wasm
// there); it waits for /readyz and logs in.
func (r *runner) startPortal(ctx context.Context, db, databaseURL string) (*portal, error) {
	dir := filepath.Join(r.tmp, strings.ToLower(db))
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("create %s data dir: %w", db, err)
	}
	if databaseURL == "" {
		databaseURL = "sqlite://" + filepath.Join(dir, "data", "portico.db")
	}
	env := append(os.Environ(),
		"PORTICO_DEMO=true",
		"PORTICO_ADDR=127.0.0.1:0",
		"PORTICO_DATA_DIR="+filepath.Join(dir, "data"),
		"PORTICO_DATABASE_URL="+databaseURL,
		"PORTICO_LOG_FORMAT=json",
		"PORTICO_LOG_LEVEL=info",
	)
	var pprofBase, pprofToken string
	if r.cfg.profile != "" {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		pprofBase = "http://127.0.0.1:" + port
		pprofToken = rand.Text() + rand.Text() // 52 characters: the token wants at least 32
		env = append(env, "PORTICO_METRICS_ADDR=127.0.0.1:"+port, "PORTICO_METRICS_TOKEN="+pprofToken, "PORTICO_PPROF=true")
	}
	// The listening line names the address the kernel picked for port 0.
	listening := func(line string) (string, bool) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "portico listening" || l.Addr == "" {
			return "", false
		}
		return l.Addr, true
	}
	p, addr, err := startProc(ctx, "portico ("+db+")", r.cfg.root, env, filepath.Join(dir, "portico.log"), listening,
		r.pinned(r.cfg.serverCPU, r.bins.portico, "serve")...)
	if err != nil {
		return nil, err
	}
	r.procs = append(r.procs, p)
	pt := &portal{db: db, base: "http://" + addr, dataDir: filepath.Join(dir, "data"), pprof: pprofBase, pprofToken: pprofToken, p: p}
	if err := waitReady(ctx, pt); err != nil {
		return nil, err
	}
	if pt.cookie, err = login(ctx, pt.base); err != nil {
		return nil, fmt.Errorf("log in to portico (%s): %w", db, err)
	}
	if pt.customers, err = r.logInCustomers(ctx, pt, env); err != nil {
		return nil, fmt.Errorf("log in the bench customers (%s): %w", db, err)
	}
	return pt, nil
}

// logInCustomers registers benchCustomers customers and logs each in the
// way an integrator's site does (docs/portal-sessions.md): an API key
// made with `portico apikey create`, POST /api/v1/portal/sessions with
// create_customer, then the customer's browser opening auth_url. It
// returns their session cookies.
func (r *runner) logInCustomers(ctx context.Context, pt *portal, env []string) ([]string, error) {
	cmd := exec.CommandContext(ctx, r.bins.portico, "apikey", "create", "--tenant", demoTenant, "--name", "bench-load",
		"--scopes", "portal_sessions")
	cmd.Dir, cmd.Env = r.cfg.root, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("portico apikey create: %w: %s", err, stderr.Bytes())
	}
	key := strings.TrimSpace(string(out))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	cookies := make([]string, 0, benchCustomers)
	for i := range benchCustomers {
		body, _ := json.Marshal(map[string]any{
			"customer_email":  fmt.Sprintf("bench-%d-%x@bench.portico.test", i, suffix),
			"create_customer": map[string]string{"name": fmt.Sprintf("Cliente de carga %d", i+1)},
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, pt.base+"/api/v1/portal/sessions", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		var ps struct {
			AuthURL string `json:"auth_url"`
		}
		if err := doJSON(req, http.StatusCreated, &ps); err != nil {
			return nil, fmt.Errorf("POST /api/v1/portal/sessions: %w", err)
		}
		// auth_url names the portal's public address; the script reaches
		// it at pt.base.
		u, err := url.Parse(ps.AuthURL)
		if err != nil || u.Path == "" {
			return nil, fmt.Errorf("portal session auth_url %q: %v", ps.AuthURL, err)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, pt.base+u.RequestURI(), nil)
		if err != nil {
			return nil, err
		}
		res, err := httpClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("open auth_url: %w", err)
		}
		_ = res.Body.Close()
		cookie := ""
		for _, c := range res.Cookies() {
			if c.Name == sessionCookie && c.Value != "" {
				cookie = c.Value
			}
		}
		if cookie == "" {
			return nil, fmt.Errorf("opening auth_url answered %d without a %s cookie", res.StatusCode, sessionCookie)
		}
		cookies = append(cookies, cookie)
	}
	return cookies, nil
}

// doJSON sends req and decodes its JSON answer into v, which must come
// with status want.
func doJSON(req *http.Request, want int, v any) error {
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("status %d, want %d: %.300s", res.StatusCode, want, body)
	}
	return json.Unmarshal(body, v)
}

// waitReady polls /readyz until it answers 200 "ready".
func waitReady(ctx context.Context, pt *portal) error {
	deadline := time.Now().Add(readyTimeout)
	last := ""
	for time.Now().Before(deadline) {
		if err := pt.p.alive(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, pt.base+"/readyz", nil)
		res, err := httpClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ready" {
				return nil
			}
			last = fmt.Sprintf("%d %s", res.StatusCode, body)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("portico (%s) not ready after %s (last /readyz: %s); its log %s ends:\n%s",
		pt.db, readyTimeout, last, pt.p.logPath, tail(pt.p.logPath, 20))
}

// login logs in as the demo cliente through the JSON API (POST
// /api/v1/session: the API needs no CSRF token, it requires
// Content-Type: application/json instead) and returns the session
// cookie's value.
func login(ctx context.Context, base string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": demoEmail, "password": demoPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/session", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /api/v1/session: status %d: %s", res.StatusCode, msg)
	}
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("POST /api/v1/session set no %s cookie", sessionCookie)
}

// check fails unless GET base+path with the session cookie answers 200
// with want in its body: an error page, a redirect to the login or a
// failed plugin call must never pass for the measured page.
func check(ctx context.Context, base, path, cookie, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", sessionCookie+"="+cookie)
	res, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: status %d (%v), body lacks %q: %.300s", path, res.StatusCode, err, want, body)
	}
	return nil
}

// createDatabase creates a database with a fresh name on the server of
// adminURL and returns its URL and a function that drops it.
func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redact(adminURL), err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "portico_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", redact(adminURL), err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err == nil {
			_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-load: drop database %s: %v (drop it by hand)\n", name, err)
		}
	}
	return u.String(), drop, nil
}

// pingPostgres reports whether the server of adminURL answers.
func pingPostgres(ctx context.Context, adminURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// profileDuring starts a CPU profile of pt's server lasting the wrk run
// that follows (less a second, so that it covers only the run) and returns
// a function that waits for it and writes it to the -profile directory as
// name.pprof. Without -profile it does nothing.
func (r *runner) profileDuring(ctx context.Context, pt *portal, name string) func() error {
	if r.cfg.profile == "" || pt.pprof == "" {
		return func() error { return nil }
	}
	secs := max(1, int(r.cfg.duration.Seconds())-1)
	file := filepath.Join(r.cfg.profile, profileName(name)+".pprof")
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", pt.pprof, secs), nil)
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("Authorization", "Bearer "+pt.pprofToken)
		res, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
		if err != nil {
			done <- fmt.Errorf("profile %s: %w", name, err)
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d: %.200s", res.StatusCode, body)
		}
		if err == nil {
			err = os.WriteFile(file, body, 0o644)
		}
		if err != nil {
			err = fmt.Errorf("profile %s: %w", name, err)
		} else {
			r.log("profile written: %s", file)
		}
		done <- err
	}()
	return func() error { return <-done }
}

// profileName turns a row's name into a file name.
func profileName(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
