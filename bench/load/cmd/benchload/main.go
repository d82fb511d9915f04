// Command benchload is Portico's reproducible load script (`make
// bench-load`): it builds bin/portico and a static Fiber reference server,
// starts Portico with the demo on SQLite and on a fresh PostgreSQL
// database, pins the servers to one core and wrk to another, runs rounds
// in which each figure is measured right after its limit (reference,
// path, reference, path…), runs the in-process rows' Go benchmarks pinned
// the same way, and prints every round's ratios and their medians.
//
//	cd bench && go run ./load/cmd/benchload [-quick] [-rounds 3] [-duration 10s]
//
// See bench/load/README.md for what each row means. The machine must be
// otherwise idle: the figures are ratios measured minutes apart on shared
// cores.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/portico-dev/portico/bench/load/report"
)

// hardLimit ends the script whatever happens; a default run takes about
// six minutes, a -quick one about two, after the first build.
const hardLimit = 30 * time.Minute

// config is what the flags set.
type config struct {
	root, benchDir string
	// pinPG pins the PostgreSQL server to the load core (pgPin).
	quick, skipPG, keep, pinPG bool
	rounds                     int
	duration, warmup           time.Duration
	pgURL                      string
	serverCPU, loadCPU         int
	// Go benchmark sizes (-test.benchtime).
	helloTime, noopTime, mintTime, exchangeTime string
	// only, when set, keeps the rows whose name it matches (-only).
	only *regexp.Regexp
	// profile, when set, is the directory where a CPU profile of the
	// server is written for each HTTP row of each round (-profile).
	profile string
}

// wants reports whether the row named name is measured in this run.
func (c *config) wants(name string) bool { return c.only == nil || c.only.MatchString(name) }

// runner holds one run's state.
type runner struct {
	cfg  config
	tmp  string
	out  io.Writer // the tables
	errw io.Writer // progress
	bins struct {
		portico, reference      string
		sandbox, mint, exchange testBin
	}
	procs []*proc
	rows  []report.Row
	// pgPinned says where PostgreSQL runs, for the header.
	pgPinned string
}

func (r *runner) log(format string, args ...any) {
	fmt.Fprintf(r.errw, "bench-load: "+format+"\n", args...)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.quick, "quick", false, "a short validation run: 1 round of 3 s runs and small Go benchmarks (figures not for the record)")
	fs.IntVar(&cfg.rounds, "rounds", 0, "rounds of interleaved measurements (default 3, 1 with -quick)")
	fs.DurationVar(&cfg.duration, "duration", 0, "length of each wrk run (default 10s, 3s with -quick)")
	fs.StringVar(&cfg.root, "root", "", "the repository root (default: found above the working directory)")
	fs.StringVar(&cfg.pgURL, "pg", "", "a PostgreSQL database to connect to, where the script creates and drops its own database and the Go benchmarks their schemas (default $PORTICO_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	fs.BoolVar(&cfg.skipPG, "skip-postgres", false, "leave out the PostgreSQL rows")
	fs.IntVar(&cfg.serverCPU, "server-cpu", 0, "the core the servers and the Go benchmarks are pinned to")
	fs.IntVar(&cfg.loadCPU, "load-cpu", 1, "the core wrk is pinned to")
	fs.BoolVar(&cfg.pinPG, "pin-postgres", true, "pin the PostgreSQL server (postmaster and backends, when it runs on this machine and this user may) to the load core for the run, so that it does not take CPU from the server measured; its affinity is restored at the end")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (logs, data) after a successful run")
	fs.StringVar(&cfg.profile, "profile", "", "write a CPU profile of the server during each HTTP row's run into this directory (served by PORTICO_PPROF on the metrics listener; figures of a profiled run are not for the record)")
	only := fs.String("only", "", "measure only the rows whose name matches this regular expression, e.g. 'view' (for working on one path; a full run is what goes in docs/benchmarks.md)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench-load: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(stderr, "bench-load: -only:", err)
			return 2
		}
		cfg.only = re
	}
	if err := cfg.complete(); err != nil {
		fmt.Fprintln(stderr, "bench-load:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, hardLimit)
	defer cancel()
	r := &runner{cfg: cfg, out: stdout, errw: stderr}
	if err := r.run(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("stopped after %s: %w", hardLimit, err)
		}
		fmt.Fprintln(stderr, "bench-load:", err)
		return 1
	}
	return 0
}

