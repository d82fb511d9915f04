package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/cli"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestKeysRotate runs `portico keys rotate` and `portico keys list`
// in-process on SQLite: usage errors, an unknown tenant and a missing
// secret key exit 2 and create nothing; a rotation prints the new kid,
// stores it sealed and audited, and the second one is scheduled ahead.
func TestKeysRotate(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.URL(t, "sqlite")
	store, err := storage.Open(ctx, dbURL, storage.Options{Logger: testdb.Logger(t)})
	testdb.Must(t, err, "open store")
	t.Cleanup(func() { _ = store.Close() })
	testdb.Must(t, store.Migrate(ctx), "migrate")
	tenant := &model.Tenant{Slug: "acme", Name: "Acme Incorporadora", Hostnames: []string{"portal.acme.test"}}
	testdb.Must(t, tenant.Validate(false), "validate tenant")
	testdb.Must(t, store.CreateTenant(ctx, tenant, model.SystemActor("test")), "create tenant")
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	for k, v := range map[string]string{"PORTICO_DATABASE_URL": dbURL, "PORTICO_DATA_DIR": t.TempDir(),
		"PORTICO_LOG_LEVEL": "warn", "PORTICO_LOG_FORMAT": "", "PORTICO_DEMO": "", "PORTICO_SECRET_KEY": "",
		"PORTICO_ADDR": "", "PORTICO_TRUSTED_PROXIES": ""} {
		t.Setenv(k, v)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Main(append([]string{"keys"}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no subcommand", nil, "usage: portico keys rotate"},
		{"unknown subcommand", []string{"delete"}, "usage: portico keys rotate"},
		{"missing tenant", []string{"rotate"}, "--tenant is required"},
		{"stray argument", []string{"rotate", "--tenant", "acme", "now"}, `unexpected argument "now"`},
		{"unknown flag", []string{"rotate", "--tenant", "acme", "--force"}, "flag provided but not defined: -force"},
		{"no secret key", []string{"rotate", "--tenant", "acme"}, "PORTICO_SECRET_KEY is required"},
	} {
		if code, out, errs := run(tt.args...); code != 2 || out != "" || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and %q", tt.name, code, out, errs, tt.stderr)
		}
	}
	t.Setenv("PORTICO_SECRET_KEY", key)
	if code, _, errs := run("rotate", "--tenant", "nope"); code != 2 || !strings.Contains(errs, `no tenant with slug "nope"`) {
		t.Errorf("unknown tenant: exit %d, %q", code, errs)
	}
	if ks, _ := store.SigningKeys(ctx, tenant.ID); len(ks) != 0 {
		t.Fatalf("failed commands created keys: %v", ks)
	}

	code, out, errs := run("rotate", "--tenant", "acme")
	kid := strings.TrimSpace(out)
	if code != 0 || len(kid) != 43 || !strings.Contains(errs, "published now") {
		t.Fatalf("first rotate: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, _ = run("rotate", "--tenant", "acme")
	kid2 := strings.TrimSpace(out)
	if code != 0 || kid2 == kid {
		t.Fatalf("second rotate: exit %d, %q", code, out)
	}
	ks, err := store.SigningKeys(ctx, tenant.ID)
	testdb.Must(t, err, "keys")
	if len(ks) != 2 || ks[0].KID != kid || len(ks[0].PrivateKeySealed) < 40 || !ks[1].ActivatesAt.After(ks[0].ActivatesAt) {
		t.Fatalf("stored keys: %+v", ks)
	}
	if a, _ := store.AuditLog(ctx, tenant.ID, model.AuditFilter{Action: "signing_key.rotate"}); len(a) != 2 || a[0].ActorLabel != "portico keys rotate" {
		t.Errorf("rotations not audited: %+v", a)
	}
	code, out, _ = run("list", "--tenant", "acme")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || lines[0] != "KID\tSTATE\tACTIVATES\tRETIRES" ||
		!strings.HasPrefix(lines[1], kid+"\tcurrent\t") || !strings.HasPrefix(lines[2], kid2+"\tnext\t") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
}
