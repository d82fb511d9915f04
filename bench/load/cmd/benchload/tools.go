package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/bench/load/report"
)

// pinned returns args prefixed with taskset pinning them to cpu.
func (r *runner) pinned(cpu int, args ...string) []string {
	return append([]string{"taskset", "-c", strconv.Itoa(cpu)}, args...)
}

// ensureWrk finds wrk, installing Debian's package when it is missing and
// the script runs as root with apt-get; otherwise it says how to install it.
func ensureWrk(ctx context.Context, log func(string, ...any)) error {
	if _, err := exec.LookPath("wrk"); err == nil {
		return nil
	}
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		return fmt.Errorf("wrk is not installed: install it (Debian/Ubuntu: sudo apt-get install -y wrk) and run again")
	}
	log("wrk is missing: apt-get install -y wrk")
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "wrk")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get install -y wrk: %w\n%s", err, out)
		}
		return nil
	}
	if err := install(); err != nil {
		log("apt-get install failed; apt-get update, then again")
		if out, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
			return fmt.Errorf("apt-get update: %w\n%s", uerr, out)
		}
		if err := install(); err != nil {
			return fmt.Errorf("%w\ninstall wrk by hand (apt-get install -y wrk) and run again", err)
		}
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk still not found after apt-get install: %w", err)
	}
	return nil
}

// wrkRun is one measured wrk run pinned to the load generator's core,
// with the server's CPU use over the run.
type wrkRun struct {
	report.Wrk
	// ServerCPU is the server process's CPU time over the run divided by
	// the run's wall time: about 1.0 when its core was saturated.
	ServerCPU float64
}

// wrk runs wrk (one thread, conns connections, for d) against url,
// pinned to the load core, and reads its figures; a failed request is an
// error. With one session cookie every request sends it; with several,
// a Lua script sends them in turn, request after request, so the requests
// in flight belong to different customers.
func (r *runner) wrk(ctx context.Context, url string, pid, conns int, d time.Duration, cookies ...string) (wrkRun, error) {
	var extra []string
	if len(cookies) > 1 {
		script, err := r.cookieScript(cookies)
		if err != nil {
			return wrkRun{}, err
		}
		extra = append(extra, "-s", script)
	} else {
		for _, c := range cookies {
			extra = append(extra, "-H", "Cookie: "+sessionCookie+"="+c)
		}
	}
	return r.wrkWith(ctx, url, pid, conns, d, extra...)
}

// wrkWith is wrk with extra arguments (a script, headers) before url.
func (r *runner) wrkWith(ctx context.Context, url string, pid, conns int, d time.Duration, extra ...string) (wrkRun, error) {
	args := r.pinned(r.cfg.loadCPU, "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+wrkDuration(d), "--timeout", "5s", "--latency")
	args = append(append(args, extra...), url)
	cpu0, err := cpuTime(pid)
	if err != nil {
		return wrkRun{}, err
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, d+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, args[0], args[1:]...).CombinedOutput()
	wall := time.Since(start)
	cpu1, cerr := cpuTime(pid)
	r.appendLog("wrk.log", "$ %s\n%s\n", strings.Join(args, " "), out)
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk %s: %w\n%s", url, err, out)
	}
	if cerr != nil {
		return wrkRun{}, cerr
	}
	w, err := report.ParseWrk(string(out))
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk %s: %w\n%s", url, err, out)
	}
	if w.Errors() > 0 {
		return wrkRun{}, fmt.Errorf("wrk %s: %d of %d requests failed (%d non-2xx/3xx, %d socket errors)", url, w.Errors(),
			w.Requests, w.Non2xx, w.SocketErrors)
	}
	if w.Requests == 0 {
		return wrkRun{}, fmt.Errorf("wrk %s: no request completed", url)
	}
	return wrkRun{Wrk: w, ServerCPU: (cpu1 - cpu0).Seconds() / wall.Seconds()}, nil
}

