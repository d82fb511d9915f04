package storage_test

import (
	"context"
	"testing"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestSeedIsAudited: a tenant created with its users and plugins in one
// go (the demo seed, a command) has the create entries an admin-built one
// has, each by the given actor and with the record's snapshot.
func TestSeedIsAudited(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := &model.Tenant{Slug: "semeada", Name: "Semeada", Hostnames: []string{"semeada.test"}}
		testdb.Must(t, tn.Validate(false), "validate tenant")
		u := &model.User{Email: "ana@semeada.test", Name: "Ana", Roles: model.Roles{model.RoleCliente}, Active: true}
		testdb.Must(t, u.Validate(), "validate user")
		seed := model.SystemActor("demo")
		testdb.Must(t, st.CreateTenantWith(ctx, tn, []*model.User{u}, []*model.Plugin{newPlugin("docs", 10)}, seed), "seed")
		es, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{})
		testdb.Must(t, err, "audit")
		got := map[string]model.AuditEntry{}
		for _, e := range es {
			got[e.Action] = e
		}
		for action, target := range map[string]string{"tenant.create": tn.ID, "user.create": u.ID, "plugin.create": "docs"} {
			e, ok := got[action]
			if !ok || e.TargetID != target || e.ActorType != model.ActorSystem || e.ActorLabel != "demo" || e.AfterJSON == "" {
				t.Errorf("%s: %+v (present %v)", action, e, ok)
			}
		}
		if len(es) != 3 {
			t.Errorf("%d audit entries, want 3", len(es))
		}
	})
}
