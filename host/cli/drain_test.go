package cli_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/metrics/metricstest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/sdk/abi"
)

// drainDelay is the test's PORTICO_DRAIN_DELAY: long enough to watch the
// drain, short enough for a test.
const drainDelay = 2 * time.Second

// seedSlowPlugin prepares the SQLite database of a `portico serve` in
// dataDir: the demo tenant and a wasm plugin, "lento", running the guest
// of testdata/guest in its "http" mode against upstream, so that each of
// its runs lasts as long as upstream holds the request.
func seedSlowPlugin(t *testing.T, dataDir, baseURL, upstream string) {
	t.Helper()
	ctx := context.Background()
	wasm, err := testguest.Build("./testdata/guest")
	testdb.Must(t, err, "build guest")
	testdb.Must(t, os.MkdirAll(dataDir, 0o750), "data dir")
	st, err := storage.Open(ctx, "sqlite://"+filepath.Join(dataDir, "portico.db"), storage.Options{Logger: testdb.Logger(t)})
	testdb.Must(t, err, "open store")
	defer st.Close()
	testdb.Must(t, st.Migrate(ctx), "migrate")
	_, err = demo.Seed(ctx, st, baseURL)
	testdb.Must(t, err, "seed demo")
	tn, err := st.TenantBySlug(ctx, demo.TenantSlug)
	testdb.Must(t, err, "demo tenant")
	actor := model.SystemActor("test")
	p := &model.Plugin{Slug: "lento", Name: "Lento", Title: "Lento", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone,
		TimeoutMS: model.MaxTimeoutMS, Grants: []string{model.GrantHTTP, model.GrantConfig},
		AllowedHosts: []string{upstream}, AllowPrivateNetwork: true}
	testdb.Must(t, p.Validate(model.PluginRules{IconExists: icon.Exists, AllowInsecureLocal: true}), "validate plugin")
	testdb.Must(t, st.CreatePlugin(ctx, tn.ID, p, actor), "create plugin")
	v := &model.PluginVersion{ABIVersion: abi.Version}
	testdb.Must(t, st.CreatePluginVersion(ctx, tn.ID, p.ID, v, wasm, actor), "upload")
	p, err = st.ActivatePluginVersion(ctx, tn.ID, p.ID, v.ID, actor)
	testdb.Must(t, err, "activate")
	testdb.Must(t, st.ReplacePluginConfig(ctx, tn.ID, p.Slug, p.Version, []model.ConfigValue{
		{Key: "mode", Type: model.ConfigString, Value: "http"},
		{Key: "url", Type: model.ConfigString, Value: upstream + "/slow"},
	}, actor), "configure plugin")
}

