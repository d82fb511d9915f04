package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

var testActor = model.Actor{Type: "user", ID: "u1", Label: "gestor@exemplo.com"}

func newWasmPlugin(t testing.TB, st *storage.Store, tenantID, slug string) *model.Plugin {
	t.Helper()
	p := &model.Plugin{Slug: slug, Name: slug, Title: slug, Type: model.PluginWasm, Icon: "alerta", Active: true,
		ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleAmbos, AuthType: model.AuthNone}
	testdb.Must(t, p.Validate(model.PluginRules{IconExists: icon.Exists}), "validate")
	testdb.Must(t, st.CreatePlugin(context.Background(), tenantID, p, model.SystemActor("test")), "create plugin %s", slug)
	return p
}

func TestPluginVersions(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa")
		b := newTenant(t, st, "beta")
		pa := newWasmPlugin(t, st, a.ID, "calc")
		pb := newWasmPlugin(t, st, b.ID, "calc")
		frame := newPlugin("frame", 10)
		testdb.Must(t, st.CreatePlugin(ctx, a.ID, frame, model.SystemActor("test")), "create iframe plugin")

		// Rollback with nothing to roll back to.
		if _, err := st.RollbackPluginVersion(ctx, a.ID, pa.ID, testActor); !errors.Is(err, storage.ErrNoPreviousVersion) {
			t.Fatalf("rollback without versions: %v", err)
		}

		mods := [][]byte{[]byte("\x00asm one"), []byte("\x00asm two"), []byte("\x00asm three")}
		var vs []model.PluginVersion
		for i, m := range mods {
			v := &model.PluginVersion{ABIVersion: 1}
			testdb.Must(t, st.CreatePluginVersion(ctx, a.ID, pa.ID, v, m, testActor), "upload %d", i)
			if v.Number != i+1 || v.SizeBytes != int64(len(m)) || len(v.SHA256) != 64 || v.ID == "" || v.CreatedBy != testActor.Label {
				t.Fatalf("upload %d: %+v", i, v)
			}
			vs = append(vs, *v)
		}
		// The other tenant's same-slug plugin numbers its own versions.
		vb := &model.PluginVersion{ABIVersion: 1}
		testdb.Must(t, st.CreatePluginVersion(ctx, b.ID, pb.ID, vb, []byte("beta"), testActor), "upload beta")
		if vb.Number != 1 {
			t.Fatalf("beta number = %d", vb.Number)
		}

		// Refusals: empty module, iframe plugin, another tenant's plugin.
		for name, tc := range map[string]struct {
			tenant, plugin string
			mod            []byte
			want           error
		}{
			"empty":        {a.ID, pa.ID, nil, model.ErrConflict},
			"iframe":       {a.ID, frame.ID, []byte("x"), storage.ErrNotWasm},
			"cross tenant": {a.ID, pb.ID, []byte("x"), model.ErrNotFound},
			"unknown":      {a.ID, "nope", []byte("x"), model.ErrNotFound},
		} {
			if err := st.CreatePluginVersion(ctx, tc.tenant, tc.plugin, &model.PluginVersion{}, tc.mod, testActor); !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", name, err, tc.want)
			}
		}

		list, err := st.PluginVersions(ctx, a.ID, pa.ID)
		testdb.Must(t, err, "list")
		if len(list) != 3 || list[0].Number != 3 || list[2].Number != 1 || list[0].Module != nil || list[0].SHA256 != vs[2].SHA256 {
			t.Fatalf("list = %+v", list)
		}
		if other, _ := st.PluginVersions(ctx, b.ID, pa.ID); len(other) != 0 {
			t.Fatalf("cross-tenant list = %+v", other)
		}
		mod, err := st.PluginModule(ctx, a.ID, vs[1].ID)
		testdb.Must(t, err, "module")
		if !bytes.Equal(mod, mods[1]) {
			t.Fatalf("module = %q", mod)
		}
		if _, err := st.PluginModule(ctx, b.ID, vs[1].ID); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("cross-tenant module: %v", err)
		}

		p, err := st.ActivatePluginVersion(ctx, a.ID, pa.ID, vs[0].ID, testActor)
		testdb.Must(t, err, "activate 1")
		if p.ActiveVersion != vs[0].ID || p.PreviousVersion != "" || p.Version != pa.Version+1 {
			t.Fatalf("after activate 1: %+v", p)
		}
		p, err = st.ActivatePluginVersion(ctx, a.ID, pa.ID, vs[2].ID, testActor)
		testdb.Must(t, err, "activate 3")
		if p.ActiveVersion != vs[2].ID || p.PreviousVersion != vs[0].ID {
			t.Fatalf("after activate 3: %+v", p)
		}
		// Re-activating the active version is a no-op.
		same, err := st.ActivatePluginVersion(ctx, a.ID, pa.ID, vs[2].ID, testActor)
		testdb.Must(t, err, "activate again")
		if same.Version != p.Version || same.PreviousVersion != vs[0].ID {
			t.Fatalf("no-op activate changed: %+v", same)
		}
		// Another plugin's version, another tenant's plugin.
		if _, err := st.ActivatePluginVersion(ctx, a.ID, pa.ID, vb.ID, testActor); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("foreign version: %v", err)
		}
		if _, err := st.ActivatePluginVersion(ctx, b.ID, pa.ID, vs[0].ID, testActor); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("foreign plugin: %v", err)
		}

		p, err = st.RollbackPluginVersion(ctx, a.ID, pa.ID, testActor)
		testdb.Must(t, err, "rollback")
		if p.ActiveVersion != vs[0].ID || p.PreviousVersion != vs[2].ID {
			t.Fatalf("after rollback: %+v", p)
		}
		stored, err := st.PluginBySlug(ctx, a.ID, "calc")
		testdb.Must(t, err, "reload")
		if stored.ActiveVersion != vs[0].ID || stored.PreviousVersion != vs[2].ID || stored.Version != p.Version {
			t.Fatalf("stored = %+v", stored)
		}

		log, err := st.AuditLog(ctx, a.ID, model.AuditFilter{TargetID: "calc"})
		testdb.Must(t, err, "audit")
		counts := map[string]int{}
		for _, e := range log {
			counts[e.Action]++
		}
		if counts["plugin.version.upload"] != 3 || counts["plugin.version.activate"] != 2 || counts["plugin.version.rollback"] != 1 {
			t.Fatalf("audit counts = %v", counts)
		}
	})
}

