package testbrowser

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/internal/testsrc"
)

// Violation is one failed axe-core rule on a page, with the elements it
// failed on.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var where []string
	for i, n := range v.Nodes {
		if i == 3 {
			where = append(where, fmt.Sprintf("… %d more", len(v.Nodes)-3))
			break
		}
		where = append(where, fmt.Sprint(n.Target...))
	}
	return fmt.Sprintf("%s (%s): %s [%s]", v.ID, v.Impact, v.Help, strings.Join(where, "; "))
}

var axeSource struct {
	once sync.Once
	js   string
	err  error
}

// axeScript returns axe-core's script, installed by .ci/run with
// `npm ci --prefix internal/testbrowser/axe` (pinned in its
// package-lock.json). Without it the test is skipped, or fails under
// CI=true.
func axeScript(t testing.TB) string {
	t.Helper()
	axeSource.once.Do(func() {
		dir, err := testsrc.Dir("github.com/portico-dev/portico/internal/testbrowser")
		if err != nil {
			axeSource.err = err
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, "axe", "node_modules", "axe-core", "axe.min.js"))
		axeSource.js, axeSource.err = string(b), err
	})
	if axeSource.err != nil {
		msg := "axe-core is not installed (npm ci --prefix internal/testbrowser/axe): " + axeSource.err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return axeSource.js
}

// Axe runs axe-core's WCAG 2.0 and 2.1 A and AA rules on the tab's page
// and returns the violations of serious or critical impact.
func (b *Tab) Axe() []Violation {
	b.T.Helper()
	src := axeScript(b.T)
	var raw string
	b.Run("run axe-core", chromedp.Evaluate(src+`;
		axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
			.then(r => JSON.stringify(r.violations))`, &raw, func(p *cdpruntime.EvaluateParams) *cdpruntime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	var all []Violation
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		b.T.Fatalf("axe-core's answer %q: %v", raw, err)
	}
	var out []Violation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
		}
	}
	return out
}
