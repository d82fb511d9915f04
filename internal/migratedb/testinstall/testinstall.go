// Package testinstall seeds a realistic Portico installation for the
// tests that move, back up and restore a database, and checks that another
// store holds the same installation: the demo tenant (internal/demo) with
// its accounts and plugins, plugin configuration and encrypted secrets,
// wasm module versions, plugin KV, login sessions, an API key, a portal
// session with its login and one-time code, launch signing keys, a used
// launch token and pairwise subjects, an action result, a password-reset
// link, a soft-deleted plugin, and the audit log all of it wrote.
package testinstall

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/portalsession"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

// BaseURL is the portal origin the installation was seeded for.
const BaseURL = "http://localhost:8080"

// Installation is what Seed wrote and what Check expects to read back.
type Installation struct {
	// Key is the PORTICO_SECRET_KEY the secrets and signing keys are
	// sealed with.
	Key    []byte
	Box    *secret.Box
	Tenant *model.Tenant
	// SessionToken is the cliente's login cookie; APIKey an admin key.
	SessionToken string
	APIKey       string
	// Finance is the finance plugin (a wasm plugin with secrets, config,
	// a module version and KV).
	Finance       *model.Plugin
	FinanceModule []byte
	// LaunchToken was exchanged once already, through ClientID and
	// ClientSecret of the example app plugin.
	LaunchToken            string
	ClientID, ClientSecret string
	PortalSessionID        string
	ActionResultID         string
	// KV holds the finance plugin's KV entries.
	KV map[string][]byte
}

