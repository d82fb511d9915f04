package launch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

const issuer = "https://portal.acme.test"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	store  *storage.Store
	svc    *launch.Service
	clock  *clock
	tenant *model.Tenant
	plugin *model.Plugin
	other  *model.Plugin // a second token plugin of the same tenant
	user   *model.User
	secret string
	box    *secret.Box
}

func newFixture(t testing.TB, driver string) *fixture {
	t.Helper()
	ctx := context.Background()
	st := testdb.Open(t, driver)
	tn := &model.Tenant{Slug: "acme", Name: "Acme", Hostnames: []string{"portal.acme.test"}}
	testdb.Must(t, tn.Validate(false), "validate tenant")
	testdb.Must(t, st.CreateTenant(ctx, tn, model.SystemActor("test")), "create tenant")
	f := &fixture{store: st, tenant: tn, clock: &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}}
	mk := func(slug string, fields ...string) (*model.Plugin, string) {
		p := &model.Plugin{Slug: slug, Name: slug, Title: slug, Type: model.PluginIframe, URL: "https://apps.acme.test/" + slug,
			Icon: "alerta", Active: true, ShowInPortal: true, Size: model.SizeMedio, VisibleTo: model.VisibleAmbos,
			AuthType: model.AuthToken, Position: 10, UserFields: fields, TokenTTLSeconds: 60, LaunchMethod: model.LaunchPost}
		testdb.Must(t, p.Validate(model.PluginRules{IconExists: icon.Exists}), "validate plugin")
		sec := "pcs_" + auth.NewToken()
		p.ClientID, p.ClientSecretHash = "pc_"+strings.ToLower(auth.NewToken()[:20]), auth.HashToken(sec)
		testdb.Must(t, st.CreatePlugin(ctx, tn.ID, p, model.SystemActor("test")), "create plugin")
		return p, sec
	}
	f.plugin, f.secret = mk("financeiro", model.UserFieldName, model.UserFieldEmail)
	f.other, _ = mk("chamados")
	f.user = &model.User{Email: "maria@acme.test", Name: "Maria Souza", Document: "12345678909", Phone: "+5511999990000",
		Roles: model.Roles{model.RoleCliente, model.RoleSindico}, Active: true}
	testdb.Must(t, f.user.Validate(), "validate user")
	testdb.Must(t, st.CreateUser(ctx, tn.ID, f.user), "create user")
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	testdb.Must(t, err, "box")
	f.box = box
	f.svc = launch.NewService(st, box, launch.Options{Now: f.clock.Now, Logger: testdb.Logger(t)})
	return f
}

func (f *fixture) mint(t testing.TB) string {
	t.Helper()
	tok, err := f.svc.Mint(context.Background(), launch.MintInput{Tenant: f.tenant, Plugin: f.plugin, User: f.user,
		Role: model.RoleSindico, Locale: "es", Issuer: issuer})
	testdb.Must(t, err, "mint")
	return tok
}

