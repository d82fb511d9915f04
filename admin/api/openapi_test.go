package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/openapicheck"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/userimport"
)

// oaExchange is one real request to the admin API and its answer.
type oaExchange = openapicheck.Exchange

// TestAdminOpenAPI checks the OpenAPI 3.1 document of the admin API
// against a real server: it is served and valid, it describes exactly the
// routes package admin/api mounts, and real answers of every operation (a
// success of each, and its main errors: validation, not found, stale
// versions, conflicts, bad parameters and bodies, each refusal of the
// authentication) match it in status, declared headers, body and error
// code; every operation of the document must have been checked with a
// success. It also proves that the check fails on a wrong answer: an
// undocumented field, status or error code, a missing field or header.
func TestAdminOpenAPI(t *testing.T) {
	t.Parallel()
	f := start(t, "sqlite")
	p := f.p

	docEx := f.byKey.Exchange("GET", adminPrefix+"/openapi.json", nil)
	if docEx.Status != http.StatusOK || docEx.ResHeader.Get("Content-Type") != "application/json" {
		t.Fatalf("the document: %d, Content-Type %q: %.300s", docEx.Status, docEx.ResHeader.Get("Content-Type"), docEx.ResBody)
	}
	spec, err := openapicheck.Load(docEx.ResBody)
	if err != nil {
		t.Fatal(err)
	}

	// Every exchange checked, and the operations a success was checked on.
	var all []*oaExchange
	succeeded := map[string]bool{}
	// expect sends a request, checks the status (and the error code, if
	// any) the scenario wants, and validates the exchange; validRequest is
	// false for a request that breaks the document on purpose.
	expect := func(t *testing.T, c *servertest.Client, status int, code string, validRequest bool, method, path string, body any, header ...string) *oaExchange {
		t.Helper()
		e := c.Exchange(method, path, body, header...)
		if e.Status != status || e.ErrorCode() != code {
			t.Fatalf("%s: want %d %q", e, status, code)
		}
		if err := spec.Check(e, validRequest); err != nil {
			t.Errorf("%s: %v", e, err)
		} else if e.Status < 300 {
			succeeded[spec.Operation(e)] = true
		}
		all = append(all, e)
		return e
	}
	// field returns a top-level field of an answer.
	field := func(t *testing.T, e *oaExchange, name string) any {
		t.Helper()
		var m map[string]any
		testdb.Must(t, json.Unmarshal(e.ResBody, &m), "decode %s", e)
		v, ok := m[name]
		if !ok {
			t.Fatalf("%s: no %q", e, name)
		}
		return v
	}

	key := f.byKey
	gestor := f.gestor // session cookie and X-CSRF-Token
	noCSRF, _ := f.session(t, "gestor@demo.portico.test")
	cliente, _ := f.session(t, "cliente@demo.portico.test")
	portalKey, _ := f.newKey(t, p.Demo.ID, model.ScopePortalSessions)
	const plugins = adminPrefix + "/plugins"

	t.Run("document", func(t *testing.T) {
		if got := docEx.ResHeader.Get("Cache-Control"); got != "public, max-age=300" {
			t.Errorf("Cache-Control = %q", got)
		}
		if err := spec.Check(docEx, true); err != nil {
			t.Errorf("the document's own answer: %v", err)
		} else {
			succeeded[spec.Operation(docEx)] = true
		}
		if len(spec.Doc.Servers) != 1 || spec.Doc.Servers[0].URL != "/" {
			t.Errorf("servers = %+v, want the one relative URL /", spec.Doc.Servers)
		}
		if got, want := spec.Operations(), p.Routes(func(path string) bool { return strings.HasPrefix(path, adminPrefix+"/") }); !slices.Equal(got, want) {
			t.Errorf("the document describes\n%s\nbut admin/api mounts\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := len(spec.Operations()); n != 36 {
			t.Errorf("%d operations, want the 35 routes and the document", n)
		}
		for _, name := range []string{"bearerAuth", "basicAuth", "sessionCookie", "csrfToken"} {
			if spec.Doc.Components.SecuritySchemes[name] == nil {
				t.Errorf("no security scheme %s", name)
			}
		}
		if s := spec.Doc.Components.SecuritySchemes["sessionCookie"].Value; s.Type != "apiKey" || s.In != "cookie" || s.Name != "portico_session" {
			t.Errorf("sessionCookie = %+v", s)
		}
		if s := spec.Doc.Components.SecuritySchemes["csrfToken"].Value; s.Type != "apiKey" || s.In != "header" || s.Name != "X-CSRF-Token" {
			t.Errorf("csrfToken = %+v", s)
		}
		// The document answers HEAD too, and to anyone: no credential, no
		// challenge.
		head := gestor.Exchange("HEAD", adminPrefix+"/openapi.json", nil)
		if head.Status != http.StatusOK || len(head.ResBody) != 0 || head.ResHeader.Get("Content-Type") != "application/json" {
			t.Errorf("HEAD: %d %q %d bytes", head.Status, head.ResHeader.Get("Content-Type"), len(head.ResBody))
		}
		expect(t, gestor, http.StatusOK, "", true, "GET", adminPrefix+"/openapi.json", nil)
		if anon := expect(t, p.NewClient(t, ""), http.StatusOK, "", true, "GET", adminPrefix+"/openapi.json", nil); !bytes.Equal(anon.ResBody, docEx.ResBody) {
			t.Errorf("the document read without a credential differs from the one read with one")
		}
	})

	var created, detail, invalid, configured, userEx, tenantEx, notFound *oaExchange
	t.Run("plugins", func(t *testing.T) {
		expect(t, key, http.StatusOK, "", true, "GET", plugins, nil)
		boletos := map[string]any{"slug": "boletos", "name": "Boletos (banco)", "title": "Boletos", "type": "iframe",
			"url": "https://boletos.example.com/app", "icon": "financeiro", "visible_to": "sindico", "auth_type": "token", "size": "pequeno",
			"titles": map[string]string{"es": "Boletos", "en": "Bank slips"}}
		created = expect(t, gestor, http.StatusCreated, "", true, "POST", plugins, boletos)
		if s, _ := field(t, created, "client_secret").(string); !strings.HasPrefix(s, "pcs_") {
			t.Errorf("no client secret: %s", created)
		}
		expect(t, key, http.StatusConflict, "slug_taken", true, "POST", plugins, boletos)
		invalid = expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "POST", plugins, map[string]any{
			"slug": "novo", "name": "Novo", "title": "Novo", "url": "javascript:alert(1)", "icon": "financeiro", "visible_to": "ambos"})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "POST", plugins, map[string]any{
			"slug": "novo", "name": "Novo", "title": "Novo", "url": "https://novo.example.com", "icon": "financeiro", "visible_to": "ambos", "version": 1})
		expect(t, key, http.StatusBadRequest, "unknown_field", false, "POST", plugins, map[string]any{"slug": "novo", "colour": "red"})
		expect(t, key, http.StatusBadRequest, "invalid_json", false, "POST", plugins, map[string]any{"slug": "novo", "title": 5})
		expect(t, key, http.StatusBadRequest, "invalid_json", false, "POST", plugins, `{"slug":`, "Content-Type", "application/json")
		expect(t, key, http.StatusUnsupportedMediaType, "unsupported_media_type", false, "POST", plugins, `{"slug":"novo"}`, "Content-Type", "text/plain")
		expect(t, key, http.StatusRequestEntityTooLarge, "body_too_large", false, "POST", plugins, map[string]any{"title": strings.Repeat("x", 70<<10)})

		detail = expect(t, key, http.StatusOK, "", true, "GET", plugins+"/boletos", nil)
		notFound = expect(t, key, http.StatusNotFound, "plugin_not_found", true, "GET", plugins+"/nao-existe", nil)
		v := field(t, detail, "version")
		patched := expect(t, gestor, http.StatusOK, "", true, "PATCH", plugins+"/boletos", map[string]any{"version": v, "title": "Boletos 2ª via"})
		if !strings.Contains(string(patched.ResBody), `"changed":["title"]`) {
			t.Errorf("changed: %s", patched)
		}
		expect(t, key, http.StatusConflict, "stale_version", true, "PATCH", plugins+"/boletos", map[string]any{"version": v, "title": "Perdido"})
		expect(t, key, http.StatusUnprocessableEntity, "version_required", false, "PATCH", plugins+"/boletos", map[string]any{"title": "Sem versão"})
		v = field(t, patched, "version")
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "PATCH", plugins+"/boletos", map[string]any{"version": v, "slug": "boletos-2"})
		expect(t, noCSRF, http.StatusForbidden, "csrf", true, "PATCH", plugins+"/boletos", map[string]any{"version": v, "title": "Sem token"})
		expect(t, key, http.StatusNotFound, "plugin_not_found", true, "PATCH", plugins+"/nao-existe", map[string]any{"version": 1, "title": "x"})

		// The menu order: every live plugin, here reversed.
		var list struct{ Plugins []struct{ Slug string } }
		testdb.Must(t, json.Unmarshal(expect(t, key, http.StatusOK, "", true, "GET", plugins, nil).ResBody, &list), "decode")
		var slugs []string
		for _, pl := range list.Plugins {
			slugs = append([]string{pl.Slug}, slugs...)
		}
		expect(t, gestor, http.StatusOK, "", true, "PUT", plugins+"/order", map[string]any{"slugs": slugs})
		expect(t, key, http.StatusUnprocessableEntity, "order_mismatch", true, "PUT", plugins+"/order", map[string]any{"slugs": []string{"boletos"}})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "PUT", plugins+"/order", map[string]any{})

		// Configuration and secrets.
		v = field(t, expect(t, key, http.StatusOK, "", true, "GET", plugins+"/boletos", nil), "version")
		configured = expect(t, key, http.StatusOK, "", true, "PUT", plugins+"/boletos/config", map[string]any{"version": v, "entries": []map[string]string{
			{"key": "banco", "type": "string", "value": "001"}, {"key": "limite", "type": "number", "value": " 10.50 "}, {"key": "ativo", "type": "boolean", "value": "TRUE"}}})
		expect(t, key, http.StatusConflict, "stale_version", true, "PUT", plugins+"/boletos/config", map[string]any{"version": v, "entries": []any{}})
		v = field(t, configured, "version")
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "PUT", plugins+"/boletos/config", map[string]any{"version": v,
			"entries": []map[string]string{{"key": "limite", "type": "number", "value": "dez"}}})
		expect(t, key, http.StatusUnprocessableEntity, "version_required", false, "PUT", plugins+"/boletos/config", map[string]any{"entries": []any{}})
		expect(t, gestor, http.StatusNoContent, "", true, "PUT", plugins+"/boletos/secrets/api_token", map[string]any{"value": "s3cr3t-valor"})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "PUT", plugins+"/boletos/secrets/api_token", map[string]any{"value": ""})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "PUT", plugins+"/boletos/secrets/Nome", map[string]any{"value": "x"})
		if e := expect(t, key, http.StatusOK, "", true, "GET", plugins+"/boletos", nil); !strings.Contains(string(e.ResBody), `"secrets":[{"name":"api_token"`) {
			t.Errorf("secret not listed: %s", e)
		}
		expect(t, key, http.StatusNoContent, "", true, "DELETE", plugins+"/boletos/secrets/api_token", nil)
		expect(t, key, http.StatusNotFound, "secret_not_found", true, "DELETE", plugins+"/boletos/secrets/api_token", nil)

		// Soft delete, by query and by body.
		for _, slug := range []string{"avisos", "avisos-2"} {
			expect(t, key, http.StatusCreated, "", true, "POST", plugins, map[string]any{"slug": slug, "name": "Avisos", "title": "Avisos",
				"url": "https://avisos.example.com", "icon": "alerta", "visible_to": "ambos"})
		}
		expect(t, key, http.StatusUnprocessableEntity, "version_required", true, "DELETE", plugins+"/avisos", nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", false, "DELETE", plugins+"/avisos?version=um", nil)
		expect(t, key, http.StatusConflict, "stale_version", true, "DELETE", plugins+"/avisos?version=7", nil)
		expect(t, key, http.StatusNoContent, "", true, "DELETE", plugins+"/avisos?version=1", nil)
		expect(t, gestor, http.StatusNoContent, "", true, "DELETE", plugins+"/avisos-2", map[string]any{"version": 1})
		expect(t, key, http.StatusNotFound, "plugin_not_found", true, "DELETE", plugins+"/avisos?version=1", nil)
	})

	t.Run("users", func(t *testing.T) {
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/users", nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", false, "GET", adminPrefix+"/users?limit=9999", nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", true, "GET", adminPrefix+"/users?q=a%00b", nil)
		userEx = expect(t, gestor, http.StatusCreated, "", true, "POST", adminPrefix+"/users", map[string]any{
			"email": "nova@demo.portico.test", "name": "Nina Nova", "roles": []string{"cliente"}, "document": "123.456.789-09"})
		id := field(t, userEx, "id").(string)
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/users?q=nina&limit=2&offset=0", nil)
		expect(t, key, http.StatusConflict, "email_taken", true, "POST", adminPrefix+"/users", map[string]any{"email": "nova@demo.portico.test", "name": "Outro", "roles": []string{"cliente"}})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "POST", adminPrefix+"/users", map[string]any{"email": "nao-e-email", "name": "X", "roles": []string{"cliente"}})
		imp := adminPrefix + "/users/import"
		csvFile := "nome;email;perfil\nImportada;importada@demo.portico.test;síndico\nSem;sem-arroba;\n"
		expect(t, key, http.StatusOK, "", true, "POST", imp, csvFile, "Content-Type", "text/csv")
		form, ct := admintest.MultipartFiles(t, nil, "file", "clientes-%d.csv", []byte(csvFile))
		expect(t, gestor, http.StatusOK, "", true, "POST", imp, form, "Content-Type", ct)
		expect(t, key, http.StatusUnprocessableEntity, "csv_missing_column", true, "POST", imp, "nome;telefone\nA;1\n", "Content-Type", "text/csv")
		expect(t, key, http.StatusUnprocessableEntity, "csv_no_rows", true, "POST", imp, "nome;email\n", "Content-Type", "text/csv")
		expect(t, key, http.StatusUnsupportedMediaType, "unsupported_import_type", false, "POST", imp, "{}", "Content-Type", "application/json")
		big, bigCT := admintest.MultipartFiles(t, nil, "file", "clientes-%d.csv", []byte(strings.Repeat("x", userimport.MaxBytes+1)))
		expect(t, key, http.StatusRequestEntityTooLarge, "csv_too_large", true, "POST", imp, big, "Content-Type", bigCT)
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/users/"+id, nil)
		expect(t, key, http.StatusNotFound, "user_not_found", true, "GET", adminPrefix+"/users/0190f0f0-0000-7000-8000-000000000000", nil)
		expect(t, key, http.StatusOK, "", true, "PATCH", adminPrefix+"/users/"+id, map[string]any{"version": 1, "phone": "(11) 98765-4321"})
		expect(t, key, http.StatusConflict, "stale_version", true, "PATCH", adminPrefix+"/users/"+id, map[string]any{"version": 1, "name": "Perdido"})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "PATCH", adminPrefix+"/users/"+id, map[string]any{"version": 2, "password": "outra-senha-123"})
		expect(t, gestor, http.StatusCreated, "", true, "POST", adminPrefix+"/users/"+id+"/reset-link", nil)
		expect(t, key, http.StatusNotFound, "user_not_found", true, "POST", adminPrefix+"/users/nao-existe/reset-link", nil)
	})

	t.Run("api keys", func(t *testing.T) {
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/api-keys", nil)
		k := expect(t, gestor, http.StatusCreated, "", true, "POST", adminPrefix+"/api-keys", map[string]any{"name": "ERP", "scopes": []string{"admin"}})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "POST", adminPrefix+"/api-keys", map[string]any{"name": "ERP\x00", "scopes": []string{"admin"}})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "POST", adminPrefix+"/api-keys", map[string]any{"name": "x", "scopes": []string{"root"}})
		id := field(t, k, "id").(string)
		expect(t, key, http.StatusNoContent, "", true, "DELETE", adminPrefix+"/api-keys/"+id, nil)
		expect(t, key, http.StatusConflict, "already_revoked", true, "DELETE", adminPrefix+"/api-keys/"+id, nil)
		expect(t, key, http.StatusNotFound, "api_key_not_found", true, "DELETE", adminPrefix+"/api-keys/nao-existe", nil)
	})

	t.Run("tenant and audit", func(t *testing.T) {
		tenantEx = expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/tenant", nil)
		v := field(t, tenantEx, "version")
		expect(t, gestor, http.StatusOK, "", true, "PATCH", adminPrefix+"/tenant", map[string]any{"version": v, "brand_name": "Construtora Nova", "primary_color": "#112233"})
		expect(t, key, http.StatusConflict, "stale_version", true, "PATCH", adminPrefix+"/tenant", map[string]any{"version": v, "name": "X"})
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "PATCH", adminPrefix+"/tenant", map[string]any{"version": v.(float64) + 1,
			"default_return_url": "https://elsewhere.example.com/conta"})
		expect(t, key, http.StatusUnprocessableEntity, "version_required", false, "PATCH", adminPrefix+"/tenant", map[string]any{"name": "X"})

		page := expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/audit?limit=2", nil)
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/audit?limit=5&before="+field(t, page, "next_before").(string), nil)
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/audit?action=plugin.create&target_type=plugin&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z", nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", false, "GET", adminPrefix+"/audit?since=ontem", nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", true, "GET", adminPrefix+"/audit?action=a%00b", nil)
	})

	t.Run("access and keys", func(t *testing.T) {
		acc := expect(t, key, http.StatusOK, "", true, "GET", plugins+"/financeiro/access", nil)
		v := field(t, acc, "version")
		patched := expect(t, gestor, http.StatusOK, "", true, "PATCH", plugins+"/financeiro/access", map[string]any{"version": v, "user_fields": []string{"name", "email"}, "token_ttl_seconds": 120})
		expect(t, key, http.StatusConflict, "stale_version", true, "PATCH", plugins+"/financeiro/access", map[string]any{"version": v, "token_ttl_seconds": 30})
		v = field(t, patched, "version")
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "PATCH", plugins+"/financeiro/access", map[string]any{"version": v, "token_ttl_seconds": 301})
		expect(t, key, http.StatusNotFound, "plugin_not_found", true, "GET", plugins+"/nao-existe/access", nil)
		expect(t, key, http.StatusOK, "", true, "POST", plugins+"/boletos/client-secret", nil)
		expect(t, gestor, http.StatusOK, "", true, "POST", plugins+"/boletos/client-secret", map[string]any{"overlap_hours": 0})
		expect(t, key, http.StatusConflict, "not_token_plugin", true, "POST", plugins+"/documentos/client-secret", nil)
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "POST", plugins+"/boletos/client-secret", map[string]any{"overlap_hours": 169})

		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/signing-keys", nil)
		expect(t, gestor, http.StatusCreated, "", true, "POST", adminPrefix+"/signing-keys", map[string]any{"confirm": true})
		expect(t, key, http.StatusOK, "", true, "GET", adminPrefix+"/signing-keys", nil)
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "POST", adminPrefix+"/signing-keys", map[string]any{})
		expect(t, key, http.StatusBadRequest, "unknown_field", false, "POST", adminPrefix+"/signing-keys", map[string]any{"kid": "x"})
	})

	t.Run("versions", func(t *testing.T) {
		newWasmPlugin(t, f, "modulo")
		newWasmPlugin(t, f, "vazio")
		base := plugins + "/modulo"
		valid := admintest.HandABI(1) // compiles at once
		first := expect(t, key, http.StatusCreated, "", true, "POST", base+"/versions", string(valid), "Content-Type", "application/wasm")
		v1 := field(t, first, "version").(map[string]any)["id"].(string)
		expect(t, gestor, http.StatusConflict, "module_duplicate", true, "POST", base+"/versions", string(valid), "Content-Type", "application/wasm")
		form, ct := admintest.MultipartBody(t, map[string]string{"activate": "true"}, admintest.Padded(t, valid, len(valid)+256))
		expect(t, gestor, http.StatusCreated, "", true, "POST", base+"/versions", form, "Content-Type", ct)
		expect(t, key, http.StatusUnprocessableEntity, "module_not_wasm", true, "POST", base+"/versions", "MZ not webassembly", "Content-Type", "application/wasm")
		expect(t, key, http.StatusUnprocessableEntity, "module_abi_version", true, "POST", base+"/versions", string(admintest.HandABI(2)), "Content-Type", "application/wasm")
		expect(t, key, http.StatusUnprocessableEntity, "module_empty", false, "POST", base+"/versions", "", "Content-Type", "application/wasm")
		expect(t, key, http.StatusUnsupportedMediaType, "unsupported_module_type", false, "POST", base+"/versions", string(valid), "Content-Type", "application/octet-stream")
		expect(t, key, http.StatusBadRequest, "invalid_parameter", false, "POST", base+"/versions?activate=2", string(valid), "Content-Type", "application/wasm")
		expect(t, key, http.StatusUnprocessableEntity, "plugin_not_wasm", true, "POST", plugins+"/documentos/versions", string(valid), "Content-Type", "application/wasm")
		expect(t, key, http.StatusNotFound, "plugin_not_found", true, "POST", plugins+"/nao-existe/versions", string(valid), "Content-Type", "application/wasm")

		expect(t, key, http.StatusOK, "", true, "GET", base+"/versions", nil)
		expect(t, key, http.StatusUnprocessableEntity, "plugin_not_wasm", true, "GET", plugins+"/documentos/versions", nil)
		expect(t, key, http.StatusOK, "", true, "POST", base+"/versions/"+v1+"/activate", nil)
		expect(t, key, http.StatusNotFound, "version_not_found", true, "POST", base+"/versions/nao-existe/activate", nil)
		expect(t, gestor, http.StatusOK, "", true, "POST", base+"/rollback", nil)
		expect(t, key, http.StatusConflict, "no_previous_version", true, "POST", plugins+"/vazio/rollback", nil)
		expect(t, key, http.StatusUnprocessableEntity, "plugin_not_wasm", true, "POST", plugins+"/documentos/rollback", nil)
		expect(t, key, http.StatusOK, "", true, "GET", base+"/health", nil)
		expect(t, key, http.StatusUnprocessableEntity, "plugin_not_wasm", true, "GET", plugins+"/documentos/health", nil)
		expect(t, key, http.StatusOK, "", true, "GET", base+"/settings", nil)
		expect(t, key, http.StatusUnprocessableEntity, "plugin_not_wasm", true, "GET", plugins+"/documentos/settings", nil)
		expect(t, key, http.StatusNotFound, "plugin_not_found", true, "GET", plugins+"/nao-existe/settings", nil)
	})

	var dataEx *oaExchange
	t.Run("data", func(t *testing.T) {
		newWasmPlugin(t, f, "dados")
		pl, err := p.Store.PluginBySlug(context.Background(), p.Demo.ID, "dados")
		testdb.Must(t, err, "load plugin")
		for _, k := range []string{"visitas:1", "visitas:2", "a/b", ".."} {
			testdb.Must(t, p.Store.KVSet(context.Background(), p.Demo.ID, pl.ID, k, []byte("7")), "set %q", k)
		}
		base := plugins + "/dados/data"
		dataEx = expect(t, key, http.StatusOK, "", true, "GET", base, nil)
		page := expect(t, gestor, http.StatusOK, "", true, "GET", base+"?prefix=visitas%3A&limit=1", nil)
		next, _ := field(t, page, "next_after").(string)
		expect(t, key, http.StatusOK, "", true, "GET", base+"?prefix=visitas%3A&limit=1&after="+next, nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", true, "GET", base+"?after=nao-e-cursor*", nil)
		expect(t, key, http.StatusBadRequest, "invalid_parameter", false, "GET", base+"?limit=0", nil)
		expect(t, key, http.StatusNotFound, "plugin_no_data", true, "GET", plugins+"/documentos/data", nil)
		expect(t, key, http.StatusNotFound, "plugin_not_found", true, "GET", plugins+"/nao-existe/data", nil)

		expect(t, gestor, http.StatusNoContent, "", true, "DELETE", base+"/a%2Fb", nil)
		expect(t, key, http.StatusNoContent, "", true, "DELETE", base+"/%2E%2E", nil)
		expect(t, key, http.StatusNotFound, "key_not_found", true, "DELETE", base+"/a%2Fb", nil)
		expect(t, key, http.StatusNotFound, "plugin_no_data", true, "DELETE", plugins+"/documentos/data/x", nil)
		expect(t, noCSRF, http.StatusForbidden, "csrf", true, "DELETE", base+"/visitas%3A1", nil)

		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", true, "DELETE", base, nil)
		expect(t, key, http.StatusUnprocessableEntity, "validation_failed", false, "DELETE", base, map[string]any{"confirm": false})
		expect(t, key, http.StatusBadRequest, "invalid_parameter", false, "DELETE", base+"?confirm=talvez", nil)
		expect(t, key, http.StatusBadRequest, "unknown_field", false, "DELETE", base, map[string]any{"confirm_all": true})
		expect(t, key, http.StatusNotFound, "plugin_no_data", true, "DELETE", plugins+"/documentos/data?confirm=true", nil)
		if e := expect(t, key, http.StatusOK, "", true, "DELETE", base+"?confirm=true", nil); field(t, e, "deleted_keys") != float64(2) {
			t.Errorf("clear: %s", e)
		}
		expect(t, gestor, http.StatusOK, "", true, "DELETE", base, map[string]any{"confirm": true})
	})

	var unauthenticated *oaExchange
	t.Run("authentication", func(t *testing.T) {
		unauthenticated = expect(t, p.NewClient(t, ""), http.StatusUnauthorized, "unauthenticated", true, "GET", plugins, nil)
		expect(t, f.keyClient(t, "", "pk_"+strings.Repeat("A", 43)), http.StatusUnauthorized, "invalid_api_key", true, "GET", adminPrefix+"/tenant", nil)
		expect(t, f.keyClient(t, "", portalKey), http.StatusForbidden, "missing_scope", true, "GET", adminPrefix+"/users", nil)
		expect(t, f.keyClient(t, "", portalKey), http.StatusForbidden, "missing_scope", true, "POST", adminPrefix+"/signing-keys", map[string]any{"confirm": true})
		expect(t, cliente, http.StatusForbidden, "gestor_only", true, "GET", adminPrefix+"/audit", nil)
		expect(t, noCSRF, http.StatusForbidden, "csrf", true, "DELETE", adminPrefix+"/api-keys/nao-existe", nil)
		expect(t, key, http.StatusForbidden, "cross_origin", true, "POST", plugins, map[string]any{"slug": "novo", "name": "Novo", "title": "Novo",
			"url": "https://novo.example.com", "icon": "financeiro", "visible_to": "ambos"}, "Origin", "https://www.construtora.example")
		expect(t, f.keyClient(t, "portal.desconhecido.test", f.key), http.StatusNotFound, "unknown_host", true, "GET", plugins, nil)
		// Answers no operation gives: the error shape of the document, and
		// an Allow header listing the document's methods of the path.
		errSchema := spec.Doc.Components.Schemas["Error"].Value
		for _, tc := range []struct {
			method, path string
			status       int
			code, allow  string
		}{
			{"DELETE", adminPrefix + "/tenant", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD, PATCH"},
			{"POST", plugins + "/boletos/versions/x", http.StatusNotFound, "not_found", ""},
			{"GET", adminPrefix + "/nada", http.StatusNotFound, "not_found", ""},
		} {
			e := key.Exchange(tc.method, tc.path, nil)
			if e.Status != tc.status || e.ErrorCode() != tc.code || e.ResHeader.Get("Allow") != tc.allow {
				t.Errorf("%s: want %d %q, Allow %q; got Allow %q", e, tc.status, tc.code, tc.allow, e.ResHeader.Get("Allow"))
			}
			if err := spec.Check(e, false); !errors.Is(err, openapicheck.ErrNoOperation) {
				t.Errorf("%s is an operation of the document: %v", e, err)
			}
			var body any
			testdb.Must(t, json.Unmarshal(e.ResBody, &body), "decode %s", e)
			if err := errSchema.VisitJSON(body); err != nil {
				t.Errorf("%s: not the Error shape: %v", e, err)
			}
		}
		item := spec.Doc.Paths.Find(adminPrefix + "/tenant")
		var methods []string
		for m := range item.Operations() {
			methods = append(methods, m)
			if m == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
		slices.Sort(methods)
		if got := strings.Join(methods, ", "); got != "GET, HEAD, PATCH" {
			t.Errorf("the document's methods of /tenant: %s", got)
		}
	})

	t.Run("coverage", func(t *testing.T) {
		for _, op := range spec.Operations() {
			if !succeeded[op] {
				t.Errorf("%s: no success of this operation was checked", op)
			}
		}
	})

	// The check is not a formality: each of these wrong answers fails it.
	t.Run("wrong answers fail", func(t *testing.T) {
		if created == nil || detail == nil || invalid == nil || configured == nil || userEx == nil || tenantEx == nil || notFound == nil || unauthenticated == nil || dataEx == nil {
			t.Skip("an earlier subtest failed")
		}
		spec.RequireRefused(t, map[string]*oaExchange{
			"a 401 without WWW-Authenticate":    unauthenticated.WithHeader("WWW-Authenticate", ""),
			"an undocumented field in a plugin": detail.WithBody(t, func(b map[string]any) { b["client_secret_hash"] = "x" }),
			"an undocumented nested field":      configured.WithBody(t, func(b map[string]any) { b["config"].([]any)[0].(map[string]any)["secret"] = true }),
			"a missing field":                   detail.WithBody(t, func(b map[string]any) { delete(b, "version") }),
			"a wrong type":                      detail.WithBody(t, func(b map[string]any) { b["active"] = "yes" }),
			"a value outside the enum":          userEx.WithBody(t, func(b map[string]any) { b["roles"] = []string{"admin"} }),
			"a local time":                      userEx.WithBody(t, func(b map[string]any) { b["created_at"] = "2025-06-03T11:07:55-03:00" }),
			"a field in the error":              invalid.WithBody(t, func(b map[string]any) { b["error"].(map[string]any)["plugin"] = "x" }),
			"an error code of another route":    invalid.WithBody(t, func(b map[string]any) { b["error"].(map[string]any)["code"] = "order_mismatch" }),
			"an undocumented status":            created.WithStatus(http.StatusOK),
			"a status the operation lacks":      notFound.WithStatus(http.StatusTeapot),
			"a cacheable answer":                tenantEx.WithHeader("Cache-Control", "max-age=60"),
			"a stored value in the data":        dataEx.WithBody(t, func(b map[string]any) { b["keys"].([]any)[0].(map[string]any)["value"] = "7" }),
			"an answer without Cache-Control":   tenantEx.WithHeader("Cache-Control", ""),
		})
	})

	// Every status of the document's operations that the scenarios above
	// reached, to see the coverage in a failure's log.
	if t.Failed() {
		spec.LogCoverage(t, all)
	}
}
