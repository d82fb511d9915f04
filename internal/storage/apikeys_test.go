package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAPIKeysEndWithTheirGestor: the API keys a gestor created are revoked
// when that gestor is deactivated or stops being a gestor (a copy of a key
// kept by someone who left must not keep the company's API open to them),
// each revocation audited; keys created by another gestor or by a key are
// untouched, and so is every key while the gestor keeps the role. A
// reactivation does not revive a revoked key.
func TestAPIKeysEndWithTheirGestor(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "alfa", "alfa.test")
		mk := func(email string) *model.User { return newUser(t, st, tn.ID, email, model.RoleGestor) }
		leaving, moving, staying := mk("sai@exemplo.com"), mk("muda@exemplo.com"), mk("fica@exemplo.com")
		by := func(u *model.User) model.Actor { return model.Actor{Type: "user", ID: u.ID, Label: u.Email} }
		keys := []struct {
			hash       string
			actor      model.Actor
			afterwards bool // still valid at the end
		}{
			{"by-leaving", by(leaving), false},
			{"by-leaving-2", by(leaving), false},
			{"by-moving", by(moving), false},
			{"by-staying", by(staying), true},
			{"by-key", model.Actor{Type: "api_key", ID: "k1", Label: "ERP"}, true},
		}
		for _, k := range keys {
			testdb.Must(t, st.CreateAPIKey(ctx, tn.ID, &model.APIKey{Name: k.hash, Prefix: "pk_", Hash: k.hash,
				Scopes: model.StringList{string(model.ScopeAdmin)}}, k.actor), "key %s", k.hash)
			// Read once, so that a cached key would be served if the
			// revocation did not drop it.
			_, err := st.APIKeyByHash(ctx, tn.ID, k.hash)
			testdb.Must(t, err, "read %s", k.hash)
		}
		// A change that keeps the role and the account revokes nothing.
		_, err := st.UpdateUser(ctx, tn.ID, leaving.ID, leaving.Version, by(staying), func(u *model.User) error { u.Name = "Sai Logo"; return nil })
		testdb.Must(t, err, "rename")
		if _, err := st.APIKeyByHash(ctx, tn.ID, "by-leaving"); err != nil {
			t.Fatalf("a rename revoked the gestor's key: %v", err)
		}
		_, err = st.UpdateUser(ctx, tn.ID, leaving.ID, leaving.Version+1, by(staying), func(u *model.User) error { u.Active = false; return nil })
		testdb.Must(t, err, "deactivate")
		_, err = st.UpdateUser(ctx, tn.ID, moving.ID, moving.Version, by(staying), func(u *model.User) error { u.Roles = model.Roles{model.RoleCliente}; return nil })
		testdb.Must(t, err, "demote")
		_, err = st.UpdateUser(ctx, tn.ID, leaving.ID, leaving.Version+2, by(staying), func(u *model.User) error { u.Active = true; return nil })
		testdb.Must(t, err, "reactivate")
		for _, k := range keys {
			_, err := st.APIKeyByHash(ctx, tn.ID, k.hash)
			if got := err == nil; got != k.afterwards {
				t.Errorf("key %s valid = %v (%v), want %v", k.hash, got, err, k.afterwards)
			}
			if !k.afterwards && !errors.Is(err, model.ErrNotFound) {
				t.Errorf("key %s: %v, want ErrNotFound", k.hash, err)
			}
		}
		entries, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{Action: model.AuditAPIKeyRevoke})
		testdb.Must(t, err, "audit")
		if len(entries) != 3 {
			t.Fatalf("%d revocations audited, want 3", len(entries))
		}
		for _, e := range entries {
			if e.ActorID != staying.ID {
				t.Errorf("revocation audited as %q, want the gestor who made the change", e.ActorLabel)
			}
		}
	})
}
