package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
)

// metricsToken guards the nodes' /metrics.
const metricsToken = "nodes-test-metrics-token-0123456789abcdef"

// node is one `portico serve` process of a multi-node installation.
type node struct {
	name, base string
	cmd        *exec.Cmd
	out        *syncBuffer
}

// startNode runs `portico serve` on dbURL as node name. Every node shares
// the database and the secret key; each has its own data directory. The
// node's database connections carry application_name name, so the test
// can find its change listener in pg_stat_activity.
func startNode(t *testing.T, bin, dbURL, name, secretKey string, demo bool) *node {
	t.Helper()
	u, err := url.Parse(dbURL)
	testdb.Must(t, err, "parse database url")
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PORTICO_ADDR="+addr, fmt.Sprintf("PORTICO_DEMO=%v", demo),
		"PORTICO_DATA_DIR="+filepath.Join(cmd.Dir, "data"), "PORTICO_DATABASE_URL="+u.String(),
		"PORTICO_SECRET_KEY="+secretKey, "PORTICO_LOG_LEVEL=info", "PORTICO_TRUSTED_PROXIES=",
		"PORTICO_DRAIN_DELAY=0", "PORTICO_METRICS_TOKEN="+metricsToken, "PORTICO_METRICS_ADDR=")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	testdb.Must(t, cmd.Start(), "start %s", name)
	n := &node{name: name, base: "http://" + addr, cmd: cmd, out: collect(pr)}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, n.out.drain())
		}
	})
	n.out.waitFor(t, "change listener connected", 30*time.Second)
	return n
}

// call sends a request to the node and decodes a JSON answer into out
// (when not nil); it returns the status.
func (n *node) call(t *testing.T, method, path string, header http.Header, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		testdb.Must(t, err, "encode")
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.base+path, rd)
	testdb.Must(t, err, "request")
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	testdb.Must(t, err, "%s %s on %s", method, path, n.name)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s on %s: %v: %s", method, path, n.name, err, b)
		}
	}
	return res.StatusCode
}

