package server_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestFrameSandboxPerOrigin: a plugin served from the portal's own origin
// (the demo's frames) is framed without allow-same-origin, so it cannot
// reach into the portal and lift its sandbox; a plugin on its own origin
// keeps it (its cookies and storage work), and cannot reach the portal
// either way.
func TestFrameSandboxPerOrigin(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	ext := &model.Plugin{Slug: "externo", Name: "Externo", Title: "Externo", Type: model.PluginIframe, URL: "https://apps.example.com/externo",
		Icon: "alerta", Active: true, ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone, Position: 99}
	testdb.Must(t, p.Store.CreatePlugin(ctx, p.Demo.ID, ext, model.SystemActor("test")), "create plugin")
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	sandboxRE := regexp.MustCompile(`<iframe [^>]*sandbox="([^"]*)"`)
	for _, tc := range []struct {
		slug       string
		sameOrigin bool
	}{
		{"documentos", false}, // the demo frame, on the portal's origin
		{"externo", true},
	} {
		r := c.Do("GET", "/p/"+tc.slug, nil)
		m := sandboxRE.FindSubmatch(r.Body)
		if r.Status != 200 || m == nil {
			t.Fatalf("/p/%s: %d, no framed plugin: %.400s", tc.slug, r.Status, r.Body)
		}
		flags := strings.Fields(string(m[1]))
		has := func(f string) bool { return slices.Contains(flags, f) }
		if has("allow-same-origin") != tc.sameOrigin || !has("allow-scripts") || !has("allow-forms") {
			t.Errorf("/p/%s: sandbox %q; want allow-same-origin %v", tc.slug, m[1], tc.sameOrigin)
		}
	}
}
