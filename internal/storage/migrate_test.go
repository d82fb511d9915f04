package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// storeAt opens a fresh database of driver migrated up to and including
// version, for a test that writes rows in that schema.
func storeAt(t *testing.T, driver string, version int64) *storage.Store {
	t.Helper()
	ctx := context.Background()
	st, err := storage.Open(ctx, testdb.URL(t, driver), storage.Options{Logger: testdb.Logger(t)})
	testdb.Must(t, err, "open")
	t.Cleanup(func() { _ = st.Close() })
	testdb.Must(t, st.MigrateToForTest(ctx, version), "migrate to %05d", version)
	return st
}

// legacyTenant inserts a tenant row with the columns every schema version
// has, for a test that writes rows in an older schema.
func legacyTenant(t *testing.T, st *storage.Store, id, slug string) {
	t.Helper()
	testdb.Must(t, st.ExecForTest(context.Background(), `INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		id, slug, "Legado", st.Now(), st.Now()), "tenant %s", slug)
}

// TestMigrationKeepsLegacySubjects: migration 00006 made subjects pairwise
// (one per plugin); a (plugin, user) pair that existed before keeps the
// per-tenant subject its plugin already stored, while a plugin created
// after the upgrade gets a fresh one, and the exchange's lookup by subject
// still finds the user.
func TestMigrationKeepsLegacySubjects(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storeAt(t, d, 5)

			// The rows of a 00005 database are written with the columns it
			// had (the model has more since).
			tn := &model.Tenant{ID: uuid.NewString(), Slug: "legado"}
			u := &model.User{ID: uuid.NewString(), Email: "l@legado.test"}
			legacyTenant(t, st, tn.ID, tn.Slug)
			testdb.Must(t, st.ExecForTest(ctx, `INSERT INTO users (id, tenant_id, email, name, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				u.ID, tn.ID, u.Email, "L", `["cliente"]`, st.Now(), st.Now()), "user")
			p1, p2 := newPlugin("um", 10), newPlugin("dois", 20)
			for _, p := range []*model.Plugin{p1, p2} {
				p.ID = uuid.NewString()
				testdb.Must(t, st.ExecForTest(ctx, `INSERT INTO plugins (id, tenant_id, slug, name, title, type, url, icon, visible_to, auth_type, position, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, tn.ID, p.Slug, p.Name, p.Title, p.Type, p.URL, p.Icon, p.VisibleTo, p.AuthType, p.Position, st.Now(), st.Now()), "insert %s", p.Slug)
			}
			const legacy = "LegacySubjectValue0001"
			testdb.Must(t, st.ExecForTest(ctx, "INSERT INTO launch_subjects (tenant_id, user_id, subject, created_at) VALUES (?, ?, ?, ?)",
				tn.ID, u.ID, legacy, st.Now()), "legacy subject")

			testdb.Must(t, st.Migrate(ctx), "migrate to the end")
			for _, p := range []*model.Plugin{p1, p2} {
				got, err := st.PluginSubject(ctx, tn.ID, p.ID, u.ID)
				if err != nil || got != legacy {
					t.Errorf("plugin %s after the upgrade: subject %q %v, want the stored %q", p.Slug, got, err, legacy)
				}
				if found, err := st.UserBySubject(ctx, tn.ID, p.ID, legacy); err != nil || found.ID != u.ID {
					t.Errorf("plugin %s: user by legacy subject: %v %v", p.Slug, found, err)
				}
			}
			p3 := newPlugin("tres", 30)
			testdb.Must(t, st.CreatePlugin(ctx, tn.ID, p3, model.SystemActor("test")), "p3")
			if got, err := st.PluginSubject(ctx, tn.ID, p3.ID, u.ID); err != nil || got == legacy || got == "" {
				t.Errorf("a plugin created after the upgrade: subject %q %v, want a fresh one", got, err)
			}
		})
	}
}

// TestMigrationRefusesSharedDocuments: migration 00013 makes a CPF or CNPJ
// unique per tenant. A database whose users already share one stops the
// upgrade with an error that names the problem (on PostgreSQL, the guide's
// section), and keeps its rows; once the gestor fixes them it upgrades.
func TestMigrationRefusesSharedDocuments(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storeAt(t, d, 12)
			// Rows in the 00012 schema (the model has more columns since).
			tn, other := uuid.NewString(), uuid.NewString()
			for _, id := range []string{tn, other} {
				legacyTenant(t, st, id, "t"+id[:8])
			}
			ids := []string{uuid.NewString(), uuid.NewString()}
			for i, tid := range []string{tn, tn, other} {
				id := uuid.NewString()
				if i < 2 {
					id = ids[i]
				}
				testdb.Must(t, st.ExecForTest(ctx, `INSERT INTO users (id, tenant_id, email, name, document, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					id, tid, fmt.Sprintf("p%d@legado.test", i), "P", "52998224725", `["cliente"]`, st.Now(), st.Now()), "user %d", i)
			}
			err := st.Migrate(ctx)
			want := map[string]string{"postgres": "share a CPF or CNPJ", "sqlite": "users.tenant_id, users.document"}[d]
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("migrating shared documents: %v, want an error with %q", err, want)
			}
			if u, err := st.UserByID(ctx, tn, ids[1]); err != nil || u.Document != "52998224725" {
				t.Fatalf("the second holder after the refused upgrade: %+v %v", u, err)
			}
			testdb.Must(t, st.ExecForTest(ctx, `UPDATE users SET document = '' WHERE id = ?`, ids[1]), "fix")
			testdb.Must(t, st.Migrate(ctx), "migrate once fixed")
			// Migration 00014: a tenant from before has Brasília time.
			if got, err := st.TenantByID(ctx, tn); err != nil || got.TimeZone != "America/Sao_Paulo" {
				t.Errorf("an existing tenant's zone after 00014: %+v %v", got, err)
			}
		})
	}
}

