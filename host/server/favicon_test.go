package server_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
)

// TestFavicon asks for Portico's icon on a tenant's host and on an
// unknown one (before tenant resolution, so no browser logs a 404 even
// there), checks that every kind of page links an icon (a tenant's pages
// its own in its colour: the portal, an error page, the admin; the plain
// page of an unknown host Portico's; host/launch's test checks the launch
// page) and that a tenant's icon is in its theme's colours.
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
	const portico, tenantIcon = `<link rel="icon" href="/favicon.svg" type="image/svg+xml">`, `<link rel="icon" href="/icon.svg?v=`
	anonymous, unknown := p.NewClient(t, ""), p.NewClient(t, "unknown.example.test")
	cliente, gestor := p.NewClient(t, ""), p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	gestor.Login("gestor@demo.portico.test", demo.Password)
	for _, tc := range []struct {
		name   string
		c      *servertest.Client
		path   string
		status int
		link   string
	}{
		{"login", anonymous, "/login", http.StatusOK, tenantIcon},
		{"unknown host (plain page)", unknown, "/", http.StatusNotFound, portico},
		{"portal home", cliente, "/", http.StatusOK, tenantIcon},
		{"error", cliente, "/nada-aqui", http.StatusNotFound, tenantIcon},
		{"admin", gestor, "/admin/plugins", http.StatusOK, tenantIcon},
	} {
		if r := tc.c.Do("GET", tc.path, nil); r.Status != tc.status || !strings.Contains(string(r.Body), tc.link) {
			t.Errorf("%s page (GET %s: %d, want %d) links no icon %s: %.300s", tc.name, tc.path, r.Status, tc.status, tc.link, r.Body)
		}
	}

	// The tenant's icon is in its colour, the portico in the colour its
	// theme writes on it; another tenant's is in its own; an unknown host
	// has none.
	theme := anonymous.Do("GET", "/theme.css", nil)
	m := regexp.MustCompile(`--primary:(#[0-9a-f]{6});--primary-contrast:(#[0-9a-f]{6})`).FindStringSubmatch(string(theme.Body))
	if m == nil {
		t.Fatalf("theme.css: %s", theme.Body)
	}
	icon := anonymous.Do("GET", "/icon.svg", nil)
	if icon.Status != http.StatusOK || icon.Header.Get("Content-Type") != "image/svg+xml" || icon.Header.Get("ETag") == "" ||
		!strings.Contains(string(icon.Body), `<rect width="32" height="32" rx="6" fill="`+m[1]+`"/><path fill="`+m[2]+`"`) {
		t.Errorf("the tenant's icon (theme %s on %s): %d %s %s", m[2], m[1], icon.Status, icon.Header.Get("Content-Type"), icon.Body)
	}
	if r := anonymous.Do("GET", "/icon.svg", nil, "If-None-Match", icon.Header.Get("ETag")); r.Status != http.StatusNotModified {
		t.Errorf("the icon again with its ETag: %d, want 304", r.Status)
	}
	if r := p.NewClient(t, servertest.OtherHost).Do("GET", "/icon.svg", nil); r.Status != http.StatusOK || bytes.Equal(r.Body, icon.Body) {
		t.Errorf("another tenant's icon: %d, the same as the demo's: %v", r.Status, bytes.Equal(r.Body, icon.Body))
	}
	if r := unknown.Do("GET", "/icon.svg", nil); r.Status != http.StatusNotFound {
		t.Errorf("an unknown host's icon: %d, want 404", r.Status)
	}
}
