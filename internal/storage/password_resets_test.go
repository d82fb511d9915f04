package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestPasswordChangeInvalidatesOtherResetLinks: a password set through one
// link ends every other link of the user, even links that were all valid
// at once (stored before issuing a link invalidated the earlier ones); a
// link of another user is untouched.
func TestPasswordChangeInvalidatesOtherResetLinks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "alfa", "alfa.test")
		mk := func(email string) *model.User { return newUser(t, st, tn.ID, email, model.RoleCliente) }
		ana, bia := mk("ana@exemplo.com"), mk("bia@exemplo.com")
		for _, r := range []struct{ user, hash string }{{ana.ID, "h1"}, {ana.ID, "h2"}, {bia.ID, "h3"}} {
			testdb.Must(t, st.InsertPasswordResetForTest(ctx, tn.ID, r.user, r.hash, time.Hour), "insert %s", r.hash)
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "h2", "new-hash"); err != nil {
			t.Fatalf("consume h2: %v", err)
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "h1", "stale-hash"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("h1 after the password changed through h2: %v, want ErrNotFound", err)
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "h3", "bia-hash"); err != nil {
			t.Errorf("another user's link was touched: %v", err)
		}
	})
}

// TestResetLinksEndWithTheirGestor: the reset links a gestor made for
// other people stop working when that gestor is deactivated or stops being
// a gestor, so a link made before leaving cannot take over an account
// afterwards; a deactivated user's own link ends too (a reactivation does
// not revive it). Links made by another gestor or by an API key are
// untouched, and so is every link while the gestor keeps the role.
func TestResetLinksEndWithTheirGestor(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "alfa", "alfa.test")
		mk := func(email string, r model.Role) *model.User { return newUser(t, st, tn.ID, email, r) }
		leaving, staying, moving := mk("sai@exemplo.com", model.RoleGestor), mk("fica@exemplo.com", model.RoleGestor), mk("muda@exemplo.com", model.RoleGestor)
		boss, ana := mk("chefe@exemplo.com", model.RoleGestor), mk("ana@exemplo.com", model.RoleCliente)
		by := func(u *model.User) model.Actor { return model.Actor{Type: "user", ID: u.ID, Label: u.Email} }
		links := []struct {
			hash       string
			user       *model.User
			actor      model.Actor
			afterwards bool // still usable at the end
			// (one link per user: a new link ends the user's earlier ones)
		}{
			{"by-leaving-for-boss", boss, by(leaving), false},
			{"by-moving-for-ana", ana, by(moving), false},
			{"by-staying-for-leaving", leaving, by(staying), false}, // leaving is deactivated: their own link ends
			{"by-staying-for-moving", moving, by(staying), true},
			{"by-key-for-staying", staying, model.Actor{Type: "api_key", ID: "k1", Label: "ERP"}, true},
		}
		for _, l := range links {
			testdb.Must(t, st.CreatePasswordReset(ctx, tn.ID, l.user.ID, l.hash, time.Hour, l.actor), "link %s", l.hash)
		}
		// A change that keeps the role and the account voids nothing.
		_, err := st.UpdateUser(ctx, tn.ID, leaving.ID, leaving.Version, by(boss), func(u *model.User) error { u.Name = "Sai Logo"; return nil })
		testdb.Must(t, err, "rename")
		if ok, err := st.PasswordResetUsable(ctx, tn.ID, "by-leaving-for-boss"); err != nil || !ok {
			t.Fatalf("a rename ended the gestor's link: %v %v", ok, err)
		}
		_, err = st.UpdateUser(ctx, tn.ID, leaving.ID, leaving.Version+1, by(boss), func(u *model.User) error { u.Active = false; return nil })
		testdb.Must(t, err, "deactivate")
		_, err = st.UpdateUser(ctx, tn.ID, moving.ID, moving.Version, by(boss), func(u *model.User) error { u.Roles = model.Roles{model.RoleCliente}; return nil })
		testdb.Must(t, err, "demote")
		for _, l := range links {
			ok, err := st.PasswordResetUsable(ctx, tn.ID, l.hash)
			testdb.Must(t, err, "usable %s", l.hash)
			if ok != l.afterwards {
				t.Errorf("link %s usable = %v, want %v", l.hash, ok, l.afterwards)
			}
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "by-leaving-for-boss", "taken-over"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("the deactivated gestor's link for another gestor: %v, want ErrNotFound", err)
		}
	})
}