// TestMintVerifiesWithJWKSAsAnIntegratorWould checks the token against the
// published JWKS with jwx alone (no Portico code), and its exact shape:
// header alg EdDSA with kid and typ, the documented claims and nothing
// personal.
func TestMintVerifiesWithJWKSAsAnIntegratorWould(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	tok := f.mint(t)
	doc, err := f.svc.JWKS(ctx, f.tenant.ID)
	testdb.Must(t, err, "jwks")
	set, err := jwk.Parse(doc)
	testdb.Must(t, err, "parse jwks %s", doc)
	if set.Len() != 1 || !strings.Contains(string(doc), `"alg":"EdDSA"`) || !strings.Contains(string(doc), `"use":"sig"`) ||
		!strings.Contains(string(doc), `"crv":"Ed25519"`) || strings.Contains(string(doc), `"d"`) {
		t.Fatalf("jwks: %s", doc)
	}
	parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(f.clock.Now)), jwt.WithIssuer(issuer), jwt.WithAudience(f.plugin.ClientID))
	testdb.Must(t, err, "verify with jwks")
	if sub, _ := parsed.Subject(); len(sub) != 22 || sub == f.user.ID {
		t.Errorf("sub %q: want a 22-char opaque subject, not the user id", sub)
	}

	parts := strings.Split(tok, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	keys, _ := f.svc.Keys(ctx, f.tenant.ID)
	if want := `{"alg":"EdDSA","kid":"` + keys[0].KID + `","typ":"JWT"}`; string(hdr) != want {
		t.Errorf("header %s, want %s", hdr, want)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	testdb.Must(t, json.Unmarshal(payload, &claims), "payload")
	now := float64(f.clock.Now().Unix())
	want := map[string]any{"iss": issuer, "aud": f.plugin.ClientID, "iat": now, "nbf": now, "exp": now + 60,
		"portico": map[string]any{"tenant": "acme", "plugin": "financeiro", "role": "sindico", "locale": "es"}}
	for k, v := range want {
		got, _ := json.Marshal(claims[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("claim %s = %s, want %s", k, got, exp)
		}
	}
	if len(claims) != 8 {
		t.Errorf("claims %v: want exactly iss aud sub iat nbf exp jti portico", claims)
	}
	for _, personal := range []string{f.user.Email, f.user.Name, f.user.Document, f.user.Phone, f.user.ID} {
		if strings.Contains(string(payload), personal) {
			t.Errorf("token payload carries %q", personal)
		}
	}
	if tok2 := f.mint(t); tok2 == tok {
		t.Errorf("two mints gave the same token (jti not random)")
	}
}

// TestTokenTTL follows the plugin's lifetime, clamped to 10–300 s.
func TestTokenTTL(t *testing.T) {
	f := newFixture(t, "sqlite")
	for _, tc := range []struct{ set, want int }{{0, 60}, {10, 10}, {9, 10}, {300, 300}, {301, 300}, {120, 120}} {
		p := *f.plugin
		p.TokenTTLSeconds = tc.set
		tok, err := f.svc.Mint(context.Background(), launch.MintInput{Tenant: f.tenant, Plugin: &p, User: f.user, Role: model.RoleCliente, Locale: "pt-BR", Issuer: issuer})
		testdb.Must(t, err, "mint")
		c, err := f.svc.Verify(context.Background(), f.tenant.ID, issuer, p.ClientID, tok)
		testdb.Must(t, err, "verify")
		if got := int(c.Expires - c.IssuedAt); got != tc.want {
			t.Errorf("ttl %d: token lives %d s, want %d", tc.set, got, tc.want)
		}
	}
}

// TestMintRefuses plugins and users that cannot be launched.
func TestMintRefuses(t *testing.T) {
	f := newFixture(t, "sqlite")
	other := &model.Tenant{ID: "other-tenant", Slug: "outra"}
	tests := []struct {
		name string
		edit func(in *launch.MintInput)
	}{
		{"auth none", func(in *launch.MintInput) { in.Plugin.AuthType = model.AuthNone }},
		{"wasm plugin", func(in *launch.MintInput) { in.Plugin.Type = model.PluginWasm }},
		{"no client id", func(in *launch.MintInput) { in.Plugin.ClientID = "" }},
		{"inactive plugin", func(in *launch.MintInput) { in.Plugin.Active = false }},
		{"inactive user", func(in *launch.MintInput) { in.User.Active = false }},
		{"role not held", func(in *launch.MintInput) { in.Role = model.RoleGestor }},
		{"other tenant", func(in *launch.MintInput) { in.Tenant = other }},
		{"no issuer", func(in *launch.MintInput) { in.Issuer = "" }},
		{"no user", func(in *launch.MintInput) { in.User = nil }},
	}
	for _, tt := range tests {
		p, u := *f.plugin, *f.user
		in := launch.MintInput{Tenant: f.tenant, Plugin: &p, User: &u, Role: model.RoleCliente, Locale: "pt-BR", Issuer: issuer}
		tt.edit(&in)
		if _, err := f.svc.Mint(context.Background(), in); !errors.Is(err, launch.ErrNotLaunchable) {
			t.Errorf("%s: %v, want ErrNotLaunchable", tt.name, err)
		}
	}
}

// TestKeyLifecycle walks a rotation through time: the new key is published
// before it signs, the old one stays published and accepted until its
// tokens expired plus a cache period, then leaves the JWKS, stops
// verifying and has its private key wiped by the next rotation.
func TestKeyLifecycle(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	if ks, _ := f.svc.Keys(ctx, f.tenant.ID); len(ks) != 0 {
		t.Fatalf("keys before first use: %v", ks)
	}
	old := f.mint(t)
	ks, _ := f.svc.Keys(ctx, f.tenant.ID)
	if len(ks) != 1 || ks[0].State != launch.KeyCurrent || ks[0].Algorithm != "EdDSA" {
		t.Fatalf("after first mint: %+v", ks)
	}
	oldKID := ks[0].KID
	actor := model.Actor{Type: "user", ID: "g1", Label: "gestor@acme.test"}
	ki, err := f.svc.Rotate(ctx, f.tenant.ID, actor)
	testdb.Must(t, err, "rotate")
	if ki.State != launch.KeyNext || !ki.ActivatesAt.Equal(f.clock.Now().Add(launch.PublishAhead)) || ki.CreatedBy != actor.Label {
		t.Fatalf("rotated key %+v: want next, activating after %s", ki, launch.PublishAhead)
	}
	if a, _ := f.store.AuditLog(ctx, f.tenant.ID, model.AuditFilter{Action: "signing_key.rotate"}); len(a) != 1 || a[0].TargetID != ki.KID {
		t.Errorf("rotation not audited: %+v", a)
	}
	jwksKIDs := func() []string {
		doc, err := f.svc.JWKS(ctx, f.tenant.ID)
		testdb.Must(t, err, "jwks")
		var d struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		testdb.Must(t, json.Unmarshal(doc, &d), "decode jwks")
		var out []string
		for _, k := range d.Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	kidOf := func(tok string) string {
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var v struct{ Kid string }
		_ = json.Unmarshal(h, &v)
		return v.Kid
	}
	if got := jwksKIDs(); len(got) != 2 || got[0] != oldKID || got[1] != ki.KID {
		t.Fatalf("jwks right after rotation %v: want old and new", got)
	}
	if kid := kidOf(f.mint(t)); kid != oldKID {
		t.Errorf("the new key signed before its activation")
	}
	f.clock.Add(launch.PublishAhead)
	last := f.mint(t) // the first token of the new key; the old key's last token was just before
	if kidOf(last) != ki.KID {
		t.Errorf("the new key does not sign after its activation")
	}
	ks, _ = f.svc.Keys(ctx, f.tenant.ID)
	if ks[0].State != launch.KeyPrevious || ks[1].State != launch.KeyCurrent || ks[0].RetiresAt == nil ||
		!ks[0].RetiresAt.Equal(ki.ActivatesAt.Add(launch.RetireAfter)) {
		t.Fatalf("after activation: %+v", ks)
	}
	// A token the old key signed just before the switch still verifies
	// until it expires.
	f.clock.Add(-time.Second)
	lastOld := f.mint(t)
	f.clock.Add(time.Second)
	if kidOf(lastOld) != oldKID {
		t.Fatalf("setup: expected the old key to sign one second before the switch")
	}
	if _, err := f.svc.Verify(ctx, f.tenant.ID, issuer, f.plugin.ClientID, lastOld); err != nil {
		t.Errorf("old key's last token refused after the switch: %v", err)
	}
	if got := jwksKIDs(); len(got) != 2 {
		t.Errorf("jwks during the overlap: %v", got)
	}
	f.clock.Add(launch.RetireAfter)
	if got := jwksKIDs(); len(got) != 1 || got[0] != ki.KID {
		t.Errorf("jwks after retirement: %v, want only the new key", got)
	}
	_, err = f.svc.Verify(ctx, f.tenant.ID, issuer, f.plugin.ClientID, old)
	if launch.CodeOf(err) != launch.CodeTokenInvalid {
		t.Errorf("token of a retired key: %v, want token_invalid", err)
	}
	if _, err := f.svc.Rotate(ctx, f.tenant.ID, actor); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	rows, _ := f.store.SigningKeys(ctx, f.tenant.ID)
	if len(rows) != 3 || len(rows[0].PrivateKeySealed) != 0 || len(rows[1].PrivateKeySealed) == 0 {
		t.Errorf("retired key's private part not wiped (or the wrong one): %d keys", len(rows))
	}
	ks, _ = f.svc.Keys(ctx, f.tenant.ID)
	if ks[0].State != launch.KeyRetired || ks[1].State != launch.KeyCurrent || ks[2].State != launch.KeyNext {
		t.Errorf("states after second rotation: %+v", ks)
	}
}

// TestRotateOnEmptyTenantActivatesAtOnce: nothing was published, so there
// is nothing to wait for.
func TestRotateOnEmptyTenantActivatesAtOnce(t *testing.T) {
	f := newFixture(t, "sqlite")
	ki, err := f.svc.Rotate(context.Background(), f.tenant.ID, model.Actor{Type: "system", Label: "cli"})
	testdb.Must(t, err, "rotate")
	if ki.State != launch.KeyCurrent {
		t.Fatalf("first key state %s, want current", ki.State)
	}
}

// TestPrivateKeysAreSealedPerTenantAndKid: the stored private key is not
// the seed in clear, and a sealed key copied onto another row does not
// open (the service refuses to sign with it).
func TestPrivateKeysAreSealedPerTenantAndKid(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	_ = f.mint(t)
	rows, _ := f.store.SigningKeys(ctx, f.tenant.ID)
	if len(rows) != 1 || len(rows[0].PrivateKeySealed) < 32+12+16 {
		t.Fatalf("sealed key: %+v", rows)
	}
	// Copy the sealed key into a row with another kid, make it the signer.
	moved := rows[0]
	moved.KID, moved.ActivatesAt, moved.CreatedAt = "moved-kid", f.clock.Now().Add(time.Second), time.Time{}
	testdb.Must(t, f.store.CreateSigningKey(ctx, f.tenant.ID, &moved, nil), "insert moved key")
	f.clock.Add(time.Minute) // past the key cache
	fresh := launch.NewService(f.store, f.box, launch.Options{Now: f.clock.Now, Logger: testdb.Logger(t)})
	if _, err := fresh.Mint(ctx, launch.MintInput{Tenant: f.tenant, Plugin: f.plugin, User: f.user, Role: model.RoleCliente, Locale: "pt-BR", Issuer: issuer}); err == nil {
		t.Errorf("a sealed key moved to another kid still signs")
	}
	// Publishing needs only public keys: the JWKS still answers, with both
	// kids, so tokens the first key signed stay verifiable.
	set, err := fresh.JWKS(ctx, f.tenant.ID)
	if err != nil {
		t.Fatalf("jwks with an unusable current key: %v", err)
	}
	for _, kid := range []string{rows[0].KID, "moved-kid"} {
		if !strings.Contains(string(set), `"`+kid+`"`) {
			t.Errorf("jwks lacks %s: %s", kid, set)
		}
	}
}

// TestExchange covers the exchange's outcomes that need no HTTP: the
// granted fields only, exactly once, and each refusal's code.
func TestExchange(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, driver)
			ctx := context.Background()
			tok := f.mint(t)
			u, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok)
			testdb.Must(t, err, "exchange")
			got, _ := json.Marshal(u)
			want := `{"id":"` + u.ID + `","name":"Maria Souza","email":"maria@acme.test","role":"sindico","locale":"es","tenant":"acme"}`
			if string(got) != want || len(u.ID) != 22 {
				t.Errorf("exchange answered %s, want %s", got, want)
			}
			if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok); launch.CodeOf(err) != launch.CodeTokenUsed {
				t.Errorf("replay: %v, want token_used", err)
			}
			// The subject is stable across launches.
			u2, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, f.mint(t))
			if err != nil || u2.ID != u.ID {
				t.Errorf("second launch: %v %v, want the same id", u2, err)
			}

			tests := []struct {
				name, clientID, secret, issuer, code string
				setup                                func()
			}{
				{name: "unknown client", clientID: "pc_nope", secret: f.secret, code: launch.CodeInvalidClient},
				{name: "wrong secret", clientID: f.plugin.ClientID, secret: "pcs_wrong", code: launch.CodeInvalidClient},
				{name: "empty secret", clientID: f.plugin.ClientID, secret: "", code: launch.CodeInvalidClient},
				{name: "oversized secret", clientID: f.plugin.ClientID, secret: strings.Repeat("s", launch.MaxClientSecretLength+1), code: launch.CodeInvalidClient},
				{name: "another tenant's issuer", clientID: f.plugin.ClientID, secret: f.secret, issuer: "https://portal.outra.test", code: launch.CodeTokenInvalid},
				{name: "expired", clientID: f.plugin.ClientID, secret: f.secret, code: launch.CodeTokenExpired,
					setup: func() { f.clock.Add(60*time.Second + launch.Leeway) }},
			}
			for _, tt := range tests {
				tok := f.mint(t)
				if tt.setup != nil {
					tt.setup()
				}
				iss := issuer
				if tt.issuer != "" {
					iss = tt.issuer
				}
				if _, err := f.svc.Exchange(ctx, f.tenant, iss, tt.clientID, tt.secret, tok); launch.CodeOf(err) != tt.code {
					t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
				}
			}
			// Within the leeway an expired-by-the-clock token still works.
			tok = f.mint(t)
			f.clock.Add(60*time.Second + launch.Leeway - time.Second)
			if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok); err != nil {
				t.Errorf("token 1 s inside the leeway: %v", err)
			}
		})
	}
}

