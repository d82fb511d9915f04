package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/admin/api"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/testdb"
)

// newWasmPlugin creates a wasm plugin in the demo tenant through the API.
func newWasmPlugin(t *testing.T, f *fixture, slug string) {
	t.Helper()
	r := f.byKey.Do("POST", adminPrefix+"/plugins", map[string]any{"slug": slug, "name": "Módulo " + slug,
		"title": "Módulo", "type": "wasm", "icon": "financeiro", "visible_to": "ambos", "auth_type": "none"})
	if r.Status != 201 {
		t.Fatalf("create wasm plugin %s: %d %s", slug, r.Status, r.Body)
	}
}

// versionsOf lists a plugin's versions through the API.
type versionsBody struct {
	Plugin          string `json:"plugin"`
	ActiveVersion   string `json:"active_version"`
	PreviousVersion string `json:"previous_version"`
	HostABI         int    `json:"host_abi_version"`
	Versions        []struct {
		ID         string `json:"id"`
		Number     int    `json:"number"`
		SHA256     string `json:"sha256"`
		Size       int64  `json:"size"`
		ABIVersion int    `json:"abi_version"`
		CreatedBy  string `json:"created_by"`
		Active     bool   `json:"active"`
		Previous   bool   `json:"previous"`
	} `json:"versions"`
}