// Seed writes a realistic installation through store (migrated, empty).
func Seed(t testing.TB, store *storage.Store) *Installation {
	t.Helper()
	ctx := context.Background()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	in := &Installation{Key: make([]byte, secret.KeySize), KV: map[string][]byte{}}
	_, _ = rand.Read(in.Key)
	var err error
	in.Box, err = secret.New(in.Key)
	must(err, "secret box")

	seeded, err := demo.Seed(ctx, store, BaseURL)
	must(err, "demo")
	if !seeded {
		t.Fatal("seed demo: the database already had a tenant")
	}
	in.Tenant, err = store.TenantBySlug(ctx, demo.TenantSlug)
	must(err, "tenant")
	dir := t.TempDir()
	credFile := filepath.Join(dir, demo.ExampleAppCredentialsFile)
	must(demo.EnsureExampleApp(ctx, store, BaseURL, demo.ExampleAppURL, credFile), "example app")
	var creds struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	raw, err := os.ReadFile(credFile)
	must(err, "example app credentials")
	must(json.Unmarshal(raw, &creds), "example app credentials")
	in.ClientID, in.ClientSecret = creds.ClientID, creds.ClientSecret

	// Wasm plugins with module versions: any bytes pass this check, and
	// 200 KiB of random ones make a module that is not text.
	check := func(context.Context, []byte) (int, error) { return 1, nil }
	in.FinanceModule = append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, 200<<10)...)
	_, _ = rand.Read(in.FinanceModule[8:])
	finPath := filepath.Join(dir, "financeiro.wasm")
	must(os.WriteFile(finPath, in.FinanceModule, 0o600), "module file")
	installed, err := demo.InstallFinanceiro(ctx, store, demo.Finance{Module: finPath, Check: check, Box: in.Box,
		APIURL: "https://erp.example.com.br/api/v1", User: erp.DemoUser, Password: erp.DemoPassword})
	must(err, "finance plugin")
	if !installed {
		t.Fatal("seed finance plugin: not installed")
	}
	helloPath := filepath.Join(dir, "hello.wasm")
	must(os.WriteFile(helloPath, []byte("\x00asm\x01\x00\x00\x00hello"), 0o600), "module file")
	_, err = demo.InstallHello(ctx, store, helloPath, check)
	must(err, "hello plugin")
	in.Finance, err = store.PluginBySlug(ctx, in.Tenant.ID, demo.FinanceiroSlug)
	must(err, "finance plugin")

	// A second module version, then a rollback: both version columns set.
	v2 := &model.PluginVersion{ABIVersion: 1}
	must(store.CreatePluginVersion(ctx, in.Tenant.ID, in.Finance.ID, v2, append(in.FinanceModule[:len(in.FinanceModule):len(in.FinanceModule)], 1, 2, 3), model.SystemActor("test")), "module v2")
	_, err = store.ActivatePluginVersion(ctx, in.Tenant.ID, in.Finance.ID, v2.ID, model.SystemActor("test"))
	must(err, "activate v2")
	in.Finance, err = store.RollbackPluginVersion(ctx, in.Tenant.ID, in.Finance.ID, model.SystemActor("test"))
	must(err, "rollback")

	// Titles per language (JSON text) and a soft-deleted plugin.
	in.Finance, err = store.UpdatePlugin(ctx, in.Tenant.ID, demo.FinanceiroSlug, in.Finance.Version, model.SystemActor("test"), model.AuditPluginUpdate,
		func(p *model.Plugin) error {
			p.Titles = map[string]string{"es": "Finanzas", "en": "Billing — “boletos”"}
			return nil
		})
	must(err, "plugin titles")
	vistoria, err := store.PluginBySlug(ctx, in.Tenant.ID, "vistoria")
	must(err, "vistoria")
	must(store.DeletePlugin(ctx, in.Tenant.ID, "vistoria", vistoria.Version, model.SystemActor("test")), "delete vistoria")

	// Plugin KV, binary values included.
	in.KV["boletos:52998224725"] = []byte(`{"parcelas":[{"n":1,"valor":"1.234,56"}]}`)
	in.KV["bin"] = []byte{0, 0xff, 0xfe, '\n', 0x80}
	in.KV["vazio"] = []byte{}
	for k, v := range in.KV {
		must(store.KVSet(ctx, in.Tenant.ID, in.Finance.ID, k, v), "kv")
	}

	cliente, err := store.UserByEmail(ctx, in.Tenant.ID, demo.Accounts[0].Email)
	must(err, "cliente")
	// A profile change with non-ASCII text, audited.
	_, err = store.UpdateUser(ctx, in.Tenant.ID, cliente.ID, cliente.Version, model.SystemActor("test"), func(u *model.User) error {
		u.Phone = "+5511999990000"
		u.Address = model.Address{CEP: "01001000", Street: "Rua São João", Number: "100", Complement: "1º andar", District: "Sé", City: "São Paulo", State: "SP"}
		return nil
	})
	must(err, "update cliente")

	// A login session and an action result that belongs to it.
	in.SessionToken = auth.NewToken()
	now := store.Now()
	sess := &model.Session{ID: auth.HashToken(in.SessionToken), UserID: cliente.ID, CSRFToken: auth.NewToken(), Role: model.RoleCliente,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(2 * time.Hour)}
	must(store.CreateSession(ctx, in.Tenant.ID, sess), "session")
	ar := &model.ActionResult{TenantID: in.Tenant.ID, SessionID: sess.ID, PluginID: in.Finance.ID, Status: 200, Body: `{"title":"Segunda via"}`}
	must(store.SaveActionResult(ctx, ar), "action result")
	in.ActionResultID = ar.ID

	// An API key, and a portal session it created, opened, with a code.
	in.APIKey = "pk_" + auth.NewToken()
	key := &model.APIKey{Name: "ERP", Scopes: model.StringList{string(model.ScopeAdmin), string(model.ScopePortalSessions)},
		Prefix: in.APIKey[:9], Hash: auth.HashToken(in.APIKey)}
	must(store.CreateAPIKey(ctx, in.Tenant.ID, key, model.SystemActor("test")), "api key")
	psToken := auth.NewToken()
	ps := &model.PortalSession{ID: portalsession.NewID(), APIKeyID: key.ID, UserID: cliente.ID, TokenHash: auth.HashToken(psToken),
		ReturnURL: "http://localhost:3000/", Forward: model.ForwardProfile, Locale: "es", ExpiresAt: now.Add(30 * time.Minute)}
	must(store.CreatePortalSession(ctx, in.Tenant.ID, ps, model.Actor{Type: "api_key", ID: key.ID, Label: key.Name, IP: "203.0.113.7"}), "portal session")
	login := &model.Session{ID: auth.HashToken(auth.NewToken()), CSRFToken: auth.NewToken(), Role: model.RoleCliente,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	_, _, err = store.OpenPortalSession(ctx, in.Tenant.ID, ps.TokenHash, login, "203.0.113.8")
	must(err, "open portal session")
	must(store.CreatePortalLoginCode(ctx, in.Tenant.ID, ps.ID, auth.HashToken("123456"), 10*time.Minute), "portal login code")
	in.PortalSessionID = ps.ID

	// A password-reset link for the síndico.
	sindico, err := store.UserByEmail(ctx, in.Tenant.ID, demo.Accounts[1].Email)
	must(err, "sindico")
	must(store.CreatePasswordReset(ctx, in.Tenant.ID, sindico.ID, auth.HashToken(auth.NewToken()), time.Hour, model.SystemActor("test")), "password reset")

	// Launch: the first token creates the tenant's signing key (sealed
	// with Key) and the user's pairwise subject; its exchange records the
	// jti. A rotation adds a second key.
	svc := launch.NewService(store, in.Box, launch.Options{Logger: testdb.Logger(t)})
	exemplo, err := store.PluginBySlug(ctx, in.Tenant.ID, demo.ExampleAppSlug)
	must(err, "example plugin")
	in.LaunchToken, err = svc.Mint(ctx, launch.MintInput{Tenant: in.Tenant, Plugin: exemplo, User: cliente, Role: model.RoleCliente, Locale: "pt-BR", Issuer: BaseURL})
	must(err, "mint launch token")
	_, err = svc.Exchange(ctx, in.Tenant, BaseURL, in.ClientID, in.ClientSecret, in.LaunchToken)
	must(err, "exchange launch token")
	_, err = svc.Rotate(ctx, in.Tenant.ID, model.SystemActor("test"))
	must(err, "rotate signing key")
	return in
}

