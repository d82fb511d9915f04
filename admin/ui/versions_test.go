package ui_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/sdk/abi"
)

// uploadForm posts the versions page's multipart form (with _csrf).
func (s *session) uploadForm(slug, lang string, activate bool, module []byte) *servertest.Response {
	s.t.Helper()
	fields := map[string]string{"_csrf": s.csrf}
	if activate {
		fields["activate"] = "true"
	}
	body, ct := admintest.MultipartBody(s.t, fields, module)
	return s.c.Do("POST", "/admin/plugins/"+slug+"/versions", body, "Content-Type", ct, "Accept-Language", lang)
}

// follow GETs a redirect's target.
func (s *session) follow(r *servertest.Response, lang string) *servertest.Response {
	s.t.Helper()
	if r.Status != 303 {
		s.t.Fatalf("want a 303 redirect, got %d: %.500s", r.Status, r.Body)
	}
	return s.get(r.Header.Get("Location"), lang)
}

// TestAdminUIVersions drives the versions page over HTTP as a browser
// without script: a refused upload shows its reason next to the file field
// in the user's language, uploads with and without activation, activation
// and rollback by form, the links from the list and the edit page, the
// health panel after real calls, and the CSRF and tenant checks.
func TestAdminUIVersions(t *testing.T) {
	m := admintest.Guests(t)
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	// Checking a Go module compiles it: seconds under -race on a busy machine.
	g.c.HTTP.Timeout = 3 * time.Minute

	form := pluginFormValues()
	form.Set("slug", "modulo")
	form.Set("type", "wasm")
	form.Del("url")
	if r := g.post("/admin/plugins", "en", form); r.Status != 303 {
		t.Fatalf("create wasm plugin: %d %.500s", r.Status, r.Body)
	}
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "modulo")
	testdb.Must(t, err, "load plugin")

	// Links from the list and the edit page.
	if r := g.get("/admin/plugins", "en"); !strings.Contains(string(r.Body), `href="/admin/plugins/modulo/versions"`) {
		t.Errorf("the plugin list has no versions link for the wasm plugin")
	} else if strings.Contains(string(r.Body), `href="/admin/plugins/documentos/versions"`) {
		t.Errorf("the plugin list links an iframe plugin's versions")
	}
	if r := g.get("/admin/plugins/modulo", "en"); !strings.Contains(string(r.Body), `data-testid="versions-link"`) {
		t.Errorf("the edit page has no versions link")
	}
	// Each type is shown only what applies to it: a wasm plugin's form
	// hides the frame's URL, size and authentication (even without
	// script), and its access page has no launch method, credentials or
	// signing keys, which only framed apps use.
	edit := string(g.get("/admin/plugins/modulo", "en").Body)
	for _, id := range []string{`id="f-size"`, `id="f-auth_type"`} {
		if !regexp.MustCompile(`<fieldset [^>]*` + id + `[^>]*\bhidden\b`).MatchString(edit) {
			t.Errorf("the wasm plugin's form shows %s", id)
		}
	}
	if strings.Contains(edit, "WebAssembly runtime") || !strings.Contains(edit, catalogText(t, cat, "en", "admin.plugin.wasm_note")) {
		t.Errorf("the wasm form's note is not the current one")
	}
	access := string(g.get("/admin/plugins/modulo/access", "en").Body)
	for _, gone := range []string{`data-testid="access-credentials"`, `data-testid="signing-keys"`, `data-testid="launch-token-only"`} {
		if strings.Contains(access, gone) {
			t.Errorf("the wasm plugin's access page shows %s", gone)
		}
	}
	if !strings.Contains(access, `name="grants"`) {
		t.Errorf("the wasm plugin's access page has no grants")
	}
	// Without an active version it is in no menu, cannot be opened, and the
	// list says why.
	cliente := p.NewClient(t, "")
	cliente.Login("cliente@demo.portico.test", demo.Password)
	inMenu := func() bool {
		return strings.Contains(string(cliente.Do("GET", "/api/v1/me/menu", nil).Body), `"slug":"modulo"`)
	}
	if inMenu() {
		t.Errorf("a wasm plugin without a module is in the cliente's menu")
	}
	if r := cliente.Do("GET", "/p/modulo", nil); r.Status != 404 {
		t.Errorf("a wasm plugin without a module opens: %d", r.Status)
	}
	if r := g.get("/admin/plugins", "en"); !strings.Contains(string(r.Body), `data-testid="unpublished-modulo"`) ||
		!strings.Contains(string(r.Body), catalogText(t, cat, "en", "admin.plugins.no_active_version")) {
		t.Errorf("the plugin list does not say the plugin has no active version")
	}

	// The empty page. It says what the plugin is granted (nothing yet) and
	// where to change it.
	r := g.get("/admin/plugins/modulo/versions", "es")
	body := string(r.Body)
	if !strings.Contains(body, `data-testid="no-grants"`) || !strings.Contains(body, `href="/admin/plugins/modulo/access" data-testid="granted-change"`) {
		t.Errorf("the versions page does not say what the plugin is granted")
	}
	if r.Status != 200 || !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, `data-testid="versions-empty"`) ||
		!strings.Contains(body, catalogText(t, cat, "es", "versions.health.scope")) {
		t.Fatalf("empty versions page: %d %.800s", r.Status, body)
	}

	// A wrong-ABI module: 422, the reason (naming both versions) next to
	// the file field, in Portuguese; nothing stored.
	r = g.uploadForm("modulo", "pt-BR", true, m.WrongABI)
	body = html.UnescapeString(string(r.Body))
	want := cat.Localizer("pt-BR").T("error.module_abi_version", "Want", 1, "Got", 99)
	if r.Status != 422 || !strings.Contains(body, want) || !strings.Contains(body, `id="err-module"`) ||
		!strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "checked") {
		t.Fatalf("wrong ABI upload: %d, want the message %q next to the field: %.1500s", r.Status, want, body)
	}
	// Garbage: its own message.
	r = g.uploadForm("modulo", "en", false, []byte("not a module"))
	if r.Status != 422 || !strings.Contains(html.UnescapeString(string(r.Body)), cat.Localizer("en").T("error.module_not_wasm")) {
		t.Fatalf("garbage upload: %d %.500s", r.Status, r.Body)
	}
	if vs, _ := p.Store.PluginVersions(ctx, p.Demo.ID, pl.ID); len(vs) != 0 {
		t.Fatalf("refused uploads stored %d versions", len(vs))
	}

	// Without the CSRF token: refused.
	body2, ct := admintest.MultipartBody(t, nil, m.Valid)
	if r = g.c.Do("POST", "/admin/plugins/modulo/versions", body2, "Content-Type", ct); r.Status != 403 {
		t.Fatalf("upload without _csrf: %d", r.Status)
	}

	// Version 1, activated at once; version 2, stored only.
	r = g.follow(g.uploadForm("modulo", "en", true, m.Valid), "en")
	body = string(r.Body)
	if !strings.Contains(body, catalogText(t, cat, "en", "versions.flash.uploaded_active")) || !strings.Contains(body, `data-testid="active-1"`) {
		t.Fatalf("after uploading v1: %.1500s", body)
	}
	if !inMenu() || strings.Contains(string(g.get("/admin/plugins", "en").Body), `data-testid="unpublished-modulo"`) {
		t.Errorf("after activating v1 the plugin is not in the menu, or still listed as unpublished")
	}
	r = g.follow(g.uploadForm("modulo", "en", false, admintest.Padded(t, admintest.HandABI(1), 2<<20)), "en")
	body = string(r.Body)
	if !strings.Contains(body, catalogText(t, cat, "en", "versions.flash.uploaded")) || !strings.Contains(body, `data-testid="activate-2"`) ||
		!strings.Contains(body, `data-testid="active-1"`) || strings.Contains(body, `data-testid="rollback"`) {
		t.Fatalf("after uploading v2: %.2000s", body)
	}
	vs, err := p.Store.PluginVersions(ctx, p.Demo.ID, pl.ID)
	testdb.Must(t, err, "versions")
	if len(vs) != 2 || vs[0].Number != 2 {
		t.Fatalf("versions: %+v", vs)
	}

	// Activate 2 by its form; 1 becomes the rollback target.
	r = g.follow(g.post("/admin/plugins/modulo/versions/"+vs[0].ID+"/activate", "en", nil), "en")
	body = string(r.Body)
	if !strings.Contains(body, `data-testid="active-2"`) || !strings.Contains(body, `data-testid="rollback"`) ||
		!strings.Contains(body, catalogText(t, cat, "en", "versions.status.previous")) {
		t.Fatalf("after activating v2: %.2000s", body)
	}
	// Roll back: 1 is active again.
	r = g.follow(g.post("/admin/plugins/modulo/rollback", "en", nil), "en")
	if body = string(r.Body); !strings.Contains(body, `data-testid="active-1"`) || !strings.Contains(body, catalogText(t, cat, "en", "versions.flash.rolled_back")) {
		t.Fatalf("after rollback: %.2000s", body)
	}
	pl, err = p.Store.PluginBySlug(ctx, p.Demo.ID, "modulo")
	testdb.Must(t, err, "reload plugin")
	if pl.ActiveVersion != vs[1].ID || pl.PreviousVersion != vs[0].ID {
		t.Fatalf("stored pointers after rollback: active %s previous %s", pl.ActiveVersion, pl.PreviousVersion)
	}
	// An unknown version: the 404 page.
	if r = g.post("/admin/plugins/modulo/versions/nao-existe/activate", "en", nil); r.Status != 404 {
		t.Errorf("activate an unknown version: %d", r.Status)
	}

	// Health: real calls through this process's runtime show up on the page
	// and in the list.
	eng := p.Server.Sandbox
	if eng == nil {
		t.Fatal("the server has no wasm runtime")
	}
	load := func(ctx context.Context) ([]byte, error) {
		return p.Store.PluginModule(ctx, p.Demo.ID, pl.ActiveVersion)
	}
	sp := sandbox.Plugin{TenantID: p.Demo.ID, PluginID: pl.ID, Slug: pl.Slug, Title: pl.Title, VersionID: pl.ActiveVersion,
		Limits: sandbox.Limits{Timeout: 5 * time.Second, MemoryMB: 64}, Grants: []string{model.GrantLog}}
	in := func(kind, action string) *abi.Input {
		return &abi.Input{Kind: kind, Action: action, User: abi.User{ID: "u-1", Role: "cliente", Locale: "en", Tenant: p.Demo.Slug},
			Plugin: abi.PluginInfo{Slug: pl.Slug, Title: pl.Title}}
	}
	for range 3 {
		if _, err := eng.Call(ctx, sp, load, in(abi.KindRender, "")); err != nil {
			t.Fatalf("render call: %v", err)
		}
	}
	if _, err := eng.Call(ctx, sp, load, in(abi.KindAction, "boom")); err == nil {
		t.Fatal("the boom action did not fail")
	}
	r = g.get("/admin/plugins/modulo/versions", "en")
	body = string(r.Body)
	for _, s := range []string{`data-testid="health-calls">4<`, `data-testid="health-errors">1<`, `data-testid="health-rate">25%<`,
		catalogText(t, cat, "en", "versions.reason.trap"), "rendered", "who=u-1"} {
		if !strings.Contains(body, s) {
			t.Errorf("the health panel lacks %q: %.3000s", s, body[strings.Index(body, `data-testid="health"`):])
		}
	}
	r = g.get("/admin/plugins", "en")
	want = html.EscapeString(cat.Localizer("en").T("versions.health.cell", "Rate", "25%", "Calls", "4", "Count", 4))
	if !strings.Contains(string(r.Body), want) {
		t.Errorf("the plugin list's health cell lacks %q", want)
	}
	// A call that succeeds after logging an error (a plugin answering
	// politely while its ERP is down) is not "running" with 0% errors.
	if _, err := eng.Call(ctx, sp, load, in(abi.KindAction, "degraded")); err != nil {
		t.Fatalf("degraded action: %v", err)
	}
	l := cat.Localizer("en")
	body = html.UnescapeString(string(g.get("/admin/plugins/modulo/versions", "en").Body))
	if want := l.T("versions.health.running_logged", "Count", 1, "N", "1"); !strings.Contains(body, want) || !strings.Contains(body, "the ERP is unavailable") {
		t.Errorf("the health panel lacks %q and the logged line", want)
	}
	if want := l.T("versions.health.cell_logged", "Count", 1, "N", "1"); !strings.Contains(html.UnescapeString(string(g.get("/admin/plugins", "en").Body)), want) {
		t.Errorf("the plugin list's health cell lacks %q", want)
	}

	// Another tenant's plugin and an iframe plugin.
	if r = g.get("/admin/plugins/"+p.OtherPlugins[0]+"/versions", "en"); r.Status != 404 {
		t.Errorf("other tenant's versions page: %d", r.Status)
	}
	// A small module: a body over the server's limit to a plugin this
	// tenant does not have is refused from its headers (the upload gate),
	// and the server may close the connection before the client has sent
	// it all (admin/api's TestUploadLargeBodiesAreCapped reads that answer).
	if r = g.uploadForm(p.OtherPlugins[0], "en", true, admintest.HandABI(1)); r.Status != 404 {
		t.Errorf("upload to the other tenant's plugin: %d", r.Status)
	}
	if r = g.get("/admin/plugins/documentos/versions", "en"); r.Status != 422 ||
		!strings.Contains(html.UnescapeString(string(r.Body)), cat.Localizer("en").T("error.plugin_not_wasm")) {
		t.Errorf("iframe plugin's versions page: %d %.300s", r.Status, r.Body)
	}
	if n := p.Server.Env.Catalog.Missing(); n != 0 {
		t.Fatalf("%d lookups of missing translation keys", n)
	}
}