func versionsOf(t *testing.T, c *servertest.Client, slug string) versionsBody {
	t.Helper()
	r := c.Do("GET", adminPrefix+"/plugins/"+slug+"/versions", nil)
	if r.Status != 200 {
		t.Fatalf("list versions of %s: %d %s", slug, r.Status, r.Body)
	}
	var v versionsBody
	r.JSON(t, &v)
	return v
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestAdminVersionsBadUploads sends every kind of bad module and bad
// request to the upload route: each gets its status, a code that says why
// and a message in the caller's language (the wrong-ABI one naming both
// versions), and nothing is stored.
func TestAdminVersionsBadUploads(t *testing.T) {
	m := admintest.Guests(t)
	f := start(t, "sqlite")
	// Checking a Go module compiles it: seconds under -race on a busy machine.
	f.byKey.HTTP.Timeout = 3 * time.Minute
	newWasmPlugin(t, f, "modulo")
	upload := adminPrefix + "/plugins/modulo/versions"
	small := admintest.HandABI(1)
	overCap := admintest.Padded(t, small, sandbox.MaxModuleBytes+1)
	twoFiles, twoFilesCT := admintest.MultipartBody(t, nil, small, small)
	noFile, noFileCT := admintest.MultipartBody(t, map[string]string{"activate": "true"})
	badFlag, badFlagCT := admintest.MultipartBody(t, map[string]string{"activate": "sim"}, small)
	iframe := "documentos" // a demo iframe plugin
	cases := []struct {
		name     string
		path     string
		ct       string
		body     []byte
		status   int
		code     string
		field    string
		contains []string // in the English message
	}{
		{"garbage", upload, "application/wasm", []byte("MZ\x90\x00 this is not webassembly"), 422, "module_not_wasm", "module", nil},
		{"text", upload, "application/wasm", []byte(strings.Repeat("hello ", 100)), 422, "module_not_wasm", "module", nil},
		{"non-Go module", upload, "application/wasm", admintest.HandModule, 422, "module_missing_export", "module", []string{"portico_handle"}},
		{"empty module", upload, "application/wasm", admintest.WasmHeader, 422, "module_missing_export", "module", nil},
		{"Go module missing exports", upload, "application/wasm", m.NoExports, 422, "module_missing_export", "module", nil},
		{"truncated module", upload, "application/wasm", m.Valid[:len(m.Valid)/2], 422, "module_compile", "module", nil},
		{"wrong ABI version", upload, "application/wasm", m.WrongABI, 422, "module_abi_version", "module", []string{"version 99", "speaks version 1"}},
		{"hand-written module of ABI 2", upload, "application/wasm", admintest.HandABI(2), 422, "module_abi_version", "module", []string{"version 2;", "speaks version 1"}},
		{"looping start function", upload, "application/wasm", admintest.HostileABI(1, admintest.LoopForever, true), 422, "module_start_section", "module", []string{"_initialize"}},
		{"deeply nested blocks", upload, "application/wasm", admintest.HostileABI(1, admintest.NestedBlocks(sandbox.MaxBlockNesting+1), false), 422, "module_too_complex", "module", nil},
		{"200k nested blocks", upload, "application/wasm", admintest.HostileABI(1, admintest.NestedBlocks(200_000), false), 422, "module_too_complex", "module", nil},
		{"code that changes a table", upload, "application/wasm", admintest.HostileABI(1, []byte{0x41, 0x00, 0xd0, 0x70, 0x26, 0x00, 0x0b}, false), 422, "module_table_write", "module", []string{"table.set"}},
		{"_initialize loops under the plugin's memory limit", upload, "application/wasm", admintest.HostileABI(1, admintest.LoopIfGrowFails, false), 422, "module_init_timeout", "module", []string{"_initialize"}},
		{"over the size cap", upload, "application/wasm", overCap, 413, "module_too_large", "module", []string{"16 MiB"}},
		{"empty body", upload, "application/wasm", nil, 422, "module_empty", "module", nil},
		{"multipart without a module", upload, noFileCT, []byte(noFile), 422, "module_empty", "module", nil},
		{"multipart with two modules", upload, twoFilesCT, []byte(twoFiles), 422, "module_many", "module", nil},
		{"activate not a boolean", upload, badFlagCT, []byte(badFlag), 400, "invalid_parameter", "activate", nil},
		{"activate query not a boolean", upload + "?activate=2", "application/wasm", small, 400, "invalid_parameter", "activate", nil},
		{"json", upload, "application/json", []byte(`{"module":"AGFzbQEAAAA="}`), 415, "unsupported_module_type", "", []string{"application/wasm"}},
		{"octet stream", upload, "application/octet-stream", small, 415, "unsupported_module_type", "", nil},
		{"no content type", upload, "", small, 415, "unsupported_module_type", "", nil},
		{"bad content type", upload, "application/wasm; charset", small, 415, "unsupported_module_type", "", nil},
		{"iframe plugin", adminPrefix + "/plugins/" + iframe + "/versions", "application/wasm", small, 422, "plugin_not_wasm", "", nil},
		{"other tenant's plugin", adminPrefix + "/plugins/" + f.p.OtherPlugins[0] + "/versions", "application/wasm", small, 404, "plugin_not_found", "", nil},
		{"unknown plugin", adminPrefix + "/plugins/nao-existe/versions", "application/wasm", small, 404, "plugin_not_found", "", nil},
		{"malformed slug", adminPrefix + "/plugins/N%C3%A3o/versions", "application/wasm", small, 404, "plugin_not_found", "", nil},
	}
	before := admintest.State(t, f.p, f.p.Demo.ID)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := []string{"Accept-Language", "en"}
			if tc.ct != "" {
				header = append(header, "Content-Type", tc.ct)
			}
			r := f.byKey.Do("POST", tc.path, string(tc.body), header...)
			code, msg, fields := errorOf(t, r)
			if r.Status != tc.status || code != tc.code {
				t.Fatalf("status %d code %q, want %d %q: %.400s", r.Status, code, tc.status, tc.code, r.Body)
			}
			if msg == "" || strings.HasPrefix(msg, "error.") {
				t.Errorf("message %q is not a sentence", msg)
			}
			for _, s := range tc.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
			if tc.field != "" && fields[tc.field] == "" {
				t.Errorf("no message for field %q: %v", tc.field, fields)
			}
		})
	}
	if after := admintest.State(t, f.p, f.p.Demo.ID); after != before {
		t.Fatalf("a refused upload changed the tenant:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if v := versionsOf(t, f.byKey, "modulo"); len(v.Versions) != 0 {
		t.Fatalf("refused uploads stored versions: %+v", v.Versions)
	}

	// The wrong-ABI message in each language names both versions.
	for _, lang := range []string{"pt-BR", "es", "en"} {
		r := f.byKey.Do("POST", upload, string(admintest.HandABI(99)), "Content-Type", "application/wasm", "Accept-Language", lang)
		_, msg, _ := errorOf(t, r)
		if r.Status != 422 || !strings.Contains(msg, "99") || !strings.Contains(msg, fmt.Sprint(1)) {
			t.Errorf("%s: %d %q", lang, r.Status, msg)
		}
		if lang != "en" && strings.Contains(msg, "speaks") {
			t.Errorf("%s: message not translated: %q", lang, msg)
		}
	}

	// A body far above the cap is refused from its headers alone, before
	// it is read, naming the module's limit (TestUploadOverTheLimitSaysSo
	// has the languages and the UI's form); other admin routes keep the
	// 1 MiB limit.
	for _, tc := range []struct {
		path string
		n    int
		ct   string
		want string
	}{
		{upload, 20 << 20, "application/wasm", `"module_too_large"`},
		{adminPrefix + "/plugins", 2 << 20, "application/json", `"body_too_large"`},
		{"/login", 2 << 20, "application/x-www-form-urlencoded", "too large"},
		{"/admin/plugins/modulo/edit", 2 << 20, "application/x-www-form-urlencoded", "too large"},
	} {
		status, body := admintest.Announce(t, f.p, "POST", tc.path, tc.n, "Authorization", "Bearer "+f.key, "Content-Type", tc.ct)
		if status != 413 || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s with %d bytes: %d %.300s, want %s", tc.path, tc.n, status, body, tc.want)
		}
	}
}

