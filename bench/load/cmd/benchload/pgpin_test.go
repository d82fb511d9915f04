package main

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

// TestProcessTree: parentOf and childrenOf read the process tree as the
// kernel has it, which pinPostgres walks from a backend to the postmaster
// and back to every backend.
func TestProcessTree(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	if p, err := parentOf(os.Getpid()); err != nil || p != os.Getppid() {
		t.Errorf("parentOf(self) = %d, %v; want %d", p, err, os.Getppid())
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if kids := childrenOf(os.Getpid()); !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("childrenOf(self) = %v, want it to hold the child %d", kids, cmd.Process.Pid)
	}
	if p, err := parentOf(cmd.Process.Pid); err != nil || p != os.Getpid() {
		t.Errorf("parentOf(child) = %d, %v; want %d", p, err, os.Getpid())
	}
	if _, err := parentOf(-1); err == nil {
		t.Error("parentOf(-1) found a process")
	}
}
