package launchkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// ErrNotConfigured is a launch the app cannot even try: it has no usable
// client credentials (the credentials file is missing or unreadable). It is
// the app's problem, not the user's.
var ErrNotConfigured = errors.New("the app has no client credentials")

// Credentials are a plugin's client credentials, shown once when the gestor
// registered the plugin (or rotated its secret).
type Credentials struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// ReadCredentialsFile reads a JSON file {"client_id","client_secret"[,
// "portal_origin"]}, as Portico's demo writes for the apps `make run`
// starts (data/exampleapp.json, data/loyalty.json, mode 0600). Errors wrap
// ErrNotConfigured.
func ReadCredentialsFile(path string) (Credentials, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: read credentials file: %w", ErrNotConfigured, err)
	}
	var c Credentials
	if err := json.Unmarshal(raw, &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		return Credentials{}, fmt.Errorf("%w: credentials file %s: want {\"client_id\",\"client_secret\"}", ErrNotConfigured, path)
	}
	return c, nil
}

// CheckOrigin returns origin as scheme://host[:port] when it is an http(s)
// origin with no path, query or fragment, as a token's iss names the portal.
func CheckOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q is not an origin such as https://portal.example.com", origin)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Client performs launches for one plugin of one portal: the offline check
// and the exchange, with the plugin's credentials.
type Client struct {
	portal   string
	creds    Credentials
	credFile string
	verifier *Verifier
	http     *http.Client
}

// ClientConfig configures NewClient.
type ClientConfig struct {
	// PortalOrigin is the portal's origin, exactly as the tokens' iss
	// claim names it (no path, no trailing slash).
	PortalOrigin string
	// Credentials are the plugin's; when ClientID is empty,
	// CredentialsFile is read at each launch instead (so a secret rotated
	// into the file is picked up without a restart).
	Credentials     Credentials
	CredentialsFile string
	// HTTP is the client for the exchange; a 10-second client when nil.
	HTTP *http.Client
	// Now is the verifier's clock; time.Now when nil.
	Now func() time.Time
}

// NewClient starts the JWKS cache (bounded by ctx) and returns a Client.
func NewClient(ctx context.Context, cfg ClientConfig) (*Client, error) {
	portal, err := CheckOrigin(cfg.PortalOrigin)
	if err != nil {
		return nil, fmt.Errorf("portal origin: %w", err)
	}
	if (cfg.Credentials.ClientID == "") != (cfg.Credentials.ClientSecret == "") {
		return nil, errors.New("set both the client id and the client secret, or neither")
	}
	if cfg.Credentials.ClientID == "" && cfg.CredentialsFile == "" {
		return nil, errors.New("no client credentials and no credentials file")
	}
	v, err := NewVerifier(ctx, portal)
	if err != nil {
		return nil, err
	}
	v.SetClock(cfg.Now)
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{portal: portal, creds: cfg.Credentials, credFile: cfg.CredentialsFile, verifier: v, http: hc}, nil
}

// PortalOrigin is the portal the client trusts.
func (c *Client) PortalOrigin() string { return c.portal }

// Verifier is the client's offline verifier.
func (c *Client) Verifier() *Verifier { return c.verifier }

// Credentials returns the configured credentials, or the credentials
// file's, read now.
func (c *Client) Credentials() (Credentials, error) {
	if c.creds.ClientID != "" {
		return c.creds, nil
	}
	return ReadCredentialsFile(c.credFile)
}

// Launch checks token offline, then exchanges it for the user, exactly
// once. A *TokenError is a refused token (its Code uses the exchange's
// vocabulary; invalid_client means the app's credentials are wrong); an
// error wrapping ErrNotConfigured means the app has no credentials; any
// other error means the portal could not be reached.
func (c *Client) Launch(ctx context.Context, token string) (*Claims, *User, error) {
	creds, err := c.Credentials()
	if err != nil {
		return nil, nil, err
	}
	// 1. Offline: signature, alg, iss, aud, exp/nbf.
	claims, err := c.verifier.Verify(ctx, token, creds.ClientID)
	if err != nil {
		return nil, nil, err
	}
	// 2. Back channel: exactly once, with the plugin's credentials.
	x := &Exchanger{URL: c.portal + "/api/v1/launch/exchange", ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, HTTP: c.http}
	user, err := x.Exchange(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if user.ID != claims.Subject {
		return nil, nil, refuse("token_invalid", fmt.Errorf("the exchange answered for another subject"))
	}
	return claims, user, nil
}

// Str returns *p, or "" for a field the plugin was not granted.
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
