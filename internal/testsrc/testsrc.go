// Package testsrc finds the source directory of one of the module's
// packages, for test helpers that read files kept beside their code
// (testdata, an npm package installed there), and the go command. It asks the go command
// rather than runtime.Caller, because `make test` builds with -trimpath
// (so that a fresh checkout in another directory reuses the build cache),
// and then runtime.Caller names an import path, not a file on disk.
package testsrc

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

var (
	mu   sync.Mutex
	dirs = map[string]string{}
)

// Dir returns the directory of the package importPath, as `go list`
// reports it from the test's working directory (inside the module).
func Dir(importPath string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if d, ok := dirs[importPath]; ok {
		return d, nil
	}
	cmd := exec.Command(GoTool(), "list", "-f", "{{.Dir}}", importPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w\n%s", importPath, err, stderr.Bytes())
	}
	d := strings.TrimSpace(string(out))
	if d == "" {
		return "", fmt.Errorf("go list %s: no directory", importPath)
	}
	dirs[importPath] = d
	return d, nil
}

// GoTool returns the go command tests run: the one of the toolchain that
// built the test binary when the binary knows its root (runtime.GOROOT,
// which -trimpath leaves empty unless $GOROOT is set), else the one on
// $PATH, which is the one `make test` runs.
func GoTool() string {
	if r := runtime.GOROOT(); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}
