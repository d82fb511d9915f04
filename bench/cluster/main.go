// Command cluster is the multi-node proof harness: it runs three
// `portico serve` nodes on one fresh PostgreSQL database behind nginx, all
// on loopback, and drives them with a bounded mixed load to show what the
// README and docs/design.md claim for a multi-node installation:
//
//	scale            throughput and p50/p99 with 1, 2 and 3 nodes behind nginx
//	exactly-once     launch tokens and portal-session links redeemed through
//	                 every node at once succeed once; a password guess spread
//	                 over the nodes meets one budget
//	rolling-restart  every node restarted in turn under load; every failed
//	                 request counted and classified
//	pg-restart       PostgreSQL stopped and started under load (only with
//	                 -pg-restart: it is the machine's PostgreSQL); then SQL
//	                 checks that nothing was lost or duplicated
//	invalidation     a change made on node A seen on node B, p50/p99
//
// Each scenario prints a Markdown table and the command that produced it.
// Run it from bench/: `go run ./cluster -quick all`; README.md in this
// directory explains every flag and how to read the output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// scenarios are the subcommands, in the order `all` runs them.
var scenarios = []string{"scale", "exactly-once", "invalidation", "rolling-restart", "pg-restart"}

// config is what the flags chose.
type config struct {
	root         string        // repository root
	quick        bool          // short validation run
	duration     time.Duration // each measured load step
	warmup       time.Duration // unmeasured load before each step
	concurrency  int           // load workers
	users        int           // load users (each its own login)
	tokens       int           // exactly-once: launch tokens and portal links
	changes      int           // invalidation: changes made on node A
	pgURL        string        // a maintenance database on the local server
	pgRestart    bool          // the operator allowed restarting PostgreSQL
	pgDown       time.Duration // how long PostgreSQL stays stopped
	rolling      string        // rolling-restart mode: sigterm or nginx
	drainDelay   string        // PORTICO_DRAIN_DELAY for the nodes, when set
	nextUpstream string        // nginx's proxy_next_upstream
	keepalive    int           // nginx's upstream keepalive
	keep         bool          // keep the run directory
	args         []string      // the command line
	flagArgs     []string      // its flags, for the commands the report prints
	scenarios    []string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line, builds and starts the cluster and runs the
// scenarios asked for. It returns the exit code: 0 when every check
// passed, 1 when one failed or the cluster could not be run, 2 for a bad
// command line.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "cluster: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
	}
	out := &report{w: stdout}
	c, err := newCluster(ctx, cfg, logf)
	if err != nil {
		fmt.Fprintf(stderr, "cluster: %v\n", err)
		return 1
	}
	failed := false
	defer func() {
		if err := c.close(failed); err != nil {
			fmt.Fprintf(stderr, "cluster: clean-up: %v\n", err)
		}
	}()
	if err := c.start(ctx); err != nil {
		failed = true
		fmt.Fprintf(stderr, "cluster: %v\n", err)
		return 1
	}
	out.header(c)
	for _, name := range cfg.scenarios {
		if ctx.Err() != nil {
			failed = true
			break
		}
		logf("scenario %s", name)
		res, err := runScenario(ctx, c, name)
		if res != nil {
			res.print(out)
			if !res.passed() {
				failed = true
			}
		}
		if err != nil {
			failed = true
			fmt.Fprintf(stderr, "cluster: %s: %v\n", name, err)
			out.printf("\n**%s did not finish:** %v\n", name, err)
		}
	}
	out.footer(c, failed)
	if failed {
		return 1
	}
	return 0
}

