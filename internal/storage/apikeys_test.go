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
// each revocation audited; a key minted with one of their keys is theirs
// too. Keys created by another gestor or by the command line (and their
// children) are untouched, and so is every key while the gestor keeps the
// role. A reactivation does not revive a revoked key, and a later edit of
// someone who has already left revokes nothing in their name.
func TestAPIKeysEndWithTheirGestor(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "alfa", "alfa.test")
		mk := func(email string) *model.User { return newUser(t, st, tn.ID, email, model.RoleGestor) }
		leaving, moving, staying := mk("sai@exemplo.com"), mk("muda@exemplo.com"), mk("fica@exemplo.com")
		former := newUser(t, st, tn.ID, "antes@exemplo.com", model.RoleCliente)
		by := func(u *model.User) model.Actor { return model.Actor{Type: "user", ID: u.ID, Label: u.Email} }
		ids := map[string]string{} // hash → id of the keys made so far
		withKey := func(hash string) model.Actor { return model.Actor{Type: "api_key", ID: ids[hash], Label: hash} }
		keys := []struct {
			hash       string
			actor      func() model.Actor
			afterwards bool // still valid at the end
		}{
			{"by-leaving", func() model.Actor { return by(leaving) }, false},
			{"by-leaving-2", func() model.Actor { return by(leaving) }, false},
			{"by-moving", func() model.Actor { return by(moving) }, false},
			{"by-staying", func() model.Actor { return by(staying) }, true},
			// A key minted with the leaving gestor's key is theirs too.
			{"by-leaving-key", func() model.Actor { return withKey("by-leaving") }, false},
			// The command line's key belongs to no one, nor does its child.
			{"by-cli", func() model.Actor { return model.SystemActor("portico apikey create") }, true},
			{"by-cli-key", func() model.Actor { return withKey("by-cli") }, true},
			// Made while former was a gestor, who had already left the role
			// before revocation existed (an upgraded database).
			{"by-former", func() model.Actor { return by(former) }, true},
		}
		for _, k := range keys {
			nk := &model.APIKey{Name: k.hash, Prefix: "pk_", Hash: k.hash, Scopes: model.StringList{string(model.ScopeAdmin)}}
			testdb.Must(t, st.CreateAPIKey(ctx, tn.ID, nk, k.actor()), "key %s", k.hash)
			ids[k.hash] = nk.ID
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
		_, err = st.UpdateOwnUser(ctx, tn.ID, former.ID, former.Version, by(former), model.AuditUserUpdate, func(u *model.User) error { u.Name = "Antes"; return nil })
		testdb.Must(t, err, "the former gestor edits their profile")
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
		if len(entries) != 4 {
			t.Fatalf("%d revocations audited, want 4", len(entries))
		}
		for _, e := range entries {
			if e.ActorID != staying.ID {
				t.Errorf("revocation audited as %q, want the gestor who made the change", e.ActorLabel)
			}
		}
	})
}