// TestOldVersionsArePruned: a plugin keeps its storage.MaxStoredVersions
// newest versions; an upload beyond them removes the oldest, but never
// the active version nor the previous one (the rollback target), and the
// upload's audit entry names what went.
func TestOldVersionsArePruned(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		a := newTenant(t, st, "alfa")
		p := newWasmPlugin(t, st, a.ID, "calc")
		upload := func(i int) *model.PluginVersion {
			v := &model.PluginVersion{ABIVersion: 1}
			testdb.Must(t, st.CreatePluginVersion(ctx, a.ID, p.ID, v, []byte(fmt.Sprintf("\x00asm %d", i)), testActor), "upload %d", i)
			return v
		}
		v1, v2 := upload(1), upload(2)
		_, err := st.ActivatePluginVersion(ctx, a.ID, p.ID, v1.ID, testActor)
		testdb.Must(t, err, "activate v1")
		_, err = st.ActivatePluginVersion(ctx, a.ID, p.ID, v2.ID, testActor) // v1 becomes the previous one
		testdb.Must(t, err, "activate v2")
		for i := 3; i <= storage.MaxStoredVersions+5; i++ {
			upload(i)
		}
		list, err := st.PluginVersions(ctx, a.ID, p.ID)
		testdb.Must(t, err, "list")
		var numbers []int
		for _, v := range list {
			numbers = append(numbers, v.Number)
		}
		// The 20 newest (6..25), and the active (2) and previous (1).
		want := []int{}
		for n := storage.MaxStoredVersions + 5; n > 5; n-- {
			want = append(want, n)
		}
		want = append(want, 2, 1)
		if !slices.Equal(numbers, want) {
			t.Fatalf("versions kept %v, want %v", numbers, want)
		}
		entries, err := st.AuditLog(ctx, a.ID, model.AuditFilter{Action: model.AuditPluginVersionUpload})
		testdb.Must(t, err, "audit")
		if len(entries) == 0 || !strings.Contains(entries[0].AfterJSON, `"pruned_versions":[5]`) {
			t.Errorf("the last upload's audit entry: %+v", entries[0])
		}
	})
}
