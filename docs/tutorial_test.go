package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/format"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/cli"
)

// block is one fenced block of a Markdown file. Info is what follows the
// language on the opening fence; the tutorial uses:
//
//	```sh run           a shell block the test runs, in order, in one bash
//	```go file=NAME     a file the reader saves as NAME (written where it appears)
//	```text output      what the preceding "sh run" block prints; … is a wildcard
//
// Every other block (plain ```sh, ```go) is an illustration: Go ones are
// still checked with gofmt.
type block struct {
	Lang, Info, Body string
	Line             int
}

var fenceRe = regexp.MustCompile("^```([a-z]*)[ \t]*(.*)$")

// blocks returns the fenced blocks of the Markdown text md.
func blocks(t *testing.T, md string) []block {
	t.Helper()
	var out []block
	var cur *block
	var body strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil:
			if m := fenceRe.FindStringSubmatch(line); m != nil {
				cur = &block{Lang: m[1], Info: strings.TrimSpace(m[2]), Line: n}
				body.Reset()
			}
		case line == "```":
			cur.Body = body.String()
			out = append(out, *cur)
			cur = nil
		default:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if cur != nil {
		t.Fatalf("the block opened on line %d is never closed", cur.Line)
	}
	return out
}

// script turns the tutorial's blocks into one bash script: the "sh run"
// blocks in order, each announced by a marker line, and the "go file=NAME"
// blocks written to NAME where they appear. It returns the script and,
// for each "text output" block, the index of the run block it describes.
func script(t *testing.T, bs []block) (string, map[int]int) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("set -euo pipefail\n")
	outputs := map[int]int{}
	run := -1
	for i, b := range bs {
		switch {
		case b.Lang == "sh" && b.Info == "run":
			run++
			fmt.Fprintf(&sb, "echo '@@run %d'\n%s", run, b.Body)
		case b.Lang == "go" && strings.HasPrefix(b.Info, "file="):
			name := strings.TrimPrefix(b.Info, "file=")
			if !regexp.MustCompile(`^[a-z_]+\.go$`).MatchString(name) {
				t.Fatalf("line %d: file name %q", b.Line, name)
			}
			if strings.Contains(b.Body, "\nPORTICO_EOF\n") {
				t.Fatalf("line %d: the block holds the heredoc delimiter", b.Line)
			}
			fmt.Fprintf(&sb, "cat > %s <<'PORTICO_EOF'\n%sPORTICO_EOF\n", name, b.Body)
		case b.Lang == "text" && b.Info == "output":
			if run < 0 {
				t.Fatalf("line %d: an output block before any run block", b.Line)
			}
			outputs[i] = run
		case b.Info != "" && b.Lang != "text":
			t.Fatalf("line %d: unknown block info %q (want run, file=NAME or output)", b.Line, b.Info)
		}
	}
	return sb.String(), outputs
}

var spaces = regexp.MustCompile(`[ \t]+`)

// TestPluginTutorial does what docs/plugin-tutorial.md says, as written,
// from an empty directory outside the repository: a new module pointed at
// the SDK of a stand-in for the reader's clone ($PORTICO), the tutorial's
// main.go and main_test.go, go test, the wasm build, portico plugin check
// and run (bin/portico built here), and the admin API calls against the
// demo portal started as `make run` would. Nothing is fetched
// (GOPROXY=off). Then, as the demo cliente, /p/hello must greet by the
// granted name.
func TestPluginTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Portico and a wasm plugin")
	}
	for _, tool := range []string{"go", "bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	repo, err := filepath.Abs("..")
	must(t, err, "repository root")
	raw, err := os.ReadFile("plugin-tutorial.md")
	must(t, err, "read the tutorial")
	bs := blocks(t, string(raw))

	// Every Go block, files and fragments, is as gofmt writes it.
	for _, b := range bs {
		if b.Lang != "go" {
			continue
		}
		got, err := format.Source([]byte(b.Body))
		if err != nil {
			t.Errorf("line %d: the Go block does not parse: %v", b.Line, err)
		} else if string(got) != b.Body {
			t.Errorf("line %d: the Go block is not gofmt-clean; gofmt makes it:\n%s", b.Line, got)
		}
	}
	src, outputs := script(t, bs)
	if !strings.Contains(src, "cat > main.go") || !strings.Contains(src, "cat > main_test.go") || len(outputs) == 0 {
		t.Fatalf("the tutorial lost its marked blocks:\n%s", src)
	}

	// A stand-in for the reader's clone: the SDK and bin/portico.
	tmp := t.TempDir()
	if rel, err := filepath.Rel(repo, tmp); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("%s is inside the repository", tmp)
	}
	clone := filepath.Join(tmp, "portico")
	must(t, os.MkdirAll(filepath.Join(clone, "bin"), 0o755), "clone dir")
	must(t, os.Symlink(filepath.Join(repo, "sdk"), filepath.Join(clone, "sdk")), "link the SDK")
	bin := filepath.Join(clone, "bin", "portico")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./host/cmd/portico")
	build.Dir = repo
	build.Env = env(nil, "CGO_ENABLED=0", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build bin/portico: %v\n%s", err, out)
	}
	portal := startPortal(t, ctx, clone, bin)

	work := filepath.Join(tmp, "home")
	must(t, os.MkdirAll(work, 0o755), "work dir")
	cmd := exec.CommandContext(ctx, "bash", "-c", src)
	cmd.Dir = work
	cmd.Env = env([]string{"GOOS", "GOARCH", "GOFLAGS", "GOPROXY", "GOWORK", "PORTICO", "PORTAL"},
		"PORTICO="+clone, "PORTAL="+portal, "GOPROXY=off", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tutorial's commands failed: %v\n%s", err, out)
	}
	runs := regexp.MustCompile(`(?m)^@@run \d+\n`).Split(string(out), -1)[1:]

	for i, run := range outputs {
		if run >= len(runs) {
			t.Fatalf("line %d: no output for run block %d", bs[i].Line, run)
		}
		got := spaces.ReplaceAllString(runs[run], " ")
		for _, line := range strings.Split(strings.TrimSpace(bs[i].Body), "\n") {
			for _, frag := range strings.Split(spaces.ReplaceAllString(line, " "), "…") {
				if frag = strings.TrimSpace(frag); frag != "" && !strings.Contains(got, frag) {
					t.Errorf("line %d: the documented output %q is not in what the command printed:\n%s", bs[i].Line, frag, runs[run])
				}
			}
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("the tutorial's commands printed:\n%s", out)
	}

	// The uploaded plugin, opened by the demo cliente, greets by name.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	res, err := hc.Post(portal+"/api/v1/session", "application/json",
		strings.NewReader(`{"email":"cliente@demo.portico.test","password":"portico-demo"}`))
	must(t, err, "log in")
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("log in as the demo cliente: %d", res.StatusCode)
	}
	res, err = hc.Get(portal + "/p/hello")
	must(t, err, "open /p/hello")
	var page bytes.Buffer
	_, _ = page.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(page.String(), "Olá, Carla Cliente!") {
		t.Errorf("/p/hello as the cliente: %d, want the plugin's greeting by name:\n%.2000s", res.StatusCode, page.String())
	}
}

