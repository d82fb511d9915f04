// Package testguest builds the Go guest modules that tests run, once per
// source and Go version, for every test package and every run.
//
// A guest is compiled for wasip1 as a reactor (-buildmode=c-shared,
// -trimpath) into a cache directory, under a name that is the SHA-256 of
// the Go version, the build flags and the contents of every file of the
// module's packages it depends on (go list -deps). A second test package,
// a second run or a second worktree with the same sources finds the file
// and reads it; a build holds a file lock and renames its output into
// place, so packages testing in parallel neither race nor build twice.
//
//	wasm, err := testguest.Build("../sandbox/testdata/guests/multi")
//
// The guest cache is $PORTICO_TEST_CACHE, or portico-test in the user's
// cache directory. WazeroDir is the wazero compilation cache the tests share, so
// that a guest's native code is compiled once too (it is valid for test
// binaries built with and without -race: wazero keys it by module, wazero
// version and CPU features, and the race detector does not instrument it).
package testguest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"

	"github.com/portico-dev/portico/internal/testsrc"
)

// Root returns the cache directory: $PORTICO_TEST_CACHE, or portico-test
// under the user's cache directory, or under the temporary directory when
// there is none.
func Root() string {
	if d := os.Getenv("PORTICO_TEST_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "portico-test")
	}
	return filepath.Join(os.TempDir(), "portico-test")
}

// WazeroDir returns the wazero compilation cache the tests' engines
// share: portico/wasm-cache in the user's cache directory, the one
// host/server's engine uses when its configuration has no data directory
// (as in tests), so that the server's and admin's scenario tests share it
// too. It holds native code, hence a directory of the user's own
// ($XDG_CACHE_HOME moves it; PORTICO_TEST_CACHE does not, since the
// server would not follow). It is created if missing, so that a symbolic
// link to it does not dangle.
func WazeroDir() string {
	dir := filepath.Join(os.TempDir(), "portico-test-wasm-cache")
	if c, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(c, "portico", "wasm-cache")
	}
	_ = os.MkdirAll(dir, 0o700)
	return dir
}

// NewRuntime returns a plain wazero runtime (without Portico's sandbox,
// instrumentation or snapshots) whose compilation cache is WazeroDir, for
// the tests that must see a guest as wazero alone runs it; TestWarm
// compiles the guests they run into that cache. close releases the
// runtime and the cache.
func NewRuntime(ctx context.Context) (r wazero.Runtime, close func(), err error) {
	cache, err := wazero.NewCompilationCacheWithDir(WazeroDir())
	if err != nil {
		return nil, nil, fmt.Errorf("open the wazero cache: %w", err)
	}
	r = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	return r, func() { _ = r.Close(ctx); _ = cache.Close(ctx) }, nil
}

var (
	mu    sync.Mutex
	built = map[string][]byte{}
)

// Build returns the module compiled from the Go package pkg (a directory
// or an import path, resolved from the working directory) with extra
// flags passed to go build (e.g. "-ldflags", "-X main.v=2").
func Build(pkg string, flags ...string) ([]byte, error) {
	memo := pkg + "\x00" + strings.Join(flags, "\x00")
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[memo]; ok {
		return b, nil
	}
	key, err := sourceKey(pkg, flags)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(Root(), "guests")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("guest cache: %w", err)
	}
	file := filepath.Join(dir, key+".wasm")
	b, err := os.ReadFile(file)
	if err != nil {
		unlock, lerr := lockFile(file + ".lock")
		if lerr != nil {
			return nil, fmt.Errorf("lock guest cache: %w", lerr)
		}
		defer unlock()
		// Another process may have built it while this one waited.
		if b, err = os.ReadFile(file); err != nil {
			if b, err = build(pkg, flags, file); err != nil {
				return nil, err
			}
		}
	}
	built[memo] = b
	return b, nil
}

func goTool() string { return testsrc.GoTool() }

func wasip1Env() []string {
	return append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
}

// build compiles pkg into a temporary file beside file and renames it into
// place.
func build(pkg string, flags []string, file string) ([]byte, error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), "build-*.wasm")
	if err != nil {
		return nil, fmt.Errorf("guest cache: %w", err)
	}
	_ = tmp.Close()
	defer os.Remove(tmp.Name())
	args := append([]string{"build", "-trimpath", "-buildmode=c-shared", "-o", tmp.Name()}, flags...)
	cmd := exec.Command(goTool(), append(args, pkg)...)
	cmd.Env = wasip1Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build guest %s: %w\n%s", pkg, err, out)
	}
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return nil, fmt.Errorf("guest cache: %w", err)
	}
	return b, nil
}

// sourceKey hashes the Go version, the flags and the files of every
// non-standard package pkg depends on, named relative to their module.
func sourceKey(pkg string, flags []string) (string, error) {
	cmd := exec.Command(goTool(), "list", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Standard,Module", pkg)
	cmd.Env = wasip1Env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w\n%s", pkg, err, stderr.Bytes())
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", runtime.Version(), strings.Join(flags, "\x00"))
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Dir     string
			GoFiles, EmbedFiles []string
			Standard            bool
			Module              *struct {
				Path, Version, GoMod string
				Replace              *struct{ Path, Version string }
			}
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("go list %s: %w", pkg, err)
		}
		if p.Standard {
			continue
		}
		fmt.Fprintf(h, "pkg %s\x00", p.ImportPath)
		if p.Module != nil && p.Module.Version != "" && (p.Module.Replace == nil || p.Module.Replace.Version != "") {
			// A versioned dependency is identified by its version; one
			// replaced by a directory (the SDK: sdk/ in this repository)
			// by its files, like the main module's packages.
			fmt.Fprintf(h, "mod %s@%s\x00", p.Module.Path, p.Module.Version)
			continue
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				return "", fmt.Errorf("hash guest source: %w", err)
			}
			fmt.Fprintf(h, "file %s %d\x00", f, len(b))
			h.Write(b)
		}
		if p.Module != nil && p.Module.GoMod != "" {
			if b, err := os.ReadFile(p.Module.GoMod); err == nil {
				h.Write(b)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
