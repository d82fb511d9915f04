package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// pgVersionDir returns the Debian cluster version to control: the
// server's major version when /etc/postgresql has it, else the only one
// there.
func (c *cluster) pgVersionDir() (string, error) {
	if c.pgCluster != "" {
		if _, err := os.Stat(filepath.Join("/etc/postgresql", c.pgCluster, "main")); err == nil {
			return c.pgCluster, nil
		}
	}
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(entries) != 1 {
		return "", fmt.Errorf("cannot tell which PostgreSQL cluster to restart (/etc/postgresql: %v)", err)
	}
	return entries[0].Name(), nil
}

// pgCtl runs pg_ctlcluster on the local cluster. It takes no context: a
// start must run even while the harness is being interrupted.
func (c *cluster) pgCtl(action string, extra ...string) error {
	v, err := c.pgVersionDir()
	if err != nil {
		return err
	}
	args := append([]string{"--skip-systemctl-redirect"}, extra...)
	args = append(args, v, "main", action)
	out, err := exec.Command("pg_ctlcluster", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctlcluster %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pgReady reports whether PostgreSQL accepts connections.
func pgReady() bool {
	return exec.Command("pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432", "-t", "1").Run() == nil
}

// pgStop stops the machine's PostgreSQL (fast mode: sessions are
// disconnected, as in a crash or a failover).
func (c *cluster) pgStop() error {
	c.pgStopped.Store(true)
	return c.pgCtl("stop", "--mode=fast")
}

// pgStart starts PostgreSQL and waits until it accepts connections; it
// returns when it first did. pg_isready is polled while pg_ctlcluster
// runs: pg_ctlcluster returns seconds after the server accepts
// connections.
func (c *cluster) pgStart() (time.Time, error) {
	done := make(chan error, 1)
	go func() { done <- c.pgCtl("start") }()
	var readyAt time.Time
	var err error
	finished := false
	deadline := time.Now().Add(90 * time.Second)
	for readyAt.IsZero() || !finished {
		select {
		case err = <-done:
			finished = true
		default:
		}
		if readyAt.IsZero() && pgReady() {
			readyAt = time.Now()
		}
		if time.Now().After(deadline) {
			break
		}
		if finished && readyAt.IsZero() && err != nil && !strings.Contains(err.Error(), "already running") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if readyAt.IsZero() {
		if err == nil {
			err = fmt.Errorf("PostgreSQL does not accept connections 90 s after pg_ctlcluster start")
		}
		return readyAt, fmt.Errorf("%w: start it by hand: pg_ctlcluster --skip-systemctl-redirect %s main start", err, c.pgCluster)
	}
	c.pgStopped.Store(false)
	return readyAt, nil
}

// probe is one node's view during the PostgreSQL restart: a logged-in
// GET every 100 ms, straight to the node.
type probe struct {
	n    *node
	mu   sync.Mutex
	seen []probeAnswer
}

type probeAnswer struct {
	at     time.Duration
	status int
	class  string
}

func (p *probe) run(ctx context.Context, l *load, s *session, stop <-chan struct{}) {
	client := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		at := l.since()
		a := do(ctx, client, call{method: "GET", url: p.n.base() + "/api/v1/me/menu", header: s.header()})
		class := ""
		if a.status != http.StatusOK {
			class, _ = a.describe()
		}
		p.mu.Lock()
		p.seen = append(p.seen, probeAnswer{at, a.status, class})
		p.mu.Unlock()
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// firstOKAfter returns when the node first answered 200 at or after t,
// and whether it did.
func (p *probe) firstOKAfter(t time.Duration) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.seen {
		if a.at >= t && a.status == http.StatusOK {
			return a.at, true
		}
	}
	return 0, false
}

// answersBetween counts the probe's answers in [from, to) by class.
func (p *probe) answersBetween(from, to time.Duration) map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, a := range p.seen {
		if a.at >= from && a.at < to {
			c := a.class
			if c == "" {
				c = "200"
			}
			out[c]++
		}
	}
	return out
}

// recoveryLimit is how long after PostgreSQL accepts connections again
// every node must serve again.
const recoveryLimit = 10 * time.Second

// runPGRestart stops PostgreSQL under load, starts it again, and checks
// what the nodes answered, how fast they recovered, and that nothing was
// lost or duplicated.
func runPGRestart(ctx context.Context, c *cluster) (res *result, err error) {
	res = newResult(c, "pg-restart", fmt.Sprintf("The mixed load (%d workers) runs through nginx, and each node is also asked directly every 100 ms "+
		"(a logged-in GET /api/v1/me/menu), while the machine's PostgreSQL is stopped (pg_ctlcluster stop --mode=fast: every connection is cut), "+
		"left down %s and started again. Then the database is compared with what the load was told.", c.cfg.concurrency, c.cfg.pgDown))
	run, err := c.startCheckedLoad(ctx, "pg-restart load")
	if err != nil {
		return res, err
	}
	l, before, keyID, marks := run.load, run.before, run.keyID, run.marks
	defer l.stop()
	stopProbes := make(chan struct{})
	var probes []*probe
	var pwg sync.WaitGroup
	for _, n := range c.nodes {
		p := &probe{n: n}
		probes = append(probes, p)
		pwg.Add(1)
		go func() { defer pwg.Done(); p.run(ctx, l, c.fx.users[0], stopProbes) }()
	}
	defer func() { close(stopProbes); pwg.Wait() }()
	// Registered last, so it runs first: PostgreSQL is started again
	// whatever happens below (an error, Ctrl-C).
	defer func() {
		if c.pgStopped.Load() {
			c.logf("pg-restart: starting PostgreSQL again")
			if _, serr := c.pgStart(); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}()
	sleep(ctx, c.settle())
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	c.logf("pg-restart: stopping PostgreSQL for %s", c.cfg.pgDown)
	stopSent := l.since()
	if err := c.pgStop(); err != nil {
		return res, err
	}
	stopped := l.since()
	sleep(ctx, c.cfg.pgDown)
	startSent := l.since()
	c.logf("pg-restart: starting PostgreSQL")
	upAt, err := c.pgStart()
	if err != nil {
		return res, err
	}
	up := upAt.Sub(l.start)
	// Wait until every node serves again (bounded), then let the load
	// run undisturbed.
	deadline := time.Now().Add(recoveryLimit + 20*time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		all := true
		for _, p := range probes {
			if _, ok := p.firstOKAfter(up); !ok {
				all = false
			}
		}
		if all {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	sleep(ctx, c.settle())
	l.stop()
	end := l.since()
	samples := l.snapshot()

	timeline := &table{header: []string{"event", "s into the run", "after PostgreSQL accepted connections again"}}
	timeline.add("pg_ctlcluster stop sent", secs(stopSent), "")
	timeline.add("PostgreSQL stopped", secs(stopped), "")
	timeline.add("pg_ctlcluster start sent", secs(startSent), "")
	timeline.add("PostgreSQL accepts connections (pg_isready, polled every 50 ms)", secs(up), "0")
	recovered := true
	var slowest time.Duration
	for _, p := range probes {
		at, ok := p.firstOKAfter(up)
		if !ok {
			recovered = false
			timeline.add("node "+p.n.name+" serves again", "never (within the run)", "")
			continue
		}
		slowest = max(slowest, at-up)
		timeline.add("node "+p.n.name+" serves again", secs(at), ms(at-up))
	}
	groups := failures(samples, 0, end)
	var firstFail, lastFail time.Duration = -1, -1
	for _, g := range groups {
		if firstFail < 0 || g.first < firstFail {
			firstFail = g.first
		}
		lastFail = max(lastFail, g.last)
	}
	if firstFail >= 0 {
		timeline.add("first failed request of the load", secs(firstFail), "")
		timeline.add("last failed request of the load", secs(lastFail), ms(lastFail-up))
	}
	res.addTable("Timeline", timeline)

	probeT := &table{header: []string{"node", "answers while PostgreSQL was down (direct)", "answers until it served again"}}
	for _, p := range probes {
		ok, _ := p.firstOKAfter(up)
		probeT.add(p.n.name, countInline(p.answersBetween(stopped, up)), countInline(p.answersBetween(up, max(ok, up))))
	}
	res.addTable("What each node answered (direct probes)", probeT)
	all, per := summarize(samples, 0, end)
	res.addTable(fmt.Sprintf("Load over the whole run (%s)", secs(end)), latencyTable(all, per))
	if len(groups) > 0 {
		res.addTable("Failed requests of the load", failureTable(groups))
	}
	res.addText("", explainFailures(groups))

	// How fast the failures failed, and what they were.
	var failDur []time.Duration
	wrong := map[string]int{}
	for _, s := range samples {
		if s.fail == "" {
			continue
		}
		failDur = append(failDur, s.dur)
		if !strings.HasPrefix(s.fail, "503 ") {
			wrong[s.fail]++
		}
	}
	slices.Sort(failDur)
	if len(failDur) > 0 {
		res.addText("", fmt.Sprintf("Failed requests took p50 %s, p99 %s, max %s.", ms(percentile(failDur, 0.5)), ms(percentile(failDur, 0.99)), ms(failDur[len(failDur)-1])))
	}
	if ne := c.nginxErrors(marks); len(ne) > 0 {
		res.addText("nginx error log during the run", countList(ne))
	}
	lines, counts := c.nodeLogLines(marks, 5, "level=ERROR")
	if len(lines) > 0 {
		res.addText(fmt.Sprintf("Node log lines at level ERROR during the run (%v)", counts), "```\n"+strings.Join(lines, "\n")+"\n```")
	}
	_, warns := c.nodeLogLines(marks, 0, `msg="database unavailable"`)
	res.addText("", fmt.Sprintf("Node log lines \"database unavailable\" (level WARN) during the run: %v.", warns))

	res.check("failed requests were 503 with a message", len(wrong) == 0, "other failures: %v", wrong)
	res.check("failed fast (p99 ≤ 1 s)", len(failDur) == 0 || percentile(failDur, 0.99) <= time.Second, "p99 %s", ms(percentile(failDur, 0.99)))
	res.check(fmt.Sprintf("every node served again within %s", recoveryLimit), recovered && slowest <= recoveryLimit, "slowest %s after PostgreSQL was back", ms(slowest))
	res.check("no failure once every node served again", lastFail < up+slowest+time.Second,
		"last failure %s after PostgreSQL was back", ms(lastFail-up))
	if err := c.checkConsistency(ctx, res, l, before, keyID); err != nil {
		return res, err
	}
	return res, nil
}

// countInline renders counts on one line.
func countInline(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s ×%d", k, v))
	}
	slices.Sort(out)
	if len(out) == 0 {
		return "–"
	}
	return strings.Join(out, ", ")
}