// complete applies the defaults of the mode and checks the flags.
func (c *config) complete() error {
	if c.profile != "" {
		abs, err := filepath.Abs(c.profile)
		if err == nil {
			err = os.MkdirAll(abs, 0o755)
		}
		if err != nil {
			return fmt.Errorf("-profile: %w", err)
		}
		c.profile = abs
	}
	if c.rounds == 0 {
		c.rounds = 3
		if c.quick {
			c.rounds = 1
		}
	}
	if c.duration == 0 {
		c.duration = 10 * time.Second
		if c.quick {
			c.duration = 3 * time.Second
		}
	}
	c.warmup = 2 * time.Second
	c.helloTime, c.noopTime, c.mintTime, c.exchangeTime = "3s", "20000x", "2s", "20000x"
	if c.quick {
		c.warmup = time.Second
		c.helloTime, c.noopTime, c.mintTime, c.exchangeTime = "1s", "5000x", "1s", "1000x"
	}
	switch {
	case c.rounds < 1 || c.rounds > 20:
		return fmt.Errorf("-rounds %d: want 1 to 20", c.rounds)
	case c.duration < time.Second || c.duration > 2*time.Minute:
		return fmt.Errorf("-duration %s: want 1s to 2m", c.duration)
	case c.serverCPU == c.loadCPU:
		return fmt.Errorf("-server-cpu and -load-cpu are both %d: the server and wrk need a core each", c.loadCPU)
	case c.serverCPU < 0 || c.loadCPU < 0:
		return errors.New("-server-cpu and -load-cpu are core numbers (0, 1, …)")
	}
	if c.pgURL == "" {
		c.pgURL = os.Getenv("PORTICO_TEST_DATABASE_URL")
	}
	if c.pgURL == "" {
		c.pgURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	if c.root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		c.root = root
	}
	// Absolute: the commands run in other directories.
	root, err := filepath.Abs(c.root)
	if err != nil {
		return fmt.Errorf("-root %s: %w", c.root, err)
	}
	c.root, c.benchDir = root, filepath.Join(root, "bench")
	return nil
}

// findRoot walks up from the working directory to Portico's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/portico-dev/portico\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Portico repository above the working directory: pass -root")
		}
		dir = parent
	}
}

// run is the whole script: checks, build, servers, rounds, summary.
func (r *runner) run(ctx context.Context) (err error) {
	if err := r.preflight(ctx); err != nil {
		return err
	}
	if r.tmp, err = os.MkdirTemp("", "portico-bench-load-"); err != nil {
		return err
	}
	var dropDB func()
	defer func() {
		for i := len(r.procs) - 1; i >= 0; i-- {
			r.procs[i].stop()
		}
		if dropDB != nil {
			dropDB()
		}
		if err != nil || r.cfg.keep {
			r.log("logs and data kept in %s", r.tmp)
		} else {
			_ = os.RemoveAll(r.tmp)
		}
	}()
	r.pgPinned = "PostgreSQL not pinned"
	if !r.cfg.skipPG && r.cfg.pinPG {
		pin, err := pinPostgres(ctx, r.cfg.pgURL, r.cfg.loadCPU)
		if err != nil {
			r.log("PostgreSQL not pinned: %v", err)
			r.pgPinned = "PostgreSQL not pinned: " + err.Error()
		} else {
			defer pin.restore()
			r.pgPinned = fmt.Sprintf("PostgreSQL (postmaster %d and its backends) on core %d", pin.postmaster, r.cfg.loadCPU)
		}
	}
	r.header()
	if err := r.buildAll(ctx); err != nil {
		return err
	}

	// The reference and the portals, all pinned to the server core; each
	// is idle while another is measured.
	refLine := func(line string) (string, bool) { return strings.CutPrefix(line, "listening ") }
	ref, refBase, err := startProc(ctx, "reference", r.cfg.benchDir, os.Environ(), filepath.Join(r.tmp, "reference.log"),
		refLine, r.pinned(r.cfg.serverCPU, r.bins.reference, "-addr", "127.0.0.1:0")...)
	if err != nil {
		return err
	}
	r.procs = append(r.procs, ref)
	r.log("reference listening on %s", refBase)
	lite, err := r.startPortal(ctx, "SQLite", "")
	if err != nil {
		return err
	}
	r.log("portico (SQLite) ready on %s", lite.base)
	var pg *portal
	if !r.cfg.skipPG {
		dbURL, drop, err := createDatabase(ctx, r.cfg.pgURL)
		if err != nil {
			return err
		}
		dropDB = drop
		if pg, err = r.startPortal(ctx, "PostgreSQL", dbURL); err != nil {
			return err
		}
		r.log("portico (PostgreSQL) ready on %s", pg.base)
	}

	cases := slices.DeleteFunc(r.httpCases(lite, pg), func(c httpCase) bool { return !r.cfg.wants(c.name) })
	for _, c := range cases {
		if err := check(ctx, c.portal.base, c.path, c.cookies()[0], c.want); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	if err := r.warm(ctx, ref, refBase, cases, pg); err != nil {
		return err
	}
	for round := 1; round <= r.cfg.rounds; round++ {
		start := len(r.rows)
		if err := r.round(ctx, round, ref, refBase, cases, pg); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		fmt.Fprintf(r.out, "\nRound %d of %d\n\n", round, r.cfg.rounds)
		if err := report.Write(r.out, r.rows[start:]); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.out, "\nSummary: medians over %d round(s); the ratio is value ÷ limit, each pair measured back to back\n\n", r.cfg.rounds)
	if err := report.WriteSummary(r.out, report.Summarize(r.rows)); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "\nload average at the end: %s\n", loadAverage())
	return nil
}