// TestAdminVersionsRoundTrip uploads, lists, activates and rolls back on
// both databases, and checks the limits at the bound, the audit trail and
// the health counters after real calls.
func TestAdminVersionsRoundTrip(t *testing.T) {
	valid := admintest.HandABI(1) // compiles at once; TestAdminUIVersions uploads the Go guest
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			f := start(t, driver)
			newWasmPlugin(t, f, "modulo")
			base := adminPrefix + "/plugins/modulo"

			// 1: raw upload, not activated.
			r := f.byKey.Do("POST", base+"/versions", string(valid), "Content-Type", "application/wasm")
			if r.Status != 201 {
				t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
			var up struct {
				Version struct {
					ID         string `json:"id"`
					Number     int    `json:"number"`
					SHA256     string `json:"sha256"`
					Size       int64  `json:"size"`
					ABIVersion int    `json:"abi_version"`
					Active     bool   `json:"active"`
				} `json:"version"`
			}
			r.JSON(t, &up)
			if up.Version.Number != 1 || up.Version.SHA256 != sum(valid) || up.Version.Size != int64(len(valid)) ||
				up.Version.ABIVersion != 1 || up.Version.Active {
				t.Fatalf("first version: %+v", up.Version)
			}
			v1 := up.Version.ID

			// The same bytes again: refused, naming the version they are.
			r = f.gestor.Do("POST", base+"/versions", string(valid), "Content-Type", "application/wasm", "Accept-Language", "en")
			if code, msg, _ := errorOf(t, r); r.Status != 409 || code != "module_duplicate" || !strings.Contains(msg, "version 1") {
				t.Fatalf("duplicate: %d %s", r.Status, r.Body)
			}

			// 2: a 10 MiB module through the form, activated at once.
			big := admintest.Padded(t, valid, 10<<20)
			body, ct := admintest.MultipartBody(t, map[string]string{"activate": "true"}, big)
			r = f.gestor.Do("POST", base+"/versions", body, "Content-Type", ct)
			if r.Status != 201 {
				t.Fatalf("10 MiB multipart upload: %d %.300s", r.Status, r.Body)
			}
			l := versionsOf(t, f.byKey, "modulo")
			if len(l.Versions) != 2 || l.Versions[0].Number != 2 || !l.Versions[0].Active || l.Versions[0].Size != 10<<20 ||
				l.Versions[0].SHA256 != sum(big) || l.ActiveVersion != l.Versions[0].ID || l.PreviousVersion != "" ||
				l.Versions[0].CreatedBy != "gestor@demo.portico.test" || l.HostABI != 1 {
				t.Fatalf("after the second upload: %+v", l)
			}
			v2 := l.Versions[0].ID

			// Activate 1: 2 becomes the rollback target.
			r = f.byKey.Do("POST", base+"/versions/"+v1+"/activate", nil)
			if r.Status != 200 {
				t.Fatalf("activate v1: %d %s", r.Status, r.Body)
			}
			if l = versionsOf(t, f.byKey, "modulo"); l.ActiveVersion != v1 || l.PreviousVersion != v2 || !l.Versions[1].Active || !l.Versions[0].Previous {
				t.Fatalf("after activating v1: %+v", l)
			}
			// Activating the active one again changes nothing.
			if r = f.byKey.Do("POST", base+"/versions/"+v1+"/activate", nil); r.Status != 200 {
				t.Fatalf("activate v1 again: %d %s", r.Status, r.Body)
			}
			// One-step rollback: back to 2, and 1 is the previous.
			r = f.gestor.Do("POST", base+"/rollback", nil)
			if r.Status != 200 {
				t.Fatalf("rollback: %d %s", r.Status, r.Body)
			}
			if l = versionsOf(t, f.byKey, "modulo"); l.ActiveVersion != v2 || l.PreviousVersion != v1 {
				t.Fatalf("after rollback: %+v", l)
			}

			// Unknown or malformed version IDs.
			for _, id := range []string{"nao-existe", "01999999-0000-7000-8000-000000000000", strings.Repeat("a", 65)} {
				r = f.byKey.Do("POST", base+"/versions/"+id+"/activate", nil)
				if r.Status != 404 || r.ErrorCode() != "version_not_found" {
					t.Errorf("activate %q: %d %s", id, r.Status, r.Body)
				}
			}
			// A plugin with no previous version cannot roll back.
			newWasmPlugin(t, f, "vazio")
			r = f.byKey.Do("POST", adminPrefix+"/plugins/vazio/rollback", nil, "Accept-Language", "pt-BR")
			if code, msg, _ := errorOf(t, r); r.Status != 409 || code != "no_previous_version" || !strings.Contains(msg, "versão anterior") {
				t.Errorf("rollback without a previous version: %d %s", r.Status, r.Body)
			}
			// A version of one plugin cannot be activated on another.
			if r = f.byKey.Do("POST", adminPrefix+"/plugins/vazio/versions/"+v1+"/activate", nil); r.Status != 404 || r.ErrorCode() != "version_not_found" {
				t.Errorf("activate modulo's version on vazio: %d %s", r.Status, r.Body)
			}
			// Not for iframe plugins.
			for _, path := range []string{"/plugins/documentos/versions", "/plugins/documentos/health"} {
				if r = f.byKey.Do("GET", adminPrefix+path, nil); r.Status != 422 || r.ErrorCode() != "plugin_not_wasm" {
					t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
				}
			}
			if r = f.byKey.Do("POST", adminPrefix+"/plugins/documentos/rollback", nil); r.Status != 422 || r.ErrorCode() != "plugin_not_wasm" {
				t.Errorf("rollback an iframe plugin: %d %s", r.Status, r.Body)
			}

			// Each change is in the audit log.
			for _, action := range []string{"plugin.version.upload", "plugin.version.activate", "plugin.version.rollback"} {
				r = f.byKey.Do("GET", adminPrefix+"/audit?action="+action, nil)
				if r.Status != 200 || !strings.Contains(string(r.Body), `"modulo"`) {
					t.Errorf("audit %s: %d %.300s", action, r.Status, r.Body)
				}
			}

			if driver == "sqlite" {
				// At the cap exactly: accepted.
				atCap := admintest.Padded(t, valid, sandbox.MaxModuleBytes)
				r = f.byKey.Do("POST", base+"/versions", string(atCap), "Content-Type", "application/wasm")
				if r.Status != 201 {
					t.Fatalf("module of exactly %d bytes: %d %.300s", sandbox.MaxModuleBytes, r.Status, r.Body)
				}
				// And through the form, with its envelope.
				body, ct := admintest.MultipartBody(t, nil, admintest.Padded(t, valid, sandbox.MaxModuleBytes-1))
				if r = f.gestor.Do("POST", base+"/versions", body, "Content-Type", ct); r.Status != 201 {
					t.Fatalf("multipart module at the cap: %d %.300s", r.Status, r.Body)
				}
			}
		})
	}
}