// parseFlags reads the flags and the scenario names.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{args: args}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./cluster [flags] scenario...\n\nscenarios: %s, or all (pg-restart only with -pg-restart)\n\nflags:\n",
			strings.Join(scenarios, ", "))
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.root, "root", "..", "repository root (the directory holding go.mod of github.com/portico-dev/portico)")
	fs.BoolVar(&cfg.quick, "quick", false, "a short validation run: shorter loads, fewer tokens and changes; its figures are not for the docs")
	fs.DurationVar(&cfg.duration, "duration", 0, "each measured load step (default 30s, -quick 6s; 1s-10m)")
	fs.DurationVar(&cfg.warmup, "warmup", 0, "unmeasured load before each step (default 5s, -quick 2s)")
	fs.IntVar(&cfg.concurrency, "concurrency", 0, "load workers, each one request at a time (default 16, -quick 8; 1-256)")
	fs.IntVar(&cfg.users, "users", 0, "load users, each logged in once (default 16, -quick 8; 1-200)")
	fs.IntVar(&cfg.tokens, "tokens", 0, "exactly-once: launch tokens and portal links redeemed through all nodes (default 200, -quick 30; 1-5000)")
	fs.IntVar(&cfg.changes, "changes", 0, "invalidation: changes made on node A (default 200, -quick 20; 2-5000)")
	fs.StringVar(&cfg.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"a database of the local PostgreSQL server to create and drop the cluster's database from (loopback only)")
	fs.BoolVar(&cfg.pgRestart, "pg-restart", false, "allow the pg-restart scenario to stop and start this machine's PostgreSQL (every database on it)")
	fs.DurationVar(&cfg.pgDown, "pg-down", 5*time.Second, "pg-restart: how long PostgreSQL stays stopped (1s-60s)")
	fs.StringVar(&cfg.rolling, "rolling-mode", "sigterm", "rolling-restart: sigterm (SIGTERM the node; nginx notices by itself) or nginx (mark the node down in nginx and reload it first)")
	fs.StringVar(&cfg.drainDelay, "drain-delay", "", "PORTICO_DRAIN_DELAY for the nodes (e.g. 2s); empty leaves it unset")
	fs.StringVar(&cfg.nextUpstream, "nginx-next-upstream", defaultNextUpstream,
		"nginx's proxy_next_upstream: when a request goes to the next node (README.md says why not http_502 http_503 by default; non_idempotent is refused)")
	fs.IntVar(&cfg.keepalive, "nginx-keepalive", 32, "idle connections nginx keeps to the nodes (0-1000; 0: a new connection per request)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the run directory (logs, nginx configuration, data directories); a failed run always keeps it")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := cfg.setDefaults(); err != nil {
		return cfg, err
	}
	names := fs.Args()
	cfg.flagArgs = args[:len(args)-len(names)]
	if len(names) == 0 {
		fs.Usage()
		return cfg, errors.New("name at least one scenario, or all")
	}
	for _, n := range names {
		switch {
		case n == "all":
			for _, s := range scenarios {
				if s != "pg-restart" || cfg.pgRestart {
					cfg.scenarios = append(cfg.scenarios, s)
				}
			}
		case slices.Contains(scenarios, n):
			cfg.scenarios = append(cfg.scenarios, n)
		default:
			return cfg, fmt.Errorf("unknown scenario %q (scenarios: %s, all)", n, strings.Join(scenarios, ", "))
		}
	}
	cfg.scenarios = slices.Compact(cfg.scenarios)
	if slices.Contains(cfg.scenarios, "pg-restart") && !cfg.pgRestart {
		return cfg, errors.New("pg-restart stops and starts this machine's PostgreSQL, and with it every database on it: pass -pg-restart to confirm")
	}
	root, err := filepath.Abs(cfg.root)
	if err != nil {
		return cfg, fmt.Errorf("-root: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, "host", "cmd", "portico")); err != nil {
		return cfg, fmt.Errorf("-root %s is not the Portico repository (no host/cmd/portico): run from bench/ or pass -root", root)
	}
	cfg.root = root
	return cfg, nil
}

// setDefaults fills the sizes the flags left at zero (smaller with
// -quick) and checks the bounds, so that every load stops by itself.
func (c *config) setDefaults() error {
	def := func(v *int, full, quick int) {
		if *v == 0 {
			*v = full
			if c.quick {
				*v = quick
			}
		}
	}
	defD := func(v *time.Duration, full, quick time.Duration) {
		if *v == 0 {
			*v = full
			if c.quick {
				*v = quick
			}
		}
	}
	defD(&c.duration, 30*time.Second, 6*time.Second)
	defD(&c.warmup, 5*time.Second, 2*time.Second)
	def(&c.concurrency, 16, 8)
	def(&c.users, 16, 8)
	def(&c.tokens, 200, 30)
	def(&c.changes, 200, 20)
	switch {
	case c.duration < time.Second || c.duration > 10*time.Minute:
		return errors.New("-duration must be from 1s to 10m")
	case c.warmup < 0 || c.warmup > time.Minute:
		return errors.New("-warmup must be from 0 to 1m")
	case c.concurrency < 1 || c.concurrency > 256:
		return errors.New("-concurrency must be from 1 to 256")
	case c.users < 1 || c.users > 200:
		return errors.New("-users must be from 1 to 200")
	case c.tokens < 1 || c.tokens > 5000:
		return errors.New("-tokens must be from 1 to 5000")
	case c.changes < 2 || c.changes > 5000:
		return errors.New("-changes must be from 2 to 5000")
	case c.pgDown < time.Second || c.pgDown > time.Minute:
		return errors.New("-pg-down must be from 1s to 60s")
	case c.keepalive < 0 || c.keepalive > 1000:
		return errors.New("-nginx-keepalive must be from 0 to 1000")
	case c.rolling != "sigterm" && c.rolling != "nginx":
		return errors.New("-rolling-mode must be sigterm or nginx")
	}
	if err := checkNextUpstream(c.nextUpstream); err != nil {
		return err
	}
	if c.drainDelay != "" {
		if _, err := time.ParseDuration(c.drainDelay); err != nil {
			return fmt.Errorf("-drain-delay: %w", err)
		}
	}
	return nil
}

// runScenario runs one scenario by name.
func runScenario(ctx context.Context, c *cluster, name string) (*result, error) {
	switch name {
	case "scale":
		return runScale(ctx, c)
	case "exactly-once":
		return runExactlyOnce(ctx, c)
	case "invalidation":
		return runInvalidation(ctx, c)
	case "rolling-restart":
		return runRollingRestart(ctx, c)
	case "pg-restart":
		return runPGRestart(ctx, c)
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}
