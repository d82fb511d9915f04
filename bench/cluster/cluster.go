package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// demoTenant is the slug of the tenant PORTICO_DEMO seeds.
const demoTenant = "construtora-exemplo"

// node is one `portico serve` process. Every node runs with the demo
// (PORTICO_DEMO=true, which also allows the demo's http://localhost
// plugin URLs), the same secret key and database, and a data directory
// of its own.
type node struct {
	name    string // a, b, c
	addr    string // 127.0.0.1:port
	dataDir string
	logPath string
	proc    *proc
	starts  int
}

func (n *node) base() string { return "http://" + n.addr }

// cluster is everything the harness started, and how to stop it.
type cluster struct {
	cfg  config
	logf func(string, ...any)
	dir  string // run directory
	bins struct{ portico, fakeerp string }
	// work is the nodes' working directory: the demo installs
	// bin/plugins/*.wasm relative to it.
	work      string
	secretKey string
	runID     string

	adminURL string // maintenance database URL
	dbName   string
	dbURL    string
	dbMade   bool

	nodes   []*node
	nginx   *nginx
	erp     *proc
	erpAddr string

	fx *fixtures

	// pgStopped is set while the harness has PostgreSQL stopped: clean-up
	// starts it again, whatever happened.
	pgStopped atomic.Bool
	pgCluster string // the Debian cluster version, e.g. 15

	closeOnce sync.Once
}

// newCluster prepares the run directory and checks the prerequisites.
func newCluster(ctx context.Context, cfg config, logf func(string, ...any)) (*cluster, error) {
	if err := checkLoopbackURL(cfg.pgURL); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "portico-cluster-")
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	c := &cluster{cfg: cfg, logf: logf, dir: dir, work: filepath.Join(dir, "work"),
		secretKey: base64.StdEncoding.EncodeToString(raw), runID: strings.ToLower(rand.Text()[:8]), adminURL: cfg.pgURL}
	c.dbName = "portico_cluster_" + c.runID
	logf("run directory %s", dir)
	nginxBin, err := ensureNginx(ctx, logf)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	c.nginx = &nginx{bin: nginxBin, dir: filepath.Join(dir, "nginx"), nextUpstream: cfg.nextUpstream, keepalive: cfg.keepalive}
	return c, nil
}

// checkLoopbackURL refuses a database URL that is not on loopback: the
// harness only ever talks to this machine.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("-pg %q is not a postgres:// URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-pg %q: only a PostgreSQL on loopback (127.0.0.1, ::1, localhost) is allowed", raw)
	}
	return nil
}

// start builds the binaries, creates the database and starts the fake
// ERP, the three nodes and nginx, then creates the load's fixtures.
func (c *cluster) start(ctx context.Context) error {
	if err := c.build(ctx); err != nil {
		return err
	}
	if err := c.createDatabase(ctx); err != nil {
		return err
	}
	if err := c.startERP(); err != nil {
		return err
	}
	for _, name := range []string{"a", "b", "c"} {
		port, err := freePort()
		if err != nil {
			return err
		}
		dir := filepath.Join(c.dir, "node-"+name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		c.nodes = append(c.nodes, &node{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port),
			dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "portico.log")})
	}
	// Node A seeds the demo and writes the example app's credentials;
	// B and C start once it is ready (see handOverCredentials).
	a := c.nodes[0]
	c.logf("starting node a on %s", a.addr)
	if err := c.startNode(ctx, a); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes[1:] {
		if err := c.handOverCredentials(n); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.logf("starting node %s on %s", n.name, n.addr)
			errs[i] = c.startNode(ctx, n)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.nginx.addr = fmt.Sprintf("127.0.0.1:%d", port)
	if err := os.MkdirAll(c.nginx.dir, 0o700); err != nil {
		return err
	}
	c.logf("starting nginx on %s", c.nginx.addr)
	if err := c.nginx.start(ctx, c.upstream(3, nil)); err != nil {
		return err
	}
	fx, err := setupFixtures(ctx, c)
	if err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	c.fx = fx
	return nil
}