// TestAdminVersionsIsolation: another tenant's wasm plugin and its version
// are invisible from the demo tenant, by slug and by version ID, on every
// version route, and nothing of theirs changes.
func TestAdminVersionsIsolation(t *testing.T) {
	module := admintest.HandABI(1)
	f := start(t, "sqlite")
	ctx := context.Background()
	other := f.p.Other
	slug := "modulo-outra"
	op, _, err := f.svc.CreatePlugin(ctx, other.ID, model.Actor{Type: "system", Label: "test"}, service.NewPluginInput(model.PluginFields{
		Slug: slug, Name: "Módulo da outra", Title: "Outra", Type: model.PluginWasm, Icon: "financeiro", VisibleTo: model.VisibleAmbos},
		"slug", "name", "title", "type", "icon", "visible_to"))
	testdb.Must(t, err, "other wasm plugin")
	ov := &model.PluginVersion{ABIVersion: 1}
	testdb.Must(t, f.p.Store.CreatePluginVersion(ctx, other.ID, op.ID, ov, module, model.Actor{Type: "system", Label: "outra"}), "other version")
	_, err = f.p.Store.ActivatePluginVersion(ctx, other.ID, op.ID, ov.ID, model.Actor{Type: "system", Label: "outra"})
	testdb.Must(t, err, "activate other version")
	newWasmPlugin(t, f, "modulo")

	key, _ := f.newKey(t, other.ID, model.ScopeAdmin)
	otherBefore := admintest.State(t, f.p, other.ID)
	leaks := []string{ov.ID, ov.SHA256, op.ID, slug}
	ob := adminPrefix + "/plugins/" + slug
	cases := []struct {
		method, path, ct string
		body             []byte
		code             string
	}{
		{"GET", ob + "/versions", "", nil, "plugin_not_found"},
		{"GET", ob + "/health", "", nil, "plugin_not_found"},
		{"POST", ob + "/versions", "application/wasm", module, "plugin_not_found"},
		{"POST", ob + "/versions/" + ov.ID + "/activate", "", nil, "plugin_not_found"},
		{"POST", ob + "/rollback", "", nil, "plugin_not_found"},
		{"POST", adminPrefix + "/plugins/modulo/versions/" + ov.ID + "/activate", "", nil, "version_not_found"},
	}
	for _, cl := range []*servertest.Client{f.byKey, f.gestor} {
		for _, tc := range cases {
			var header []string
			if tc.ct != "" {
				header = []string{"Content-Type", tc.ct}
			}
			r := cl.Do(tc.method, tc.path, string(tc.body), header...)
			if r.Status != 404 || r.ErrorCode() != tc.code {
				t.Errorf("%s %s: %d %.300s", tc.method, tc.path, r.Status, r.Body)
			}
			for _, s := range leaks {
				if strings.Contains(string(r.Body), s) {
					t.Errorf("%s %s leaked %q", tc.method, tc.path, s)
				}
			}
		}
	}
	// The other tenant's own key still sees its version, still active.
	if l := versionsOf(t, f.keyClient(t, servertest.OtherHost, key), slug); len(l.Versions) != 1 || l.ActiveVersion != ov.ID {
		t.Fatalf("the other tenant's listing: %+v", l)
	}
	if after := admintest.State(t, f.p, other.ID); after != otherBefore {
		t.Fatalf("the other tenant changed:\n%s\n%s", otherBefore, after)
	}
}

