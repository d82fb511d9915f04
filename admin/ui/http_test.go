package ui_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// These tests drive the admin UI over real HTTP, as a browser without
// script would: forms posted with their _csrf token, pages read as HTML.

var (
	csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	versionRe = regexp.MustCompile(`name="version" value="([0-9]+)"`)
)

// session is a logged-in browser without script.
type session struct {
	t    *testing.T
	c    *servertest.Client
	csrf string
}

// logIn logs a demo account in and reads its CSRF token from a page.
func logIn(t *testing.T, p *servertest.Portal, email, password string) *session {
	t.Helper()
	c := p.NewClient(t, "")
	c.Login(email, password)
	s := &session{t: t, c: c}
	for _, path := range []string{"/", "/gestor"} {
		if m := csrfInput.FindSubmatch(c.Do("GET", path, nil).Body); m != nil {
			s.csrf = string(m[1])
			return s
		}
	}
	t.Fatalf("no CSRF token on the pages of %s", email)
	return nil
}

// get fetches a page in lang.
func (s *session) get(path, lang string) *servertest.Response {
	s.t.Helper()
	return s.c.Do("GET", path, nil, "Accept-Language", lang)
}

// post submits a form (the session's _csrf added) in lang.
func (s *session) post(path, lang string, form url.Values) *servertest.Response {
	s.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", s.csrf)
	return s.c.Do("POST", path, f, "Accept-Language", lang)
}

func loadCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New(nil)
	testdb.Must(t, err, "load catalogue")
	return cat
}

// catalogText is a catalogue message as html/template writes it.
func catalogText(t *testing.T, cat *i18n.Catalog, lang, key string) string {
	t.Helper()
	m := cat.Localizer(lang).T(key)
	if m == key {
		t.Fatalf("catalogue has no %s", key)
	}
	return html.EscapeString(m)
}

// fieldBlock returns the markup from the input with id to the next
// input, select, textarea or fieldset: where its error must be shown.
func fieldBlock(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element #%s in the page", id)
	}
	rest := body[i+len(id)+5:]
	end := len(rest)
	for _, tag := range []string{"<input", "<select", "<textarea", "<fieldset", "<label"} {
		if j := strings.Index(rest, tag); j >= 0 && j < end {
			end = j
		}
	}
	// The tag holding the id starts a little before it.
	start := strings.LastIndex(body[:i], "<")
	return body[start : i+len(id)+5+end]
}

func pluginFormValues() url.Values {
	return url.Values{
		"name": {"Boletos (ERP)"}, "slug": {"boletos"}, "title": {"Boletos"}, "type": {"iframe"},
		"url": {"https://erp.exemplo.com.br/boletos"}, "icon": {"boleto"}, "active": {"1"}, "show_in_portal": {"1"},
		"size": {"medio"}, "visible_to": {"cliente"}, "auth_type": {"none"},
	}
}

// TestAdminUIValidationNextToFields: a rejected plugin form answers 422 in
// the user's language, each message right after its field (and named by
// the field's aria-describedby), with what was typed kept, and nothing
// written.
func TestAdminUIValidationNextToFields(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	ctx := context.Background()
	auditBefore, err := p.Store.CountAudit(ctx, p.Demo.ID)
	testdb.Must(t, err, "count audit")

	form := pluginFormValues()
	form.Set("name", "Meu plugin <novo>")
	form.Set("slug", "Não É Slug")
	form.Set("title", strings.Repeat("T", model.MaxPluginTitleLength+1))
	form.Set("url", "javascript:alert(1)")
	form.Del("icon")
	form.Del("visible_to")
	form.Set("size", "custom")
	form.Set("width", "largo")
	form.Set("height", "500")
	r := g.post("/admin/plugins", "pt-BR", form)
	body := string(r.Body)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %.500s", r.Status, body)
	}
	if !strings.Contains(body, `<html lang="pt-BR">`) {
		t.Errorf("the answer is not in pt-BR")
	}
	for _, tc := range []struct{ input, field, key string }{
		{"f-slug", "slug", "validation.invalid_slug"},
		{"f-title", "title", "validation.too_long"},
		{"f-url", "url", "validation.invalid_url"},
		{"f-width", "width", "validation.wrong_type"},
	} {
		block := fieldBlock(t, body, tc.input)
		want := `<p class="field-error" id="err-` + tc.field + `">` + catalogText(t, cat, "pt-BR", tc.key) + `</p>`
		if !strings.Contains(block, want) {
			t.Errorf("%s: the message %q is not right after the field:\n%s", tc.field, want, block)
		}
		if !regexp.MustCompile(`aria-describedby="[^"]*\berr-`+tc.field+`\b`).MatchString(block) || !strings.Contains(block, `aria-invalid="true"`) {
			t.Errorf("%s: the input does not point at its message:\n%s", tc.field, block)
		}
	}
	// Radio groups carry the message inside their fieldset, after the legend.
	for _, tc := range []struct{ field, key string }{{"icon", "validation.invalid_choice"}, {"visible_to", "validation.invalid_choice"}} {
		i := strings.Index(body, `<fieldset class="field`)
		j := strings.Index(body, `id="f-`+tc.field+`"`)
		k := strings.Index(body, `id="err-`+tc.field+`"`)
		if i < 0 || j < 0 || k < j || strings.Contains(body[j:k], "</fieldset>") {
			t.Errorf("%s: no message inside its fieldset", tc.field)
		}
		if !strings.Contains(body[k:], catalogText(t, cat, "pt-BR", tc.key)) {
			t.Errorf("%s: message %s missing", tc.field, tc.key)
		}
	}
	// The summary at the top links to each field.
	if !strings.Contains(body, `href="#f-url"`) || !strings.Contains(body, `role="alert"`) {
		t.Errorf("no error summary linking to the fields")
	}
	// What was typed is kept (escaped), the password-free form has no secret.
	for _, kept := range []string{
		`value="Meu plugin &lt;novo&gt;"`, `value="Não É Slug"`, `value="javascript:alert(1)"`,
		`value="largo"`, `value="500"`, `value="` + strings.Repeat("T", model.MaxPluginTitleLength+1) + `"`,
		`value="custom" id="size-custom" data-w="0" data-h="0" checked`,
	} {
		if !strings.Contains(body, kept) {
			t.Errorf("the form lost %s", kept)
		}
	}
	if _, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "nao-e-slug"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a plugin was stored: %v", err)
	}
	if n, _ := p.Store.CountAudit(ctx, p.Demo.ID); n != auditBefore {
		t.Errorf("audit log grew from %d to %d", auditBefore, n)
	}

	// The same form in English speaks English.
	r = g.post("/admin/plugins", "en", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), catalogText(t, cat, "en", "validation.invalid_url")) {
		t.Errorf("en: status %d, no English message", r.Status)
	}

	// A duplicate slug is reported on the slug field.
	dup := pluginFormValues()
	dup.Set("slug", "financeiro")
	r = g.post("/admin/plugins", "pt-BR", dup)
	if r.Status != http.StatusConflict || !strings.Contains(fieldBlock(t, string(r.Body), "f-slug"), catalogText(t, cat, "pt-BR", "validation.slug_taken")) {
		t.Errorf("duplicate slug: status %d, no message next to the slug", r.Status)
	}
}

