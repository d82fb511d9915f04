package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// pgPin is the PostgreSQL server pinned to the load core for the run
// (-pin-postgres): its postmaster, and so every backend it forks, and the
// backends already running. A database on the server's core would take
// CPU from the server being measured, and only in the rows that use it:
// in production the database runs on other hardware. wrk and the
// database then share the other core; the Go benchmarks that use the
// database (the exchange and its limit) are measured the same way.
type pgPin struct {
	postmaster int
	before     unix.CPUSet // the postmaster's affinity before the run
}

// pinPostgres pins the PostgreSQL server at adminURL to cpu. It needs the
// server on this machine and the right to change its processes' affinity
// (root, or the postgres user); otherwise it fails, and the run goes on
// with PostgreSQL not pinned.
func pinPostgres(ctx context.Context, adminURL string, cpu int) (*pgPin, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return nil, err
	}
	postmaster, err := parentOf(backend)
	if err != nil {
		return nil, fmt.Errorf("backend %d is not a process of this machine: %w", backend, err)
	}
	if comm, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(postmaster), "comm")); strings.TrimSpace(string(comm)) != "postgres" {
		return nil, fmt.Errorf("backend %d's parent %d is %q, not postgres", backend, postmaster, strings.TrimSpace(string(comm)))
	}
	p := &pgPin{postmaster: postmaster}
	if err := unix.SchedGetaffinity(postmaster, &p.before); err != nil {
		return nil, fmt.Errorf("read the affinity of postgres %d: %w", postmaster, err)
	}
	var set unix.CPUSet
	set.Set(cpu)
	for _, pid := range append([]int{postmaster}, childrenOf(postmaster)...) {
		if err := unix.SchedSetaffinity(pid, &set); err != nil {
			if errors.Is(err, unix.ESRCH) {
				continue // a backend that ended meanwhile
			}
			p.restore()
			return nil, fmt.Errorf("pin postgres process %d to core %d: %w", pid, cpu, err)
		}
	}
	return p, nil
}

// restore gives the postmaster and its backends, including those forked
// during the run, the postmaster's affinity from before the run.
func (p *pgPin) restore() {
	for _, pid := range append([]int{p.postmaster}, childrenOf(p.postmaster)...) {
		_ = unix.SchedSetaffinity(pid, &p.before)
	}
}

// parentOf returns pid's parent process, from /proc/pid/stat.
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// "pid (comm) state ppid …": comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	return strconv.Atoi(f[1])
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parent, err := parentOf(child); err == nil && parent == pid {
			out = append(out, child)
		}
	}
	return out
}
