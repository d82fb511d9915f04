package storage_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestUpdateThatChangesNothing: saving a plugin with its own values (an
// empty list for none included) keeps its version, writes no audit entry
// and invalidates nothing; a real change does all three.
func TestUpdateThatChangesNothing(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa", "alfa.test")
		pl := newPlugin("docs", 1)
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, pl, testActor), "create")
		var changes atomic.Int32
		st.OnChange(func(storage.Change) { changes.Add(1) })
		audits := func() int64 {
			n, err := st.CountAudit(ctx, a.ID)
			testdb.Must(t, err, "count audit")
			return n
		}
		before := audits()
		for _, tc := range []struct {
			name   string
			mutate func(*model.Plugin) error
		}{
			{"same title", func(p *model.Plugin) error { p.Title = pl.Title; return nil }},
			{"empty lists for none", func(p *model.Plugin) error {
				p.Grants, p.UserFields, p.AllowedHosts = model.StringList{}, model.StringList{}, model.StringList{}
				return nil
			}},
			{"nothing at all", func(*model.Plugin) error { return nil }},
		} {
			got, err := st.UpdatePlugin(ctx, a.ID, "docs", pl.Version, testActor, "plugin.update", tc.mutate)
			if err != nil || got.Version != pl.Version {
				t.Errorf("%s: version %v, err %v; want %d, nil", tc.name, got, err, pl.Version)
			}
		}
		if n := audits(); n != before || changes.Load() != 0 {
			t.Errorf("no-op updates wrote %d audit entries and %d invalidations", n-before, changes.Load())
		}
		got, err := st.UpdatePlugin(ctx, a.ID, "docs", pl.Version, testActor, "plugin.update",
			func(p *model.Plugin) error { p.Title = "Documentos"; return nil })
		if err != nil || got.Version != pl.Version+1 || audits() != before+1 || changes.Load() != 1 {
			t.Errorf("a real change: %+v, %v, %d audit entries, %d invalidations", got, err, audits()-before, changes.Load())
		}
	})
}