// TestExchangeAfterRevocation: deactivating the user or the plugin, or
// rotating the client secret past its overlap, makes outstanding tokens
// fail; within the overlap the previous secret still works.
func TestExchangeAfterRevocation(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	actor := model.Actor{Type: "system", Label: "test"}
	update := func(mutate func(p *model.Plugin) error) {
		cur, err := f.store.PluginBySlug(ctx, f.tenant.ID, f.plugin.Slug)
		testdb.Must(t, err, "reload plugin")
		_, err = f.store.UpdatePlugin(ctx, f.tenant.ID, f.plugin.Slug, cur.Version, actor, "plugin.update", mutate)
		testdb.Must(t, err, "update plugin")
	}

	// Deactivated user.
	tok := f.mint(t)
	cur, _ := f.store.UserByID(ctx, f.tenant.ID, f.user.ID)
	_, err := f.store.UpdateUser(ctx, f.tenant.ID, f.user.ID, cur.Version, actor, func(u *model.User) error { u.Active = false; return nil })
	testdb.Must(t, err, "deactivate user")
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok); launch.CodeOf(err) != launch.CodeTokenInvalid {
		t.Errorf("deactivated user: %v, want token_invalid", err)
	}
	cur, _ = f.store.UserByID(ctx, f.tenant.ID, f.user.ID)
	_, err = f.store.UpdateUser(ctx, f.tenant.ID, f.user.ID, cur.Version, actor, func(u *model.User) error { u.Active = true; return nil })
	testdb.Must(t, err, "reactivate user")

	// Client secret rotated: the previous one works during the overlap.
	tok1, tok2 := f.mint(t), f.mint(t)
	newSecret := "pcs_" + auth.NewToken()
	until := f.clock.Now().Add(time.Hour)
	update(func(p *model.Plugin) error {
		p.PreviousClientSecretHash, p.PreviousSecretExpiresAt = p.ClientSecretHash, &until
		p.ClientSecretHash = auth.HashToken(newSecret)
		return nil
	})
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok1); err != nil {
		t.Errorf("previous secret inside the overlap: %v", err)
	}
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, newSecret, tok2); err != nil {
		t.Errorf("new secret: %v", err)
	}
	f.clock.Add(time.Hour)
	tok = f.mint(t)
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok); launch.CodeOf(err) != launch.CodeInvalidClient {
		t.Errorf("previous secret after the overlap: %v, want invalid_client", err)
	}

	// Deactivated plugin.
	update(func(p *model.Plugin) error { p.Active = false; return nil })
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, newSecret, tok); launch.CodeOf(err) != launch.CodeInvalidClient {
		t.Errorf("deactivated plugin: %v, want invalid_client", err)
	}
}

