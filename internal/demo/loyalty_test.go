package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestEnsureLoyaltyApp: serve with the demo turns the inactive "Pontos"
// placeholder into the loyalty app (active, for clientes and in the
// manager panel, token auth, every profile field) and hands it working
// credentials in a 0600 file; a restart changes nothing; a plugin a
// gestor pointed elsewhere is left alone.
func TestEnsureLoyaltyApp(t *testing.T) {
	ctx := context.Background()
	st := testdb.Open(t, "sqlite")
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, demo.LoyaltyAppCredentialsFile)
	const base = "http://localhost:8080"

	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, st, base, demo.LoyaltyAppURL, path), "no demo tenant")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("credentials written without a demo tenant: %v", err)
	}
	_, err := demo.Seed(ctx, st, base)
	testdb.Must(t, err, "seed")
	tn, err := st.TenantBySlug(ctx, demo.TenantSlug)
	testdb.Must(t, err, "tenant")
	seeded, err := st.PluginBySlug(ctx, tn.ID, demo.LoyaltyAppSlug)
	testdb.Must(t, err, "seeded pontos")
	if seeded.Active {
		t.Fatal("Seed must keep pontos an inactive placeholder (the menu-rule tests rely on it)")
	}

	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, st, base, demo.LoyaltyAppURL, path), "ensure")
	fi, err := os.Stat(path)
	testdb.Must(t, err, "stat credentials")
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	id, secret, origin := readCreds(t, path)
	p, err := st.PluginBySlug(ctx, tn.ID, demo.LoyaltyAppSlug)
	testdb.Must(t, err, "pontos")
	if p.ID != seeded.ID || !p.Active || !p.ShowInManager || !p.ShowInPortal || p.VisibleTo != model.VisibleCliente ||
		p.URL != demo.LoyaltyAppURL || p.AuthType != model.AuthToken || p.Type != model.PluginIframe ||
		!p.HasUserField(model.UserFieldEmail) || !p.HasUserField(model.UserFieldDocument) || p.Title != "Pontos" {
		t.Fatalf("pontos is not the loyalty app: %+v", p)
	}
	if p.ClientID != id || !p.ClientSecretMatches(auth.HashToken(secret), st.Now()) || origin != base {
		t.Fatalf("plugin %s / %s does not match the credentials file", p.ClientID, id)
	}

	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, st, base, demo.LoyaltyAppURL, path), "restart")
	if id2, secret2, _ := readCreds(t, path); id2 != id || secret2 != secret {
		t.Error("a restart changed the credentials")
	}

	// A lost file: new credentials, the old secret stops.
	testdb.Must(t, os.Remove(path), "remove credentials")
	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, st, base, demo.LoyaltyAppURL, path), "lost file")
	_, secret3, _ := readCreds(t, path)
	p, err = st.PluginBySlug(ctx, tn.ID, demo.LoyaltyAppSlug)
	testdb.Must(t, err, "pontos")
	if secret3 == secret || p.ClientSecretMatches(auth.HashToken(secret), st.Now()) || !p.ClientSecretMatches(auth.HashToken(secret3), st.Now()) {
		t.Error("a lost file must give new credentials and stop the old secret")
	}

	// A gestor points the plugin at their own app: left alone.
	actor := model.Actor{Type: "system", Label: "test"}
	_, err = st.UpdatePlugin(ctx, tn.ID, demo.LoyaltyAppSlug, p.Version, actor, model.AuditPluginUpdate, func(q *model.Plugin) error {
		q.URL = "https://pontos.example.com/launch"
		return nil
	})
	testdb.Must(t, err, "repoint")
	testdb.Must(t, os.Remove(path), "remove credentials")
	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, st, base, demo.LoyaltyAppURL, path), "changed plugin")
	p, err = st.PluginBySlug(ctx, tn.ID, demo.LoyaltyAppSlug)
	testdb.Must(t, err, "pontos")
	if p.URL != "https://pontos.example.com/launch" || !p.ClientSecretMatches(auth.HashToken(secret3), st.Now()) {
		t.Errorf("a plugin the gestor changed was touched: %+v", p)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("credentials written for a plugin that is not the demo app: %v", err)
	}

	// Deleted: stays deleted.
	testdb.Must(t, st.DeletePlugin(ctx, tn.ID, demo.LoyaltyAppSlug, p.Version, actor), "delete")
	testdb.Must(t, demo.EnsureLoyaltyApp(ctx, st, base, demo.LoyaltyAppURL, path), "deleted plugin")
	if _, err := st.PluginBySlug(ctx, tn.ID, demo.LoyaltyAppSlug); err == nil {
		t.Error("a deleted loyalty plugin came back")
	}
}