// upstream lists the first n nodes for nginx, down marking some out.
func (c *cluster) upstream(n int, down *node) []upstreamServer {
	var s []upstreamServer
	for _, nd := range c.nodes[:n] {
		s = append(s, upstreamServer{Addr: nd.addr, Down: nd == down})
	}
	return s
}

// goBin is the go command: the one on PATH, else Go's default install.
func goBin() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// build compiles portico, the two demo wasm plugins and the fake ERP
// into the run directory (never into the repository's bin/, which other
// builds may be writing).
func (c *cluster) build(ctx context.Context) error {
	binDir := filepath.Join(c.dir, "bin")
	plugins := filepath.Join(c.work, "bin", "plugins")
	if err := os.MkdirAll(plugins, 0o750); err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		return err
	}
	c.bins.portico = filepath.Join(binDir, "portico")
	c.bins.fakeerp = filepath.Join(binDir, "fakeerp")
	logPath := filepath.Join(c.dir, "build.log")
	c.logf("building portico, hello.wasm, financeiro.wasm and fakeerp (log: %s)", logPath)
	env := append(os.Environ(), "CGO_ENABLED=0")
	wasmEnv := append(os.Environ(), "CGO_ENABLED=0", "GOOS=wasip1", "GOARCH=wasm")
	steps := []struct {
		env  []string
		args []string
	}{
		{env, []string{goBin(), "build", "-trimpath", "-o", c.bins.portico, "./host/cmd/portico"}},
		{wasmEnv, []string{goBin(), "build", "-trimpath", "-buildmode=c-shared", "-o", filepath.Join(plugins, "hello.wasm"), "./plugins/hello"}},
		{wasmEnv, []string{goBin(), "build", "-trimpath", "-buildmode=c-shared", "-o", filepath.Join(plugins, "financeiro.wasm"), "./plugins/financeiro"}},
		{env, []string{goBin(), "build", "-trimpath", "-o", c.bins.fakeerp, "./plugins/fakeerp"}},
	}
	for _, s := range steps {
		if err := runLogged(ctx, c.cfg.root, s.env, logPath, s.args...); err != nil {
			return err
		}
	}
	return nil
}

// createDatabase creates portico_cluster_<run id> on the local server.
func (c *cluster) createDatabase(ctx context.Context) error {
	conn, err := c.connectAdmin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.dbName}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", c.dbName, err)
	}
	c.dbMade = true
	u, _ := url.Parse(c.adminURL)
	u.Path = "/" + c.dbName
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	c.dbURL = u.String()
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err == nil {
		c.pgCluster, _, _ = strings.Cut(version, ".")
	}
	c.logf("database %s (PostgreSQL %s)", c.dbName, version)
	return nil
}

// connectAdmin opens the maintenance connection.
func (c *cluster) connectAdmin(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, c.adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL (%s): %w", redact(c.adminURL), err)
	}
	return conn, nil
}

// connectDB opens a connection to the cluster's database.
func (c *cluster) connectDB(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, c.dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.dbName, err)
	}
	return conn, nil
}

// redact drops a URL's password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// nodeDBURL is the database URL of a node: its connections carry
// application_name portico_cluster_<node>, so pg_stat_activity tells
// them apart.
func (c *cluster) nodeDBURL(n *node) string {
	u, _ := url.Parse(c.dbURL)
	q := u.Query()
	q.Set("application_name", "portico_cluster_"+n.name)
	u.RawQuery = q.Encode()
	return u.String()
}

// nodeEnv is a node's environment: the harness's own, without any
// PORTICO_* variable, plus the cluster's configuration.
func (c *cluster) nodeEnv(n *node) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTICO_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PORTICO_ADDR="+n.addr,
		"PORTICO_DATABASE_URL="+c.nodeDBURL(n),
		"PORTICO_DATA_DIR="+n.dataDir,
		"PORTICO_DEMO=true",
		"PORTICO_SECRET_KEY="+c.secretKey,
		"PORTICO_TRUSTED_PROXIES=127.0.0.1",
		"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS=127.0.0.0/8,::1",
		// The load measures the portal-session path, not its per-key
		// rate limit (600 a minute per node by default).
		"PORTICO_PORTAL_SESSION_RATE=1000000",
		"PORTICO_LOG_LEVEL=info",
	)
	if c.cfg.drainDelay != "" {
		env = append(env, "PORTICO_DRAIN_DELAY="+c.cfg.drainDelay)
	}
	return env
}

