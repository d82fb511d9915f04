package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	// goCache is the build cache of the user running the tests, read
	// before any test moves $XDG_CACHE_HOME (pluginHome does), so that a
	// build made after that still finds the compiled packages.
	goCache string
)

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		goCache = strings.TrimSpace(string(out))
	}
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// buildBinary compiles the portico command once, cgo-free, as `make build`
// does, and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "portico-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "portico")
		// -trimpath, as make test builds: a checkout elsewhere (CI's
		// fresh clone) then finds every package in the build cache.
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "../cmd/portico")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if goCache != "" {
			cmd.Env = append(cmd.Env, "GOCACHE="+goCache)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("CGO_ENABLED=0 go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen")
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a process's output safely across goroutines.
type syncBuffer struct {
	ch  chan string
	buf bytes.Buffer
}

func collect(r io.Reader) *syncBuffer {
	b := &syncBuffer{ch: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.ch <- sc.Text()
		}
		close(b.ch)
	}()
	return b
}

// waitFor reads lines until one contains s or the timeout passes.
func (b *syncBuffer) waitFor(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-b.ch:
			if !ok {
				t.Fatalf("output ended before %q:\n%s", s, b.buf.String())
			}
			b.buf.WriteString(line + "\n")
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %v:\n%s", s, timeout, b.buf.String())
		}
	}
}

func TestServeDemoThenGracefulShutdown(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	start := func(demo string) (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(bin, "serve")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PORTICO_ADDR="+addr, "PORTICO_DEMO="+demo, "PORTICO_DATA_DIR="+filepath.Join(dir, "data"), "PORTICO_DATABASE_URL=")
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		testdb.Must(t, cmd.Start(), "start")
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, collect(pr)
	}
	cmd, out := start("true")
	out.waitFor(t, "ambos@demo.portico.test", 30*time.Second)
	if !strings.Contains(out.buf.String(), "demo tenant seeded") {
		t.Fatalf("first start did not seed:\n%s", out.buf.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "portico.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}
	// Ready once the published wasm versions are prepared in the
	// background (503 "warming up" until then): poll, within a bound.
	var res *http.Response
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err = http.Get("http://" + addr + "/readyz")
		if err == nil && res.StatusCode == http.StatusOK {
			break
		}
		if err == nil {
			res.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never became ready: %v %v", res, err)
		}
	}
	res.Body.Close()

	// A request in flight when SIGTERM arrives still completes.
	slow := make(chan int, 1)
	go func() {
		body := strings.NewReader(`{"email":"cliente@demo.portico.test","password":"portico-demo"}`)
		r, err := http.Post("http://"+addr+"/api/v1/session", "application/json", body)
		if err != nil {
			slow <- -1
			return
		}
		r.Body.Close()
		slow <- r.StatusCode
	}()
	time.Sleep(5 * time.Millisecond) // the login hashes for ~20 ms: SIGTERM lands mid-request
	testdb.Must(t, cmd.Process.Signal(syscall.SIGTERM), "sigterm")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, out.buf.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20s of SIGTERM")
	}
	if code := <-slow; code != 200 {
		t.Fatalf("in-flight login got %d during shutdown", code)
	}

	// A second start with the demo flag reuses the database and seeds nothing.
	cmd, out = start("true")
	out.waitFor(t, "portico listening", 30*time.Second)
	if strings.Contains(out.buf.String(), "demo tenant seeded") {
		t.Fatal("second start seeded again")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}

func TestProductionStartCreatesNoDemo(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORTICO_ADDR="+addr, "PORTICO_DATA_DIR="+dir, "PORTICO_DEMO=", "PORTICO_DATABASE_URL=",
		"PORTICO_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	testdb.Must(t, cmd.Start(), "start")
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	out := collect(pr)
	out.waitFor(t, "portico listening", 30*time.Second)
	// No tenant exists, so even localhost is an unknown host.
	res, err := http.Get("http://" + addr + "/login")
	testdb.Must(t, err, "get")
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("production start answers /login on localhost with %d; no demo tenant should exist", res.StatusCode)
	}
	if strings.Contains(out.buf.String(), "portico-demo") {
		t.Fatal("production start printed demo logins")
	}
}

func TestBadConfigurationStopsStart(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct{ env, want string }{
		{"PORTICO_ADDR=nonsense", "PORTICO_ADDR"},
		{"PORTICO_DATABASE_URL=mysql://x", "PORTICO_DATABASE_URL"},
		{"PORTICO_LOG_FORMAT=yaml", "PORTICO_LOG_FORMAT"},
		{"PORTICO_DEMO=talvez", "PORTICO_DEMO"},
		{"PORTICO_SECRET_KEY=curta", "PORTICO_SECRET_KEY"},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, bin, "serve")
		cmd.Env = append(os.Environ(), tt.env, "PORTICO_DATA_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s: err %v, output %q; want exit 2 naming %s", tt.env, err, out, tt.want)
		}
	}
	// Outside the demo, serving needs the secret key: refused before the
	// data directory or a database is created.
	dataDir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{nil, {"serve"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PORTICO_DEMO=", "PORTICO_SECRET_KEY=", "PORTICO_DATABASE_URL=", "PORTICO_DATA_DIR="+dataDir)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "PORTICO_SECRET_KEY is required") {
			t.Errorf("serve %v without a secret key: err %v, output %q; want exit 2 naming PORTICO_SECRET_KEY", args, err, out)
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("serve %v without a secret key created %s (%v)", args, dataDir, err)
		}
	}
	out, err := exec.Command(bin, "frobnicate").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v %q", err, out)
	}
}

func TestMigrateCommand(t *testing.T) {
	bin := buildBinary(t)
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			url := testdb.URL(t, driver)
			for i := 0; i < 2; i++ {
				cmd := exec.Command(bin, "migrate")
				cmd.Env = append(os.Environ(), "PORTICO_DATABASE_URL="+url, "PORTICO_DATA_DIR="+t.TempDir())
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("migrate run %d: %v\n%s", i+1, err, out)
				}
				applied := strings.Contains(string(out), "migration applied")
				if applied != (i == 0) {
					t.Fatalf("migrate run %d applied=%v:\n%s", i+1, applied, out)
				}
			}
		})
	}
}
