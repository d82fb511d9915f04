package sdk_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPluginModuleOutsideRepository does what docs/plugin-tutorial.md tells
// an integrator to do, in a directory outside this repository: a new
// module pointed at this SDK with a replace directive, a plugin built for
// wasip1 and its sdktest test run natively. The module graph of the plugin
// must hold Portico's SDK and nothing else — no Fiber, GORM or wazero —
// and nothing is fetched from the network (GOPROXY=off).
func TestPluginModuleOutsideRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm plugin")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go toolchain on PATH: %v", err)
	}
	sdkDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if rel, err := filepath.Rel(filepath.Dir(sdkDir), dir); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("%s is inside the repository", dir)
	}
	files := map[string]string{
		"main.go": `package main

import "github.com/portico-dev/portico/sdk"

func init() {
	sdk.Render(func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("Olá").Text(c.Tr("Olá, ", "Hola, ", "Hello, ") + c.User().Name), nil
	})
}

func main() {}
`,
		"main_test.go": `package main

import (
	"testing"

	"github.com/portico-dev/portico/sdk/sdktest"
)

func TestGreets(t *testing.T) {
	h := sdktest.New(t)
	h.User.Name = "Ana"
	h.Render().NoError().Contains("Olá, Ana")
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "CGO_ENABLED=0")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(nil, "mod", "init", "example.com/myplugin")
	run(nil, "mod", "edit", "-require=github.com/portico-dev/portico/sdk@v0.0.0", "-replace=github.com/portico-dev/portico/sdk="+sdkDir)
	run([]string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "-buildmode=c-shared", "-o", "plugin.wasm", ".")
	if fi, err := os.Stat(filepath.Join(dir, "plugin.wasm")); err != nil || fi.Size() == 0 {
		t.Fatalf("no plugin.wasm: %v", err)
	}
	run(nil, "test", "-count=1", ".")

	mods := strings.Fields(run(nil, "list", "-m", "-f", "{{.Path}}", "all"))
	if want := []string{"example.com/myplugin", "github.com/portico-dev/portico/sdk"}; !slices.Equal(mods, want) {
		t.Errorf("the plugin's module graph is %q, want %q", mods, want)
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(dir, "go.sum")) // absent when nothing is downloaded
	for _, dep := range []string{"gofiber", "gorm", "wazero", "portico-dev/portico "} {
		if strings.Contains(string(gomod)+string(gosum), dep) {
			t.Errorf("the plugin's go.mod or go.sum names %q:\n%s\n%s", dep, gomod, gosum)
		}
	}
}