// TestExchangeWrongAudience: another plugin of the same tenant cannot
// redeem a token minted for this one (and does not burn it).
func TestExchangeWrongAudience(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	otherSecret := "pcs_" + auth.NewToken()
	cur, _ := f.store.PluginBySlug(ctx, f.tenant.ID, f.other.Slug)
	_, err := f.store.UpdatePlugin(ctx, f.tenant.ID, f.other.Slug, cur.Version, model.Actor{Type: "system"}, "plugin.update",
		func(p *model.Plugin) error { p.ClientSecretHash = auth.HashToken(otherSecret); return nil })
	testdb.Must(t, err, "set other secret")
	tok := f.mint(t)
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.other.ClientID, otherSecret, tok); launch.CodeOf(err) != launch.CodeWrongAudience {
		t.Errorf("other plugin: %v, want wrong_audience", err)
	}
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok); err != nil {
		t.Errorf("rightful plugin after a wrong-audience attempt: %v", err)
	}
}

// TestTokenHasOneEncoding: a real token re-spelt with base64 padding or
// with altered unused trailing bits (the same bytes once decoded leniently)
// is refused as token_invalid, in every segment; the genuine spelling still
// exchanges afterwards.
func TestTokenHasOneEncoding(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	tok := f.mint(t)
	segs := strings.Split(tok, ".")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// altered flips the lowest bit of the segment's last character, which
	// is unused padding when the segment's length is not a multiple of 4.
	altered := func(s string) string {
		i := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[i^1])
	}
	respell := func(i int, s string) string {
		c := append([]string(nil), segs...)
		c[i] = s
		return strings.Join(c, ".")
	}
	if len(segs[2])%4 == 0 {
		t.Fatalf("signature segment %q has no unused bits; the test would prove nothing", segs[2])
	}
	cases := map[string]string{
		"signature with altered unused bits": respell(2, altered(segs[2])),
		"signature with padding":             respell(2, segs[2]+strings.Repeat("=", 4-len(segs[2])%4)),
		"signature with one = appended":      tok + "=",
		"signature with a line break":        respell(2, segs[2][:10]+"\n"+segs[2][10:]),
		"header with == appended":            respell(0, segs[0]+"=="),
		"payload with == appended":           respell(1, segs[1]+"=="),
	}
	if len(segs[0])%4 != 0 {
		cases["header with altered unused bits"] = respell(0, altered(segs[0]))
	}
	if len(segs[1])%4 != 0 {
		cases["payload with altered unused bits"] = respell(1, altered(segs[1]))
	}
	for name, bad := range cases {
		if bad == tok {
			t.Fatalf("%s: the spelling did not change", name)
		}
		if _, err := f.svc.Verify(ctx, f.tenant.ID, issuer, f.plugin.ClientID, bad); launch.CodeOf(err) != launch.CodeTokenInvalid {
			t.Errorf("verify, %s: %v, want token_invalid", name, err)
		}
		if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, bad); launch.CodeOf(err) != launch.CodeTokenInvalid {
			t.Errorf("exchange, %s: %v, want token_invalid", name, err)
		}
	}
	if _, err := f.svc.Exchange(ctx, f.tenant, issuer, f.plugin.ClientID, f.secret, tok); err != nil {
		t.Errorf("the genuine token after the re-spellings: %v", err)
	}
}

