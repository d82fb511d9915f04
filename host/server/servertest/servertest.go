// Package servertest starts a real Portico server on 127.0.0.1 for tests and
// benchmarks: a real database (SQLite or PostgreSQL, see package testdb), the
// demo tenant, a second tenant to prove isolation, and real HTTP.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/openapicheck"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// OtherHost is the hostname of the second tenant, "Outra Incorporadora".
const OtherHost = "portal.outra.test"

// OtherPassword is the password of the second tenant's users.
const OtherPassword = "outra-senha-123"

// Portal is a running server.
type Portal struct {
	URL    string // e.g. http://127.0.0.1:41234 (the demo tenant)
	Addr   string // host:port
	Store  *storage.Store
	Server *server.Server
	Demo   *model.Tenant
	Other  *model.Tenant
	// OtherPlugins are the second tenant's plugin slugs.
	OtherPlugins []string
	// Clock is the store's clock, which a test may move forward.
	Clock *Clock
}

// Clock is the wall clock plus an offset a test moves (Advance): expiries
// checked against the store's clock can be reached without waiting.
type Clock struct{ offset atomic.Int64 }

// Now is the wall clock plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Start runs a server on a fresh database of driver until the test ends.
func Start(t testing.TB, driver string) *Portal {
	t.Helper()
	return StartWith(t, driver, nil)
}

// StartWith is Start with the configuration changed by configure (when not
// nil) before the server is built, e.g. to set TrustedProxies.
func StartWith(t testing.TB, driver string, configure func(*config.Config)) *Portal {
	t.Helper()
	clock := &Clock{}
	store := testdb.OpenWith(t, driver, storage.Options{Now: clock.Now})
	p := StartOnStore(t, store, configure)
	p.Clock = clock
	return p
}

// StartOnStore is StartWith on a store the test opened itself (a database
// reached through a proxy the test can cut, say). Portal.Clock does not
// drive that store's clock.
func StartOnStore(t testing.TB, store *storage.Store, configure func(*config.Config)) *Portal {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen")
	p := &Portal{Addr: ln.Addr().String(), Store: store, Clock: &Clock{}}
	p.URL = "http://" + p.Addr
	_, err = demo.Seed(ctx, store, p.URL)
	testdb.Must(t, err, "seed demo")
	p.Demo, err = store.TenantBySlug(ctx, demo.TenantSlug)
	testdb.Must(t, err, "load demo tenant")
	p.seedOther(t)
	p.serve(t, ln, configure)
	return p
}

// StartNode starts another server of first's installation (a second node)
// on store, a store of first's database: nothing is seeded again.
// configure may change its configuration (every node of an installation
// shares PORTICO_SECRET_KEY, say). stop shuts it down and waits; it also
// runs when the test ends.
func StartNode(t testing.TB, store *storage.Store, first *Portal, configure func(*config.Config)) (p *Portal, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen")
	p = &Portal{Addr: ln.Addr().String(), Store: store, Clock: &Clock{}, Demo: first.Demo, Other: first.Other, OtherPlugins: first.OtherPlugins}
	p.URL = "http://" + p.Addr
	return p, p.serve(t, ln, configure)
}