// preflight checks what the script needs before building anything.
func (r *runner) preflight(ctx context.Context) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the load script needs Linux (taskset, /proc), not %s", runtime.GOOS)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return errors.New("taskset is not installed (Debian: apt-get install -y util-linux)")
	}
	if n := runtime.NumCPU(); max(r.cfg.serverCPU, r.cfg.loadCPU) >= n {
		return fmt.Errorf("cores %d and %d are needed, this process may use %d: the server and wrk need a core each",
			r.cfg.serverCPU, r.cfg.loadCPU, n)
	}
	if err := ensureWrk(ctx, r.log); err != nil {
		return err
	}
	if !r.cfg.skipPG {
		if err := pingPostgres(ctx, r.cfg.pgURL); err != nil {
			return fmt.Errorf("PostgreSQL at %s does not answer (%v): start it, point -pg at one, or pass -skip-postgres", redact(r.cfg.pgURL), err)
		}
	}
	return nil
}

// header prints what the figures depend on.
func (r *runner) header() {
	mode := "full run"
	if r.cfg.quick {
		mode = "-quick: a validation run, not figures for the record"
	}
	wrkV, _ := exec.Command("wrk", "-v").CombinedOutput()
	desc, _ := exec.Command("git", "-C", r.cfg.root, "describe", "--always", "--dirty").Output()
	goV, _ := exec.Command("go", "version").Output()
	fmt.Fprintf(r.out, "Portico load script (%s), %s\n", mode, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(r.out, "code %s; %s; %s\n", strings.TrimSpace(string(desc)), strings.TrimSpace(string(goV)), firstLine(string(wrkV)))
	fmt.Fprintf(r.out, "cpu: %s, %d cores; servers and Go benchmarks on core %d, wrk on core %d; %s\n",
		cpuModel(), runtime.NumCPU(), r.cfg.serverCPU, r.cfg.loadCPU, r.pgPinned)
	fmt.Fprintf(r.out, "%d round(s); wrk runs of %s (warm-up %s); load average at the start: %s\n",
		r.cfg.rounds, r.cfg.duration, r.cfg.warmup, loadAverage())
	if l := load1(); l > 0.5 {
		fmt.Fprintf(r.out, "WARNING: the machine is not quiet (1-minute load %.2f): the figures will be noisy\n", l)
	}
}

// httpCase is one path measured with wrk.
type httpCase struct {
	name   string
	portal *portal
	path   string
	want   string // in the body of a good answer
	conns  int
	// ref: the limit is the reference server; otherwise the sandbox
	// render benchmark.
	ref bool
	// customers: the requests go, in turn, as the portal's bench
	// customers (one login each) instead of the demo cliente alone.
	customers bool
	target    report.Target
}

// cookies returns the session cookies c's requests send.
func (c httpCase) cookies() []string {
	if c.customers {
		return c.portal.customers
	}
	return []string{c.portal.cookie}
}

func (r *runner) httpCases(lite, pg *portal) []httpCase {
	menu := func(p *portal, t report.Target) httpCase {
		return httpCase{name: "GET /api/v1/me/menu (" + p.db + "), 64 conns", portal: p, path: "/api/v1/me/menu",
			want: `"slug":"financeiro"`, conns: 64, ref: true, target: t}
	}
	// The demo plugin counts each user's visits in one KV key. As the demo
	// cliente alone, every view increments the same row (a worst case that
	// serialises on the row's lock); as 16 customers, each in turn, the
	// views in flight write different rows, as on a portal in use.
	view := func(p *portal, customers bool) httpCase {
		name := "GET /api/v1/me/plugins/ola/view (" + p.db + "), 16 conns, one user"
		if customers {
			name = fmt.Sprintf("same (%s), %d customers in turn", p.db, len(p.customers))
		}
		return httpCase{name: name, portal: p, path: "/api/v1/me/plugins/ola/view", want: `"view":{`, conns: 16,
			customers: customers, target: report.Target{MinRatio: 0.70}}
	}
	cs := []httpCase{
		menu(lite, report.Target{MinRatio: 0.35}),
		{name: "GET / home HTML (SQLite), 64 conns", portal: lite, path: "/", want: `data-slug="financeiro"`, conns: 64, ref: true,
			target: report.Target{MinRatio: 0.20}},
	}
	if pg != nil {
		cs = append(cs, menu(pg, report.Target{MinRatio: 0.30, MaxP99: 20 * time.Millisecond}))
	}
	cs = append(cs, view(lite, false), view(lite, true))
	if pg != nil {
		cs = append(cs, view(pg, false), view(pg, true))
	}
	return cs
}

// warm runs every path and the reference briefly, unmeasured, and the
// sandbox benchmarks once (the first compiles the plugins into wazero's
// cache).
func (r *runner) warm(ctx context.Context, ref *proc, refBase string, cases []httpCase, pg *portal) error {
	r.log("warming up")
	if pg != nil && r.cfg.wants(exchangeRow) {
		e, err := r.prepareExchange(ctx, pg, r.cfg.warmup)
		if err != nil {
			return err
		}
		if _, err := e.run(ctx, r); err != nil {
			return err
		}
	}
	for i, c := range cases {
		if i == 0 {
			if _, err := r.wrk(ctx, refBase+"/", ref.cmd.Process.Pid, 64, r.cfg.warmup, c.portal.cookie); err != nil {
				return err
			}
		}
		if _, err := r.wrk(ctx, c.portal.base+c.path, c.portal.p.cmd.Process.Pid, c.conns, r.cfg.warmup, c.cookies()...); err != nil {
			return err
		}
	}
	_, err := r.goBench(ctx, r.bins.sandbox, "^Benchmark(HelloRender|NoopLatency)$", "-test.benchtime", "1x")
	return err
}

// round measures every row once, each right after its limit.
func (r *runner) round(ctx context.Context, round int, ref *proc, refBase string, cases []httpCase, pg *portal) error {
	add := func(row report.Row) { row.Round = round; r.rows = append(r.rows, row) }
	for _, c := range cases {
		var limit float64
		var limitName, note string
		if c.ref {
			r.log("round %d: reference, then %s", round, c.name)
			w, err := r.wrk(ctx, refBase+"/", ref.cmd.Process.Pid, c.conns, r.cfg.duration, c.portal.cookie)
			if err != nil {
				return err
			}
			limit, limitName, note = w.RPS, "static Fiber 1 KB JSON, 1 core", fmt.Sprintf("ref cpu %.2f", w.ServerCPU)
		} else {
			r.log("round %d: BenchmarkHelloRender, then %s", round, c.name)
			bs, err := r.goBench(ctx, r.bins.sandbox, "^BenchmarkHelloRender$", "-test.benchtime", r.cfg.helloTime)
			if err != nil {
				return err
			}
			if limit, err = report.Find(bs, "BenchmarkHelloRender", "renders/s"); err != nil {
				return err
			}
			limitName = "host/sandbox render alone, 1 core"
		}
		prof := r.profileDuring(ctx, c.portal, fmt.Sprintf("r%d-%s", round, c.name))
		w, err := r.wrk(ctx, c.portal.base+c.path, c.portal.p.cmd.Process.Pid, c.conns, r.cfg.duration, c.cookies()...)
		if perr := prof(); err == nil && perr != nil {
			err = perr
		}
		if err != nil {
			return err
		}
		// Still the logged-in page after the run (wrk counts a redirect
		// to the login as a success).
		if err := check(ctx, c.portal.base, c.path, c.cookies()[0], c.want); err != nil {
			return fmt.Errorf("after the run of %s: %w", c.name, err)
		}
		note = strings.TrimPrefix(note+fmt.Sprintf("; server cpu %.2f", w.ServerCPU), "; ")
		add(report.Row{Name: c.name, Value: w.RPS, Unit: "req/s", P50: w.P50, P99: w.P99, Limit: limitName,
			LimitValue: limit, Note: note, Target: c.target})
	}

	if r.cfg.wants(noopRow) {
		if err := r.measureNoop(ctx, round, add); err != nil {
			return err
		}
	}
	if r.cfg.wants(mintRow) {
		if err := r.measureMint(ctx, round, add); err != nil {
			return err
		}
	}
	if pg != nil && r.cfg.wants(exchangeRow) {
		return r.measureExchange(ctx, round, pg, add)
	}
	return nil
}

// The names of the Go benchmarks' rows, as -only matches them.
const (
	noopRow     = "warm no-op wasm call p50"
	mintRow     = "launch mint+sign, 1 core"
	exchangeRow = "launch exchange (PostgreSQL)"
)

// measureNoop measures a warm no-op call through the sandbox against plain
// wazero calling the same exports.
func (r *runner) measureNoop(ctx context.Context, round int, add func(report.Row)) error {
	r.log("round %d: BenchmarkNoopLatency (sandbox, plain wazero)", round)
	bs, err := r.goBench(ctx, r.bins.sandbox, "^BenchmarkNoopLatency$", "-test.benchtime", r.cfg.noopTime)
	if err != nil {
		return err
	}
	sb50, err1 := report.Find(bs, "BenchmarkNoopLatency/sandbox", "p50-µs")
	sb99, err2 := report.Find(bs, "BenchmarkNoopLatency/sandbox", "p99-µs")
	wz50, err3 := report.Find(bs, "BenchmarkNoopLatency/wazero", "p50-µs")
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	add(report.Row{Name: noopRow, Value: sb50, Unit: "µs", P50: micros(sb50), P99: micros(sb99),
		Limit: "plain wazero, same exports, p50", LimitValue: wz50, Target: report.Target{MaxRatio: 3}})
	return nil
}

// measureMint measures minting a launch token against the bare signature.
func (r *runner) measureMint(ctx context.Context, round int, add func(report.Row)) error {
	r.log("round %d: BenchmarkSignEd25519 and BenchmarkMint", round)
	bs, err := r.goBench(ctx, r.bins.mint, "^Benchmark(SignEd25519|Mint)$", "-test.benchtime", r.cfg.mintTime, "-test.cpu", "1")
	if err != nil {
		return err
	}
	mintNs, err1 := report.Find(bs, "BenchmarkMint", "ns/op")
	signNs, err2 := report.Find(bs, "BenchmarkSignEd25519", "ns/op")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	add(report.Row{Name: mintRow, Value: 1e9 / mintNs, Unit: "/s", Limit: "crypto/ed25519 Sign, same input",
		LimitValue: 1e9 / signNs, Target: report.Target{MinRatio: 0.90}})
	return nil
}

// measureExchange measures the launch exchange on the PostgreSQL portal
// (wrk on the load core, as the HTTP rows) against its single-use
// statement alone, in both of the statement's forms (pgx, 16 clients, on
// the server core).
func (r *runner) measureExchange(ctx context.Context, round int, pg *portal, add func(report.Row)) error {
	// The tokens first, so that the limit and the exchange run back to
	// back.
	e, err := r.prepareExchange(ctx, pg, r.cfg.duration)
	if err != nil {
		return err
	}
	r.log("round %d: BenchmarkSingleUse, then the exchange with wrk", round)
	bs, err := r.goBench(ctx, r.bins.exchange, "^BenchmarkSingleUse$", "-test.benchtime", r.cfg.exchangeTime)
	if err != nil {
		return err
	}
	ins, err1 := report.Find(bs, "BenchmarkSingleUse/insert", "statements/s")
	upd, err2 := report.Find(bs, "BenchmarkSingleUse/update", "statements/s")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	w, err := e.run(ctx, r)
	if err != nil {
		return err
	}
	target := report.Target{MinRatio: 0.5, MaxP99: 25 * time.Millisecond}
	note := fmt.Sprintf("server cpu %.2f", w.ServerCPU)
	add(report.Row{Name: exchangeRow + ", 16 conns", Value: w.RPS, Unit: "/s", P50: w.P50, P99: w.P99,
		Limit: "its INSERT … ON CONFLICT alone, pgx, 16 clients", LimitValue: ins, Note: note, Target: target})
	add(report.Row{Name: exchangeRow + " vs UPDATE", Value: w.RPS, Unit: "/s", P50: w.P50, P99: w.P99,
		Limit: "UPDATE … used_at IS NULL RETURNING alone, pgx, 16 clients", LimitValue: upd, Note: note, Target: target})
	return nil
}

func micros(v float64) time.Duration { return time.Duration(v * float64(time.Microsecond)) }
func millis(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// cpuModel returns /proc/cpuinfo's first model name.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage returns /proc/loadavg's three averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// load1 returns the 1-minute load average (0 when unknown).
func load1() float64 {
	var v float64
	_, _ = fmt.Sscan(loadAverage(), &v)
	return v
}
