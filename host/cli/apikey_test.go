package cli_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/cli"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAPIKeyCreate runs `portico apikey create` in-process against a real
// database of each driver: the key is printed alone on stdout and works
// (its hash is found with the asked scopes); usage errors, an unknown
// tenant and a bad scope exit 2 with a message and create nothing.
func TestAPIKeyCreate(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			dbURL := testdb.URL(t, driver)
			store, err := storage.Open(ctx, dbURL, storage.Options{Logger: testdb.Logger(t)})
			testdb.Must(t, err, "open store")
			t.Cleanup(func() { _ = store.Close() })
			testdb.Must(t, store.Migrate(ctx), "migrate")
			tenant := &model.Tenant{Slug: "acme", Name: "Acme Incorporadora", Hostnames: []string{"portal.acme.test"}}
			testdb.Must(t, tenant.Validate(false), "validate tenant")
			testdb.Must(t, store.CreateTenant(ctx, tenant, model.SystemActor("test")), "create tenant")

			for k, v := range map[string]string{"PORTICO_DATABASE_URL": dbURL, "PORTICO_DATA_DIR": t.TempDir(),
				"PORTICO_LOG_LEVEL": "warn", "PORTICO_LOG_FORMAT": "", "PORTICO_DEMO": "", "PORTICO_SECRET_KEY": "",
				"PORTICO_ADDR": "", "PORTICO_TRUSTED_PROXIES": ""} {
				t.Setenv(k, v)
			}
			tests := []struct {
				name   string
				args   []string
				code   int
				stderr string // a fragment stderr must contain
			}{
				{"unknown tenant", []string{"create", "--tenant", "nope", "--name", "ERP", "--scopes", "admin"}, 2, `no tenant with slug "nope"`},
				{"unknown scope", []string{"create", "--tenant", "acme", "--name", "ERP", "--scopes", "admin,root"}, 2, `unknown scope "root"`},
				{"no scope", []string{"create", "--tenant", "acme", "--name", "ERP", "--scopes", " , "}, 2, "at least one scope"},
				{"missing scopes", []string{"create", "--tenant", "acme", "--name", "ERP"}, 2, "--scopes"},
				{"missing tenant", []string{"create", "--name", "ERP", "--scopes", "admin"}, 2, "--tenant is required"},
				{"missing name", []string{"create", "--tenant", "acme", "--scopes", "admin"}, 2, "--name is required"},
				{"name too long", []string{"create", "--tenant", "acme", "--name", strings.Repeat("n", 81), "--scopes", "admin"}, 2, "--name: too long"},
				{"unknown flag", []string{"create", "--tenant", "acme", "--name", "ERP", "--scopes", "admin", "--forever"}, 2, "flag provided but not defined: -forever"},
				{"stray argument", []string{"create", "--tenant", "acme", "--name", "ERP", "--scopes", "admin", "extra"}, 2, `unexpected argument "extra"`},
				{"no subcommand", nil, 2, "usage: portico apikey create"},
				{"unknown subcommand", []string{"list"}, 2, "usage: portico apikey create"},
			}
			for _, tt := range tests {
				var out, errb bytes.Buffer
				code := cli.Main(append([]string{"apikey"}, tt.args...), &out, &errb)
				if code != tt.code || !strings.Contains(errb.String(), tt.stderr) || out.Len() != 0 {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and stderr with %q", tt.name, code, out.String(), errb.String(), tt.code, tt.stderr)
				}
			}
			if ks, err := store.APIKeys(ctx, tenant.ID); err != nil || len(ks) != 0 {
				t.Fatalf("failed commands created keys: %v %v", ks, err)
			}

			var out, errb bytes.Buffer
			code := cli.Main([]string{"apikey", "create", "--tenant", "acme", "--name", "ERP Financeiro", "--scopes", "admin,portal_sessions"}, &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "pk_") || len(lines[0]) < 40 {
				t.Fatalf("stdout is not one key line: %q", out.String())
			}
			key := lines[0]
			if !strings.Contains(errb.String(), "shown only this once") || strings.Contains(errb.String(), key) {
				t.Errorf("stderr note: %q", errb.String())
			}
			k, err := store.APIKeyByHash(ctx, tenant.ID, auth.HashToken(key))
			testdb.Must(t, err, "the printed key is not in the store")
			if k.Name != "ERP Financeiro" || !slices.Equal([]string(k.Scopes), []string{"admin", "portal_sessions"}) || !k.HasScope(model.ScopeAdmin) {
				t.Errorf("stored key %+v", k)
			}
			if k.Hash == key || strings.Contains(k.Hash, key) || !strings.HasPrefix(key, k.Prefix) {
				t.Errorf("stored hash/prefix: %+v", k)
			}
			entries, err := store.AuditLog(ctx, tenant.ID, model.AuditFilter{Action: "api_key.create"})
			testdb.Must(t, err, "audit")
			if len(entries) != 1 || entries[0].ActorType != "system" || strings.Contains(entries[0].AfterJSON, key) {
				t.Errorf("audit entries %+v", entries)
			}
		})
	}
}
