package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report writes the Markdown the lead pastes into the docs.
type report struct{ w io.Writer }

func (r *report) printf(format string, a ...any) { fmt.Fprintf(r.w, format, a...) }

// table is a Markdown table.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write renders the table; a cell's pipes and line breaks are escaped.
func (t *table) write(w io.Writer) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, "|", `\|`)
		s = strings.ReplaceAll(s, "\r", " ")
		return strings.ReplaceAll(s, "\n", " ")
	}
	line := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = esc(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(out, " | "))
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	for _, r := range t.rows {
		line(r)
	}
}

// check is one pass/fail statement of a scenario.
type check struct {
	name   string
	ok     bool
	detail string
}

// section is a titled table or paragraph of a scenario's report.
type section struct {
	title string
	text  string
	table *table
}

// result is a scenario's report.
type result struct {
	name     string
	command  string
	intro    string
	sections []section
	checks   []check
}

func newResult(c *cluster, name, intro string) *result {
	return &result{name: name, command: c.command(name), intro: intro}
}

func (res *result) addTable(title string, t *table) {
	res.sections = append(res.sections, section{title: title, table: t})
}

func (res *result) addText(title, text string) {
	res.sections = append(res.sections, section{title: title, text: text})
}

func (res *result) check(name string, ok bool, format string, a ...any) {
	res.checks = append(res.checks, check{name: name, ok: ok, detail: fmt.Sprintf(format, a...)})
}

func (res *result) passed() bool {
	for _, c := range res.checks {
		if !c.ok {
			return false
		}
	}
	return true
}

// print writes the scenario's Markdown.
func (res *result) print(r *report) {
	r.printf("\n## %s\n\n", res.name)
	r.printf("```sh\n%s\n```\n\n", res.command)
	if res.intro != "" {
		r.printf("%s\n", res.intro)
	}
	for _, s := range res.sections {
		if s.title != "" {
			r.printf("\n**%s**\n\n", s.title)
		} else {
			r.printf("\n")
		}
		if s.text != "" {
			r.printf("%s\n", s.text)
		}
		if s.table != nil {
			s.table.write(r.w)
		}
	}
	if len(res.checks) > 0 {
		t := &table{header: []string{"check", "result", "detail"}}
		for _, c := range res.checks {
			v := "PASS"
			if !c.ok {
				v = "**FAIL**"
			}
			t.add(c.name, v, c.detail)
		}
		r.printf("\n**Checks**\n\n")
		t.write(r.w)
	}
}

// command is the command line that runs one scenario with this run's
// flags, from the repository root's bench/ directory.
func (c *cluster) command(scenario string) string {
	parts := []string{"cd bench && go run ./cluster"}
	for _, a := range c.cfg.flagArgs {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(append(parts, scenario), " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// header writes where and how the run happened.
func (r *report) header(c *cluster) {
	r.printf("# Portico cluster proof (bench/cluster)\n\n")
	if c.cfg.quick {
		r.printf("**-quick run: a validation of the harness; its figures are not for the docs.**\n\n")
	}
	t := &table{header: []string{"", ""}}
	t.add("date", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	t.add("commit", gitDescribe(c.cfg.root))
	t.add("machine", fmt.Sprintf("%d CPUs (%s/%s), load average at start %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverage()))
	t.add("software", fmt.Sprintf("%s, nginx %s, PostgreSQL %s (127.0.0.1:5432)", runtime.Version(), c.nginx.version(), c.pgCluster))
	var nodes []string
	for _, n := range c.nodes {
		nodes = append(nodes, n.name+" "+n.addr)
	}
	t.add("nodes", strings.Join(nodes, ", ")+"; nginx "+c.nginx.addr)
	t.add("nginx", fmt.Sprintf("1 worker, upstream keepalive %d, max_fails=%d fail_timeout=%s, proxy_next_upstream %s (never non_idempotent)",
		c.nginx.keepalive, nginxMaxFails, nginxFailTimeout, c.nginx.nextUpstream))
	t.add("everything on this machine", "the three nodes, nginx, PostgreSQL, the fake ERP and the load generator share the same CPUs: a node's figures here are not a dedicated server's")
	t.add("load", fmt.Sprintf("%d workers, %d users; each step %s after %s of warm-up; mix: menu 35 %%, plugin page 20 %%, wasm action 15 %%, launch + exchange 10 %%, portal session + open 10 %%, segunda via 10 %%",
		c.cfg.concurrency, c.cfg.users, c.cfg.duration, c.cfg.warmup))
	drain := "unset"
	if c.cfg.drainDelay != "" {
		drain = c.cfg.drainDelay
	}
	t.add("PORTICO_DRAIN_DELAY", drain)
	t.write(r.w)
	r.printf("\nEvery figure is from loopback on a shared machine. Latencies are over the expected answers; failed requests are counted apart. " +
		"A worker whose request failed waits 100 ms before its next operation.\n")
}

// footer closes the report.
func (r *report) footer(c *cluster, failed bool) {
	r.printf("\n---\n\nload average at the end: %s", loadAverage())
	if failed {
		r.printf("; **some checks failed or a scenario did not finish** (logs: %s)\n", c.dir)
	} else {
		r.printf("; every check passed\n")
	}
}

// gitDescribe names the repository's commit (dirty when the tree has
// changes).
func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// ms formats a duration in milliseconds (seconds above 10 s).
func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

// secs formats an offset in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// latencyTable is the per-kind table of a load window.
func latencyTable(all kindStats, per []kindStats) *table {
	t := &table{header: []string{"request", "requests", "ok/s", "p50", "p99", "max", "failed"}}
	for _, k := range append(per, all) {
		name := k.kind
		if name == "all" {
			name = "**all**"
		}
		t.add(name, fmt.Sprint(k.n), fmt.Sprintf("%.1f", k.rate), ms(k.p50), ms(k.p99), ms(k.max), fmt.Sprint(k.failed))
	}
	return t
}

// failureTable lists failure groups.
func failureTable(groups []*failureGroup) *table {
	t := &table{header: []string{"request", "answer", "count", "first – last (s into the run)", "answered by", "message"}}
	for _, g := range groups {
		var ups []string
		for u, n := range g.upstreams {
			ups = append(ups, fmt.Sprintf("%s ×%d", u, n))
		}
		slices.Sort(ups)
		t.add(g.kind, g.class, fmt.Sprint(g.count), fmt.Sprintf("%.2f – %.2f", g.first.Seconds(), g.last.Seconds()),
			clip(strings.Join(ups, "; "), 160), g.detail)
	}
	return t
}
