// Package layering holds one test: the import rules of the layout that
// docs/design.md ("Layout") describes, checked on the real import graph
// (go list -deps), so a change that crosses a layer fails here rather than
// in review.
package layering

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-dev/portico/internal/testsrc"
)

const module = "github.com/portico-dev/portico"

// deps returns every package pkg depends on, itself included, as go list
// sees it from dir.
func deps(t *testing.T, dir, pkg string) []string {
	t.Helper()
	cmd := exec.Command(testsrc.GoTool(), "list", "-deps", pkg)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pkg       string
		forbidden []string
		why       string
	}{
		{"./host/web", []string{module + "/host/runner", module + "/host/sandbox", module + "/internal/launch", module + "/admin"},
			"the shared edge holds tenant, session, CSRF, language and the error tables; each edge package is given the services it uses"},
		{"./host/runner", []string{"github.com/gofiber/fiber/v2", module + "/host/web"}, "the runner knows no HTTP"},
		{"./host/sandbox", []string{"github.com/gofiber/fiber/v2", "gorm.io/gorm", module + "/internal/storage"}, "the sandbox knows neither HTTP nor the database"},
		{"./internal/...", []string{"github.com/gofiber/fiber/v2", module + "/host/", module + "/admin"}, "domain and storage never import the edge"},
		{"./admin/service", []string{"github.com/gofiber/fiber/v2", module + "/host/sandbox"}, "the admin service checks modules through a small interface"},
		{"./plugins/loyalty/...", []string{"github.com/gofiber/fiber/v2", module + "/host/", module + "/admin", module + "/internal/storage",
			module + "/internal/registry", module + "/internal/launch"}, "the loyalty app is an external app: it knows Portico only through launch tokens"},
	} {
		for _, d := range deps(t, root, tc.pkg) {
			for _, f := range tc.forbidden {
				if d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
					t.Errorf("%s depends on %s: %s", tc.pkg, d, tc.why)
				}
			}
		}
	}
	// The tax-id rules are compiled into the finance plugin's wasm guest
	// too: the standard library only.
	for _, d := range deps(t, root, "./internal/document") {
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && d != module+"/internal/document" {
			t.Errorf("internal/document depends on %s", d)
		}
	}
	// The SDK is a module of its own that plugin authors compile: the
	// standard library and itself, nothing else.
	for _, d := range deps(t, filepath.Join(root, "sdk"), "./...") {
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && !strings.HasPrefix(d, module+"/sdk") {
			t.Errorf("the sdk module depends on %s", d)
		}
	}
}