// TestBodyLimitFor pins which requests get the upload body limit.
func TestBodyLimitFor(t *testing.T) {
	cases := []struct {
		method, uri string
		upload      bool
	}{
		{"POST", "/api/v1/admin/plugins/modulo/versions", true},
		{"POST", "/api/v1/admin/plugins/modulo/versions?activate=true", true},
		{"POST", "/api/v1/admin/plugins/modulo/versions/", true},
		{"POST", "/API/V1/ADMIN/PLUGINS/Modulo/VERSIONS", true},
		{"POST", "/admin/plugins/modulo/versions", true},
		{"GET", "/api/v1/admin/plugins/modulo/versions", false},
		{"PUT", "/api/v1/admin/plugins/modulo/versions", false},
		{"POST", "/api/v1/admin/plugins/modulo/versions/x/activate", false},
		{"POST", "/api/v1/admin/plugins//versions", false},
		{"POST", "/api/v1/admin/plugins/a/b/versions", false},
		{"POST", "/api/v1/admin/plugins", false},
		{"POST", "/api/v1/session", false},
		{"POST", "/login", false},
		{"POST", "/admin/plugins/modulo/edit", false},
		{"POST", "/admin/plugins/modulo/versionsx", false},
		{"POST", "/x/admin/plugins/modulo/versions", false},
		{"POST", "/admin/plugins/" + strings.Repeat("a", 300) + "/versions", false},
	}
	for _, tc := range cases {
		limit, timeout := api.BodyLimitFor([]byte(tc.method), []byte(tc.uri))
		if got := limit == api.UploadBodyLimit && timeout == api.UploadReadTimeout; got != tc.upload || (!got && (limit != 0 || timeout != 0)) {
			t.Errorf("%s %s: limit %d timeout %v, upload %v", tc.method, tc.uri, limit, timeout, tc.upload)
		}
	}
	if api.UploadBodyLimit <= sandbox.MaxModuleBytes {
		t.Errorf("the upload limit %d leaves no room for a multipart envelope around a %d-byte module", api.UploadBodyLimit, sandbox.MaxModuleBytes)
	}
}