// TestAdminUIStaleVersion: an edit made from a page loaded before someone
// else's change is refused with the stale message, keeps what was typed and
// changes nothing.
func TestAdminUIStaleVersion(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	a := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	b := logIn(t, p, "gestor@demo.portico.test", demo.Password)

	page := a.get("/admin/plugins/documentos", "pt-BR")
	if page.Status != http.StatusOK {
		t.Fatalf("edit page: %d", page.Status)
	}
	m := versionRe.FindSubmatch(page.Body)
	if m == nil {
		t.Fatal("the edit form has no version")
	}
	version := string(m[1])
	form := url.Values{"version": {version}, "name": {"Documentos da unidade"}, "title": {"Docs B"}, "type": {"iframe"},
		"url": {p.URL + "/demo/frame/documentos"}, "icon": {"documentos"}, "active": {"1"}, "show_in_portal": {"1"},
		"size": {"medio"}, "visible_to": {"ambos"}, "auth_type": {"none"}}

	// B saves first.
	if r := b.post("/admin/plugins/documentos/edit", "pt-BR", form); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: %d %.300s", r.Status, r.Body)
	}
	after, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "documentos")
	testdb.Must(t, err, "load plugin")
	auditBefore, _ := p.Store.CountAudit(ctx, p.Demo.ID)

	// A, still on the old version, is refused.
	form.Set("title", "Docs A")
	r := a.post("/admin/plugins/documentos/edit", "pt-BR", form)
	body := string(r.Body)
	if r.Status != http.StatusConflict {
		t.Fatalf("stale save: status %d, want 409", r.Status)
	}
	if !strings.Contains(body, catalogText(t, cat, "pt-BR", "error.stale_version")) {
		t.Errorf("no stale-version message")
	}
	if !strings.Contains(body, `value="Docs A"`) || !strings.Contains(body, `name="version" value="`+version+`"`) {
		t.Errorf("the refused form did not keep what was typed and the version it was loaded with")
	}
	now, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "documentos")
	testdb.Must(t, err, "load plugin")
	if now.Title != "Docs B" || now.Version != after.Version {
		t.Errorf("the stale save changed the plugin: title %q version %d (want Docs B, %d)", now.Title, now.Version, after.Version)
	}
	if n, _ := p.Store.CountAudit(ctx, p.Demo.ID); n != auditBefore {
		t.Errorf("audit log grew")
	}

	// The quick toggle and the configuration are versioned too.
	r = a.post("/admin/plugins/documentos/active", "pt-BR", url.Values{"version": {version}, "active": {"0"}})
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "error.stale_version")) {
		t.Errorf("stale toggle: status %d", r.Status)
	}
	r = a.post("/admin/plugins/documentos/config", "pt-BR", url.Values{"version": {version}, "config.0.key": {"x"}, "config.0.type": {"string"}, "config.0.value": {"y"}})
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), `value="x"`) {
		t.Errorf("stale config: status %d, or the typed row was lost", r.Status)
	}
	now, _ = p.Store.PluginBySlug(ctx, p.Demo.ID, "documentos")
	if !now.Active || now.Version != after.Version {
		t.Errorf("a stale toggle or config changed the plugin")
	}
}

// TestAdminUIGestorOnly: clientes and síndicos get 403 on every admin page
// and form; anonymous visitors are sent to the login page.
func TestAdminUIGestorOnly(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	before, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	testdb.Must(t, err, "load plugin")
	for _, email := range []string{"cliente@demo.portico.test", "sindico@demo.portico.test", "ambos@demo.portico.test"} {
		s := logIn(t, p, email, demo.Password)
		for _, path := range []string{"/admin/plugins", "/admin/plugins/new", "/admin/plugins/financeiro", "/admin/settings", "/admin/users", "/admin/api-keys", "/admin/audit"} {
			r := s.get(path, "pt-BR")
			if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "error.gestor_only")) {
				t.Errorf("%s GET %s: %d, want 403 with the gestor-only message", email, path, r.Status)
			}
			// The title says what the page says: restricted, not "something went wrong".
			if title := catalogText(t, cat, "pt-BR", "error.forbidden_title"); !strings.Contains(string(r.Body), "<title>"+title) ||
				!strings.Contains(string(r.Body), ">"+title+"</h1>") {
				t.Errorf("%s GET %s: the page is not titled %q: %.400s", email, path, title, r.Body)
			}
		}
		r := s.post("/admin/plugins/financeiro/active", "pt-BR", url.Values{"version": {"1"}, "active": {"0"}})
		if r.Status != http.StatusForbidden {
			t.Errorf("%s toggled a plugin: %d", email, r.Status)
		}
		if strings.Contains(string(s.get("/", "pt-BR").Body), `href="/admin/plugins"`) {
			t.Errorf("%s sees the admin link", email)
		}
	}
	after, _ := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	if after.Version != before.Version || !after.Active {
		t.Errorf("a non-gestor changed the plugin")
	}
	anon := p.NewClient(t, "")
	r := anon.Do("GET", "/admin/plugins?x=1", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+url.QueryEscape("/admin/plugins?x=1") {
		t.Errorf("anonymous: %d %s", r.Status, r.Header.Get("Location"))
	}
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	if r := g.get("/admin/plugins", "pt-BR"); r.Status != http.StatusOK {
		t.Errorf("gestor: %d", r.Status)
	}
	if !strings.Contains(string(g.get("/gestor", "pt-BR").Body), `href="/admin/plugins" data-testid="admin-link">`+catalogText(t, cat, "pt-BR", "admin.nav")) {
		t.Errorf("the gestor's portal pages have no link to the admin")
	}
}

// TestAdminUISecretsNeverRendered sets secrets (and a client secret) and
// then walks every admin page in every language: no value ever appears,
// and no page looks up a missing message.
func TestAdminUISecretsNeverRendered(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	value := "valor-secreto-" + auth.NewToken()
	rejected := "rejeitado-" + auth.NewToken()

	r := g.post("/admin/plugins/financeiro/secrets", "pt-BR", url.Values{"secret_name": {"erp_token"}, "secret_value": {value}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("set secret: %d %.300s", r.Status, r.Body)
	}
	// A rejected secret is not echoed either.
	r = g.post("/admin/plugins/financeiro/secrets", "pt-BR", url.Values{"secret_name": {"Nome Ruim"}, "secret_value": {rejected}})
	if r.Status != http.StatusUnprocessableEntity || strings.Contains(string(r.Body), rejected) {
		t.Fatalf("rejected secret: %d, echoed: %v", r.Status, strings.Contains(string(r.Body), rejected))
	}
	if !strings.Contains(fieldBlock(t, string(r.Body), "f-secret-name"), catalogText(t, cat, "pt-BR", "validation.invalid_key")) {
		t.Errorf("no message next to the secret name")
	}
	// A token plugin's client secret is shown once, on the answer to the form.
	tok := pluginFormValues()
	tok.Set("auth_type", "token")
	r = g.post("/admin/plugins", "pt-BR", tok)
	m := regexp.MustCompile(`data-testid="client-secret">([^<]+)<`).FindSubmatch(r.Body)
	if r.Status != http.StatusCreated || m == nil {
		t.Fatalf("token plugin: %d, no client secret shown: %.300s", r.Status, r.Body)
	}
	clientSecret := string(m[1])
	if !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "admin.credentials.warning")) {
		t.Errorf("no warning that the secret is shown once")
	}
	// An API key is shown once too.
	r = g.post("/admin/api-keys", "pt-BR", url.Values{"name": {"ERP"}, "scopes": {"admin", "portal_sessions"}})
	km := regexp.MustCompile(`value="(pk_[^"]+)"`).FindSubmatch(r.Body)
	if r.Status != http.StatusCreated || km == nil {
		t.Fatalf("api key: %d %.300s", r.Status, r.Body)
	}
	apiKey := string(km[1])
	// A reset link, shown once.
	cliente, err := p.Store.UserByEmail(context.Background(), p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(t, err, "load user")
	r = g.post("/admin/users/"+cliente.ID+"/reset-link", "pt-BR", nil)
	lm := regexp.MustCompile(`value="(http://[^"]+/reset/[^"]+)"`).FindSubmatch(r.Body)
	if r.Status != http.StatusCreated || lm == nil {
		t.Fatalf("reset link: %d %.300s", r.Status, r.Body)
	}
	resetToken := string(lm[1])[strings.LastIndex(string(lm[1]), "/")+1:]

	missing := p.Server.Env.Catalog.Missing()
	pages := []string{
		"/admin/plugins", "/admin/plugins/new", "/admin/plugins/financeiro", "/admin/plugins/boletos",
		"/admin/plugins/financeiro/delete", "/admin/settings", "/admin/users", "/admin/users?q=cli",
		"/admin/users/new", "/admin/users/" + cliente.ID, "/admin/api-keys", "/admin/audit",
		"/admin/audit?action=plugin.secret.set", "/admin/audit?target_type=plugin&actor=gestor%40demo.portico.test",
	}
	for _, lang := range model.SupportedLocales {
		for _, path := range pages {
			r := g.get(path, lang)
			body := string(r.Body)
			if r.Status != http.StatusOK {
				t.Errorf("%s %s: %d", lang, path, r.Status)
				continue
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: not rendered in %s", lang, path, lang)
			}
			for name, s := range map[string]string{"secret value": value, "rejected value": rejected, "client secret": clientSecret,
				"api key": apiKey, "reset token": resetToken} {
				if strings.Contains(body, s) {
					t.Errorf("%s %s shows the %s", lang, path, name)
				}
			}
		}
		// The anonymous reset page, too.
		if r := p.NewClient(t, "").Do("GET", "/reset/"+resetToken, nil, "Accept-Language", lang); r.Status != http.StatusOK {
			t.Errorf("%s reset page: %d", lang, r.Status)
		}
	}
	if n := p.Server.Env.Catalog.Missing(); n != missing {
		t.Errorf("admin pages looked up %d missing messages", n-missing)
	}
	edit := string(g.get("/admin/plugins/financeiro", "pt-BR").Body)
	if !strings.Contains(edit, "<code>erp_token</code>") || !strings.Contains(edit, "definido em ") || !strings.Contains(edit, "por gestor@demo.portico.test") {
		t.Errorf("the secret is not listed as set")
	}
	audit := string(g.get("/admin/audit?action=plugin.secret.set", "pt-BR").Body)
	if !strings.Contains(audit, "<td>"+catalogText(t, cat, "pt-BR", "admin.audit.redacted")+"</td>") || !strings.Contains(audit, "erp_token") {
		t.Errorf("the audit log does not show the redacted secret change")
	}
	// Removing the secret works and is listed no more.
	r = g.post("/admin/plugins/financeiro/secrets/erp_token/delete", "pt-BR", nil)
	if r.Status != http.StatusSeeOther || strings.Contains(string(g.get("/admin/plugins/financeiro", "pt-BR").Body), "<code>erp_token</code>") {
		t.Errorf("remove secret: %d", r.Status)
	}
}

