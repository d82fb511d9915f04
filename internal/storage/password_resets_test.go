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
		mk := func(email string) *model.User {
			u := &model.User{Email: email, Name: "Pessoa", Roles: model.Roles{model.RoleCliente}, Active: true}
			testdb.Must(t, u.Validate(), "validate")
			testdb.Must(t, st.CreateUser(ctx, tn.ID, u), "create %s", email)
			return u
		}
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