// TestServeDrainsOnSIGTERM runs `portico serve` with a plugin call in
// flight (its upstream holds the answer) when SIGTERM arrives: /readyz
// answers 503 "draining" at once while new requests are still served for
// PORTICO_DRAIN_DELAY, then the listener closes, the call in flight
// finishes with 200, and the process exits 0 within the drain delay plus
// server.ShutdownGrace. The separate metrics address serves /metrics
// throughout, and the main address none.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	base := "http://" + addr

	arrived := make(chan struct{}, 1)
	hold := make(chan struct{})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(hold) }) }
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-hold
		_, _ = io.WriteString(w, "resposta lenta")
	}))
	t.Cleanup(upstream.Close)
	t.Cleanup(release) // before upstream.Close, which waits for its handlers
	seedSlowPlugin(t, dataDir, base, upstream.URL)

	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORTICO_ADDR="+addr, "PORTICO_DEMO=true", "PORTICO_DATA_DIR="+dataDir, "PORTICO_DATABASE_URL=",
		"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS=127.0.0.1", "PORTICO_DRAIN_DELAY="+drainDelay.String(),
		"PORTICO_METRICS_ADDR="+metricsAddr, "PORTICO_METRICS_TOKEN=", "PORTICO_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	testdb.Must(t, cmd.Start(), "start")
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	out := collect(pr)
	out.waitFor(t, "portico listening", 30*time.Second)
	waitReady(t, base, 60*time.Second)

	// Metrics on their own address only.
	metricstest.Scrape(t, "http://"+metricsAddr+server.MetricsPath, "")
	if st := status(t, base+server.MetricsPath); st != http.StatusNotFound {
		t.Errorf("main address serves /metrics: %d", st)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	res, err := client.Post(base+"/api/v1/session", "application/json",
		strings.NewReader(`{"email":"cliente@demo.portico.test","password":"portico-demo"}`))
	testdb.Must(t, err, "login")
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", res.StatusCode)
	}
	type answer struct {
		status int
		body   string
		err    error
	}
	inFlight := make(chan answer, 1)
	go func() {
		res, err := client.Get(base + "/api/v1/me/plugins/lento/view")
		if err != nil {
			inFlight <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		inFlight <- answer{res.StatusCode, string(b), err}
	}()
	select {
	case <-arrived:
	case a := <-inFlight:
		t.Fatalf("the plugin call ended before its upstream answered: %+v", a)
	case <-time.After(30 * time.Second):
		t.Fatal("the plugin never called its upstream")
	}

	signalled := time.Now()
	testdb.Must(t, cmd.Process.Signal(syscall.SIGTERM), "sigterm")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Readiness turns at once; the server still answers meanwhile.
	for {
		st, body := getURL(t, base+"/readyz")
		if st == http.StatusServiceUnavailable && body == "draining" {
			break
		}
		if st != http.StatusOK || time.Since(signalled) > time.Second {
			t.Fatalf("readyz %d %q %v after SIGTERM; want 503 \"draining\" within 1s", st, body, time.Since(signalled))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Served, but on a connection closed after the answer, so that the
	// balancer keeps no idle connection to a node about to stop.
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK || !res.Close {
		t.Errorf("a new request while draining: %v %v (want 200 and Connection: close)", res, err)
	} else {
		res.Body.Close()
	}
	metricstest.Scrape(t, "http://"+metricsAddr+server.MetricsPath, "")

	// After the drain delay the listener closes; the call is still held.
	out.waitFor(t, "shutting down", drainDelay+5*time.Second)
	if d := time.Since(signalled); d < drainDelay {
		t.Errorf("shutdown began %v after SIGTERM, before the drain delay %v", d, drainDelay)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			break
		}
		res.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the main address still accepts connections after the drain")
		}
	}
	select {
	case a := <-inFlight:
		t.Fatalf("the call in flight ended before its upstream answered: %+v", a)
	case err := <-exited:
		t.Fatalf("the process exited with a call in flight: %v\n%s", err, out.buf.String())
	default:
	}
	release()
	select {
	case a := <-inFlight:
		if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.body, "resposta lenta") {
			t.Errorf("the call in flight: %d %q %v", a.status, a.body, a.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the call in flight never answered")
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, out.buf.String())
		}
	case <-time.After(drainDelay + server.ShutdownGrace + 5*time.Second - time.Since(signalled)):
		t.Fatalf("no exit within the drain delay plus the shutdown grace:\n%s", out.buf.String())
	}
	took := time.Since(signalled)
	_ = pw.Close() // the output has ended: read the rest
	for line := range out.ch {
		out.buf.WriteString(line + "\n")
	}
	if log := out.buf.String(); strings.Contains(log, "were cut") || !strings.Contains(log, "portico stopped") {
		t.Errorf("shutdown log:\n%s", log)
	}
	t.Logf("SIGTERM to exit: %v (drain delay %v)", took.Round(time.Millisecond), drainDelay)
}

// waitReady polls /readyz until it answers 200, within timeout.
func waitReady(t *testing.T, base string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		st, body := getURL(t, base+"/readyz")
		if st == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never became ready: %d %q", st, body)
		}
	}
}

// getURL returns a GET's status and body; a failed connection is status 0.
func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func status(t *testing.T, url string) int {
	t.Helper()
	st, _ := getURL(t, url)
	return st
}