// TestSubjectsArePairwise: the same user gets a different sub in each
// plugin (two plugins cannot correlate a customer by it), and the same sub
// in the same plugin on every launch, after a signing-key rotation and in
// another process (a fresh service, no in-memory cache). Each plugin's
// exchange resolves its own sub.
func TestSubjectsArePairwise(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	otherSecret := "pcs_" + auth.NewToken()
	cur, _ := f.store.PluginBySlug(ctx, f.tenant.ID, f.other.Slug)
	_, err := f.store.UpdatePlugin(ctx, f.tenant.ID, f.other.Slug, cur.Version, model.Actor{Type: "system"}, "plugin.update",
		func(p *model.Plugin) error { p.ClientSecretHash = auth.HashToken(otherSecret); return nil })
	testdb.Must(t, err, "set other secret")
	subOf := func(svc *launch.Service, p *model.Plugin, secret string) string {
		t.Helper()
		tok, err := svc.Mint(ctx, launch.MintInput{Tenant: f.tenant, Plugin: p, User: f.user, Role: model.RoleCliente, Locale: "pt-BR", Issuer: issuer})
		testdb.Must(t, err, "mint for %s", p.Slug)
		c, err := svc.Verify(ctx, f.tenant.ID, issuer, p.ClientID, tok)
		testdb.Must(t, err, "verify for %s", p.Slug)
		u, err := svc.Exchange(ctx, f.tenant, issuer, p.ClientID, secret, tok)
		testdb.Must(t, err, "exchange for %s", p.Slug)
		if u.ID != c.Subject {
			t.Errorf("%s: exchange id %q, token sub %q", p.Slug, u.ID, c.Subject)
		}
		return c.Subject
	}
	a, b := subOf(f.svc, f.plugin, f.secret), subOf(f.svc, f.other, otherSecret)
	if a == b || len(a) != 22 || len(b) != 22 {
		t.Fatalf("subs of one user in two plugins: %q and %q, want two different opaque ids", a, b)
	}
	if again := subOf(f.svc, f.plugin, f.secret); again != a {
		t.Errorf("second launch of the same plugin: sub %q, want %q", again, a)
	}
	_, err = f.svc.Rotate(ctx, f.tenant.ID, model.Actor{Type: "system", Label: "test"})
	testdb.Must(t, err, "rotate")
	f.clock.Add(launch.PublishAhead + time.Second)
	fresh := launch.NewService(f.store, f.box, launch.Options{Now: f.clock.Now, Logger: testdb.Logger(t)})
	if got := subOf(fresh, f.plugin, f.secret); got != a {
		t.Errorf("after a key rotation, in a fresh service: sub %q, want %q", got, a)
	}
	if got := subOf(fresh, f.other, otherSecret); got != b {
		t.Errorf("other plugin after a key rotation: sub %q, want %q", got, b)
	}
}