// Check verifies that store holds the installation in: that each thing
// Seed wrote reads back as it does from the source store src (times to
// PostgreSQL's microsecond), that the secrets decrypt with in.Key, that
// the cliente's password, session and the API key still log in, and that
// the launch token already exchanged is refused as used.
func (in *Installation) Check(t testing.TB, src, store *storage.Store) {
	t.Helper()
	ctx := context.Background()
	want, got := Snapshot(t, src, in), Snapshot(t, store, in)
	for k := range want {
		if !reflect.DeepEqual(want[k], got[k]) {
			wj, _ := json.Marshal(want[k])
			gj, _ := json.Marshal(got[k])
			t.Errorf("%s differs:\n source %s\n target %s", k, clip(wj), clip(gj))
		}
	}

	tid := in.Tenant.ID
	for name, value := range map[string]string{"erp_usuario": erp.DemoUser, "erp_senha": erp.DemoPassword} {
		sealed, err := store.SecretCiphertext(ctx, tid, in.Finance.ID, name)
		if err != nil {
			t.Fatalf("secret %s: %v", name, err)
		}
		plain, err := in.Box.Open(tid, in.Finance.ID, name, sealed)
		if err != nil || string(plain) != value {
			t.Errorf("secret %s decrypts to %q, %v; want %q", name, plain, err, value)
		}
	}
	cliente, err := store.UserByEmail(ctx, tid, demo.Accounts[0].Email)
	if err != nil {
		t.Fatalf("cliente: %v", err)
	}
	if err := auth.VerifyPassword(ctx, cliente.PasswordHash, demo.Password); err != nil {
		t.Errorf("the cliente's password no longer verifies: %v", err)
	}
	if sess, u, err := store.SessionUser(ctx, tid, auth.HashToken(in.SessionToken)); err != nil || u.ID != cliente.ID || sess.Role != model.RoleCliente {
		t.Errorf("the cliente's login session: %v", err)
	}
	if k, err := store.KeyFromHeader(ctx, tid, "Bearer "+in.APIKey, model.ScopeAdmin); err != nil || k.Name != "ERP" {
		t.Errorf("the API key: %v", err)
	}
	if tn, err := store.TenantByHost(ctx, "localhost"); err != nil || tn.ID != tid {
		t.Errorf("tenant by host: %v", err)
	}

	// The signing keys open with the same key: the launch token verifies,
	// is refused as already used, and a new one can be minted.
	svc := launch.NewService(store, in.Box, launch.Options{Logger: testdb.Logger(t)})
	_, err = svc.Exchange(ctx, in.Tenant, BaseURL, in.ClientID, in.ClientSecret, in.LaunchToken)
	if launch.CodeOf(err) != launch.CodeTokenUsed {
		t.Errorf("exchanging the used token again: %v, want %s", err, launch.CodeTokenUsed)
	}
	exemplo, err := store.PluginBySlug(ctx, tid, demo.ExampleAppSlug)
	if err != nil {
		t.Fatalf("example plugin: %v", err)
	}
	tok, err := svc.Mint(ctx, launch.MintInput{Tenant: in.Tenant, Plugin: exemplo, User: cliente, Role: model.RoleCliente, Locale: "pt-BR", Issuer: BaseURL})
	if err != nil {
		t.Fatalf("mint on the copy (signing key sealed with the same PORTICO_SECRET_KEY): %v", err)
	}
	if u, err := svc.Exchange(ctx, in.Tenant, BaseURL, in.ClientID, in.ClientSecret, tok); err != nil || u.ID == "" {
		t.Errorf("exchange a new token on the copy: %v", err)
	}
}