// startPortal runs `portico serve` as `make run` does (the demo, data in
// clone/data) on a free loopback port, and returns its URL once it answers.
// It is stopped (SIGINT, then waited for) when the test ends.
func startPortal(t *testing.T, ctx context.Context, clone, bin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err, "find a free port")
	addr := ln.Addr().String()
	ln.Close()
	var log bytes.Buffer
	srv := exec.Command(bin, "serve")
	srv.Dir = clone
	srv.Env = env(nil, "PORTICO_DEMO=true", "PORTICO_DATA_DIR="+filepath.Join(clone, "data"), "PORTICO_ADDR="+addr,
		"PORTICO_LOG_LEVEL=warn")
	srv.Stdout, srv.Stderr = &log, &log
	must(t, srv.Start(), "start portico serve")
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("portico serve:\n%s", log.String())
		}
	})
	url := "http://" + addr
	for {
		select {
		case err := <-done:
			t.Fatalf("portico serve exited: %v\n%s", err, log.String())
		case <-ctx.Done():
			t.Fatalf("portico serve did not answer on %s:\n%s", url, log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if res, err := http.Get(url + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return url
			}
		}
	}
}

// env is the test's environment without the variables named in drop, plus
// set.
func env(drop []string, set ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range append(drop, "PORTICO_DATABASE_URL", "PORTICO_DATA_DIR", "PORTICO_ADDR", "PORTICO_DEMO") {
			keep = keep && name != d
		}
		if keep {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestTutorialGoVersion: the Go release the tutorial asks readers for is the
// one the SDK's go.mod declares (its `go` line is the oldest toolchain that
// builds it: raising it would make a reader's older Go refuse the module, or
// fetch a newer toolchain, while the tutorial still promised the old one).
func TestTutorialGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../sdk/go.mod")
	must(t, err, "read sdk/go.mod")
	doc, err := os.ReadFile("plugin-tutorial.md")
	must(t, err, "read the tutorial")
	declared := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	asked := regexp.MustCompile(`You need Go (\S+) or newer`).FindSubmatch(doc)
	if declared == nil || asked == nil {
		t.Fatalf("no go line in sdk/go.mod (%v) or no \"You need Go … or newer\" in the tutorial (%v)", declared != nil, asked != nil)
	}
	if string(declared[1]) != string(asked[1]) {
		t.Fatalf("sdk/go.mod declares go %s, the tutorial asks for Go %s", declared[1], asked[1])
	}
}

// TestTutorialFlagTable: every flag `portico plugin run` takes (as its
// own usage lists them) has a row in the tutorial's flag table.
func TestTutorialFlagTable(t *testing.T) {
	var usage bytes.Buffer
	if code := cli.Main([]string{"plugin", "--help"}, &usage, io.Discard); code != 0 {
		t.Fatalf("portico plugin --help: exit %d", code)
	}
	_, runFlags, ok := strings.Cut(usage.String(), "flags of run:")
	if !ok {
		t.Fatalf("no run flags in the usage:\n%s", usage.String())
	}
	doc, err := os.ReadFile("plugin-tutorial.md")
	must(t, err, "read the tutorial")
	var table strings.Builder
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `--") {
			table.WriteString(line + "\n")
		}
	}
	flags := regexp.MustCompile("(?m)^  (--[a-z-]+)|, (--[a-z-]+)").FindAllStringSubmatch(runFlags, -1)
	if len(flags) < 10 {
		t.Fatalf("only %d flags found in the usage", len(flags))
	}
	for _, m := range flags {
		flag := m[1] + m[2]
		if !regexp.MustCompile("`" + flag + "[ `]").MatchString(table.String()) {
			t.Errorf("the tutorial's flag table has no row for %s", flag)
		}
	}
}
