package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn at least 50 ms of CPU.
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 50*time.Millisecond || d > 10*time.Second {
		t.Errorf("100 ms of busy loop used %s of CPU", d)
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
