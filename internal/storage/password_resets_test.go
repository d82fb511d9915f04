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