// FuzzBodyLimitFor: only POSTs to a .../versions path ever get the upload
// limit, and nothing panics.
func FuzzBodyLimitFor(f *testing.F) {
	f.Add("POST", "/api/v1/admin/plugins/modulo/versions")
	f.Add("POST", "/admin/plugins/x/versions?a=/b")
	f.Add("GET", "/")
	f.Add("POST", "/admin/plugins/%2F/versions#x")
	f.Fuzz(func(t *testing.T, method, uri string) {
		limit, _ := api.BodyLimitFor([]byte(method), []byte(uri))
		if limit == 0 {
			return
		}
		path := strings.ToLower(uri)
		if method != "POST" || limit != api.UploadBodyLimit || !strings.Contains(path, "/versions") || !strings.Contains(path, "/plugins/") {
			t.Fatalf("%s %q got limit %d", method, uri, limit)
		}
	})
}

// BenchmarkVersionUpload measures an upload of the SDK-built Go guest over
// HTTP: reading the body, the runtime's check (a cold compile: each
// iteration's module differs by its padding, so no cache helps), and
// storing it in SQLite.
func BenchmarkVersionUpload(b *testing.B) {
	m := admintest.Guests(b)
	p := servertest.Start(b, "sqlite")
	box, err := secret.New([]byte(auth.NewToken()[:secret.KeySize]))
	testdb.Must(b, err, "secret box")
	svc := service.New(service.Deps{Store: p.Store, Box: box, Demo: true})
	_, key, err := svc.NewAPIKey(context.Background(), p.Demo.ID, "bench", []string{string(model.ScopeAdmin)}, model.Actor{Type: "system", Label: "bench"})
	testdb.Must(b, err, "api key")
	c := p.NewClient(b, "")
	c.Header.Set("Authorization", "Bearer "+key)
	c.HTTP.Timeout = 5 * time.Minute
	r := c.Do("POST", adminPrefix+"/plugins", map[string]any{"slug": "bench", "name": "Bench", "title": "Bench",
		"type": "wasm", "icon": "financeiro", "visible_to": "ambos", "auth_type": "none"})
	if r.Status != 201 {
		b.Fatalf("create plugin: %d %s", r.Status, r.Body)
	}
	mods := make([]string, b.N)
	for i := range mods {
		mods[i] = string(admintest.Padded(b, m.Valid, len(m.Valid)+64+i))
	}
	b.SetBytes(int64(len(m.Valid)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := c.Do("POST", adminPrefix+"/plugins/bench/versions", mods[i], "Content-Type", "application/wasm"); r.Status != 201 {
			b.Fatalf("upload: %d %.300s", r.Status, r.Body)
		}
	}
}
