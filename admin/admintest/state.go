package admintest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// State is a digest of everything of one tenant the admin API can change:
// plugins (live and their versions), configuration, secrets, stored data
// (the first keys of each plugin's store), users, API keys, tenant
// settings and the audit log's length. Two equal digests
// mean nothing was written.
func State(t *testing.T, p *servertest.Portal, tenantID string) string {
	t.Helper()
	ctx := context.Background()
	st := p.Store
	var b strings.Builder
	ps, err := st.Plugins(ctx, tenantID)
	testdb.Must(t, err, "plugins")
	for _, pl := range ps {
		fmt.Fprintf(&b, "plugin %s %s %q %v %d %d\n", pl.ID, pl.Slug, pl.Title, pl.Active, pl.Position, pl.Version)
		cfg, err := st.PluginConfig(ctx, tenantID, pl.ID)
		testdb.Must(t, err, "config")
		for _, c := range cfg {
			fmt.Fprintf(&b, "  config %s %s %q\n", c.Key, c.Type, c.Value)
		}
		secrets, err := st.Secrets(ctx, tenantID, pl.ID)
		testdb.Must(t, err, "secrets")
		for _, s := range secrets {
			fmt.Fprintf(&b, "  secret %s %s\n", s.Name, s.UpdatedAt)
		}
		keys, err := st.KVKeys(ctx, tenantID, pl.ID, "", "", storage.MaxKVPage)
		testdb.Must(t, err, "kv keys")
		for _, k := range keys {
			fmt.Fprintf(&b, "  kv %q %d %s\n", k.Key, k.Size, k.UpdatedAt)
		}
	}
	us, err := st.Users(ctx, tenantID, "", 100, 0)
	testdb.Must(t, err, "users")
	for _, u := range us {
		fmt.Fprintf(&b, "user %s %s %q %v %v %d\n", u.ID, u.Email, u.Name, u.Roles, u.Active, u.Version)
	}
	ks, err := st.APIKeys(ctx, tenantID)
	testdb.Must(t, err, "api keys")
	for _, k := range ks {
		fmt.Fprintf(&b, "key %s %s %v revoked=%v\n", k.ID, k.Name, k.Scopes, k.RevokedAt != nil)
	}
	tn, err := st.TenantByID(ctx, tenantID)
	testdb.Must(t, err, "tenant")
	fmt.Fprintf(&b, "tenant %q %q %s %d\n", tn.Name, tn.BrandName, tn.PrimaryColor, tn.Version)
	n, err := st.CountAudit(ctx, tenantID)
	testdb.Must(t, err, "count audit")
	fmt.Fprintf(&b, "audit %d\n", n)
	return b.String()
}

// RouteParam matches the parameters of a route pattern (":slug",
// ":id?"), the name in its first group.
var RouteParam = regexp.MustCompile(`:([a-zA-Z_]+)\??`)
