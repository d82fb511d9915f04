package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testguest"
)

// TestAdminAPIPluginSettings: GET /plugins/{slug}/settings answers what the
// demo's hello module declares (a real settings call), in the caller's
// language, and the plugin's problem with a stored value, or the config
// grant it lacks to see that value; a plugin without an active version
// describes nothing.
func TestAdminAPIPluginSettings(t *testing.T) {
	f := start(t, "sqlite")
	module, err := testguest.Build("../../plugins/hello")
	testdb.Must(t, err, "build hello")
	path := filepath.Join(t.TempDir(), "hello.wasm")
	testdb.Must(t, os.WriteFile(path, module, 0o600), "write hello.wasm")
	_, err = demo.InstallHello(context.Background(), f.p.Store, path, f.p.Server.Sandbox.CheckABI)
	testdb.Must(t, err, "install hello")

	get := func(lang string) admin.Settings {
		t.Helper()
		r := f.byKey.Do("GET", adminPrefix+"/plugins/ola/settings", nil, "Accept-Language", lang)
		if r.Status != http.StatusOK {
			t.Fatalf("settings: %d %.300s", r.Status, r.Body)
		}
		var s admin.Settings
		testdb.Must(t, json.Unmarshal(r.Body, &s), "decode settings")
		return s
	}
	s := get("en")
	if !s.Described || s.Failed || len(s.Fields) != 1 || s.Fields[0].Key != "greeting" || s.Fields[0].Label != "Greeting" ||
		len(s.Missing) != 0 || len(s.Problems) != 0 {
		t.Fatalf("settings = %+v", s)
	}
	if s := get("es"); s.Fields[0].Label != "Saludo" || s.Fields[0].Default != "Hola" {
		t.Errorf("es settings = %+v", s.Fields)
	}
	// A greeting of two lines is stored (configuration values may hold
	// lines) but the plugin ignores it, and says so.
	r := f.byKey.Do("PUT", adminPrefix+"/plugins/ola/config", map[string]any{"version": pluginVersion(t, f, "ola"),
		"entries": []map[string]any{{"key": "greeting", "type": "string", "value": "Bem-vindo\nde volta"}}})
	if r.Status != http.StatusOK {
		t.Fatalf("put config: %d %.300s", r.Status, r.Body)
	}
	if s := get("pt-BR"); len(s.Problems) != 1 || s.Problems[0].Key != "greeting" || len(s.MissingGrants) != 0 {
		t.Errorf("problems = %+v (grants missing %v), want one about the greeting", s.Problems, s.MissingGrants)
	}
	// Without the config grant the plugin receives no configuration: it
	// cannot see the greeting, and the answer names the grant it lacks.
	r = f.byKey.Do("PATCH", adminPrefix+"/plugins/ola/access", map[string]any{"version": pluginVersion(t, f, "ola"), "grants": []string{"kv", "log"}})
	if r.Status != http.StatusOK {
		t.Fatalf("patch access: %d %.300s", r.Status, r.Body)
	}
	if s := get("pt-BR"); len(s.MissingGrants) != 1 || s.MissingGrants[0] != "config" || len(s.Problems) != 0 {
		t.Errorf("without the config grant: problems %+v, grants missing %v; want none and [config]", s.Problems, s.MissingGrants)
	}
	// A wasm plugin without an active version describes nothing.
	newWasmPlugin(t, f, "sem-versao")
	r = f.byKey.Do("GET", adminPrefix+"/plugins/sem-versao/settings", nil)
	var none admin.Settings
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &none) != nil || none.Described || none.Failed || none.Fields == nil {
		t.Errorf("settings of a plugin without a version: %d %s", r.Status, r.Body)
	}
}

func pluginVersion(t *testing.T, f *fixture, slug string) int64 {
	t.Helper()
	p, err := f.p.Store.PluginBySlug(context.Background(), f.p.Demo.ID, slug)
	testdb.Must(t, err, "load plugin")
	return p.Version
}