// TestAdminUIResetLink: the link a gestor generates lets the user set a new
// password once.
func TestAdminUIResetLink(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	u, err := p.Store.UserByEmail(context.Background(), p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(t, err, "load user")
	// The user's page says whether the account has a password: the
	// cliente's has; one without (as a portal session creates) has none.
	noPassword := &model.User{Email: "sem.senha@demo.portico.test", Name: "Sem Senha", Roles: model.Roles{model.RoleCliente}, Active: true}
	testdb.Must(t, p.Store.CreateUser(context.Background(), p.Demo.ID, noPassword), "create a user without a password")
	for _, tc := range []struct {
		id, key string
	}{{u.ID, "admin.users.password_set"}, {noPassword.ID, "admin.users.password_none"}} {
		page := g.get("/admin/users/"+tc.id, "pt-BR")
		if want := `<p data-testid="password-state">` + catalogText(t, cat, "pt-BR", tc.key) + `</p>`; page.Status != http.StatusOK || !strings.Contains(string(page.Body), want) {
			t.Errorf("user %s: %d, want %s", tc.id, page.Status, want)
		}
	}
	r := g.post("/admin/users/"+u.ID+"/reset-link", "pt-BR", nil)
	m := regexp.MustCompile(`value="(http://[^"]+)(/reset/[^"]+)"`).FindSubmatch(r.Body)
	if m == nil || string(m[1]) != p.URL {
		t.Fatalf("no full reset link on the page: %.300s", r.Body)
	}
	path := string(m[2])
	if !regexp.MustCompile(`<button type="button" class="secondary small" data-copy="reset-link-value"[^>]* hidden>`).Match(r.Body) ||
		!strings.Contains(string(r.Body), `<span id="reset-link-value-status" role="status"`) {
		t.Error("the link shown once has no copy button (shown by the script) with its status line")
	}

	anon := p.NewClient(t, "")
	page := anon.Do("GET", path, nil)
	cm := csrfInput.FindSubmatch(page.Body)
	if page.Status != http.StatusOK || cm == nil {
		t.Fatalf("reset page: %d", page.Status)
	}
	post := func(pw, confirm string) *servertest.Response {
		return anon.Do("POST", path, url.Values{"_csrf": {string(cm[1])}, "password": {pw}, "confirm": {confirm}})
	}
	if r := post("curta", "curta"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "validation.password_length")) {
		t.Errorf("short password: %d", r.Status)
	}
	if r := post("uma-senha-longa", "outra-senha-longa"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "admin.validation.password_mismatch")) {
		t.Errorf("mismatch: %d", r.Status)
	}
	if r := post("nova-senha-da-carla", "nova-senha-da-carla"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?reset=1" {
		t.Fatalf("reset: %d %s", r.Status, r.Header.Get("Location"))
	}
	// The login page the reset leads to says the password was set.
	if login := anon.Do("GET", "/login?reset=1", nil); !strings.Contains(string(login.Body), `data-testid="password-reset-done">`+catalogText(t, cat, "pt-BR", "login.password_reset")) {
		t.Errorf("the login page after a reset does not confirm it: %.300s", login.Body)
	}
	logIn(t, p, "cliente@demo.portico.test", "nova-senha-da-carla")
	if r := post("mais-uma-senha-x", "mais-uma-senha-x"); r.Status != http.StatusNotFound {
		t.Errorf("the link worked twice: %d", r.Status)
	}
	// A used or unknown link says so when it is opened, before anyone
	// types a password; the page is the customer's, not the admin's.
	for _, link := range []string{path, "/reset/nao-e-um-link"} {
		r := anon.Do("GET", link, nil)
		if r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), html.EscapeString(catalogText(t, cat, "pt-BR", "error.reset_link_invalid"))) ||
			strings.Contains(string(r.Body), `data-testid="reset-form"`) {
			t.Errorf("opening %s: %d, want 404 with the link's message and no form", link, r.Status)
		}
	}
	fresh := regexp.MustCompile(`value="http://[^"]+(/reset/[^"]+)"`).FindSubmatch(g.post("/admin/users/"+u.ID+"/reset-link", "pt-BR", nil).Body)
	if fresh == nil {
		t.Fatal("no second link")
	}
	page = anon.Do("GET", string(fresh[1]), nil)
	if body := string(page.Body); page.Status != http.StatusOK || strings.Contains(body, catalogText(t, cat, "pt-BR", "footer.admin")) ||
		!strings.Contains(body, catalogText(t, cat, "pt-BR", "footer.powered_by")) || strings.Contains(body, "· "+catalogText(t, cat, "pt-BR", "admin.title")+" ·") {
		t.Errorf("the reset page is labelled as the admin's: %d", page.Status)
	}
}