// Snapshot reads, through store, everything Seed wrote, as JSON-shaped
// values whose times are cut to microseconds in UTC, so that a SQLite
// store and a PostgreSQL store holding the same rows give equal snapshots.
func Snapshot(t testing.TB, store *storage.Store, in *Installation) map[string]any {
	t.Helper()
	ctx := context.Background()
	tid := in.Tenant.ID
	out := map[string]any{}
	put := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		out[name] = normalise(t, v)
	}
	tenant, err := store.TenantByID(ctx, tid)
	put("tenant", tenant, err)
	users, err := store.Users(ctx, tid, "", 1000, 0)
	put("users", users, err)
	plugins, err := store.Plugins(ctx, tid)
	put("plugins", plugins, err)
	_, err = store.PluginBySlug(ctx, tid, "vistoria")
	if !errors.Is(err, model.ErrNotFound) {
		t.Errorf("snapshot: the deleted plugin reads back: %v", err)
	}
	cfg, err := store.PluginConfig(ctx, tid, in.Finance.ID)
	put("finance config", cfg, err)
	secrets, err := store.Secrets(ctx, tid, in.Finance.ID)
	put("finance secret names", secrets, err)
	versions, err := store.PluginVersions(ctx, tid, in.Finance.ID)
	put("finance versions", versions, err)
	for _, v := range versions {
		m, err := store.PluginModule(ctx, tid, v.ID)
		put("module "+v.ID, m, err)
	}
	for k := range in.KV {
		v, found, err := store.KVGet(ctx, tid, in.Finance.ID, k)
		if !found {
			err = errors.New("not found")
		}
		put("kv "+k, v, err)
	}
	keys, err := store.APIKeys(ctx, tid)
	put("api keys", keys, err)
	audit, err := store.AuditLog(ctx, tid, model.AuditFilter{})
	put("audit log", audit, err)
	n, err := store.CountAudit(ctx, tid)
	put("audit count", n, err)
	sk, err := store.SigningKeys(ctx, tid)
	put("signing keys", sk, err)
	ps, live, err := store.PortalSession(ctx, tid, in.PortalSessionID)
	put("portal session", map[string]any{"session": ps, "live": live}, err)
	// The pair the seeded launch created (PluginSubject creates a missing
	// one, so only an existing pair is read).
	cliente, err := store.UserByEmail(ctx, tid, demo.Accounts[0].Email)
	put("cliente", cliente, err)
	exemplo, err := store.PluginBySlug(ctx, tid, demo.ExampleAppSlug)
	put("example plugin", exemplo, err)
	sub, err := store.PluginSubject(ctx, tid, exemplo.ID, cliente.ID)
	put("subject", sub, err)
	sess, _, err := store.SessionUser(ctx, tid, auth.HashToken(in.SessionToken))
	put("session", sess, err)
	ar, err := store.ActionResult(ctx, tid, auth.HashToken(in.SessionToken), in.ActionResultID)
	put("action result", ar, err)
	return out
}

// normalise turns v into JSON-shaped values with every RFC 3339 time cut
// to microseconds in UTC.
func normalise(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return walk(out)
}

func walk(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = walk(e)
		}
	case []any:
		for i, e := range x {
			x[i] = walk(e)
		}
	case string:
		if tm, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
			return tm.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
		}
	}
	return v
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
