package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process the harness started: a node, nginx or the fake ERP.
// Its output goes to a log file; it runs in its own process group, so a
// Ctrl-C in the terminal reaches only the harness, which then stops
// everything in order (and starts PostgreSQL again if it stopped it).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, once done is closed
}

// startProc starts args in dir with env, stdout and stderr appended to
// logPath.
func startProc(name, dir string, env []string, logPath string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process (not its group).
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return nil
	}
	return p.cmd.Process.Signal(sig)
}

// wait waits up to d for the process to exit and reports whether it did.
func (p *proc) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// stop sends sig, waits up to grace, then kills the process group.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	_ = p.signal(sig)
	if p.wait(grace) {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.wait(5 * time.Second)
}

// cpu returns the CPU time (user + system) the process and, when
// children is true, its live children have used so far.
func (p *proc) cpu(children bool) time.Duration {
	if p == nil || p.exited() {
		return 0
	}
	pid := p.cmd.Process.Pid
	total := cpuTime(pid)
	if children {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if err == nil {
			for _, f := range strings.Fields(string(raw)) {
				if c, err := strconv.Atoi(f); err == nil {
					total += cpuTime(c)
				}
			}
		}
	}
	return total
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime reads the user and system time of pid from /proc (0 when it
// cannot).
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return parseStatCPU(raw)
}

// parseStatCPU returns utime + stime from the content of /proc/PID/stat.
// The command name (field 2) may hold spaces and parentheses, so fields
// are counted after its last ')'.
func parseStatCPU(raw []byte) time.Duration {
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	// After the name: state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || u < 0 || s < 0 {
		return 0
	}
	return time.Duration(u+s) * clockTick
}

// machineCPU returns the busy and total time of all CPUs from /proc/stat.
func machineCPU() (busy, total time.Duration) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		d := time.Duration(n) * clockTick
		// user nice system idle iowait irq softirq steal guest guest_nice:
		// guest time is already in user, so it is not added twice.
		if i >= 8 {
			continue
		}
		total += d
		if i != 3 && i != 4 {
			busy += d
		}
	}
	return busy, total
}

// loadAverage returns the 1-minute load average as text.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// freePort returns a loopback port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// runLogged runs a command in dir, appending its output to logPath; a
// failure quotes the end of the log.
func runLogged(ctx context.Context, dir string, env []string, logPath string, args ...string) error {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "$ (cd %s && %s)\n", dir, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logf, logf
	err = cmd.Run()
	_ = logf.Close()
	if err != nil {
		return fmt.Errorf("%s: %w; %s ends:\n%s", strings.Join(args, " "), err, logPath, tail(logPath, 20))
	}
	return nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errExited is returned when a process exits while being waited for.
var errExited = errors.New("exited")

// cpuCount is the number of CPUs the machine has.
func cpuCount() int { return runtime.NumCPU() }

// backendsCPU sums the CPU time of the PostgreSQL backends connected to
// database db: their process title names it ("postgres: USER DB HOST…").
func backendsCPU(db string) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.HasPrefix(raw, []byte("postgres: ")) {
			continue
		}
		// "postgres: [CLUSTER: ]USER DB ADDRESS STATE": Debian puts the
		// cluster's name (15/main:) first.
		f := strings.Fields(string(bytes.TrimRight(raw, "\x00")))
		if len(f) > 5 {
			f = f[:5]
		}
		if slices.Contains(f, db) {
			total += cpuTime(pid)
		}
	}
	return total
}
