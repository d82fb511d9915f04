package server_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// volatile matches what differs between runs: CSRF tokens and the test
// server's port.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`name="_csrf" value="[^"]+"`), `name="_csrf" value="CSRF"`},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), `127.0.0.1:PORT`},
}

// TestGoldenPages compares rendered pages with testdata/golden/*.html, so a
// change to the markup shows up in review as a diff. Regenerate with
// `go test ./host/server -run Golden -update`.
func TestGoldenPages(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	pages := []struct {
		name, as, path, lang string
	}{
		{"login_pt-BR", "", "/login", "pt-BR"},
		{"login_en", "", "/login", "en"},
		{"home_cliente", "cliente@demo.portico.test", "/", "pt-BR"},
		{"home_ambos_es", "ambos@demo.portico.test", "/", "es"},
		{"plugin_financeiro", "cliente@demo.portico.test", "/p/financeiro", "pt-BR"},
		{"not_found", "cliente@demo.portico.test", "/p/assembleias", "pt-BR"},
	}
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			c := p.NewClient(t, "")
			if pg.as != "" {
				c.Login(pg.as, demo.Password)
			}
			got := string(c.Do("GET", pg.path, nil, "Accept-Language", pg.lang).Body)
			for _, v := range volatile {
				got = v.re.ReplaceAllString(got, v.repl)
			}
			path := filepath.Join("testdata", "golden", pg.name+".html")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("%s differs from %s (run with -update if the change is intended):\n%s", pg.path, path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff says where want and got first differ: the byte offset and
// about 60 bytes of each around it (the pages are rendered without
// newlines, so a line number would say nothing).
func firstDiff(want, got string) string {
	n := 0
	for n < len(want) && n < len(got) && want[n] == got[n] {
		n++
	}
	if n == len(want) && n == len(got) {
		return ""
	}
	around := func(s string) string {
		return s[max(0, n-60):min(len(s), n+60)]
	}
	return fmt.Sprintf("byte %d:\n- …%s…\n+ …%s…", n, around(want), around(got))
}
