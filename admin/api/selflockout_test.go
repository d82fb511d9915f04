package api_test

import (
	"context"
	"testing"

	"github.com/portico-dev/portico/internal/testdb"
)

// TestAPISelfLockoutRefused: a gestor cannot deactivate themselves or drop
// their own gestor role through the API either; another gestor (or a key)
// can.
func TestAPISelfLockoutRefused(t *testing.T) {
	f := start(t, "sqlite")
	ctx := context.Background()
	me, err := f.p.Store.UserByEmail(ctx, f.p.Demo.ID, "gestor@demo.portico.test")
	testdb.Must(t, err, "load gestor")
	c, csrf := f.session(t, "gestor@demo.portico.test")
	for _, body := range []map[string]any{
		{"version": me.Version, "active": false},
		{"version": me.Version, "roles": []string{"cliente"}},
	} {
		r := c.Do("PATCH", "/api/v1/admin/users/"+me.ID, body, "X-CSRF-Token", csrf)
		code, msg, _ := errorOf(t, r)
		if r.Status != 422 || code != "validation_failed" || msg == "" {
			t.Fatalf("self-lockout %v: %d %s", body, r.Status, r.Body)
		}
	}
	after, _ := f.p.Store.UserByID(ctx, f.p.Demo.ID, me.ID)
	if !after.Active || !after.HasRole("gestor") || after.Version != me.Version {
		t.Fatalf("gestor changed: %+v", after)
	}
	key, _ := f.newKey(t, f.p.Demo.ID, "admin")
	r := f.keyClient(t, "", key).Do("PATCH", "/api/v1/admin/users/"+me.ID, map[string]any{"version": me.Version, "active": false})
	if r.Status != 200 {
		t.Fatalf("a key deactivating the gestor: %d %s", r.Status, r.Body)
	}
}
