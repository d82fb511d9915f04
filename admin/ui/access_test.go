package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAdminUIAccess drives /admin/plugins/{slug}/access without script:
// the page in three languages, bounds reported next to their field, the
// GET warning, a secret rotation shown once, the signing-key button, and
// a plugin without token authentication.
func TestAdminUIAccess(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	ctx := context.Background()
	const page = "/admin/plugins/financeiro/access"

	// The edit page links to it.
	if r := g.get("/admin/plugins/financeiro", "pt-BR"); !strings.Contains(string(r.Body), `href="`+page+`"`) {
		t.Fatalf("edit page has no link to the access page")
	}
	for _, lang := range []string{"pt-BR", "es", "en"} {
		r := g.get(page, lang)
		body := string(r.Body)
		if r.Status != 200 || !strings.Contains(body, catalogText(t, cat, lang, "access.user_fields.title")) ||
			!strings.Contains(body, catalogText(t, cat, lang, "access.method.get_warning")) {
			t.Fatalf("%s access page: %d %.300s", lang, r.Status, body)
		}
	}

	version := func() string {
		m := versionRe.FindStringSubmatch(string(g.get(page, "pt-BR").Body))
		if m == nil {
			t.Fatal("no version on the access page")
		}
		return m[1]
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string // where the error must be shown
		msg    string
	}{
		{"TTL below 10", url.Values{"token_ttl_seconds": {"9"}, "launch_method": {"post"}}, 422, "f-token_ttl_seconds", "validation.out_of_range"},
		{"TTL above 300", url.Values{"token_ttl_seconds": {"301"}, "launch_method": {"post"}}, 422, "f-token_ttl_seconds", "validation.out_of_range"},
		{"TTL not a number", url.Values{"token_ttl_seconds": {"um minuto"}, "launch_method": {"post"}}, 422, "f-token_ttl_seconds", "validation.wrong_type"},
		{"unknown method", url.Values{"token_ttl_seconds": {"60"}, "launch_method": {"hash"}}, 422, "f-launch_method", "validation.invalid_choice"},
		{"unknown user field", url.Values{"user_fields": {"password"}, "token_ttl_seconds": {"60"}}, 422, "f-user_fields", "validation.invalid_choice"},
	}
	for _, tc := range tests {
		f := tc.form
		f.Set("version", version())
		r := g.post(page, "pt-BR", f)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.Status, tc.status)
			continue
		}
		if block := fieldBlock(t, string(r.Body), tc.field); !strings.Contains(block, catalogText(t, cat, "pt-BR", tc.msg)) {
			t.Errorf("%s: message %q not next to #%s: %s", tc.name, tc.msg, tc.field, block)
		}
	}
	if pl, _ := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro"); pl.Version != 1 {
		t.Fatalf("rejected forms changed the plugin: version %d", pl.Version)
	}

	// A valid form, at the bounds, and GET with its warning on top.
	r := g.post(page, "pt-BR", url.Values{"version": {version()}, "user_fields": {"name", "email"}, "token_ttl_seconds": {"10"}, "launch_method": {"get"}})
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "done=access_saved") {
		t.Fatalf("save: %d %s", r.Status, r.Header.Get("Location"))
	}
	body := string(g.get(page+"?done=access_saved", "pt-BR").Body)
	if !strings.Contains(body, `data-testid="get-warning-top"`) || !strings.Contains(body, catalogText(t, cat, "pt-BR", "access.flash.saved")) {
		t.Errorf("after choosing GET the page lacks the top warning or the flash")
	}
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	testdb.Must(t, err, "reload")
	if pl.TokenTTLSeconds != 10 || pl.LaunchMethod != model.LaunchGet || !pl.HasUserField("email") || pl.HasUserField("phone") {
		t.Errorf("saved access: ttl %d method %s fields %v", pl.TokenTTLSeconds, pl.LaunchMethod, pl.UserFields)
	}
	// A stale form is refused.
	r = g.post(page, "pt-BR", url.Values{"version": {"1"}, "token_ttl_seconds": {"60"}})
	if r.Status != http.StatusConflict {
		t.Errorf("stale access form: status %d, want 409", r.Status)
	}

	// Rotating the secret shows it once, with the overlap; the access page
	// never shows it again.
	r = g.post(page+"/client-secret", "pt-BR", url.Values{"overlap_hours": {"24"}})
	m := regexpSecret.FindStringSubmatch(string(r.Body))
	if r.Status != 200 || m == nil {
		t.Fatalf("rotate secret: %d %.400s", r.Status, r.Body)
	}
	pl, _ = p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	if !pl.ClientSecretMatches(auth.HashToken(m[1]), p.Store.Now()) {
		t.Errorf("the shown secret is not the plugin's")
	}
	r = g.post(page+"/client-secret", "pt-BR", url.Values{"overlap_hours": {"24"}})
	if !strings.Contains(string(r.Body), `data-testid="overlap-note"`) {
		t.Errorf("second rotation does not say until when the old secret works")
	}
	body = string(g.get(page, "pt-BR").Body)
	if strings.Contains(body, m[1]) || !strings.Contains(body, `data-testid="overlap-running"`) {
		t.Errorf("access page shows a secret, or no running overlap")
	}
	if r := g.post(page+"/client-secret", "pt-BR", url.Values{"overlap_hours": {"5"}}); r.Status != 422 {
		t.Errorf("overlap not offered: status %d, want 422", r.Status)
	}

	// A plugin without token authentication has no credentials to rotate.
	r = g.post("/admin/plugins/documentos/access/client-secret", "pt-BR", url.Values{"overlap_hours": {"24"}})
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "error.not_token_plugin")) {
		t.Errorf("rotate without token auth: %d", r.Status)
	}

	// The tenant's first signing key, created by Portico when the JWKS is
	// first published, is listed as created automatically, in words.
	if r := g.get("/.well-known/jwks.json", "pt-BR"); r.Status != http.StatusOK {
		t.Fatalf("jwks: %d", r.Status)
	}
	body = string(g.get(page, "pt-BR").Body)
	if !strings.Contains(body, catalogText(t, cat, "pt-BR", "admin.created_by_system")) || strings.Contains(body, ">system<") {
		t.Errorf("the first signing key's creator is not in words: %s", body)
	}
	if !strings.Contains(body, catalogText(t, cat, "pt-BR", "footer.admin")) || strings.Contains(body, catalogText(t, cat, "pt-BR", "footer.powered_by")) {
		t.Errorf("the admin page carries the portal's footer")
	}

	// The tenant's signing key: rotate, come back, see it listed.
	r = g.post(page+"/signing-key", "pt-BR", nil)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=key_rotated") {
		t.Fatalf("rotate signing key: %d %s", r.Status, r.Header.Get("Location"))
	}
	body = string(g.get(page, "pt-BR").Body)
	if !strings.Contains(body, `data-testid="signing-key-table"`) || !strings.Contains(body, catalogText(t, cat, "pt-BR", "access.keys.status_current")) {
		t.Errorf("key list missing after a rotation")
	}

	// Only gestores; other tenant's plugins are not found.
	cl := logIn(t, p, "cliente@demo.portico.test", demo.Password)
	if r := cl.get(page, "pt-BR"); r.Status != http.StatusForbidden {
		t.Errorf("cliente on the access page: %d, want 403", r.Status)
	}
	if r := g.get("/admin/plugins/segredo-outra/access", "pt-BR"); r.Status != http.StatusNotFound {
		t.Errorf("other tenant's plugin: %d, want 404", r.Status)
	}
}