// TestAdminUIPluginLifecycle: create, configure, reorder by form (what the
// drag-and-drop script posts), move with ▲, deactivate, delete.
func TestAdminUIPluginLifecycle(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	r := g.post("/admin/plugins", "pt-BR", pluginFormValues())
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/plugins/boletos?done=created" {
		t.Fatalf("create: %d %s %.300s", r.Status, r.Header.Get("Location"), r.Body)
	}
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "boletos")
	testdb.Must(t, err, "load plugin")
	if pl.Size != model.SizeMedio || pl.VisibleTo != model.VisibleCliente || !pl.Active || pl.ShowInManager {
		t.Errorf("stored %+v", pl)
	}
	edit := string(g.get("/admin/plugins/boletos?done=created", "pt-BR").Body)
	if !strings.Contains(edit, catalogText(t, cat, "pt-BR", "admin.flash.created")) || !strings.Contains(edit, `viewBox="0 0 960 640"`) {
		t.Errorf("edit page after create lacks the flash or the size preview")
	}
	// The create form opens with a choice made for every required choice,
	// and the demo's URL hint says it also takes http on localhost.
	blank := string(g.get("/admin/plugins/new", "pt-BR").Body)
	for _, want := range []string{`id="visible-cliente" checked`, `id="icon-ferramentas" checked`, `id="type-iframe" checked`,
		html.EscapeString(catalogText(t, cat, "pt-BR", "admin.plugin.url_hint_demo"))} {
		if !strings.Contains(blank, want) {
			t.Errorf("the new-plugin form lacks %s", want)
		}
	}
	// The icon picker names every icon in the reader's language.
	for _, name := range icon.Names() {
		if label := catalogText(t, cat, "pt-BR", "icon."+name); !strings.Contains(edit, `<span class="icon-name">`+html.EscapeString(label)+`</span>`) {
			t.Errorf("the icon %s has no visible label %q", name, label)
		}
	}
	// A plugin shown only in the manager panel is not "visible to" a
	// portal role in the list.
	listed := string(g.get("/admin/plugins", "pt-BR").Body)
	if !strings.Contains(listed, `data-testid="not-in-portal-relatorios"`) || strings.Contains(listed, `data-testid="not-in-portal-boletos"`) {
		t.Errorf("the list does not say which plugins are out of the portal")
	}
	// An active plugin in neither the portal nor the panel (the demo's
	// Vistoria) is flagged, with a link to the switches; one shown in
	// the panel only (Relatórios) or inactive (Pontos) is not.
	nowhere := regexp.MustCompile(`data-testid="nowhere-([a-z0-9-]+)"`).FindAllStringSubmatch(listed, -1)
	if len(nowhere) != 1 || nowhere[0][1] != "vistoria" || !strings.Contains(listed, `href="/admin/plugins/vistoria#f-where" class="attention"`) {
		t.Errorf("plugins flagged as in no menu: %v, want vistoria only, linked to its switches", nowhere)
	}
	if !strings.Contains(listed, html.EscapeString(catalogText(t, cat, "pt-BR", "admin.plugins.in_no_menu"))) {
		t.Error("the in-no-menu flag lacks its words")
	}
	if !strings.Contains(string(g.get("/admin/plugins/vistoria", "pt-BR").Body), `id="f-where"`) {
		t.Error("the flag's link has no target on the plugin's page")
	}

	// Custom size, then configuration with a bad number on the second row.
	f := pluginFormValues()
	f.Set("version", "1")
	f.Set("size", "custom")
	f.Set("width", "1024")
	f.Set("height", "700")
	if r := g.post("/admin/plugins/boletos/edit", "pt-BR", f); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %.300s", r.Status, r.Body)
	}
	if pl, _ = p.Store.PluginBySlug(ctx, p.Demo.ID, "boletos"); pl.Width != 1024 || pl.Height != 700 || pl.Version != 2 {
		t.Errorf("custom size not stored: %dx%d v%d", pl.Width, pl.Height, pl.Version)
	}
	cfg := url.Values{"version": {"2"}, "config.0.key": {"empresa"}, "config.0.type": {"string"}, "config.0.value": {"Exemplo"},
		"config.3.key": {"limite"}, "config.3.type": {"number"}, "config.3.value": {"dez"}, "config.5.key": {""}, "config.5.value": {""}}
	r = g.post("/admin/plugins/boletos/config", "pt-BR", cfg)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldBlock(t, string(r.Body), "f-config-3-value"), catalogText(t, cat, "pt-BR", "validation.not_a_number")) {
		t.Fatalf("bad config: %d, no message next to row 3's value", r.Status)
	}
	cfg.Set("config.3.value", "10")
	if r := g.post("/admin/plugins/boletos/config", "pt-BR", cfg); r.Status != http.StatusSeeOther {
		t.Fatalf("config: %d %.300s", r.Status, r.Body)
	}
	vals, err := p.Store.PluginConfig(ctx, p.Demo.ID, pl.ID)
	testdb.Must(t, err, "config")
	if len(vals) != 2 || vals[0].Key != "empresa" || vals[1].Value != "10" {
		t.Errorf("config stored %+v", vals)
	}
	// The audit log shows the configuration's values as the gestor typed
	// them, a type only when it is not text, and no record version.
	audit := html.UnescapeString(string(g.get("/admin/audit", "pt-BR").Body))
	changes := audit[strings.Index(audit, `data-testid="audit-changes"`):] // the newest entry's table
	changes = changes[:strings.Index(changes, "</table>")]
	if !strings.Contains(changes, ">Exemplo<") || !strings.Contains(changes, ">10 (Número)<") || strings.Contains(changes, "string:") {
		t.Errorf("the audit log's configuration change: %s", changes)
	}

	// The order form, as the drag-and-drop script posts it.
	ps, _ := p.Store.Plugins(ctx, p.Demo.ID)
	var order []string
	for _, x := range ps {
		order = append(order, x.Slug)
	}
	slices.Reverse(order)
	if r := g.post("/admin/plugins/order", "pt-BR", url.Values{"slug": order}); r.Status != http.StatusSeeOther {
		t.Fatalf("order: %d %.300s", r.Status, r.Body)
	}
	if r := g.post("/admin/plugins/order", "pt-BR", url.Values{"slug": order[1:]}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "error.order_mismatch")) {
		t.Errorf("incomplete order: %d", r.Status)
	}
	ps, _ = p.Store.Plugins(ctx, p.Demo.ID)
	if ps[0].Slug != order[0] || ps[len(ps)-1].Slug != order[len(order)-1] {
		t.Errorf("order not applied")
	}
	// ▲ on the second row swaps it with the first, and keeps focus on ▲.
	second := ps[1].Slug
	r = g.post("/admin/plugins/"+second+"/move", "pt-BR", url.Values{"direction": {"up"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("move: %d", r.Status)
	}
	list := string(g.get(r.Header.Get("Location"), "pt-BR").Body)
	if !regexp.MustCompile(`data-testid="up-` + second + `"[^>]*disabled`).MatchString(list) {
		t.Errorf("the moved plugin is not first")
	}
	if !regexp.MustCompile(`data-testid="down-` + second + `"[^>]*autofocus`).MatchString(list) {
		t.Errorf("focus does not stay on the moved plugin's buttons")
	}

	// Deactivate from the list, then delete with confirmation.
	pl, _ = p.Store.PluginBySlug(ctx, p.Demo.ID, "boletos")
	if r := g.post("/admin/plugins/boletos/active", "pt-BR", url.Values{"version": {itoa(pl.Version)}, "active": {"0"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", r.Status)
	}
	pl, _ = p.Store.PluginBySlug(ctx, p.Demo.ID, "boletos")
	if pl.Active {
		t.Errorf("still active")
	}
	if r := g.post("/admin/plugins/boletos/delete", "pt-BR", url.Values{"version": {itoa(pl.Version)}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("delete without confirmation: %d", r.Status)
	}
	if r := g.post("/admin/plugins/boletos/delete", "pt-BR", url.Values{"version": {itoa(pl.Version)}, "confirm": {"1"}}); r.Status != http.StatusSeeOther {
		t.Errorf("delete: %d", r.Status)
	}
	if _, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "boletos"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("still there after delete: %v", err)
	}
	if r := g.post("/admin/plugins", "pt-BR", pluginFormValues()); r.Status != http.StatusConflict {
		t.Errorf("slug of a deleted plugin reused: %d", r.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAdminUISettingsUsersKeysAudit covers the other admin pages: tenant
// settings (validation and version), users (create, duplicate, edit,
// self-lockout, deactivate ending sessions), API keys (create, use,
// revoke) and the audit log's filters and paging.
func TestAdminUISettingsUsersKeysAudit(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)

	// Settings: a bad colour, a non-number, minutes out of range and a
	// return URL off the allowed origins keep what was typed, each message
	// next to its field and named in the summary.
	page := string(g.get("/admin/settings", "pt-BR").Body)
	version := string(versionRe.FindStringSubmatch(page)[1])
	for _, want := range []string{`id="f-portal_link_minutes" name="portal_link_minutes" value="30"`, `id="f-default_return_url" name="default_return_url" value=""`} {
		if !strings.Contains(page, want) {
			t.Errorf("the settings page lacks %s", want)
		}
	}
	if strings.Contains(fieldBlock(t, page, "f-portal_link_email_login"), "checked") {
		t.Errorf("the code by e-mail is on by default")
	}
	settings := url.Values{"version": {version}, "name": {"Construtora Nova"}, "brand_name": {"Nova"}, "logo_url": {""},
		"primary_color": {"verde"}, "primary_color_was": {"#0b6e4f"}, "primary_color_picker": {"#0b6e4f"}, "default_locale": {"es"},
		"allowed_origins": {"https://www.nova.com.br\n\nhttps://app.nova.com.br"}, "portal_session_minutes": {"muito"},
		"portal_link_minutes": {"0"}, "portal_link_email_login": {"1"}, "default_return_url": {"https://outra.com.br/conta"}}
	r := g.post("/admin/settings", "pt-BR", settings)
	body := string(r.Body)
	if r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(fieldBlock(t, body, "f-primary_color"), catalogText(t, cat, "pt-BR", "validation.invalid_color")) ||
		!strings.Contains(fieldBlock(t, body, "f-portal_session_minutes"), catalogText(t, cat, "pt-BR", "validation.wrong_type")) ||
		!strings.Contains(body, `value="muito"`) || !strings.Contains(body, `value="Construtora Nova"`) {
		t.Fatalf("bad settings: %d %.400s", r.Status, body)
	}
	for _, tc := range []struct{ field, label, key, kept string }{
		{"portal_link_minutes", "admin.settings.portal_link_minutes", "validation.out_of_range", `value="0"`},
		{"default_return_url", "admin.settings.default_return_url", "validation.invalid_return_url", `value="https://outra.com.br/conta"`},
	} {
		block := fieldBlock(t, body, "f-"+tc.field)
		msg := catalogText(t, cat, "pt-BR", tc.key)
		if !strings.Contains(block, `<p class="field-error" id="err-`+tc.field+`">`+msg+`</p>`) || !strings.Contains(block, `aria-invalid="true"`) ||
			!regexp.MustCompile(`aria-describedby="[^"]*\berr-`+tc.field+`\b`).MatchString(block) || !strings.Contains(block, tc.kept) {
			t.Errorf("%s: no message next to the field, or what was typed is lost:\n%s", tc.field, block)
		}
		if !strings.Contains(body, `href="#f-`+tc.field+`">`+catalogText(t, cat, "pt-BR", tc.label)+`: `+msg+`</a>`) {
			t.Errorf("%s: the summary does not name the field", tc.field)
		}
	}
	if !strings.Contains(fieldBlock(t, body, "f-portal_link_email_login"), "checked") {
		t.Errorf("the refused form lost the ticked code by e-mail")
	}
	settings.Set("portal_session_minutes", "60")
	settings.Set("portal_link_minutes", "61")
	settings.Set("default_return_url", "https://app.nova.com.br/conta")
	r = g.post("/admin/settings", "pt-BR", settings)
	if b := string(r.Body); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(fieldBlock(t, b, "f-portal_link_minutes"), catalogText(t, cat, "pt-BR", "validation.out_of_range")) ||
		strings.Contains(b, `id="err-default_return_url"`) {
		t.Errorf("61 minutes for the link: %d", r.Status)
	}
	settings.Set("portal_link_minutes", "quinze")
	if r := g.post("/admin/settings", "pt-BR", settings); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(fieldBlock(t, string(r.Body), "f-portal_link_minutes"), catalogText(t, cat, "pt-BR", "validation.wrong_type")) {
		t.Errorf("link minutes not a number: %d", r.Status)
	}
	settings.Set("time_zone", "Marte/Olimpo")
	if r := g.post("/admin/settings", "pt-BR", settings); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(fieldBlock(t, string(r.Body), "f-time_zone"), catalogText(t, cat, "pt-BR", "validation.invalid_choice")) {
		t.Errorf("an unknown time zone: %d", r.Status)
	}
	settings.Set("time_zone", "America/Manaus")
	// Good values are saved and shown.
	settings.Set("primary_color", "#0b6e4f")
	settings.Set("portal_session_minutes", "90")
	settings.Set("portal_link_minutes", " 15 ")
	settings.Set("default_return_url", " https://app.nova.com.br/conta ")
	if r := g.post("/admin/settings", "pt-BR", settings); r.Status != http.StatusSeeOther {
		t.Fatalf("settings: %d %.300s", r.Status, r.Body)
	}
	tn, err := p.Store.TenantByID(ctx, p.Demo.ID)
	testdb.Must(t, err, "load tenant")
	if tn.PortalLinkMinutes != 15 || !tn.PortalLinkEmailLogin || tn.DefaultReturnURL != "https://app.nova.com.br/conta" || tn.PrimaryColor != "#0b6e4f" || tn.TimeZone != "America/Manaus" {
		t.Errorf("tenant stored %+v", tn)
	}
	page = string(g.get("/admin/settings", "pt-BR").Body)
	if !strings.Contains(page, `name="portal_link_minutes" value="15"`) || !strings.Contains(page, `name="default_return_url" value="https://app.nova.com.br/conta"`) ||
		!strings.Contains(fieldBlock(t, page, "f-portal_link_email_login"), "checked") ||
		!strings.Contains(page, `<option value="America/Manaus" selected>Manaus — UTC−04:00</option>`) {
		t.Errorf("the settings page does not show the stored portal-session settings")
	}
	// The picker wins when only it changed; an unticked box and an emptied
	// return URL are saved as such.
	settings.Set("version", versionRe.FindStringSubmatch(page)[1])
	settings.Set("primary_color_picker", "#123456")
	settings.Del("portal_link_email_login")
	settings.Set("default_return_url", "")
	if r := g.post("/admin/settings", "pt-BR", settings); r.Status != http.StatusSeeOther {
		t.Fatalf("settings: %d %.300s", r.Status, r.Body)
	}
	tn, err = p.Store.TenantByID(ctx, p.Demo.ID)
	testdb.Must(t, err, "load tenant")
	if tn.Name != "Construtora Nova" || tn.PrimaryColor != "#123456" || tn.DefaultLocale != "es" || tn.PortalSessionMinutes != 90 ||
		!slices.Equal(tn.AllowedOrigins, []string{"https://www.nova.com.br", "https://app.nova.com.br"}) ||
		tn.PortalLinkMinutes != 15 || tn.PortalLinkEmailLogin || tn.DefaultReturnURL != "" {
		t.Errorf("tenant stored %+v", tn)
	}
	if r := g.post("/admin/settings", "pt-BR", settings); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "error.stale_version")) {
		t.Errorf("stale settings: %d", r.Status)
	}

	// Users: create (no password), a duplicate, then edit.
	user := url.Values{"email": {"Nova@Exemplo.com.br"}, "name": {"Nádia Nova"}, "document": {"123.456.789-09"}, "phone": {"(11) 98765-4321"},
		"roles": {"cliente", "sindico"}}
	r = g.post("/admin/users", "pt-BR", user)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create user: %d %.400s", r.Status, r.Body)
	}
	nu, err := p.Store.UserByEmail(ctx, p.Demo.ID, "nova@exemplo.com.br")
	testdb.Must(t, err, "load the new user")
	if r.Header.Get("Location") != "/admin/users/"+nu.ID+"?done=user_created" || nu.Document != "12345678909" || !nu.HasRole(model.RoleSindico) {
		t.Errorf("user stored %+v, redirect %s", nu, r.Header.Get("Location"))
	}
	r = g.post("/admin/users", "pt-BR", user)
	if r.Status != http.StatusConflict || !strings.Contains(fieldBlock(t, string(r.Body), "f-email"), catalogText(t, cat, "pt-BR", "validation.email_taken")) {
		t.Errorf("duplicate e-mail: %d", r.Status)
	}
	// Another e-mail with Nádia's CPF: refused on the document field.
	twin := url.Values{"email": {"gemea@exemplo.com.br"}, "name": {"Gêmea"}, "document": {"12345678909"}, "roles": {"cliente"}}
	r = g.post("/admin/users", "pt-BR", twin)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldBlock(t, string(r.Body), "f-document"), catalogText(t, cat, "pt-BR", "validation.document_taken")) {
		t.Errorf("a CPF another user holds: %d", r.Status)
	}
	list := string(g.get("/admin/users?q=n%C3%A1dia", "pt-BR").Body)
	if !strings.Contains(list, "Nádia Nova") || strings.Contains(list, "Carla Cliente") {
		t.Errorf("search did not find only Nádia")
	}
	edit := url.Values{"version": {"1"}, "name": {"Nádia N."}, "roles": {"sindico"}, "active": {"1"}}
	if r := g.post("/admin/users/"+nu.ID, "pt-BR", edit); r.Status != http.StatusSeeOther {
		t.Fatalf("edit user: %d %.300s", r.Status, r.Body)
	}
	if nu, _ = p.Store.UserByID(ctx, p.Demo.ID, nu.ID); nu.Name != "Nádia N." || nu.HasRole(model.RoleCliente) {
		t.Errorf("user after edit %+v", nu)
	}

	// A gestor cannot lock themselves out.
	me, err := p.Store.UserByEmail(ctx, p.Demo.ID, "gestor@demo.portico.test")
	testdb.Must(t, err, "load gestor")
	r = g.post("/admin/users/"+me.ID, "pt-BR", url.Values{"version": {itoa(me.Version)}, "name": {me.Name}, "roles": {"cliente"}, "active": {"1"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), catalogText(t, cat, "pt-BR", "validation.self_lockout")) {
		t.Errorf("self-lockout: %d", r.Status)
	}

	// Deactivating the síndico ends their session at once.
	sind, err := p.Store.UserByEmail(ctx, p.Demo.ID, "sindico@demo.portico.test")
	testdb.Must(t, err, "load síndico")
	sc := p.NewClient(t, "")
	sc.Login("sindico@demo.portico.test", demo.Password)
	if r := g.post("/admin/users/"+sind.ID+"/deactivate", "pt-BR", url.Values{"version": {itoa(sind.Version)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %.300s", r.Status, r.Body)
	}
	if r := sc.Do("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the deactivated síndico's session still works: %d", r.Status)
	}

	// API keys: create, use, revoke (effective at once).
	r = g.post("/admin/api-keys", "pt-BR", url.Values{"name": {""}, "scopes": {"nada"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldBlock(t, string(r.Body), "f-name"), catalogText(t, cat, "pt-BR", "validation.required")) {
		t.Errorf("bad key: %d", r.Status)
	}
	r = g.post("/admin/api-keys", "pt-BR", url.Values{"name": {"Integração ERP"}, "scopes": {"admin"}})
	km := regexp.MustCompile(`value="(pk_[^"]+)"`).FindSubmatch(r.Body)
	if r.Status != http.StatusCreated || km == nil {
		t.Fatalf("create key: %d", r.Status)
	}
	kc := p.NewClient(t, "")
	kc.Header.Set("Authorization", "Bearer "+string(km[1]))
	if r := kc.Do("GET", "/api/v1/admin/plugins", nil); r.Status != http.StatusOK {
		t.Fatalf("the new key does not work: %d", r.Status)
	}
	keys, err := p.Store.APIKeys(ctx, p.Demo.ID)
	testdb.Must(t, err, "list keys")
	keyList := string(g.get("/admin/api-keys", "pt-BR").Body)
	if regexp.MustCompile(`name="scopes"[^>]*checked`).MatchString(keyList) {
		t.Errorf("the new-key form ticks a scope before the gestor picks one")
	}
	if !strings.Contains(keyList, keys[0].Prefix+"…") || strings.Contains(keyList, string(km[1])) {
		t.Errorf("the key list must show the prefix and never the key")
	}
	if r := g.post("/admin/api-keys/"+keys[0].ID+"/revoke", "pt-BR", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := kc.Do("GET", "/api/v1/admin/plugins", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("a revoked key still works: %d", r.Status)
	}
	if r := g.post("/admin/api-keys/"+keys[0].ID+"/revoke", "pt-BR", nil); r.Status != http.StatusConflict {
		t.Errorf("revoking twice: %d", r.Status)
	}

	// Times are in the tenant's zone (Manaus, set above), in the reader's
	// way of writing them.
	manaus, err := time.LoadLocation("America/Manaus")
	testdb.Must(t, err, "zone")
	if want := keys[0].CreatedAt.In(manaus).Format("02/01/2006 15:04"); !strings.Contains(string(g.get("/admin/api-keys", "pt-BR").Body), "\">"+want) {
		t.Errorf("the keys page does not show the key's creation as %s (Manaus)", want)
	}
	if want := keys[0].CreatedAt.In(manaus).Format("Jan 2, 2006 15:04"); !strings.Contains(string(g.get("/admin/api-keys", "en").Body), "\">"+want) {
		t.Errorf("the English keys page does not show the key's creation as %s (Manaus)", want)
	}

	// Audit: filters, newest first, paging by ?before=.
	entry := func(action string) string { return `<code class="action">` + action + `</code>` }
	all := string(g.get("/admin/audit", "pt-BR").Body)
	first, last := strings.Index(all, entry("api_key.revoke")), strings.Index(all, entry("tenant.update"))
	if first < 0 || last < 0 || first > last {
		t.Errorf("audit not newest first")
	}
	// In words: the tenant update reads as such, with its changed fields
	// named and both values shown, the raw JSON one click away.
	tenantEntry := all[strings.LastIndex(all[:last], "<li"):]
	if end := strings.Index(tenantEntry, "</li>"); end > 0 {
		tenantEntry = tenantEntry[:end]
	}
	for _, want := range []string{catalogText(t, cat, "pt-BR", "audit.action.tenant.update"), `data-testid="audit-changes"`,
		"<th scope=\"row\">" + catalogText(t, cat, "pt-BR", "audit.field.primary_color") + "</th><td>", "<td>#123456</td>",
		"<details class=\"audit-raw\">"} {
		if !strings.Contains(tenantEntry, want) {
			t.Errorf("the tenant.update entry lacks %s: %.2000s", want, tenantEntry)
		}
	}
	filtered := string(g.get("/admin/audit?target_type=user&actor=gestor%40demo.portico.test", "pt-BR").Body)
	if !strings.Contains(filtered, entry("user.create")) || strings.Contains(filtered, entry("tenant.update")) || strings.Contains(filtered, entry("api_key.create")) {
		t.Errorf("audit filters not applied")
	}
	// The target reads as the manager knows it: its type in words and the
	// user's e-mail, not "user" and an ID.
	if !regexp.MustCompile(`<span>· ` + catalogText(t, cat, "pt-BR", "admin.audit.target_user") + `: [^<@\s]+@[^<\s]+</span>`).MatchString(filtered) {
		t.Errorf("the user entries do not name their user by e-mail: %.1500s", filtered)
	}
	// The action filter offers the actions in words, the chosen one selected.
	byAction := string(g.get("/admin/audit?action=tenant.update", "pt-BR").Body)
	if !strings.Contains(byAction, `<option value="tenant.update" selected>`+catalogText(t, cat, "pt-BR", "audit.action.tenant.update")+`</option>`) {
		t.Errorf("the action filter does not show the chosen action in words")
	}
	if byKey := string(g.get("/admin/audit?actor=Integra%C3%A7%C3%A3o+ERP", "pt-BR").Body); strings.Contains(byKey, `<code class="action">`) {
		t.Errorf("the key made no change, yet its actor filter lists entries")
	}
	for i := 0; i < 55; i++ {
		if err := p.Store.Audit(ctx, p.Demo.ID, model.Actor{Type: "system", Label: "teste"}, "test.bulk", "tenant", p.Demo.ID, nil, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	page1 := string(g.get("/admin/audit?action=test.bulk", "pt-BR").Body)
	nm := regexp.MustCompile(`href="(/admin/audit\?[^"]*before=[^"]+)" rel="next"`).FindStringSubmatch(page1)
	if strings.Count(page1, `<code class="action">test.bulk</code>`) != 50 || nm == nil {
		t.Fatalf("first audit page: %d entries, next link %v", strings.Count(page1, `<code class="action">test.bulk</code>`), nm)
	}
	page2 := string(g.get(html.UnescapeString(nm[1]), "pt-BR").Body)
	if n := strings.Count(page2, `<code class="action">test.bulk</code>`); n != 5 || !strings.Contains(page2, `&#34;i&#34;: 0`) {
		t.Errorf("second audit page: %d entries", n)
	}
}

// TestAdminUIEveryRoute walks every route registered under /admin (so a
// route added later is covered): clientes and síndicos get 403 on all of
// them, anonymous visitors are sent to the login page (forms: refused),
// and the demo gestor gets 404 for every identifier of the other tenant,
// whose data stays unchanged.
func TestAdminUIEveryRoute(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	other := p.Other
	var otherUsers []string
	for _, e := range []string{"cliente@outra.test", "gestor@outra.test"} {
		u, err := p.Store.UserByEmail(ctx, other.ID, e)
		testdb.Must(t, err, "load other user")
		otherUsers = append(otherUsers, u.ID)
	}
	k := &model.APIKey{Name: "Outra", Scopes: model.StringList{"admin"}, Prefix: "pk_outra", Hash: auth.HashToken("pk_outra")}
	testdb.Must(t, p.Store.CreateAPIKey(ctx, other.ID, k, model.Actor{Type: "system", Label: "test"}), "other key")
	params := map[string][]string{"slug": p.OtherPlugins, "id": append(otherUsers, k.ID), "name": {"segredo"}}
	snapshot := func() string {
		var b strings.Builder
		ps, err := p.Store.Plugins(ctx, other.ID)
		testdb.Must(t, err, "plugins")
		for _, x := range ps {
			b.WriteString(x.Slug + "/" + itoa(x.Version) + ";")
		}
		for _, id := range otherUsers {
			u, err := p.Store.UserByID(ctx, other.ID, id)
			testdb.Must(t, err, "user")
			b.WriteString(u.Email + "/" + itoa(u.Version) + ";")
		}
		keys, err := p.Store.APIKeys(ctx, other.ID)
		testdb.Must(t, err, "keys")
		for _, x := range keys {
			b.WriteString(x.ID + "/" + strconv.FormatBool(x.RevokedAt == nil) + ";")
		}
		tn, err := p.Store.TenantByID(ctx, other.ID)
		testdb.Must(t, err, "tenant")
		n, err := p.Store.CountAudit(ctx, other.ID)
		testdb.Must(t, err, "audit")
		b.WriteString(tn.Name + "/" + itoa(tn.Version) + "/" + itoa(n))
		return b.String()
	}
	before := snapshot()

	type route struct{ method, path string }
	var routes []route
	seen := map[route]bool{}
	for _, rt := range p.Server.App.GetRoutes(true) {
		r := route{rt.Method, rt.Path}
		if !strings.HasPrefix(rt.Path, "/admin") || strings.HasPrefix(rt.Path, "/admin/assets/") || seen[r] ||
			(rt.Method != "GET" && rt.Method != "POST") {
			continue
		}
		seen[r] = true
		routes = append(routes, r)
	}
	if len(routes) < 20 {
		t.Fatalf("only %d admin UI routes found: %v", len(routes), routes)
	}
	// expand fills each parameter with every identifier of the other tenant.
	expand := func(path string) []string {
		out := []string{path}
		for _, m := range admintest.RouteParam.FindAllStringSubmatch(path, -1) {
			var next []string
			for _, o := range out {
				for _, v := range params[m[1]] {
					next = append(next, strings.Replace(o, m[0], url.PathEscape(v), 1))
				}
			}
			out = next
		}
		return out
	}
	form := url.Values{"version": {"1"}, "active": {"0"}, "confirm": {"1"}, "direction": {"up"}, "name": {"X"}, "roles": {"cliente"},
		"secret_name": {"segredo"}, "secret_value": {"v"}, "slug": p.OtherPlugins}
	sessions := map[string]*session{}
	for _, email := range []string{"cliente@demo.portico.test", "sindico@demo.portico.test", "ambos@demo.portico.test", "gestor@demo.portico.test"} {
		sessions[email] = logIn(t, p, email, demo.Password)
	}
	anon := p.NewClient(t, "")
	for _, rt := range routes {
		for _, path := range expand(rt.path) {
			for email, s := range sessions {
				var r *servertest.Response
				if rt.method == "GET" {
					r = s.get(path, "pt-BR")
				} else {
					r = s.post(path, "pt-BR", form)
				}
				switch {
				case email != "gestor@demo.portico.test":
					if r.Status != http.StatusForbidden {
						t.Errorf("%s %s as %s: %d, want 403", rt.method, path, email, r.Status)
					}
				case path != rt.path: // the gestor, with the other tenant's identifiers
					if r.Status != http.StatusNotFound {
						t.Errorf("%s %s as the demo gestor: %d, want 404", rt.method, path, r.Status)
					}
				}
				for _, leak := range []string{other.Name, "Olga Outra", "Otto Outro", "apps.outra.test"} {
					if strings.Contains(string(r.Body), leak) {
						t.Errorf("%s %s as %s shows %q of the other tenant", rt.method, path, email, leak)
					}
				}
			}
			if rt.method == "GET" {
				r := anon.Do("GET", path, nil)
				if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
					t.Errorf("GET %s anonymous: %d %s, want a redirect to the login", path, r.Status, r.Header.Get("Location"))
				}
			} else if r := anon.Do("POST", path, form); r.Status != http.StatusForbidden {
				t.Errorf("POST %s anonymous: %d, want 403", path, r.Status)
			}
		}
	}
	t.Logf("%d admin UI routes walked", len(routes))
	if after := snapshot(); after != before {
		t.Errorf("the other tenant changed:\nbefore %s\nafter  %s", before, after)
	}
}

// TestAdminUISettingsSayWhatTheyDo: the tenant's portal-session settings
// are in effect, so the settings page carries no "not in effect" note any
// more; each field is described, in every language, by a hint that says
// what it does, tied to it for screen readers. Without SMTP the code by
// e-mail says it is unavailable on this server; with SMTP it does not.
func TestAdminUISettingsSayWhatTheyDo(t *testing.T) {
	cat := loadCatalog(t)
	fields := []struct{ field, hint, key string }{
		{"f-allowed_origins", "hint-origins", "admin.settings.origins_hint"},
		{"f-default_return_url", "hint-return-url", "admin.settings.return_url_hint"},
		{"f-portal_session_minutes", "hint-minutes", "admin.settings.minutes_hint"},
		{"f-portal_link_minutes", "hint-link-minutes", "admin.settings.link_minutes_hint"},
		{"f-portal_link_email_login", "hint-email-login", "admin.settings.email_login_hint"},
	}
	describedBy := func(t *testing.T, body, id string) []string {
		t.Helper()
		i := strings.Index(body, `id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no element #%s in the page", id)
		}
		tag := body[strings.LastIndex(body[:i], "<"):]
		tag = tag[:strings.Index(tag, ">")+1]
		m := regexp.MustCompile(`aria-describedby="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return nil
		}
		return strings.Fields(m[1])
	}
	for _, withSMTP := range []bool{false, true} {
		p := servertest.StartWith(t, "sqlite", func(c *config.Config) {
			if withSMTP {
				c.SMTP = &mail.Config{Host: "127.0.0.1", Port: 2525, From: "portal@demo.portico.test", TLS: mail.TLSNone}
			}
		})
		g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
		for _, lang := range model.SupportedLocales {
			body := string(g.get("/admin/settings", lang).Body)
			for _, gone := range []string{"pending-origins", "pending-minutes"} {
				if strings.Contains(body, gone) {
					t.Errorf("%s: the page still has the %s note", lang, gone)
				}
			}
			for _, tc := range fields {
				if !strings.Contains(body, `<p class="hint" id="`+tc.hint+`">`+catalogText(t, cat, lang, tc.key)+`</p>`) {
					t.Errorf("%s: no hint %s", lang, tc.key)
				}
				if !slices.Contains(describedBy(t, body, tc.field), tc.hint) {
					t.Errorf("%s: %s is not described by its hint", lang, tc.field)
				}
			}
			if !slices.Contains(describedBy(t, body, "portal-sessions"), "hint-portal-sessions") ||
				!strings.Contains(body, catalogText(t, cat, lang, "admin.settings.portal_sessions_hint")) {
				t.Errorf("%s: the portal-session group is not introduced", lang)
			}
			note := catalogText(t, cat, lang, "admin.settings.email_login_unavailable")
			noted := slices.Contains(describedBy(t, body, "f-portal_link_email_login"), "mail-unavailable")
			switch {
			case !withSMTP && (!strings.Contains(body, `id="mail-unavailable" role="note" data-testid="mail-unavailable">`+note+`</p>`) || !noted):
				t.Errorf("%s without SMTP: the code by e-mail does not say it is unavailable", lang)
			case withSMTP && (strings.Contains(body, "mail-unavailable") || strings.Contains(body, note)):
				t.Errorf("%s with SMTP: the code by e-mail says it is unavailable", lang)
			}
		}
	}
}

// TestAdminUINewPluginPlace creates plugins at the top, after a given one
// and at the end (the default), as the new-plugin form's menu position
// offers, and reads the stored menu order.
func TestAdminUINewPluginPlace(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	if blank := string(g.get("/admin/plugins/new", "pt-BR").Body); !strings.Contains(blank, `<option value="after:documentos">`) {
		t.Fatalf("the new-plugin form offers no place after documentos")
	}
	order := func() []string {
		ps, err := p.Store.Plugins(ctx, p.Demo.ID)
		testdb.Must(t, err, "plugins")
		var out []string
		for _, pl := range ps {
			out = append(out, pl.Slug)
		}
		return out
	}
	for _, tc := range []struct {
		slug, place string
		at          func([]string) int
	}{
		{"primeiro", "first", func([]string) int { return 0 }},
		{"depois-docs", "after:documentos", func(o []string) int { return slices.Index(o, "documentos") + 1 }},
		{"no-fim", "end", func(o []string) int { return len(o) - 1 }},
		{"sumido", "after:nao-existe", func(o []string) int { return len(o) - 1 }},
	} {
		f := pluginFormValues()
		f.Set("slug", tc.slug)
		f.Set("menu_place", tc.place)
		if r := g.post("/admin/plugins", "pt-BR", f); r.Status != http.StatusSeeOther {
			t.Fatalf("create %s: %d %.300s", tc.slug, r.Status, r.Body)
		}
		o := order()
		if got, want := slices.Index(o, tc.slug), tc.at(o); got != want {
			t.Errorf("%s placed %q: at %d of %q, want %d", tc.slug, tc.place, got, o, want)
		}
	}
}

// TestAdminUIPluginTitles: a gestor gives a plugin its title in Spanish and
// English on the edit form; a customer browsing in Spanish sees it in the
// menu, on the plugin's page and in the menu API, one in Portuguese the
// title; a title in an unknown language or too long is refused in words.
func TestAdminUIPluginTitles(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	a := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	page := a.get("/admin/plugins/documentos", "pt-BR")
	for _, want := range []string{`id="f-title_es" name="title_es" lang="es"`, `id="f-title_en" name="title_en" lang="en"`, "Título em outros idiomas (opcional)"} {
		if !strings.Contains(string(page.Body), want) {
			t.Fatalf("the edit form lacks %q", want)
		}
	}
	version := string(versionRe.FindSubmatch(page.Body)[1])
	form := url.Values{"version": {version}, "name": {"Documentos da unidade"}, "title": {"Documentos"}, "type": {"iframe"},
		"url": {p.URL + "/demo/frame/documentos"}, "icon": {"documentos"}, "active": {"1"}, "show_in_portal": {"1"},
		"size": {"medio"}, "visible_to": {"ambos"}, "auth_type": {"none"},
		"title_es": {" Documentos de la unidad "}, "title_en": {"Unit documents"}}
	if r := a.post("/admin/plugins/documentos/edit", "pt-BR", form); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %.400s", r.Status, r.Body)
	}
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "documentos")
	testdb.Must(t, err, "load plugin")
	if !reflect.DeepEqual(pl.Titles, model.Titles{"es": "Documentos de la unidad", "en": "Unit documents"}) {
		t.Fatalf("stored titles = %v", pl.Titles)
	}

	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(t, err, "load the cliente")
	testdb.Must(t, p.Store.SetUserLocale(ctx, p.Demo.ID, u.ID, "es"), "set locale")
	for path, want := range map[string]string{
		"/":               `<span class="menu-title">Documentos de la unidad</span>`,
		"/p/documentos":   "<title>Documentos de la unidad",
		"/api/v1/me/menu": `"title":"Documentos de la unidad"`,
	} {
		if r := c.Do("GET", path, nil); !strings.Contains(string(r.Body), want) {
			t.Errorf("GET %s in Spanish lacks %q: %.600s", path, want, r.Body)
		}
	}
	// The page's heading and its frame's name too, not only its <title>.
	plugin := string(c.Do("GET", "/p/documentos", nil).Body)
	for _, want := range []string{"</span> Documentos de la unidad</h1>", `title="Documentos de la unidad"`} {
		if !strings.Contains(plugin, want) {
			t.Errorf("the plugin's page in Spanish lacks %q", want)
		}
	}
	testdb.Must(t, p.Store.SetUserLocale(ctx, p.Demo.ID, u.ID, "pt-BR"), "set locale")
	if r := c.Do("GET", "/", nil); !strings.Contains(string(r.Body), `<span class="menu-title">Documentos</span>`) {
		t.Errorf("the Portuguese menu does not show the title")
	}

	page = a.get("/admin/plugins/documentos", "pt-BR")
	form.Set("version", string(versionRe.FindSubmatch(page.Body)[1]))
	form.Set("title_en", strings.Repeat("x", model.MaxPluginTitleLength+1))
	r := a.post("/admin/plugins/documentos/edit", "pt-BR", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="f-title_en"`) || !strings.Contains(string(r.Body), `aria-invalid="true"`) {
		t.Errorf("a too-long title: %d %.400s", r.Status, r.Body)
	}
}

// TestAuditActionsInWords: every audit action (model.AuditActions, the one
// list) is named in words in every language of the audit page.
func TestAuditActionsInWords(t *testing.T) {
	cat := loadCatalog(t)
	for _, lang := range []string{"pt-BR", "es", "en"} {
		for _, a := range model.AuditActions {
			catalogText(t, cat, lang, "audit.action."+a)
		}
	}
}

// TestAdminUIAuditReadable: a user's change reads as a manager reads it:
// the address on one line, the roles by their names, a reset link's
// expiry in the tenant's zone, no record id, no field name left as code.
func TestAdminUIAuditReadable(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(t, err, "load user")
	_, err = p.Store.UpdateUser(ctx, p.Demo.ID, u.ID, u.Version, model.SystemActor("test"), func(x *model.User) error {
		x.Roles = model.Roles{model.RoleCliente, model.RoleSindico}
		x.Address = model.Address{CEP: "01310100", Street: "Avenida Paulista", Number: "1000", District: "Bela Vista", City: "São Paulo", State: "SP"}
		return nil
	})
	testdb.Must(t, err, "update user")
	if r := g.post("/admin/users/"+u.ID+"/reset-link", "pt-BR", nil); r.Status != http.StatusCreated {
		t.Fatalf("reset link: %d", r.Status)
	}
	audit := html.UnescapeString(string(g.get("/admin/audit?target_type=user", "pt-BR").Body))
	for _, want := range []string{">Endereço<", ">Avenida Paulista, 1000, Bela Vista, São Paulo/SP, CEP 01310-100<", ">Cliente, Síndico<"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	// (The raw snapshot stays available, folded, for the technical reader:
	// only the tables of changes are checked here.)
	changes := strings.Join(regexp.MustCompile(`(?s)data-testid="audit-changes".*?</table>`).FindAllString(audit, -1), "")
	for _, bad := range []string{">address<", ">id<", "CEP\"", ">sindico<", "Z<"} {
		if strings.Contains(changes, bad) {
			t.Errorf("the audit log shows %q", bad)
		}
	}
	if !regexp.MustCompile(`>\d{2}/\d{2}/\d{4} \d{2}:\d{2}<`).MatchString(audit) {
		t.Error("the reset link's expiry is not a local date and time")
	}
}

// TestAdminUIDeactivatingRevokesOwnKeys: a gestor who created an API key
// and is then deactivated by another gestor loses the key too (a copy of
// it must not keep the company's API open to someone who left); the user
// page names the keys that will go before the change is made.
func TestAdminUIDeactivatingRevokesOwnKeys(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	cat := loadCatalog(t)
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	const password = "outra-senha-longa-1"
	r := g.post("/admin/users", "pt-BR", url.Values{"email": {"sai@demo.portico.test"}, "name": {"Sérgio Sai"},
		"roles": {"gestor"}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create the second gestor: %d %.300s", r.Status, r.Body)
	}
	leaving, err := p.Store.UserByEmail(ctx, p.Demo.ID, "sai@demo.portico.test")
	testdb.Must(t, err, "load the second gestor")
	s := logIn(t, p, "sai@demo.portico.test", password)
	r = s.post("/admin/api-keys", "pt-BR", url.Values{"name": {"Meu script"}, "scopes": {"admin"}})
	km := regexp.MustCompile(`value="(pk_[^"]+)"`).FindSubmatch(r.Body)
	if r.Status != http.StatusCreated || km == nil {
		t.Fatalf("create key: %d", r.Status)
	}
	kc := p.NewClient(t, "")
	kc.Header.Set("Authorization", "Bearer "+string(km[1]))
	if r := kc.Do("GET", "/api/v1/admin/users", nil); r.Status != http.StatusOK {
		t.Fatalf("the new key does not work: %d", r.Status)
	}
	page := string(g.get("/admin/users/"+leaving.ID, "pt-BR").Body)
	m := regexp.MustCompile(`<p class="hint" data-testid="own-keys">([^<]*)</p>`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(html.UnescapeString(m[1]), "“Meu script”") {
		t.Fatalf("the user page does not name the key a deactivation would revoke:\n%s", page)
	}
	boss, err := p.Store.UserByEmail(ctx, p.Demo.ID, "gestor@demo.portico.test")
	testdb.Must(t, err, "load the demo gestor")
	if ownPage := string(g.get("/admin/users/"+boss.ID, "pt-BR").Body); strings.Contains(ownPage, `data-testid="own-keys"`) {
		t.Errorf("a gestor who created no key is said to have some")
	}
	r = g.post("/admin/users/"+leaving.ID+"/deactivate", "pt-BR", url.Values{"version": {itoa(leaving.Version)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %.300s", r.Status, r.Body)
	}
	if r := kc.Do("GET", "/api/v1/admin/users", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the deactivated gestor's key still works: %d", r.Status)
	}
	keyList := string(g.get("/admin/api-keys", "pt-BR").Body)
	if !strings.Contains(keyList, catalogText(t, cat, "pt-BR", "admin.keys.owner_hint")) {
		t.Errorf("the key page does not say when a key is revoked by itself")
	}
}
