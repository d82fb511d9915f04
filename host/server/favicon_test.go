package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
)

// TestFavicon asks for the icon on a tenant's host and on an unknown one
// (before tenant resolution, so no browser logs a 404 even there), and
// checks that every kind of page links it: the portal, an error page, the
// plain page of an unknown host and the admin (host/launch's test checks
// the launch page).
func TestFavicon(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	for _, host := range []string{"", "unknown.example.test"} {
		c := p.NewClient(t, host)
		for _, tc := range []struct{ path, contentType, prefix string }{
			{"/favicon.ico", "image/x-icon", "\x00\x00\x01\x00\x01\x00"},
			{"/favicon.svg", "image/svg+xml", "<svg"},
		} {
			r := c.Do("GET", tc.path, nil)
			if r.Status != http.StatusOK || r.Header.Get("Content-Type") != tc.contentType || !bytes.HasPrefix(r.Body, []byte(tc.prefix)) ||
				!strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
				t.Errorf("GET %s on host %q: %d %s %.20q", tc.path, host, r.Status, r.Header.Get("Content-Type"), r.Body)
			}
		}
	}
	const link = `<link rel="icon" href="/favicon.svg" type="image/svg+xml">`
	anonymous, unknown := p.NewClient(t, ""), p.NewClient(t, "unknown.example.test")
	cliente, gestor := p.NewClient(t, ""), p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	gestor.Login("gestor@demo.portico.test", demo.Password)
	for _, tc := range []struct {
		name   string
		c      *servertest.Client
		path   string
		status int
	}{
		{"login", anonymous, "/login", http.StatusOK},
		{"unknown host (plain page)", unknown, "/", http.StatusNotFound},
		{"portal home", cliente, "/", http.StatusOK},
		{"error", cliente, "/nada-aqui", http.StatusNotFound},
		{"admin", gestor, "/admin/plugins", http.StatusOK},
	} {
		if r := tc.c.Do("GET", tc.path, nil); r.Status != tc.status || !strings.Contains(string(r.Body), link) {
			t.Errorf("%s page (GET %s: %d, want %d) links no icon: %.200s", tc.name, tc.path, r.Status, tc.status, r.Body)
		}
	}
}