// TestTwoNodesSeeEachOthersChanges runs two `portico serve` processes on
// one PostgreSQL database. Each change a gestor or a customer makes
// through node A — the plugins' order and visibility, a plugin's
// configuration, a revoked API key, a deactivated user, a changed role, a
// logout — is seen by node B, which had cached the old state, within 1 s
// (p99 over 200 changes). Halfway, B's listener connection is killed: B
// reconnects by itself, flushes its caches, and keeps up.
func TestTwoNodesSeeEachOthersChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers")
	}
	bin := buildBinary(t)
	dbURL := testdb.URL(t, "postgres")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secretKey := base64.StdEncoding.EncodeToString(key)
	suffix := strings.ToLower(rand.Text()[:8])
	a := startNode(t, bin, dbURL, "node_a_"+suffix, secretKey, true)
	b := startNode(t, bin, dbURL, "node_b_"+suffix, secretKey, false)

	// An admin key, from the command line, as an operator would make it.
	keyCmd := exec.Command(bin, "apikey", "create", "--tenant", demo.TenantSlug, "--name", "nodes test", "--scopes", "admin")
	keyCmd.Env = append(os.Environ(), "PORTICO_DATABASE_URL="+dbURL, "PORTICO_DATA_DIR="+t.TempDir(), "PORTICO_LOG_LEVEL=warn")
	var keyErr bytes.Buffer
	keyCmd.Stderr = &keyErr
	keyOut, err := keyCmd.Output()
	testdb.Must(t, err, "apikey create: %s", keyErr.String())
	admin := http.Header{"Authorization": {"Bearer " + strings.TrimSpace(string(keyOut))}}

	type plugin struct {
		Slug         string `json:"slug"`
		Version      int64  `json:"version"`
		ShowInPortal bool   `json:"show_in_portal"`
		Type         string `json:"type"`
	}
	var plugins []plugin
	refreshPlugins := func() {
		var list struct {
			Plugins []plugin `json:"plugins"`
		}
		if st := a.call(t, "GET", "/api/v1/admin/plugins", admin, nil, &list); st != 200 || len(list.Plugins) < 2 {
			t.Fatalf("list plugins: %d %v", st, list)
		}
		plugins = list.Plugins
	}
	type user struct {
		ID      string   `json:"id"`
		Email   string   `json:"email"`
		Roles   []string `json:"roles"`
		Active  bool     `json:"active"`
		Version int64    `json:"version"`
	}
	var users struct {
		Users []user `json:"users"`
	}
	a.call(t, "GET", "/api/v1/admin/users?q=ambos@demo.portico.test", admin, nil, &users)
	if len(users.Users) != 1 {
		t.Fatalf("find the demo customer: %+v", users)
	}
	customer := users.Users[0]

	login := func() http.Header {
		req, _ := http.NewRequest("POST", a.base+"/api/v1/session", strings.NewReader(`{"email":"ambos@demo.portico.test","password":"portico-demo"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		testdb.Must(t, err, "login")
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("login: %d", res.StatusCode)
		}
		h := http.Header{}
		for _, c := range res.Cookies() {
			h.Add("Cookie", c.Name+"="+c.Value)
		}
		return h
	}
	menu := func(n *node, h http.Header) ([]string, int) {
		var m struct {
			Entries []struct {
				Slug string `json:"slug"`
			} `json:"entries"`
		}
		st := n.call(t, "GET", "/api/v1/me/menu", h, nil, &m)
		var slugs []string
		for _, e := range m.Entries {
			slugs = append(slugs, e.Slug)
		}
		return slugs, st
	}
	refreshUser := func() {
		a.call(t, "GET", "/api/v1/admin/users/"+customer.ID, admin, nil, &customer)
	}

	// A change: do it on A, then poll B until seen returns true.
	type change struct {
		name    string
		prepare func() // warm B's caches with the old state
		do      func()
		seen    func() bool
	}
	var session http.Header
	var spareKey http.Header
	var spareKeyID string
	var first string // the first entry of the customer's menu before a change
	// ensureSession leaves the customer active and logged in, and reads
	// the menu through B (caching it there).
	ensureSession := func() {
		if _, st := menu(b, session); st == 200 {
			return
		}
		refreshUser()
		if !customer.Active {
			if st := a.call(t, "PATCH", "/api/v1/admin/users/"+customer.ID, admin, map[string]any{"version": customer.Version, "active": true}, nil); st != 200 {
				t.Fatalf("reactivate: %d", st)
			}
		}
		session = login()
	}
	warmMenu := func() {
		ensureSession()
		refreshPlugins()
		m, st := menu(b, session)
		if st != 200 || len(m) < 2 {
			t.Fatalf("menu on B: %d %v", st, m)
		}
		first = m[0]
	}
	pluginOf := func(slug string) plugin {
		for _, p := range plugins {
			if p.Slug == slug {
				return p
			}
		}
		t.Fatalf("no plugin %s", slug)
		return plugin{}
	}
	changes := []change{
		{"plugin order", warmMenu, func() {
			slugs := make([]string, len(plugins))
			for i, p := range plugins {
				slugs[len(plugins)-1-i] = p.Slug
			}
			if st := a.call(t, "PUT", "/api/v1/admin/plugins/order", admin, map[string]any{"slugs": slugs}, nil); st != 200 && st != 204 {
				t.Fatalf("reorder: %d", st)
			}
		}, func() bool {
			m, _ := menu(b, session)
			return len(m) > 0 && m[0] != first
		}},
		{"plugin hidden from the portal, then shown again", warmMenu, func() {
			p := pluginOf(first)
			if st := a.call(t, "PATCH", "/api/v1/admin/plugins/"+p.Slug, admin, map[string]any{"version": p.Version, "show_in_portal": false}, nil); st != 200 {
				t.Fatalf("hide: %d", st)
			}
		}, func() bool {
			m, _ := menu(b, session)
			if slices.Contains(m, first) {
				return false
			}
			refreshPlugins()
			p := pluginOf(first)
			if st := a.call(t, "PATCH", "/api/v1/admin/plugins/"+p.Slug, admin, map[string]any{"version": p.Version, "show_in_portal": true}, nil); st != 200 {
				t.Fatalf("show again: %d", st)
			}
			return true
		}},
		{"api key revoked", func() {
			var k struct {
				ID  string `json:"id"`
				Key string `json:"key"`
			}
			if st := a.call(t, "POST", "/api/v1/admin/api-keys", admin, map[string]any{"name": "spare", "scopes": []string{"admin"}}, &k); st != 201 {
				t.Fatalf("create key: %d", st)
			}
			spareKey, spareKeyID = http.Header{"Authorization": {"Bearer " + k.Key}}, k.ID
			if st := b.call(t, "GET", "/api/v1/admin/tenant", spareKey, nil, nil); st != 200 {
				t.Fatalf("new key on B: %d", st)
			}
		}, func() {
			if st := a.call(t, "DELETE", "/api/v1/admin/api-keys/"+spareKeyID, admin, nil, nil); st != 204 {
				t.Fatalf("revoke: %d", st)
			}
		}, func() bool { return b.call(t, "GET", "/api/v1/admin/tenant", spareKey, nil, nil) == 401 }},
		{"role removed", func() {
			refreshUser()
			if !slices.Contains(customer.Roles, "sindico") {
				if st := a.call(t, "PATCH", "/api/v1/admin/users/"+customer.ID, admin, map[string]any{"version": customer.Version, "roles": []string{"cliente", "sindico"}}, nil); st != 200 {
					t.Fatalf("give back the role: %d", st)
				}
				refreshUser()
			}
			session = login()
			b.call(t, "GET", "/api/v1/me", session, nil, nil)
		}, func() {
			if st := a.call(t, "PATCH", "/api/v1/admin/users/"+customer.ID, admin, map[string]any{"version": customer.Version, "roles": []string{"cliente"}}, nil); st != 200 {
				t.Fatalf("remove role: %d", st)
			}
		}, func() bool {
			var me struct {
				Roles []string `json:"roles"`
			}
			b.call(t, "GET", "/api/v1/me", session, nil, &me)
			return !slices.Contains(me.Roles, "sindico")
		}},
		{"user deactivated", func() {
			refreshUser()
			if !customer.Active {
				a.call(t, "PATCH", "/api/v1/admin/users/"+customer.ID, admin, map[string]any{"version": customer.Version, "active": true}, nil)
				refreshUser()
			}
			session = login()
			if _, st := menu(b, session); st != 200 {
				t.Fatalf("menu on B after login on A: %d", st)
			}
		}, func() {
			if st := a.call(t, "PATCH", "/api/v1/admin/users/"+customer.ID, admin, map[string]any{"version": customer.Version, "active": false}, nil); st != 200 {
				t.Fatalf("deactivate: %d", st)
			}
		}, func() bool { _, st := menu(b, session); return st == 401 }},
		{"logout", ensureSession, func() {
			if st := a.call(t, "DELETE", "/api/v1/session", session, nil, nil); st != 204 {
				t.Fatalf("logout: %d", st)
			}
		}, func() bool { _, st := menu(b, session); return st == 401 }},
	}
	session = login()

	const rounds = 200
	var lags []time.Duration
	killed := false
	for i := range rounds {
		c := changes[i%len(changes)]
		c.prepare()
		if c.seen() {
			t.Fatalf("%s: seen on B before the change", c.name)
		}
		if i == rounds/2 {
			// Kill B's listener connection mid-run.
			killListener(t, dbURL, b.name)
			killed = true
		}
		start := time.Now()
		c.do()
		for !c.seen() {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("round %d, %s: B still serves the old state after 2 s", i, c.name)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	p50, p99 := lags[len(lags)/2], lags[len(lags)*99/100]
	t.Logf("change on node A → seen on node B, %d changes over HTTP: p50 %v, p99 %v, max %v", rounds, p50, p99, lags[len(lags)-1])
	if p99 > time.Second {
		t.Errorf("p99 %v > 1 s", p99)
	}
	// B's metrics count what it heard from A, and how late.
	req, _ := http.NewRequest("GET", b.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	res, err := http.DefaultClient.Do(req)
	testdb.Must(t, err, "scrape B")
	scrape, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`portico_cache_invalidations_total{kind="tenant",source="remote"}`,
		`portico_cache_invalidations_total{kind="user",source="remote"}`, "portico_cache_invalidation_lag_seconds_count",
		"portico_cache_listener_up 1"} {
		if !strings.Contains(string(scrape), want) {
			t.Errorf("B's /metrics lacks %s", want)
		}
	}
	if killed && strings.Count(b.out.drain(), "change listener connected") < 2 {
		t.Errorf("B's listener did not reconnect after it was killed:\n%s", b.out.buf.String())
	}
}

// killListener terminates the change listener connection of the node
// whose connections carry application_name name.
func killListener(t *testing.T, dbURL, name string) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	testdb.Must(t, err, "open")
	defer db.Close()
	var n int
	err = db.QueryRowContext(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name LIKE $1`, name+"-listener-%").Scan(&n)
	testdb.Must(t, err, "terminate listener")
	if n != 1 {
		t.Fatalf("%d listener connections of %s, want 1", n, name)
	}
}

// drain adds every line the process has written so far and returns all
// its output.
func (b *syncBuffer) drain() string {
	for {
		select {
		case line, ok := <-b.ch:
			if !ok {
				return b.buf.String()
			}
			b.buf.WriteString(line + "\n")
		default:
			return b.buf.String()
		}
	}
}
