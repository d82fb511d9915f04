package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// settle is how long the load runs undisturbed before, between and after
// the disruptions of rolling-restart and pg-restart.
func (c *cluster) settle() time.Duration {
	if c.cfg.quick {
		return 2 * time.Second
	}
	return max(c.cfg.warmup, 5*time.Second)
}

// readyzWatch polls a node's /readyz until it stops answering and
// remembers what it answered: a draining node says so (503 "draining")
// before it closes its listener.
type readyzWatch struct {
	mu       sync.Mutex
	answers  []string // distinct "status body" answers, in order
	draining bool
	done     chan struct{}
}

func watchReadyz(ctx context.Context, n *node, stop <-chan struct{}) *readyzWatch {
	w := &readyzWatch{done: make(chan struct{})}
	client := &http.Client{Timeout: time.Second}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			select {
			case <-stop:
				return
			default:
			}
			a := do(ctx, client, call{method: "GET", url: n.base() + "/readyz"})
			if a.err != nil && a.status == 0 {
				return // no longer listening
			}
			ans := fmt.Sprintf("%d %s", a.status, clip(strings.TrimSpace(string(a.body)), 60))
			w.mu.Lock()
			if !slices.Contains(w.answers, ans) {
				w.answers = append(w.answers, ans)
			}
			if a.status == http.StatusServiceUnavailable && strings.Contains(string(a.body), "draining") {
				w.draining = true
			}
			w.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

// runRollingRestart restarts the nodes one at a time under load.
func runRollingRestart(ctx context.Context, c *cluster) (*result, error) {
	mode := "SIGTERM to the node while nginx keeps it in its upstream (nginx finds out from refused connections and retries them on another node)"
	if c.cfg.rolling == "nginx" {
		mode = "the node marked down in nginx (configuration reloaded), 1 s for its requests in flight, then SIGTERM; put back after it is ready"
	}
	res := newResult(c, "rolling-restart", fmt.Sprintf("The mixed load (%d workers) runs through nginx while each node in turn is stopped and started again: %s. "+
		"The node is stopped with SIGTERM (killed after 40 s), started again with the same address and data directory, and waited for until /readyz says ready; "+
		"the load runs %s undisturbed before, between and after the restarts. Every request whose answer was not the expected one is counted below.",
		c.cfg.concurrency, mode, c.settle()))
	run, err := c.startCheckedLoad(ctx, "rolling-restart load")
	if err != nil {
		return res, err
	}
	l, before, keyID, marks := run.load, run.before, run.keyID, run.marks
	defer l.stop()
	sleep(ctx, c.settle())
	events := &table{header: []string{"node", "stop sent (s into the run)", "readyz while stopping", "exited after", "started (s)", "ready after", "back in rotation (s)"}}
	for _, n := range c.nodes {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		c.logf("rolling-restart: node %s", n.name)
		if c.cfg.rolling == "nginx" {
			if err := c.nginx.reload(c.upstream(len(c.nodes), n)); err != nil {
				return res, err
			}
			sleep(ctx, time.Second)
		}
		stopAt := l.since()
		stopWatch := make(chan struct{})
		w := watchReadyz(ctx, n, stopWatch)
		took, killed := c.stopNode(n, 40*time.Second)
		close(stopWatch)
		<-w.done
		exited := ms(took)
		if killed {
			exited += " (killed)"
		}
		startAt := l.since()
		if err := c.startNode(ctx, n); err != nil {
			return res, err
		}
		readyAt := l.since()
		if c.cfg.rolling == "nginx" {
			if err := c.nginx.reload(c.upstream(len(c.nodes), nil)); err != nil {
				return res, err
			}
		}
		back := l.since()
		w.mu.Lock()
		seen := strings.Join(w.answers, "; ")
		if seen == "" {
			seen = "(not listening at once)"
		}
		w.mu.Unlock()
		events.add(n.name, secs(stopAt), seen, exited, secs(startAt), ms(readyAt-startAt), secs(back))
		if w.draining {
			res.addText("", fmt.Sprintf("Node %s reported draining on /readyz after SIGTERM.", n.name))
		}
		sleep(ctx, c.settle())
	}
	l.stop()
	end := l.since()
	samples := l.snapshot()
	res.addTable("Restarts", events)
	all, per := summarize(samples, 0, end)
	res.addTable(fmt.Sprintf("Load over the whole run (%s)", secs(end)), latencyTable(all, per))
	groups := failures(samples, 0, end)
	if len(groups) > 0 {
		res.addTable("Failed requests (compare their times with the restarts above)", failureTable(groups))
	}
	res.addText("", explainFailures(groups))
	if ne := c.nginxErrors(marks); len(ne) > 0 {
		res.addText("nginx error log during the run (attempts nginx could not complete on one node; idempotent ones were retried on the next)", countList(ne))
	}
	lines, counts := c.nodeLogLines(marks, 5, "level=ERROR")
	if len(lines) > 0 {
		res.addText(fmt.Sprintf("Node log lines at level ERROR during the run (%v)", counts), "```\n"+strings.Join(lines, "\n")+"\n```")
	}
	fives := 0
	for _, g := range groups {
		if strings.HasPrefix(g.class, "5") {
			fives += g.count
		}
	}
	res.check("no 5xx answer", fives == 0, "%d 5xx answers", fives)
	res.check("no failed request", all.failed == 0, "%d of %d requests failed (see the table)", all.failed, all.n)
	if err := c.checkConsistency(ctx, res, l, before, keyID); err != nil {
		return res, err
	}
	return res, nil
}

// explainFailures says, for the classes of failure a restart can cause,
// what happened.
func explainFailures(groups []*failureGroup) string {
	var out []string
	seen := map[string]bool{}
	for _, g := range groups {
		var why string
		switch {
		case strings.HasPrefix(g.class, "502 (nginx)") && g.detail != "" && strings.Contains(g.detail, "502"):
			why = "502 (nginx): nginx could not get an answer from a node and did not (or could not) retry: a POST that was sent is never sent again; " +
				"and once every node is out of rotation (max_fails), nginx answers 502 itself (\"no live upstreams\" in its error log) until fail_timeout passes"
		case strings.HasPrefix(g.class, "504 (nginx)"):
			why = "504 (nginx): a node did not answer in time"
		case strings.HasPrefix(g.class, "503 database_unavailable"):
			why = "503 database_unavailable: the node could not reach PostgreSQL and said so at once, with Retry-After"
		case strings.Contains(g.class, "body cut"):
			why = "body cut: the status line arrived but the connection closed before the whole body; seen with -rolling-mode nginx, " +
				"when an old nginx worker exits after a reload while it still writes a large answer (nginx logs \"open socket … left in connection\", \"aborting\")"
		case strings.HasPrefix(g.class, "transport:"):
			why = "transport errors: the load generator's connection to nginx failed; nginx itself is never restarted"
		case strings.Contains(g.class, "410"):
			why = "410 on portal_open: the link had been used already, typically by a first attempt nginx retried on another node"
		}
		if why != "" && !seen[why] {
			seen[why] = true
			out = append(out, "- "+why)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "What the failures mean:\n\n" + strings.Join(out, "\n")
}

// countList renders counts as a Markdown list.
func countList(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("- %s: %d", k, v))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
