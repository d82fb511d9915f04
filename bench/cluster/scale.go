package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// cpuMark is the CPU time of the cluster's processes at one moment.
type cpuMark struct {
	at          time.Time
	nodes       time.Duration
	nginx       time.Duration
	self        time.Duration
	pg          time.Duration // this database's PostgreSQL backends
	busy, total time.Duration // the whole machine
}

func (c *cluster) cpuMark() cpuMark {
	m := cpuMark{at: time.Now(), nginx: c.nginx.proc.cpu(true), self: cpuTime(os.Getpid())}
	for _, n := range c.nodes {
		m.nodes += n.proc.cpu(false)
	}
	m.pg = backendsCPU(c.dbName)
	m.busy, m.total = machineCPU()
	return m
}

// cores returns how many CPUs each part used on average between a and b.
func cores(a, b cpuMark) (nodes, nginx, self, pg, machine float64) {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return
	}
	nodes = (b.nodes - a.nodes).Seconds() / wall
	nginx = (b.nginx - a.nginx).Seconds() / wall
	self = (b.self - a.self).Seconds() / wall
	pg = max(0, (b.pg-a.pg).Seconds()/wall)
	if t := (b.total - a.total).Seconds(); t > 0 {
		machine = float64(b.busy-a.busy) / float64(b.total-a.total) * float64(cpuCount())
	}
	return
}

// runScale measures the mixed load through nginx with 1, 2 and 3 nodes
// in the upstream (all three keep running; the ones out of the upstream
// idle).
func runScale(ctx context.Context, c *cluster) (*result, error) {
	res := newResult(c, "scale", fmt.Sprintf("The mixed load through nginx with 1, 2 and 3 nodes in its upstream, %s each after %s of warm-up, "+
		"%d workers each sending one request at a time (a closed loop: more nodes can only show as more requests per second if the machine has spare CPU). "+
		"CPU is in cores used on average: the nodes, nginx, PostgreSQL's backends serving this database (a backend that exited during the step is not counted), "+
		"the load generator, and the whole machine (anything else running on it included).",
		c.cfg.duration, c.cfg.warmup, c.cfg.concurrency))
	defer func() {
		if err := c.nginx.reload(c.upstream(len(c.nodes), nil)); err != nil {
			c.logf("restore nginx: %v", err)
		}
	}()
	sum := &table{header: []string{"nodes", "requests", "ok/s", "p50", "p99", "failed", "CPU nodes", "CPU nginx", "CPU PostgreSQL", "CPU load generator", "CPU machine (of " + fmt.Sprint(cpuCount()) + ")"}}
	type step struct {
		n        int
		all      kindStats
		per      []kindStats
		failures []*failureGroup
	}
	var steps []step
	for n := 1; n <= len(c.nodes); n++ {
		if err := c.nginx.reload(c.upstream(n, nil)); err != nil {
			return res, err
		}
		opts := loadOptions{base: c.nginx.base(), workers: c.cfg.concurrency}
		if c.cfg.warmup > 0 {
			c.logf("scale: %d node(s): warm-up %s", n, c.cfg.warmup)
			opts.limit = c.cfg.warmup
			startLoad(ctx, c, opts).wait()
		}
		c.logf("scale: %d node(s): measuring %s", n, c.cfg.duration)
		opts.limit = c.cfg.duration
		before := c.cpuMark()
		l := startLoad(ctx, c, opts)
		l.wait()
		after := c.cpuMark()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		samples := l.snapshot()
		all, per := summarize(samples, 0, c.cfg.duration)
		cn, cg, cs, cp, cm := cores(before, after)
		sum.add(fmt.Sprint(n), fmt.Sprint(all.n), fmt.Sprintf("%.0f", all.rate), ms(all.p50), ms(all.p99), fmt.Sprint(all.failed),
			fmt.Sprintf("%.2f", cn), fmt.Sprintf("%.2f", cg), fmt.Sprintf("%.2f", cp), fmt.Sprintf("%.2f", cs), fmt.Sprintf("%.2f", cm))
		steps = append(steps, step{n, all, per, failures(samples, 0, c.cfg.duration)})
	}
	res.addTable("Throughput and latency by number of nodes", sum)
	for _, s := range steps {
		res.addTable(fmt.Sprintf("%d node(s): by request", s.n), latencyTable(s.all, s.per))
		if len(s.failures) > 0 {
			res.addTable(fmt.Sprintf("%d node(s): failed requests", s.n), failureTable(s.failures))
		}
		res.check(fmt.Sprintf("%d node(s): no failed request", s.n), s.all.failed == 0, "%d of %d failed", s.all.failed, s.all.n)
	}
	if len(steps) == 3 && steps[0].all.rate > 0 {
		res.addText("", fmt.Sprintf("Ratio of 3 nodes to 1: %.2f× the requests per second; p99 %s → %s.",
			steps[2].all.rate/steps[0].all.rate, ms(steps[0].all.p99), ms(steps[2].all.p99)))
	}
	return res, nil
}