// TestVerifyRefusesWhatMintNeverWrites signs, with the tenant's real key,
// tokens whose header or claims Mint would never write: the signature
// verifies, so each refusal is the parser's or the claim checks' own.
func TestVerifyRefusesWhatMintNeverWrites(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	genuine := f.mint(t)
	now := f.clock.Now().Unix()
	claims := func(edit func(m map[string]any)) []byte {
		m := map[string]any{"iss": issuer, "aud": f.plugin.ClientID, "sub": "s_subject", "iat": now, "nbf": now, "exp": now + 60,
			"jti": "j_" + strings.Repeat("a", 20), "portico": map[string]any{"tenant": "acme", "plugin": "financeiro", "role": "cliente", "locale": "pt-BR"}}
		edit(m)
		b, err := json.Marshal(m)
		testdb.Must(t, err, "claims")
		return b
	}
	header := func(h string) func(kid string) []byte {
		return func(kid string) []byte { return []byte(strings.ReplaceAll(h, "KID", kid)) }
	}
	std := header(`{"alg":"EdDSA","kid":"KID","typ":"JWT"}`)
	keep := func(map[string]any) {}
	cases := []struct {
		name   string
		header func(string) []byte
		claims []byte
		want   string
	}{
		{"the control: well formed", std, claims(keep), ""},
		{"alg none", header(`{"alg":"none","kid":"KID"}`), claims(keep), launch.CodeTokenInvalid},
		{"alg HS256", header(`{"alg":"HS256","kid":"KID"}`), claims(keep), launch.CodeTokenInvalid},
		{"crit header", header(`{"alg":"EdDSA","kid":"KID","crit":["exp"]}`), claims(keep), launch.CodeTokenInvalid},
		{"embedded jwk", header(`{"alg":"EdDSA","kid":"KID","jwk":{}}`), claims(keep), launch.CodeTokenInvalid},
		{"typ other", header(`{"alg":"EdDSA","kid":"KID","typ":"at+jwt"}`), claims(keep), launch.CodeTokenInvalid},
		{"header not an object", header(`["EdDSA"]`), claims(keep), launch.CodeTokenInvalid},
		{"header with trailing data", header(`{"alg":"EdDSA","kid":"KID"}{}`), claims(keep), launch.CodeTokenInvalid},
		{"unknown kid", header(`{"alg":"EdDSA","kid":"other-kid"}`), claims(keep), launch.CodeTokenInvalid},
		{"no nbf", std, claims(func(m map[string]any) { delete(m, "nbf") }), launch.CodeTokenInvalid},
		{"no iat", std, claims(func(m map[string]any) { delete(m, "iat") }), launch.CodeTokenInvalid},
		{"null sub", std, claims(func(m map[string]any) { m["sub"] = nil }), launch.CodeTokenInvalid},
		{"no portico", std, claims(func(m map[string]any) { delete(m, "portico") }), launch.CodeTokenInvalid},
		{"unknown claim", std, claims(func(m map[string]any) { m["admin"] = true }), launch.CodeTokenInvalid},
		{"unknown portico member", std, claims(func(m map[string]any) { m["portico"].(map[string]any)["gestor"] = true }), launch.CodeTokenInvalid},
		{"exp as a string", std, claims(func(m map[string]any) { m["exp"] = "soon" }), launch.CodeTokenInvalid},
		{"exp passed", std, claims(func(m map[string]any) { m["exp"] = now - 600 }), launch.CodeTokenExpired},
		{"lifetime over MaxTTL", std, claims(func(m map[string]any) { m["exp"] = now + int64(launch.MaxTTL/time.Second) + 60 }), launch.CodeTokenInvalid},
		{"nbf in the future", std, claims(func(m map[string]any) { m["nbf"] = now + 600 }), launch.CodeTokenInvalid},
		{"iat in the future", std, claims(func(m map[string]any) { m["iat"] = now + 600 }), launch.CodeTokenInvalid},
		{"another issuer", std, claims(func(m map[string]any) { m["iss"] = "https://evil.test" }), launch.CodeTokenInvalid},
		{"another audience", std, claims(func(m map[string]any) { m["aud"] = f.other.ClientID }), launch.CodeWrongAudience},
		{"empty jti", std, claims(func(m map[string]any) { m["jti"] = "" }), launch.CodeTokenInvalid},
		{"payload with trailing data", std, append(claims(keep), []byte(`{}`)...), launch.CodeTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := f.svc.SignRaw(ctx, f.tenant.ID, tc.header, tc.claims)
			testdb.Must(t, err, "sign")
			c, err := f.svc.Verify(ctx, f.tenant.ID, issuer, f.plugin.ClientID, tok)
			if got := launch.CodeOf(err); got != tc.want {
				t.Fatalf("verify: %v (code %q), want code %q", err, got, tc.want)
			}
			if tc.want == "" && (c == nil || c.Subject != "s_subject" || c.Portico.Role != "cliente") {
				t.Fatalf("the control's claims: %+v", c)
			}
		})
	}
	// Bytes around a genuine token's parts: a fourth segment, a signature
	// cut short or one bit flipped in the signed part.
	segs := strings.Split(genuine, ".")
	flip := []byte(segs[1])
	flip[3] ^= 1
	for name, bad := range map[string]string{
		"four segments":       genuine + ".e30",
		"two segments":        segs[0] + "." + segs[1],
		"short signature":     segs[0] + "." + segs[1] + "." + segs[2][:40],
		"payload bit flipped": segs[0] + "." + string(flip) + "." + segs[2],
	} {
		if _, err := f.svc.Verify(ctx, f.tenant.ID, issuer, f.plugin.ClientID, bad); launch.CodeOf(err) != launch.CodeTokenInvalid {
			t.Errorf("%s: %v, want token_invalid", name, err)
		}
	}
}