// TestMigrationFindsKeyCreators: migration 00016 records who created each
// API key; a key made before it is matched to its creator by the e-mail
// the key's created_by kept, so deactivating that gestor revokes it too,
// while a key whose creator is no user (another key, the command line)
// stays as it was, and so does one whose creator had already left.
func TestMigrationFindsKeyCreators(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storeAt(t, d, 15)
			tn := &model.Tenant{ID: uuid.NewString(), Slug: "legado"}
			legacyTenant(t, st, tn.ID, tn.Slug)
			// Roles as the store writes them: comma-separated names.
			gestorRow := func(email string, active bool) string {
				id := uuid.NewString()
				testdb.Must(t, st.ExecForTest(ctx, `INSERT INTO users (id, tenant_id, email, name, roles, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					id, tn.ID, email, "G", "gestor", active, st.Now(), st.Now()), "user %s", email)
				return id
			}
			gestor, gone := gestorRow("g@legado.test", true), gestorRow("saiu@legado.test", false)
			for _, k := range []struct{ id, by string }{{"k-gestor", "g@legado.test"}, {"k-cli", "cli"}, {"k-gone", "saiu@legado.test"}} {
				testdb.Must(t, st.ExecForTest(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scopes, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					k.id, tn.ID, k.id, "pk_", "hash-"+k.id, `["admin"]`, k.by, st.Now()), "key %s", k.id)
			}
			testdb.Must(t, st.Migrate(ctx), "migrate to the end")
			u, err := st.UserByID(ctx, tn.ID, gestor)
			testdb.Must(t, err, "read gestor")
			_, err = st.UpdateUser(ctx, tn.ID, gestor, u.Version, model.SystemActor("test"), func(u *model.User) error { u.Active = false; return nil })
			testdb.Must(t, err, "deactivate")
			if _, err := st.APIKeyByHash(ctx, tn.ID, "hash-k-gestor"); err == nil {
				t.Error("the key the deactivated gestor made before the upgrade still works")
			}
			if _, err := st.APIKeyByHash(ctx, tn.ID, "hash-k-cli"); err != nil {
				t.Errorf("the key the command line made: %v", err)
			}
			// The key of someone who had left before the upgrade is not
			// theirs: no later edit of that person revokes it in their name.
			if keys, err := st.ActiveAPIKeysBy(ctx, tn.ID, gone); err != nil || len(keys) != 0 {
				t.Errorf("a key of a gestor who had left was attributed to them: %v %v", keys, err)
			}
		})
	}
}

// TestMigrationErasesDeletedPluginsData: migration 00017 erases the
// secrets, module versions and key-value store of the plugins deleted
// before DeletePlugin erased them itself, and nothing of a live plugin.
func TestMigrationErasesDeletedPluginsData(t *testing.T) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := storeAt(t, d, 16) // 00017 adds no column: the store's methods write this schema
			tn := newTenant(t, st, "legado", "legado.test")
			gone, live := newWasmPlugin(t, st, tn.ID, "sai"), newWasmPlugin(t, st, tn.ID, "fica")
			for _, p := range []*model.Plugin{gone, live} {
				testdb.Must(t, st.PutSecret(ctx, tn.ID, p.ID, p.Slug, "erp_token", []byte("cifrado"), testActor), "secret")
				testdb.Must(t, st.KVSet(ctx, tn.ID, p.ID, "k", []byte("v")), "kv")
				testdb.Must(t, st.CreatePluginVersion(ctx, tn.ID, p.ID, &model.PluginVersion{ABIVersion: 1}, []byte("\x00asm "+p.Slug), testActor), "version")
			}
			// Deleted the way it was before 00017: the row only.
			testdb.Must(t, st.ExecForTest(ctx, "UPDATE plugins SET deleted_at = ? WHERE id = ?", st.Now(), gone.ID), "soft delete")
			testdb.Must(t, st.Migrate(ctx), "migrate to the end")
			for _, tc := range []struct {
				p    *model.Plugin
				want int
			}{{gone, 0}, {live, 1}} {
				for _, table := range []string{"plugin_secrets", "plugin_versions", "plugin_kv"} {
					var n int
					testdb.Must(t, st.RawSQL().QueryRowContext(ctx, st.BindForTest("SELECT count(*) FROM "+table+" WHERE plugin_id = ?"), tc.p.ID).Scan(&n), "count")
					if n != tc.want {
						t.Errorf("%s of %s: %d rows, want %d", table, tc.p.Slug, n, tc.want)
					}
				}
			}
		})
	}
}
