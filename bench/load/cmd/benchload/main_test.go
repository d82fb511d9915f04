package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no rounds", []string{"-rounds", "-1"}, 2, "want 1 to 20"},
		{"too many rounds", []string{"-rounds", "21"}, 2, "want 1 to 20"},
		{"too short", []string{"-duration", "500ms"}, 2, "want 1s to 2m"},
		{"too long", []string{"-duration", "1h"}, 2, "want 1s to 2m"},
		{"one core for both", []string{"-server-cpu", "1", "-load-cpu", "1"}, 2, "need a core each"},
		{"negative core", []string{"-server-cpu", "-1"}, 2, "core numbers"},
		{"unknown flag", []string{"-fast"}, 2, "flag provided but not defined"},
		{"argument", []string{"now"}, 2, "unexpected arguments"},
		{"a core the machine lacks", []string{"-root", t.TempDir(), "-server-cpu", "0", "-load-cpu", "4096", "-skip-postgres"}, 1, "cores 0 and 4096 are needed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"-root", root}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.err) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, tc.code, errOut.String(), tc.err)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	t.Setenv("PORTICO_TEST_DATABASE_URL", "")
	c := config{root: "../../../..", quick: true, loadCPU: 1}
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	if c.rounds != 1 || c.duration != 3*time.Second || c.exchangeTime != "1000x" || !filepath.IsAbs(c.root) ||
		c.benchDir != filepath.Join(c.root, "bench") || !strings.HasPrefix(c.pgURL, "postgres://postgres@127.0.0.1:5432/test") {
		t.Errorf("quick defaults: %+v", c)
	}
	c = config{root: "../../../..", loadCPU: 1}
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	if c.rounds != 3 || c.duration != 10*time.Second || c.exchangeTime != "20000x" {
		t.Errorf("full defaults: %+v", c)
	}
}

func TestFindRoot(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "host", "cmd", "portico")); err != nil {
		t.Errorf("findRoot() = %s, not Portico's root: %v", root, err)
	}
}

func TestCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// cpuTime (/proc/PID/stat) must agree with getrusage over the same
	// busy loop: checked against another clock of the same CPU, not
	// against the wall clock, so a busy machine that gives the loop less
	// than all of a core does not fail the test.
	usage := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ruBefore := usage()
	// Burn at least 200 ms of CPU (at most 10 s of wall clock).
	for deadline := time.Now().Add(10 * time.Second); usage()-ruBefore < 200*time.Millisecond && time.Now().Before(deadline); {
		for range 100000 {
		}
	}
	ruDelta := usage() - ruBefore
	after, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in clock ticks (10 ms): allow two ticks and 20 %.
	if d := after - before; d < ruDelta*8/10-20*time.Millisecond || d > ruDelta*12/10+20*time.Millisecond {
		t.Errorf("cpuTime says %s of CPU, getrusage %s", d, ruDelta)
	}
	if _, err := cpuTime(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestWrkDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{3 * time.Second: "3s", 10 * time.Second: "10s", 1400 * time.Millisecond: "1s", 0: "1s", time.Minute: "60s"} {
		if got := wrkDuration(d); got != want {
			t.Errorf("wrkDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestProfileName(t *testing.T) {
	for in, want := range map[string]string{
		"r1-GET /api/v1/me/plugins/ola/view (SQLite), 16 conns, one user": "r1-get-api-v1-me-plugins-ola-view-sqlite-16-conns-one-user",
		"same (PostgreSQL), 16 customers in turn":                         "same-postgresql-16-customers-in-turn",
		"../../etc": "etc",
	} {
		if got := profileName(in); got != want {
			t.Errorf("profileName(%q) = %q, want %q", in, got, want)
		}
	}
}