// TestRotateReplacesAPendingKey: rotating again before the key the last
// rotation scheduled has signed replaces that key instead of adding one,
// so a gestor (or a script) rotating over and over keeps the published
// set at the current key and one waiting; the audit names what went.
func TestRotateReplacesAPendingKey(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	f.mint(t) // the first key, signing at once
	actor := model.Actor{Type: "user", ID: "g1", Label: "gestor@acme.test"}
	var last *launch.KeyInfo
	for range 20 {
		ki, err := f.svc.Rotate(ctx, f.tenant.ID, actor)
		testdb.Must(t, err, "rotate")
		last = ki
	}
	ks, err := f.svc.Keys(ctx, f.tenant.ID)
	testdb.Must(t, err, "keys")
	if len(ks) != 2 || ks[0].State != launch.KeyCurrent || ks[1].State != launch.KeyNext || ks[1].KID != last.KID {
		t.Fatalf("after 20 rotations: %+v; want the current key and the last one waiting", ks)
	}
	doc, err := f.svc.JWKS(ctx, f.tenant.ID)
	testdb.Must(t, err, "jwks")
	if n := strings.Count(string(doc), `"kid"`); n != 2 {
		t.Errorf("the JWKS publishes %d keys, want 2", n)
	}
	a, err := f.store.AuditLog(ctx, f.tenant.ID, model.AuditFilter{Action: "signing_key.rotate"})
	testdb.Must(t, err, "audit")
	if len(a) != 20 || !strings.Contains(a[0].AfterJSON, `"replaces"`) || strings.Contains(a[len(a)-1].AfterJSON, `"replaces"`) {
		t.Errorf("audit of the rotations: %d entries, newest %s", len(a), a[0].AfterJSON)
	}
	// Once the waiting key signs, the next rotation keeps it as previous.
	f.clock.Add(launch.PublishAhead + time.Second)
	_, err = f.svc.Rotate(ctx, f.tenant.ID, actor)
	testdb.Must(t, err, "rotate after activation")
	ks, err = f.svc.Keys(ctx, f.tenant.ID)
	testdb.Must(t, err, "keys")
	if len(ks) != 3 || ks[1].KID != last.KID || ks[1].State != launch.KeyCurrent {
		t.Errorf("a rotation after the key signed replaced it: %+v", ks)
	}
}