var regexpSecret = regexp.MustCompile(`data-testid="client-secret">(pcs_[A-Za-z0-9_-]+)<`)

// TestAdminUIAccessPrivateNetwork: a wasm plugin's access page explains the
// private-network setting and its risk in every language, says when the
// operator allows no private address, and saves the checkbox (and only
// then: a form without the fieldset leaves it as it is).
func TestAdminUIAccessPrivateNetwork(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	ctx := context.Background()
	pl := &model.Plugin{Slug: "erp", Name: "ERP", Title: "ERP", Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleCliente, AuthType: model.AuthNone}
	testdb.Must(t, pl.Validate(model.PluginRules{IconExists: icon.Exists}), "validate")
	testdb.Must(t, p.Store.CreatePlugin(ctx, p.Demo.ID, pl, model.SystemActor("test")), "create wasm plugin")
	const page = "/admin/plugins/erp/access"
	for _, lang := range []string{"pt-BR", "es", "en"} {
		r := g.get(page, lang)
		body := string(r.Body)
		for _, key := range []string{"access.private.title", "access.private.hint", "access.private.label", "access.private.unavailable"} {
			if !strings.Contains(body, catalogText(t, cat, lang, key)) {
				t.Errorf("%s access page lacks %s", lang, key)
			}
		}
		if strings.Contains(body, `id="allow-private-network" checked`) {
			t.Errorf("%s: the setting shows as on by default", lang)
		}
	}
	if body := string(g.get("/admin/plugins/financeiro/access", "pt-BR").Body); strings.Contains(body, "allow_private_network") {
		t.Errorf("an iframe plugin's page offers the private-network setting")
	}
	version := func() string {
		m := versionRe.FindStringSubmatch(string(g.get(page, "pt-BR").Body))
		if m == nil {
			t.Fatal("no version on the access page")
		}
		return m[1]
	}
	stored := func() bool {
		pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "erp")
		testdb.Must(t, err, "reload")
		return pl.AllowPrivateNetwork
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want bool
	}{
		{"turned on", url.Values{"private_shown": {"1"}, "allow_private_network": {"1"}}, true},
		{"a form without the fieldset keeps it", url.Values{}, true},
		{"turned off", url.Values{"private_shown": {"1"}}, false},
	} {
		tc.form.Set("version", version())
		if r := g.post(page, "pt-BR", tc.form); r.Status != http.StatusSeeOther {
			t.Fatalf("%s: status %d %.300s", tc.name, r.Status, r.Body)
		}
		if got := stored(); got != tc.want {
			t.Errorf("%s: stored %v, want %v", tc.name, got, tc.want)
		}
	}
	es, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: "plugin.access"})
	testdb.Must(t, err, "audit")
	// Two changes, two entries: the form that kept the setting changed
	// nothing and wrote none.
	if len(es) != 2 || !strings.Contains(es[1].AfterJSON, `"allow_private_network":true`) || !strings.Contains(es[0].AfterJSON, `"allow_private_network":false`) {
		t.Errorf("audit entries: %d", len(es))
	}
}