// serve builds the server for p and serves ln until stop (or the test's
// end).
func (p *Portal) serve(t testing.TB, ln net.Listener, configure func(*config.Config)) (stop func()) {
	t.Helper()
	cfg := &config.Config{Addr: p.Addr, DatabaseURL: "unused://", Demo: true, LogFormat: "text", LogLevel: "warn",
		SecretKey: []byte(auth.NewToken()[:32])}
	if configure != nil {
		configure(cfg)
	}
	srv, err := server.New(cfg, p.Store, testdb.Logger(t))
	testdb.Must(t, err, "build server")
	p.Server = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("server did not shut down within 20s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (p *Portal) seedOther(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	other := &model.Tenant{Slug: "outra", Name: "Outra Incorporadora", Hostnames: []string{OtherHost}, PrimaryColor: "#aa3300"}
	testdb.Must(t, other.Validate(false), "validate other tenant")
	hash, err := auth.HashPassword(ctx, OtherPassword)
	testdb.Must(t, err, "hash")
	users := []*model.User{
		{Email: "cliente@outra.test", Name: "Olga Outra", Roles: model.Roles{model.RoleCliente}, PasswordHash: hash, Active: true},
		{Email: "gestor@outra.test", Name: "Otto Outro", Roles: model.Roles{model.RoleGestor, model.RoleSindico}, PasswordHash: hash, Active: true},
		// Same e-mail as a demo account: a different person in another tenant.
		{Email: "cliente@demo.portico.test", Name: "Homônimo Outro", Roles: model.Roles{model.RoleCliente}, PasswordHash: hash, Active: true},
	}
	var plugins []*model.Plugin
	for i, slug := range []string{"segredo-outra", "painel-outra"} {
		pl := &model.Plugin{Slug: slug, Name: "Plugin " + slug, Title: "Outra " + slug, Type: model.PluginIframe,
			URL: "https://apps.outra.test/" + slug, Icon: "alerta", Active: true, ShowInPortal: true, ShowInManager: i == 1,
			Size: model.SizeMedio, VisibleTo: model.VisibleAmbos, AuthType: model.AuthToken, Position: i}
		testdb.Must(t, pl.Validate(model.PluginRules{IconExists: icon.Exists}), "validate other plugin")
		plugins = append(plugins, pl)
		p.OtherPlugins = append(p.OtherPlugins, slug)
	}
	for _, u := range users {
		testdb.Must(t, u.Validate(), "validate other user")
	}
	testdb.Must(t, p.Store.CreateTenantWith(ctx, other, users, plugins, model.SystemActor("test")), "create other tenant")
	p.Other = other
}

// Client is an HTTP client with its own cookie jar that sends a chosen Host
// header, so one server can be addressed as either tenant.
type Client struct {
	t      testing.TB
	p      *Portal
	Host   string
	HTTP   *http.Client
	Header http.Header
}

// NewClient returns a client for host ("" means the demo tenant's
// 127.0.0.1:port). It does not follow redirects.
func (p *Portal) NewClient(t testing.TB, host string) *Client {
	jar, err := cookiejar.New(nil)
	testdb.Must(t, err, "cookie jar")
	return &Client{t: t, p: p, Host: host, Header: http.Header{}, HTTP: &http.Client{
		Jar:           hostJar{jar},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// hostJar keys cookies by the URL only; the test server is always
// 127.0.0.1, and each Client talks to one tenant.
type hostJar struct{ http.CookieJar }

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode returns error.code of a JSON error body, or "".
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a request. body may be nil, a string (sent as is), url.Values
// (sent as a form) or any other value (sent as JSON).
func (c *Client) Do(method, path string, body any, header ...string) *Response {
	c.t.Helper()
	_, res := c.send(method, path, body, header)
	return res
}

// Exchange sends a request like Do and returns it with its answer, for
// openapicheck: the request's headers as sent and its body.
func (c *Client) Exchange(method, path string, body any, header ...string) *openapicheck.Exchange {
	c.t.Helper()
	req, res := c.send(method, path, body, header)
	return &openapicheck.Exchange{Method: method, Path: path, Header: req.header, Body: req.body,
		Status: res.Status, ResHeader: res.Header, ResBody: res.Body}
}

// sent is a request as it went out.
type sent struct {
	header http.Header
	body   []byte
}

// send builds, sends and reads one request of Do or Exchange.
func (c *Client) send(method, path string, body any, header []string) (sent, *Response) {
	c.t.Helper()
	var raw []byte
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case url.Values:
		raw = []byte(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		var err error
		raw, err = json.Marshal(b)
		testdb.Must(c.t, err, "marshal body")
		ct = "application/json"
	}
	req, err := http.NewRequest(method, c.p.URL+path, bytes.NewReader(raw))
	testdb.Must(c.t, err, "new request")
	if raw == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	out := sent{header: req.Header.Clone(), body: raw}
	res, err := c.HTTP.Do(req)
	testdb.Must(c.t, err, "%s %s", method, path)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	testdb.Must(c.t, err, "read body")
	return out, &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// Routes lists "METHOD /path" of every route the running server mounts
// whose path include accepts, in OpenAPI's path syntax ({param}), sorted
// and once each: HEAD (which Fiber adds to every GET) and catch-alls
// ("…/*") aside, for the tests that hold an API's document to its routes.
func (p *Portal) Routes(include func(path string) bool) []string {
	var out []string
	for _, r := range p.Server.App.GetRoutes(true) {
		path := strings.TrimSuffix(r.Path, "/")
		if r.Method == http.MethodHead || strings.HasSuffix(path, "/*") || !include(path) {
			continue
		}
		out = append(out, r.Method+" "+fiberParam.ReplaceAllString(path, "{$1}"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Follow answers a redirect as a browser would, with a GET of its
// Location (a path on the portal); any other response fails the test.
func (c *Client) Follow(r *Response) *Response {
	c.t.Helper()
	loc := r.Header.Get("Location")
	if r.Status < 300 || r.Status > 399 || !strings.HasPrefix(loc, "/") {
		c.t.Fatalf("want a redirect to a path, got %d (Location %q): %.300s", r.Status, loc, r.Body)
	}
	return c.Do("GET", loc, nil)
}

// Login logs in through the JSON API and fails the test unless it worked.
func (c *Client) Login(email, password string) {
	c.t.Helper()
	r := c.Do("POST", "/api/v1/session", map[string]string{"email": email, "password": password})
	if r.Status != http.StatusOK {
		c.t.Fatalf("login %s: status %d: %s", email, r.Status, r.Body)
	}
}

// DemoPlugin returns the demo tenant's plugin slug as stored now; it fails
// the test when there is none.
func (p *Portal) DemoPlugin(t testing.TB, slug string) *model.Plugin {
	t.Helper()
	pl, err := p.Store.PluginBySlug(context.Background(), p.Demo.ID, slug)
	testdb.Must(t, err, "load plugin %s", slug)
	return pl
}

// InstallWasm validates pl (a wasm plugin of the tenant tenantID), creates
// it, uploads module as its first version with the given ABI version and
// activates it, as a system actor; it fails the test on any error.
func (p *Portal) InstallWasm(t testing.TB, tenantID string, pl *model.Plugin, module []byte, abiVersion int) {
	t.Helper()
	ctx := context.Background()
	actor := model.SystemActor("test")
	testdb.Must(t, pl.Validate(model.PluginRules{IconExists: icon.Exists}), "validate %s", pl.Slug)
	testdb.Must(t, p.Store.CreatePlugin(ctx, tenantID, pl, actor), "create %s", pl.Slug)
	v := &model.PluginVersion{ABIVersion: abiVersion}
	testdb.Must(t, p.Store.CreatePluginVersion(ctx, tenantID, pl.ID, v, module, actor), "upload %s", pl.Slug)
	_, err := p.Store.ActivatePluginVersion(ctx, tenantID, pl.ID, v.ID, actor)
	testdb.Must(t, err, "activate %s", pl.Slug)
}
