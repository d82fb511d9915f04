package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// TestDeletePluginErasesItsData: deleting a plugin erases its secrets,
// its module versions and its key-value store (an ERP's credentials must
// not outlive the plugin, nor stay where no page can remove them), audits
// how much went, refuses a secret stored afterwards, and leaves another
// plugin's untouched.
func TestDeletePluginErasesItsData(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		tn := newTenant(t, st, "alfa", "alfa.test")
		gone, kept := newWasmPlugin(t, st, tn.ID, "sai"), newWasmPlugin(t, st, tn.ID, "fica")
		for _, p := range []*model.Plugin{gone, kept} {
			testdb.Must(t, st.PutSecret(ctx, tn.ID, p.ID, p.Slug, "erp_token", []byte("cifrado"), testActor), "secret of %s", p.Slug)
			testdb.Must(t, st.KVSet(ctx, tn.ID, p.ID, "visitas:u1", []byte("3")), "kv of %s", p.Slug)
			testdb.Must(t, st.CreatePluginVersion(ctx, tn.ID, p.ID, &model.PluginVersion{ABIVersion: 1}, []byte("\x00asm "+p.Slug), testActor), "version of %s", p.Slug)
		}
		testdb.Must(t, st.DeletePlugin(ctx, tn.ID, gone.Slug, gone.Version, testActor), "delete")
		if vs, err := st.PluginVersions(ctx, tn.ID, gone.ID); err != nil || len(vs) != 0 {
			t.Errorf("the deleted plugin's versions: %d %v", len(vs), err)
		}
		if vs, err := st.PluginVersions(ctx, tn.ID, kept.ID); err != nil || len(vs) != 1 {
			t.Errorf("another plugin's versions: %d %v", len(vs), err)
		}
		// A secret stored once the plugin is deleted is refused.
		if err := st.PutSecret(ctx, tn.ID, gone.ID, gone.Slug, "late", []byte("x"), testActor); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("a secret for a deleted plugin: %v, want ErrNotFound", err)
		}
		if _, err := st.SecretCiphertext(ctx, tn.ID, gone.ID, "erp_token"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("the deleted plugin's secret: %v, want ErrNotFound", err)
		}
		if _, found, err := st.KVGet(ctx, tn.ID, gone.ID, "visitas:u1"); err != nil || found {
			t.Errorf("the deleted plugin's KV: found=%v %v", found, err)
		}
		if _, err := st.SecretCiphertext(ctx, tn.ID, kept.ID, "erp_token"); err != nil {
			t.Errorf("another plugin's secret: %v", err)
		}
		if v, found, err := st.KVGet(ctx, tn.ID, kept.ID, "visitas:u1"); err != nil || !found || string(v) != "3" {
			t.Errorf("another plugin's KV: %q %v %v", v, found, err)
		}
		entries, err := st.AuditLog(ctx, tn.ID, model.AuditFilter{Action: model.AuditPluginDelete})
		testdb.Must(t, err, "audit")
		if len(entries) != 1 || !strings.Contains(entries[0].AfterJSON, `"secrets_erased":1`) || !strings.Contains(entries[0].AfterJSON, `"versions_erased":1`) {
			t.Errorf("the deletion's audit entry: %+v", entries)
		}
	})
}

// TestPluginsPerTenantAreBounded: a tenant holds at most
// storage.MaxPluginsPerTenant plugins; the next one is refused with
// ErrTooManyPlugins and nothing is created, a deleted plugin frees its
// place, and another tenant is not affected.
func TestPluginsPerTenantAreBounded(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a, b := newTenant(t, st, "alfa", "alfa.test"), newTenant(t, st, "beta", "beta.test")
		var first *model.Plugin
		for i := range storage.MaxPluginsPerTenant {
			p := newPlugin(fmt.Sprintf("p%d", i), i)
			testdb.Must(t, st.CreatePlugin(ctx, a.ID, p, testActor), "create %d", i)
			if first == nil {
				first = p
			}
		}
		if err := st.CreatePlugin(ctx, a.ID, newPlugin("demais", 999), testActor); !errors.Is(err, storage.ErrTooManyPlugins) {
			t.Fatalf("one plugin too many: %v, want ErrTooManyPlugins", err)
		}
		if _, err := st.PluginBySlug(ctx, a.ID, "demais"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("the refused plugin was stored: %v", err)
		}
		testdb.Must(t, st.CreatePlugin(ctx, b.ID, newPlugin("demais", 1), testActor), "another tenant's plugin")
		testdb.Must(t, st.DeletePlugin(ctx, a.ID, first.Slug, first.Version, testActor), "delete one")
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, newPlugin("demais", 999), testActor), "create after a deletion")
	})
}
