package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestStoredPluginURLNeverRewritesCSP writes plugin URLs past validation
// (through the store's raw update, as a row edited behind Portico's back or
// stored by an older version would be) and opens the plugin page and the
// launch page: neither may put the stored text into its
// Content-Security-Policy. The URLs are those an IPv6 zone ID once let
// through: stored double-decoded, they read back as a frame-src with
// injected directives.
func TestStoredPluginURLNeverRewritesCSP(t *testing.T) {
	bad := []string{
		"https://[fe80::1%25x;frame-ancestors%20*;x]/a",
		"https://[fe80::1%x]/a",
		"https://a.example.com;frame-ancestors%20*/a",
		"https://a.example.com,https://evil.example/a",
	}
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			p := servertest.Start(t, driver)
			ctx := context.Background()
			for _, raw := range bad {
				for _, slug := range []string{"documentos", "financeiro"} {
					cur, err := p.Store.PluginBySlug(ctx, p.Demo.ID, slug)
					testdb.Must(t, err, "load %s", slug)
					_, err = p.Store.UpdatePlugin(ctx, p.Demo.ID, slug, cur.Version, model.Actor{Type: "system", Label: "test"}, "test.raw",
						func(pl *model.Plugin) error {
							pl.URL = raw
							if pl.AuthType == model.AuthToken && pl.ClientID == "" {
								pl.ClientID, pl.ClientSecretHash = "pc_csp_test", auth.HashToken("pcs_csp_test")
							}
							return nil
						})
					testdb.Must(t, err, "raw write of %s", slug)
				}
				c := p.NewClient(t, "")
				c.Login("cliente@demo.portico.test", demo.Password)
				for _, path := range []string{"/p/documentos", "/p/financeiro", "/p/financeiro/launch"} {
					r := c.Do("GET", path, nil, "Sec-Fetch-Site", "same-origin")
					csp := r.Header.Get("Content-Security-Policy")
					if r.Status >= 500 || strings.Count(csp, "frame-ancestors") != 1 || strings.Contains(csp, "fe80") ||
						strings.Contains(csp, "example") || strings.Contains(csp, ",") || strings.Contains(csp, "*") {
						t.Errorf("%s with stored url %q: %d, CSP %q", path, raw, r.Status, csp)
					}
					if r.Status == http.StatusOK && strings.Contains(string(r.Body), "fe80") {
						t.Errorf("%s with stored url %q: the page uses it", path, raw)
					}
				}
			}
		})
	}
}