// startNode starts a node and waits until /readyz says ready.
func (c *cluster) startNode(ctx context.Context, n *node) error {
	if err := os.MkdirAll(n.dataDir, 0o750); err != nil {
		return err
	}
	p, err := startProc("node "+n.name, c.work, c.nodeEnv(n), n.logPath, c.bins.portico, "serve")
	if err != nil {
		return err
	}
	n.proc = p
	n.starts++
	return c.waitReady(ctx, n, 3*time.Minute)
}

// waitReady polls a node's /readyz until it answers 200 ready.
func (c *cluster) waitReady(ctx context.Context, n *node, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if n.proc.exited() {
			return fmt.Errorf("node %s exited (%v); %s ends:\n%s", n.name, n.proc.err, n.logPath, tail(n.logPath, 20))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.base()+"/readyz", nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s not ready after %s; %s ends:\n%s", n.name, limit, n.logPath, tail(n.logPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// demoCredentials is the demo's hand-off file of a token plugin's client
// credentials (internal/demo writes it).
type demoCredentials struct {
	PortalOrigin string `json:"portal_origin"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// handOverCredentials writes node A's example-app and loyalty-app
// credential files into n's data directory with n's own portal origin.
// A demo node whose file does not name the plugin's current client_id
// for its own address issues a new client secret at start (so that a
// lone demo always works); without this hand-over, every node start
// would replace the secret the others and the load use.
func (c *cluster) handOverCredentials(n *node) error {
	if err := os.MkdirAll(n.dataDir, 0o750); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(n.addr)
	for _, name := range []string{"exampleapp.json", "loyalty.json"} {
		raw, err := os.ReadFile(filepath.Join(c.nodes[0].dataDir, name))
		if errors.Is(err, os.ErrNotExist) && name == "loyalty.json" {
			continue
		}
		if err != nil {
			return fmt.Errorf("read node a's %s: %w", name, err)
		}
		var cred demoCredentials
		if err := json.Unmarshal(raw, &cred); err != nil {
			return fmt.Errorf("node a's %s: %w", name, err)
		}
		cred.PortalOrigin = "http://localhost:" + port
		out, _ := json.MarshalIndent(cred, "", "  ")
		if err := os.WriteFile(filepath.Join(n.dataDir, name), append(out, '\n'), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// exampleCredentials returns the example app's client credentials.
func (c *cluster) exampleCredentials() (demoCredentials, error) {
	var cred demoCredentials
	raw, err := os.ReadFile(filepath.Join(c.nodes[0].dataDir, "exampleapp.json"))
	if err != nil {
		return cred, fmt.Errorf("read the example app's credentials: %w", err)
	}
	if err := json.Unmarshal(raw, &cred); err != nil {
		return cred, fmt.Errorf("the example app's credentials: %w", err)
	}
	return cred, nil
}

// startERP starts the fake ERP the finance plugin reads, on a free port,
// without its per-credential rate limit (the load is not about the ERP).
func (c *cluster) startERP() error {
	if c.erpAddr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		c.erpAddr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	env := append(os.Environ(), "FAKEERP_ADDR="+c.erpAddr, "FAKEERP_RATE=100000000")
	p, err := startProc("fakeerp", c.dir, env, filepath.Join(c.dir, "fakeerp.log"), c.bins.fakeerp)
	if err != nil {
		return err
	}
	c.erp = p
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("fakeerp exited: %v\n%s", p.err, tail(p.logPath, 10))
		}
		if res, err := http.Get("http://" + c.erpAddr + "/_control/stats"); err == nil {
			res.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("fakeerp did not answer within 20 s:\n%s", tail(p.logPath, 10))
}

// freshSlips gives the finance plugin a new fake ERP (same address, no
// slip registered) and removes the slips and contracts it kept in its KV
// store, so that every slip a load run issues is a new registration the
// consistency check can count.
func (c *cluster) freshSlips(ctx context.Context) error {
	c.erp.stop(syscall.SIGTERM, 5*time.Second)
	if err := c.startERP(); err != nil {
		return err
	}
	conn, err := c.connectRetry(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `DELETE FROM plugin_kv WHERE plugin_id IN (SELECT id FROM plugins WHERE slug = 'financeiro')
		AND (key LIKE 'slip:%' OR key LIKE 'contracts:%')`)
	if err != nil {
		return fmt.Errorf("clear the finance plugin's slips: %w", err)
	}
	return nil
}

// erpStats is the fake ERP's counters.
type erpStats struct {
	Requests      int `json:"requests"`
	Registrations int `json:"registrations"`
	Replays       int `json:"replays"`
}

func (c *cluster) erpStats() (erpStats, error) {
	var s erpStats
	res, err := http.Get("http://" + c.erpAddr + "/_control/stats")
	if err != nil {
		return s, err
	}
	defer res.Body.Close()
	return s, json.NewDecoder(res.Body).Decode(&s)
}

// apiKey creates an API key with the CLI, as an operator would.
func (c *cluster) apiKey(ctx context.Context, name, scopes string) (string, error) {
	cmd := exec.CommandContext(ctx, c.bins.portico, "apikey", "create", "--tenant", demoTenant, "--name", name, "--scopes", scopes)
	cmd.Env = append(os.Environ(), "PORTICO_DATABASE_URL="+c.dbURL, "PORTICO_DATA_DIR="+filepath.Join(c.dir, "cli"), "PORTICO_LOG_LEVEL=warn")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("portico apikey create: %w: %s", err, stderr.String())
	}
	key := strings.TrimSpace(string(out))
	if !strings.HasPrefix(key, "pk_") || strings.ContainsAny(key, " \n") {
		return "", fmt.Errorf("portico apikey create printed %q, not a key", key)
	}
	return key, nil
}

// stopNode stops a node: SIGTERM, then SIGKILL after limit. It reports
// how long the node took to exit and whether it had to be killed.
func (c *cluster) stopNode(n *node, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	_ = n.proc.signal(syscall.SIGTERM)
	if n.proc.wait(limit) {
		return time.Since(start), false
	}
	n.proc.stop(syscall.SIGKILL, 5*time.Second)
	return time.Since(start), true
}

// close stops everything the harness started, starts PostgreSQL again if
// the harness had stopped it, drops the database and removes the run
// directory (kept with -keep or when the run failed).
func (c *cluster) close(failed bool) error {
	var errs []error
	c.closeOnce.Do(func() {
		if c.pgStopped.Load() {
			c.logf("starting PostgreSQL again")
			if _, err := c.pgStart(); err != nil {
				errs = append(errs, err)
			}
		}
		if c.nginx != nil {
			c.nginx.stop()
		}
		var wg sync.WaitGroup
		for _, n := range c.nodes {
			if n.proc != nil {
				wg.Add(1)
				go func() { defer wg.Done(); n.proc.stop(syscall.SIGTERM, 30*time.Second) }()
			}
		}
		wg.Wait()
		if c.erp != nil {
			c.erp.stop(syscall.SIGTERM, 5*time.Second)
		}
		if c.dbMade {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := c.dropDatabase(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if c.cfg.keep || failed {
			c.logf("run directory kept: %s", c.dir)
			return
		}
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

// dropDatabase drops the cluster's database, retrying while PostgreSQL
// comes back.
func (c *cluster) dropDatabase(ctx context.Context) error {
	var err error
	for ctx.Err() == nil {
		var conn *pgx.Conn
		conn, err = c.connectAdmin(ctx)
		if err == nil {
			_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{c.dbName}.Sanitize()+" WITH (FORCE)")
			conn.Close(context.Background())
			if err == nil {
				c.logf("database %s dropped", c.dbName)
				return nil
			}
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("drop database %s (drop it by hand): %w", c.dbName, err)
}