// cookieScript writes a wrk script that sends the session cookies in
// turn, one per request, and returns its path.
func (r *runner) cookieScript(cookies []string) (string, error) {
	var b strings.Builder
	b.WriteString("-- Written by bench/load: one session cookie per request, in turn.\nlocal cookies = {\n")
	for _, c := range cookies {
		fmt.Fprintf(&b, "  %q,\n", sessionCookie+"="+c)
	}
	b.WriteString("}\nlocal n = 0\nrequest = function()\n  n = n % #cookies + 1\n  return wrk.format(nil, nil, {[\"Cookie\"] = cookies[n]})\nend\n")
	f, err := os.CreateTemp(r.tmp, "cookies-*.lua")
	if err == nil {
		_, err = f.WriteString(b.String())
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return "", fmt.Errorf("write the wrk script: %w", err)
	}
	return f.Name(), nil
}

// wrkDuration formats d for wrk's -d (whole seconds, at least 1).
func wrkDuration(d time.Duration) string {
	return strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))) + "s"
}

// goBench runs the compiled test binary bin (in its package's directory,
// as go test does) pinned to the server's core, with the benchmarks of
// pattern and the extra flags, and returns its results. CI=true makes a
// missing PostgreSQL a failure instead of a skip.
func (r *runner) goBench(ctx context.Context, bin testBin, pattern string, extra ...string) ([]report.Bench, error) {
	args := r.pinned(r.cfg.serverCPU, bin.path, "-test.run", "^$", "-test.bench", pattern, "-test.count", "1",
		"-test.timeout", "10m")
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = bin.dir
	cmd.Env = append(os.Environ(), "CI=true", "PORTICO_TEST_DATABASE_URL="+r.cfg.pgURL)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	r.appendLog("gobench.log", "$ (cd %s && %s)\n%s\n", bin.dir, strings.Join(args, " "), out)
	if err != nil {
		return nil, fmt.Errorf("%s -test.bench %s: %w\n%s", filepath.Base(bin.path), pattern, err, lastLines(string(out), 30))
	}
	bs, err := report.ParseBench(string(out))
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("%s -test.bench %s ran no benchmark:\n%s", filepath.Base(bin.path), pattern, lastLines(string(out), 30))
	}
	return bs, nil
}

// testBin is a compiled test binary and the package directory it runs in.
type testBin struct{ path, dir string }

// buildAll runs `make build plugins` at the repository root, builds the
// reference server and compiles the test binaries of the in-process rows.
func (r *runner) buildAll(ctx context.Context) error {
	logPath := filepath.Join(r.tmp, "build.log")
	env := os.Environ()
	r.log("building: make build plugins, the reference server, three test binaries (log: %s)", logPath)
	if err := runLogged(ctx, r.cfg.root, env, logPath, "make", "build", "plugins"); err != nil {
		return err
	}
	r.bins.portico = filepath.Join(r.cfg.root, "bin", "portico")
	bin := filepath.Join(r.tmp, "bin")
	r.bins.reference = filepath.Join(bin, "reference")
	if err := runLogged(ctx, r.cfg.benchDir, env, logPath, "go", "build", "-o", r.bins.reference, "./load/cmd/reference"); err != nil {
		return err
	}
	for _, t := range []struct {
		pkg string
		to  *testBin
	}{
		{"./host/sandbox", &r.bins.sandbox},
		{"./internal/launch", &r.bins.mint},
		{"./host/launch", &r.bins.exchange},
	} {
		*t.to = testBin{path: filepath.Join(bin, strings.ReplaceAll(strings.TrimPrefix(t.pkg, "./"), "/", "_")+".test"),
			dir: filepath.Join(r.cfg.root, t.pkg)}
		if err := runLogged(ctx, r.cfg.root, env, logPath, "go", "test", "-c", "-o", t.to.path, t.pkg); err != nil {
			return err
		}
	}
	return nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// appendLog appends to one of the run's log files in its directory.
func (r *runner) appendLog(name, format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(r.tmp, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, format, args...)
}
