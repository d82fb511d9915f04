package launchkit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// exchangePortal is a portal with a JWKS and an exchange that answers each
// token once, for the user named by answer.
type exchangePortal struct {
	srv    *httptest.Server
	mu     sync.Mutex
	used   map[string]bool
	answer func(token string) map[string]any
}

func newExchangePortal(t *testing.T, pub jwk.Key, id, secret string) *exchangePortal {
	p := &exchangePortal{used: map[string]bool{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/jwks.json":
			set := jwk.NewSet()
			_ = set.AddKey(pub)
			_ = json.NewEncoder(w).Encode(set)
		case "/api/v1/launch/exchange":
			u, pw, ok := r.BasicAuth()
			var body struct{ Token string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			p.mu.Lock()
			used := p.used[body.Token]
			p.used[body.Token] = true
			p.mu.Unlock()
			code := ""
			switch {
			case !ok || u != id || pw != secret:
				code = "invalid_client"
			case used:
				code = "token_used"
			}
			if code != "" {
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": code}})
				return
			}
			_ = json.NewEncoder(w).Encode(p.answer(body.Token))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func TestClientLaunch(t *testing.T) {
	priv, pub := newKey(t, "k1")
	p := newExchangePortal(t, pub, "pc_me", "pcs_secret")
	p.answer = func(string) map[string]any {
		return map[string]any{"id": "s1", "name": "Carla", "email": "c@x.test", "role": "gestor", "locale": "es", "tenant": "t"}
	}
	dir := t.TempDir()
	credFile := filepath.Join(dir, "creds.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := NewClient(ctx, ClientConfig{PortalOrigin: p.srv.URL + "/", CredentialsFile: credFile})
	if err != nil {
		t.Fatal(err)
	}
	if c.PortalOrigin() != p.srv.URL {
		t.Errorf("origin %q", c.PortalOrigin())
	}
	now := time.Now()
	tok := func(sub string) string {
		return sign(t, priv, claimSet{iss: p.srv.URL, aud: "pc_me", sub: sub, jti: sub + now.String(), iat: now, nbf: now, exp: now.Add(time.Minute)})
	}

	// No credentials file yet: the app is not configured.
	if _, _, err := c.Launch(ctx, tok("s1")); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("without credentials: %v", err)
	}
	if err := os.WriteFile(credFile, []byte(`{"client_id":"pc_me","client_secret":"pcs_secret","portal_origin":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := tok("s1")
	claims, user, err := c.Launch(ctx, good)
	if err != nil || claims.Subject != "s1" || user.ID != "s1" || Str(user.Name) != "Carla" || Str(user.Document) != "" || user.Role != "gestor" {
		t.Fatalf("launch: %+v %+v %v", claims, user, err)
	}
	var te *TokenError
	if _, _, err := c.Launch(ctx, good); !errors.As(err, &te) || te.Code != "token_used" {
		t.Errorf("replay: %v", err)
	}
	// The exchange answering for someone else is refused.
	if _, _, err := c.Launch(ctx, tok("s2")); !errors.As(err, &te) || te.Code != "token_invalid" {
		t.Errorf("another subject: %v", err)
	}
	// A wrong secret in the file (read at each launch).
	if err := os.WriteFile(credFile, []byte(`{"client_id":"pc_me","client_secret":"pcs_wrong"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Launch(ctx, tok("s1")); !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Errorf("wrong secret: %v", err)
	}
	// A token for another client id fails offline.
	static, err := NewClient(ctx, ClientConfig{PortalOrigin: p.srv.URL, Credentials: Credentials{ClientID: "pc_other", ClientSecret: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := static.Launch(ctx, tok("s1")); !errors.As(err, &te) || te.Code != "wrong_audience" {
		t.Errorf("another audience: %v", err)
	}
}

func TestNewClientConfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, cfg := range []ClientConfig{
		{PortalOrigin: "portal.example.com", CredentialsFile: "f"},
		{PortalOrigin: "https://portal.example.com/path", CredentialsFile: "f"},
		{PortalOrigin: "ftp://portal.example.com", CredentialsFile: "f"},
		{PortalOrigin: "https://portal.example.com"},
		{PortalOrigin: "https://portal.example.com", Credentials: Credentials{ClientID: "pc_x"}},
	} {
		if _, err := NewClient(ctx, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