// TestPasswordResetUsable agrees with ConsumePasswordReset on every kind of
// link: usable while unused and unexpired, of its own tenant only; not
// once used, expired (at its expiry instant) or unknown.
func TestPasswordResetUsable(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "beta", "beta.test")
		other := newTenant(t, st, "gama", "gama.test")
		u := &model.User{Email: "caio@exemplo.com", Name: "Caio", Roles: model.Roles{model.RoleCliente}, Active: true}
		testdb.Must(t, u.Validate(), "validate")
		testdb.Must(t, st.CreateUser(ctx, tn.ID, u), "create user")
		testdb.Must(t, st.InsertPasswordResetForTest(ctx, tn.ID, u.ID, "live", time.Hour), "insert live")
		testdb.Must(t, st.InsertPasswordResetForTest(ctx, tn.ID, u.ID, "gone", -time.Second), "insert expired")
		usable := func(tenantID, hash string) bool {
			ok, err := st.PasswordResetUsable(ctx, tenantID, hash)
			testdb.Must(t, err, "usable %s", hash)
			return ok
		}
		if !usable(tn.ID, "live") || usable(other.ID, "live") || usable(tn.ID, "gone") || usable(tn.ID, "nope") {
			t.Fatal("usable: want live only, and only in its tenant")
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "gone", "h"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("consume an expired link: %v", err)
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "live", "h"); err != nil {
			t.Fatalf("consume the live link: %v", err)
		}
		if usable(tn.ID, "live") {
			t.Fatal("a used link is still usable")
		}
	})
}

// TestChangeOwnPassword: a user's own password change sets the hash, ends
// every other session of the user (the one that made the change stays, and
// another user's session is untouched, cached or not), stops the user's
// reset links and is audited; a change from a hash the user no longer has,
// or by an inactive user, changes nothing.
func TestChangeOwnPassword(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "alfa", "alfa.test")
		mk := func(email string) *model.User {
			u := &model.User{Email: email, Name: "Pessoa", Roles: model.Roles{model.RoleCliente}, Active: true, PasswordHash: "old-hash"}
			testdb.Must(t, u.Validate(), "validate")
			testdb.Must(t, st.CreateUser(ctx, tn.ID, u), "create %s", email)
			return u
		}
		ana, bia := mk("ana@exemplo.com"), mk("bia@exemplo.com")
		now := time.Now()
		for _, s := range []struct{ id, user string }{{"ana-here", ana.ID}, {"ana-phone", ana.ID}, {"ana-tablet", ana.ID}, {"bia-here", bia.ID}} {
			testdb.Must(t, st.CreateSession(ctx, tn.ID, &model.Session{ID: s.id, UserID: s.user, CSRFToken: "c", CreatedAt: now,
				LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}), "session %s", s.id)
			if _, _, err := st.SessionUser(ctx, tn.ID, s.id); err != nil { // now cached
				t.Fatalf("session %s: %v", s.id, err)
			}
		}
		testdb.Must(t, st.InsertPasswordResetForTest(ctx, tn.ID, ana.ID, "ana-link", time.Hour), "insert link")

		a := model.Actor{Type: "user", ID: ana.ID, Label: ana.Email, IP: "203.0.113.7"}
		if err := st.ChangeOwnPassword(ctx, tn.ID, ana.ID, "ana-here", "not-her-hash", "new-hash", a); !errors.Is(err, storage.ErrStale) {
			t.Fatalf("a change from a hash the user no longer has: %v, want ErrStale", err)
		}
		testdb.Must(t, st.ChangeOwnPassword(ctx, tn.ID, ana.ID, "ana-here", "old-hash", "new-hash", a), "change")

		_, u, err := st.SessionUser(ctx, tn.ID, "ana-here")
		if err != nil {
			t.Fatalf("the session that made the change ended: %v", err)
		}
		if u.PasswordHash != "new-hash" || u.Version != ana.Version+1 {
			t.Errorf("after the change: hash %q version %d, want new-hash and %d", u.PasswordHash, u.Version, ana.Version+1)
		}
		for _, id := range []string{"ana-phone", "ana-tablet"} {
			if _, _, err := st.SessionUser(ctx, tn.ID, id); !errors.Is(err, model.ErrNotFound) {
				t.Errorf("the user's other session %s: %v, want ErrNotFound", id, err)
			}
		}
		if _, _, err := st.SessionUser(ctx, tn.ID, "bia-here"); err != nil {
			t.Errorf("another user's session: %v", err)
		}
		if _, err := st.ConsumePasswordReset(ctx, tn.ID, "ana-link", "link-hash"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("the user's reset link after the change: %v, want ErrNotFound", err)
		}
		log, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{Action: model.AuditUserPasswordChange})
		testdb.Must(t, err, "audit log")
		if len(log) != 1 || log[0].TargetID != ana.ID || log[0].ActorID != ana.ID || log[0].IP != "203.0.113.7" {
			t.Errorf("audit: %+v, want one entry by and about the user", log)
		}

		_, err = st.UpdateUser(ctx, tn.ID, bia.ID, bia.Version, a, func(u *model.User) error { u.Active = false; return nil })
		testdb.Must(t, err, "deactivate")
		if err := st.ChangeOwnPassword(ctx, tn.ID, bia.ID, "bia-here", "old-hash", "x", a); !errors.Is(err, storage.ErrStale) {
			t.Errorf("an inactive user's change: %v, want ErrStale", err)
		}
	})
}
