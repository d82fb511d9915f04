// Package icon ships Portico's fixed, named icon set as embedded SVG.
//
// Plugins pick an icon by name (e.g. "financeiro"); the portal and the admin
// inline the SVG, which uses currentColor so it follows the tenant's theme.
// The files are part of the binary and trusted: no plugin or user supplies
// SVG markup.
package icon

import (
	"embed"
	"html/template"
	"io/fs"
	"sort"
	"strings"
)

//go:embed svg/*.svg
var files embed.FS

var set = func() map[string]template.HTML {
	m := map[string]template.HTML{}
	entries, err := fs.ReadDir(files, "svg")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := files.ReadFile("svg/" + e.Name())
		if err != nil {
			panic(err)
		}
		// The SVGs are reviewed files compiled into the binary.
		m[strings.TrimSuffix(e.Name(), ".svg")] = template.HTML(strings.TrimSpace(string(b))) //nolint:gosec
	}
	return m
}()

// Exists reports whether name is in the icon set.
func Exists(name string) bool {
	_, ok := set[name]
	return ok
}

// SVG returns the inline SVG of name, or the empty string.
func SVG(name string) template.HTML { return set[name] }

// Names returns every icon name in alphabetical order.
func Names() []string {
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
