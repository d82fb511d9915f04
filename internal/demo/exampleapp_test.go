package demo_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

func readCreds(t *testing.T, path string) (id, secret, origin string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	testdb.Must(t, err, "read credentials")
	var m map[string]string
	testdb.Must(t, json.Unmarshal(raw, &m), "decode credentials")
	return m["client_id"], m["client_secret"], m["portal_origin"]
}

// TestEnsureExampleApp: the demo registers the example app and hands it
// working credentials in a 0600 file; a restart changes nothing; a lost
// file gets new credentials (the old secret stops); a database without the
// demo tenant and a plugin a gestor deleted are left alone.
func TestEnsureExampleApp(t *testing.T) {
	ctx := context.Background()
	st := testdb.Open(t, "sqlite")
	path := filepath.Join(t.TempDir(), "data", demo.ExampleAppCredentialsFile)
	const base = "http://localhost:8080"

	testdb.Must(t, demo.EnsureExampleApp(ctx, st, base, demo.ExampleAppURL, path), "no demo tenant")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("credentials written without a demo tenant: %v", err)
	}

	_, err := demo.Seed(ctx, st, base)
	testdb.Must(t, err, "seed")
	testdb.Must(t, demo.EnsureExampleApp(ctx, st, base, demo.ExampleAppURL, path), "ensure")
	fi, err := os.Stat(path)
	testdb.Must(t, err, "stat credentials")
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	id, secret, origin := readCreds(t, path)
	tn, err := st.TenantBySlug(ctx, demo.TenantSlug)
	testdb.Must(t, err, "tenant")
	p, err := st.PluginBySlug(ctx, tn.ID, demo.ExampleAppSlug)
	testdb.Must(t, err, "example plugin")
	if p.ClientID != id || !p.ClientSecretMatches(auth.HashToken(secret), st.Now()) || origin != base ||
		p.URL != demo.ExampleAppURL || p.AuthType != model.AuthToken || !p.HasUserField(model.UserFieldName) {
		t.Fatalf("plugin %+v does not match the credentials file", p)
	}

	testdb.Must(t, demo.EnsureExampleApp(ctx, st, base, demo.ExampleAppURL, path), "restart")
	if id2, secret2, _ := readCreds(t, path); id2 != id || secret2 != secret {
		t.Errorf("a restart changed the credentials")
	}

	testdb.Must(t, os.Remove(path), "remove credentials")
	testdb.Must(t, demo.EnsureExampleApp(ctx, st, base, demo.ExampleAppURL, path), "lost file")
	_, secret3, _ := readCreds(t, path)
	p, err = st.PluginBySlug(ctx, tn.ID, demo.ExampleAppSlug)
	testdb.Must(t, err, "example plugin")
	if secret3 == secret || p.ClientSecretMatches(auth.HashToken(secret), st.Now()) || !p.ClientSecretMatches(auth.HashToken(secret3), st.Now()) {
		t.Errorf("a lost file must give new credentials and stop the old secret")
	}

	actor := model.Actor{Type: "system", Label: "test"}
	testdb.Must(t, st.DeletePlugin(ctx, tn.ID, demo.ExampleAppSlug, p.Version, actor), "delete example plugin")
	testdb.Must(t, os.Remove(path), "remove credentials")
	testdb.Must(t, demo.EnsureExampleApp(ctx, st, base, demo.ExampleAppURL, path), "deleted plugin")
	if _, err := st.PluginBySlug(ctx, tn.ID, demo.ExampleAppSlug); err == nil {
		t.Errorf("a deleted example plugin came back")
	}
}
