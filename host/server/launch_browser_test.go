package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/exampleapp/app"
)

// exampleApp is the example iframe app (plugins/exampleapp) running in
// this process on 127.0.0.1, registered in the demo tenant as a token
// plugin for clientes.
type exampleApp struct {
	URL    string // http://127.0.0.1:port
	App    *app.App
	Slug   string
	Client service.Credentials
}

func startExampleApp(t testing.TB, p *servertest.Portal) *exampleApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen for the example app")
	base := "http://" + ln.Addr().String()

	// Register it as a gestor would (the admin service, as the API does).
	box, err := secret.New([]byte(auth.NewToken()[:secret.KeySize]))
	testdb.Must(t, err, "secret box")
	svc := service.New(service.Deps{Store: p.Store, Box: box, Demo: true})
	slug := "exemplo"
	f := model.PluginFields{Slug: slug, Name: "Aplicativo de exemplo", Title: "Exemplo", Type: model.PluginIframe,
		URL: base + "/launch", Icon: "usuario", Active: true, ShowInPortal: true, VisibleTo: model.VisibleCliente,
		AuthType: model.AuthToken, Size: model.SizeMedio}
	f.UserFields = model.StringList{model.UserFieldName, model.UserFieldEmail}
	_, creds, err := svc.CreatePlugin(context.Background(), p.Demo.ID, model.Actor{Type: "system", Label: "test"}, service.NewPluginInput(f,
		"slug", "name", "title", "type", "url", "icon", "active", "show_in_portal", "visible_to", "auth_type", "size", "user_fields"))
	testdb.Must(t, err, "register the example app")
	if creds == nil {
		t.Fatal("a token plugin was registered without credentials")
	}

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{PortalOrigin: p.URL, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		Addr: ln.Addr().String(), Logger: testdb.Logger(t)})
	testdb.Must(t, err, "build the example app")
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-done
	})
	return &exampleApp{URL: base, App: a, Slug: slug, Client: *creds}
}

var tokenFieldRe = regexp.MustCompile(`name="portico_token" value="([^"]+)"`)

// launchToken opens the plugin's launch page as c and returns the token it
// would post.
func launchToken(t testing.TB, c *servertest.Client, slug string) string {
	t.Helper()
	r := c.Do("GET", "/p/"+slug+"/launch", nil)
	m := tokenFieldRe.FindSubmatch(r.Body)
	if r.Status != 200 || m == nil {
		t.Fatalf("launch page of %s: %d %.400s", slug, r.Status, r.Body)
	}
	return string(m[1])
}

// postToApp sends a token to the app's /launch as the launch page's form
// would, without following the redirect.
func postToApp(t testing.TB, ex *exampleApp, token string) *http.Response {
	t.Helper()
	hc := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.PostForm(ex.URL+"/launch", url.Values{"portico_token": {token}})
	testdb.Must(t, err, "post the token to the example app")
	return res
}

// TestExampleAppLaunchHTTP runs the launch without a browser: a token from
// the launch page opens a session; the same token replayed (to the app or
// to the exchange, as curl would) is refused with token_used.
func TestExampleAppLaunchHTTP(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ex := startExampleApp(t, p)
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)

	tok := launchToken(t, c, ex.Slug)
	res := postToApp(t, ex, tok)
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/s/") {
		t.Fatalf("first launch: %d Location %q, want 303 to /s/…", res.StatusCode, loc)
	}
	page, err := http.Get(ex.URL + loc)
	testdb.Must(t, err, "open the session page")
	body := readAll(t, page)
	if page.StatusCode != 200 || !strings.Contains(body, "Olá, Carla Cliente") || !strings.Contains(body, "cliente@demo.portico.test") {
		t.Fatalf("session page: %d %.600s", page.StatusCode, body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+p.URL) ||
		!strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("session page CSP %q: want framing by the portal only and the app's own stylesheet, no inline style", csp)
	}
	// The user's id (the token's sub) is the app's key, not something the
	// customer sees.
	sub := exampleSubject(t, p, ex, "cliente@demo.portico.test")
	if strings.Contains(body, sub) || strings.Contains(body, "opaco") {
		t.Errorf("session page shows the user's opaque id %s:\n%.600s", sub, body)
	}
	// The stylesheet the page links is served, and cacheable for good.
	css := regexp.MustCompile(`<link rel="stylesheet" href="(/static/[0-9a-f]+/app\.css)">`).FindStringSubmatch(body)
	if css == nil {
		t.Fatalf("session page links no stylesheet:\n%.600s", body)
	}
	sheet, err := http.Get(ex.URL + css[1])
	testdb.Must(t, err, "get the stylesheet")
	if text := readAll(t, sheet); sheet.StatusCode != 200 || !strings.HasPrefix(sheet.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(sheet.Header.Get("Cache-Control"), "immutable") || !strings.Contains(text, ".data") {
		t.Errorf("stylesheet %s: %d %q %q", css[1], sheet.StatusCode, sheet.Header.Get("Content-Type"), sheet.Header.Get("Cache-Control"))
	}

	// The same token again: the app's offline check passes, the exchange
	// refuses it.
	res = postToApp(t, ex, tok)
	body = readAll(t, res)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `data-code="token_used"`) {
		t.Errorf("replayed token at the app: %d %.400s", res.StatusCode, body)
	}
	// And by hand at the exchange, with the plugin's own credentials.
	x := &app.Exchanger{URL: p.URL + "/api/v1/launch/exchange", ClientID: ex.Client.ClientID, ClientSecret: ex.Client.ClientSecret, HTTP: http.DefaultClient}
	if _, err := x.Exchange(context.Background(), tok); !isTokenCode(err, "token_used") {
		t.Errorf("replayed token at the exchange: %v, want token_used", err)
	}

	// A fresh token exchanged with a wrong secret, and garbage.
	fresh := launchToken(t, c, ex.Slug)
	bad := &app.Exchanger{URL: x.URL, ClientID: ex.Client.ClientID, ClientSecret: "pcs_wrong", HTTP: http.DefaultClient}
	if _, err := bad.Exchange(context.Background(), fresh); !isTokenCode(err, "invalid_client") {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}
	for _, tc := range []struct{ name, token, code string }{
		{"garbage", "not-a-token", "token_invalid"},
		{"tampered payload", fresh[:strings.IndexByte(fresh, '.')+1] + "e30" + fresh[strings.LastIndexByte(fresh, '.'):], "token_invalid"},
		{"alg none", "eyJhbGciOiJub25lIn0.e30.", "token_invalid"},
	} {
		res := postToApp(t, ex, tc.token)
		body := readAll(t, res)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `data-code="`+tc.code+`"`) {
			t.Errorf("%s: %d %.300s, want 401 %s", tc.name, res.StatusCode, body, tc.code)
		}
	}
}

// exampleSubject is the id under which the example app knows the demo user
// with email (its pairwise subject).
func exampleSubject(t *testing.T, p *servertest.Portal, ex *exampleApp, email string) string {
	t.Helper()
	ctx := context.Background()
	u, err := p.Store.UserByEmail(ctx, p.Demo.ID, email)
	testdb.Must(t, err, "user %s", email)
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, ex.Slug)
	testdb.Must(t, err, "plugin %s", ex.Slug)
	sub, err := p.Store.PluginSubject(ctx, p.Demo.ID, pl.ID, u.ID)
	testdb.Must(t, err, "subject")
	return sub
}

func isTokenCode(err error, code string) bool {
	te, ok := err.(*app.TokenError)
	return ok && te.Code == code
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// frameEval evaluates expr inside the tab's first child frame (the plugin
// frame, cross-origin to the portal's page, so not reachable from its
// script) and returns the string result. It fails while the frame is
// navigating (its execution context goes away): callers poll.
func frameEval(tab *testbrowser.Tab, expr string) (string, error) {
	ctx, cancel := context.WithTimeout(tab.Ctx, 5*time.Second)
	defer cancel()
	var out string
	err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		tree, err := page.GetFrameTree().Do(ctx)
		if err != nil {
			return err
		}
		var frame cdp.FrameID
		var walk func(*page.FrameTree)
		walk = func(ft *page.FrameTree) {
			for _, ch := range ft.ChildFrames {
				if frame == "" && strings.HasPrefix(ch.Frame.URL, "http") {
					frame = ch.Frame.ID
				}
				walk(ch)
			}
		}
		walk(tree)
		if frame == "" {
			return fmt.Errorf("no child frame")
		}
		world, err := page.CreateIsolatedWorld(frame).Do(ctx)
		if err != nil {
			return err
		}
		v, exc, err := runtime.Evaluate(expr).WithContextID(world).WithReturnByValue(true).Do(ctx)
		if err != nil {
			return err
		}
		if exc != nil {
			return fmt.Errorf("evaluate %s: %s", expr, exc.Text)
		}
		return json.Unmarshal(v.Value, &out)
	}))
	return out, err
}

// frameWait polls expr in the plugin frame for up to 15 seconds until it
// yields a non-empty string, and returns it ("" on timeout).
func frameWait(tab *testbrowser.Tab, expr string) string {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := frameEval(tab, expr); err == nil && got != "" {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// TestExampleAppBrowser opens the example app as a cliente in headless
// Chromium: the portal frames the launch page, which posts a fresh token
// to the app; the frame greets the cliente by name. A reload launches
// again with a new token.
func TestExampleAppBrowser(t *testing.T) {
	t.Parallel() // beside the browser tests, after the sequential ones: see TestBrowser
	p := servertest.Start(t, "sqlite")
	ex := startExampleApp(t, p)
	br := testbrowser.Start(t, p.URL, 90*time.Second)
	tab := br.NewTab(t)
	tab.Login("cliente@demo.portico.test", demo.Password, `nav[data-testid=menu]`)
	tab.Navigate("/p/" + ex.Slug)
	tab.WaitVisible(`iframe[data-testid=plugin-frame]`)

	greeting := func() string {
		return frameWait(tab, `(document.querySelector('#greeting') || {}).textContent || ''`)
	}
	if got := greeting(); got != "Olá, Carla Cliente" {
		t.Fatalf("frame greeting %q, want %q", got, "Olá, Carla Cliente")
	}
	path1 := frameWait(tab, `location.pathname`)
	if !strings.HasPrefix(path1, "/s/") {
		t.Fatalf("frame at %q, want the app's session page", path1)
	}

	// A reload of the portal page mints a new token: a second session.
	tab.Run("reload", chromedp.Reload())
	tab.WaitVisible(`iframe[data-testid=plugin-frame]`)
	if got := greeting(); got != "Olá, Carla Cliente" {
		t.Fatalf("after reload: frame greeting %q", got)
	}
	path2 := frameWait(tab, `location.pathname`)
	if path2 == path1 || !strings.HasPrefix(path2, "/s/") {
		t.Errorf("after reload the frame shows %q, the same session as before (%q)", path2, path1)
	}
	jtis := ex.App.Sessions().JTIs()
	if len(jtis) != 2 || jtis[0] == jtis[1] || jtis[0] == "" {
		t.Errorf("launch token ids %q, want two different ones", jtis)
	}

	// The session page inside the frame keeps the session on a form post
	// (no third-party cookie involved).
	if _, err := frameEval(tab, `(() => { document.querySelector('#note').value = 'lembrete'; document.querySelector('#note-add').click(); return 'ok' })()`); err != nil {
		t.Fatalf("add a note in the frame: %v", err)
	}
	note := frameWait(tab, `(document.querySelector('#notes li') || {}).textContent || ''`)
	if note != "lembrete" {
		t.Errorf("note in the frame %q, want %q", note, "lembrete")
	}
}

// TestExampleAppPhone opens the example app from the portal in headless
// Chromium at a phone's width (390 px, as an iPhone 12–15): its stylesheet
// loads under the app's CSP, and nothing in the frame is wider than the
// frame (no horizontal scrolling, every element inside the viewport), and
// the frame is as tall as the page in it.
func TestExampleAppPhone(t *testing.T) {
	t.Parallel() // beside the browser tests, after the sequential ones: see TestBrowser
	p := servertest.Start(t, "sqlite")
	ex := startExampleApp(t, p)
	br := testbrowser.Start(t, p.URL, 90*time.Second)
	tab := br.NewTab(t)
	tab.Run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	tab.Login("cliente@demo.portico.test", demo.Password, `nav[data-testid=menu]`)
	tab.Navigate("/p/" + ex.Slug)
	tab.WaitVisible(`iframe[data-testid=plugin-frame]`)
	if got := frameWait(tab, `(document.querySelector('#greeting') || {}).textContent || ''`); got != "Olá, Carla Cliente" {
		t.Fatalf("frame greeting %q", got)
	}
	// Wait for the stylesheet: the data list's rows become grids.
	if got := frameWait(tab, `(() => { const r = document.querySelector('#user-data > div'); return r && getComputedStyle(r).display === 'grid' ? 'styled' : '' })()`); got != "styled" {
		t.Fatal("the example app's stylesheet did not apply in the frame")
	}
	fit := frameWait(tab, `(() => {
		const d = document.documentElement, w = d.clientWidth;
		if (w === 0) return '';
		const wide = [...document.body.querySelectorAll('*')]
			.filter(e => e.getBoundingClientRect().right > w + 0.5)
			.map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''));
		return JSON.stringify({scroll: d.scrollWidth, client: w, wide: wide,
			stacked: getComputedStyle(document.querySelector('#user-data > div')).gridTemplateColumns.split(' ').length === 1});
	})()`)
	var got struct {
		Scroll, Client int
		Wide           []string
		Stacked        bool
	}
	testdb.Must(t, json.Unmarshal([]byte(fit), &got), "layout %q", fit)
	if got.Client == 0 || got.Client > 390 || got.Scroll > got.Client || len(got.Wide) > 0 {
		t.Errorf("at 390 px the frame is %d px wide and its content %d px (elements past the edge: %v)", got.Client, got.Scroll, got.Wide)
	}
	if got.Client < 480 && !got.Stacked {
		t.Errorf("in a %d px frame the user's data should stack (label above value)", got.Client)
	}
	t.Logf("frame %d px, content %d px", got.Client, got.Scroll)

	// The frame takes the height the page posts (launchkit's frame.js, the
	// portal's frame.js): nothing is cut off behind a scroll bar inside the
	// frame. A message from anyone but the framed page changes nothing.
	tab.WaitJS("the frame sized to its page", `document.querySelector('iframe[data-testid=plugin-frame]').dataset.sized === 'true'`)
	var heights string
	for i := 0; i < 50; i++ {
		heights = frameWait(tab, `(() => { const d = document.documentElement; return d.scrollHeight + ' ' + d.clientHeight })()`)
		var sh, ch int
		if _, err := fmt.Sscan(heights, &sh, &ch); err == nil && sh <= ch {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var sh, ch int
	if _, err := fmt.Sscan(heights, &sh, &ch); err != nil || sh > ch {
		t.Errorf("the frame's page is %q (scroll height, client height): cut off inside the frame", heights)
	}
	var before, after float64
	tab.Run("read the frame's height", chromedp.Evaluate(`document.querySelector('iframe[data-testid=plugin-frame]').getBoundingClientRect().height`, &before))
	tab.Run("post a forged resize", chromedp.Evaluate(`window.postMessage({type: 'portico:resize', height: 5000}, '*'), 0`, nil))
	time.Sleep(200 * time.Millisecond)
	tab.Run("read the frame's height again", chromedp.Evaluate(`document.querySelector('iframe[data-testid=plugin-frame]').getBoundingClientRect().height`, &after))
	if after != before {
		t.Errorf("a message from the portal's own window resized the frame from %v to %v px", before, after)
	}
}

// docBlock returns the first fenced block of docs/launch.md in language
// lang whose text contains marker.
func docBlock(t *testing.T, lang, marker string) string {
	t.Helper()
	return docBlockIn(t, "launch.md", lang, marker)
}

// docBlockIn returns the first fenced block of language lang in
// docs/{file} that contains marker.
func docBlockIn(t *testing.T, file, lang, marker string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", file))
	testdb.Must(t, err, "read docs/%s", file)
	parts := strings.Split(string(raw), "```"+lang+"\n")
	for _, p := range parts[1:] {
		block, _, ok := strings.Cut(p, "\n```")
		if ok && strings.Contains(block, marker) {
			return block + "\n"
		}
	}
	t.Fatalf("docs/%s has no %s block containing %q", file, lang, marker)
	return ""
}

// TestLaunchDocExamples runs the curl and Go examples of docs/launch.md
// against a real server with real tokens: the documentation cannot drift
// from the API. The Go example is compiled in its own module from the
// module cache (no network).
func TestLaunchDocExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the documentation's Go example")
	}
	p := servertest.Start(t, "sqlite")
	ex := startExampleApp(t, p)
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	env := func(token string) []string {
		return append(os.Environ(), "PORTAL="+p.URL, "CLIENT_ID="+ex.Client.ClientID, "CLIENT_SECRET="+ex.Client.ClientSecret, "TOKEN="+token)
	}

	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			testdb.Unavailable(t, "curl", err)
		}
		var script []string
		for _, line := range strings.Split(docBlock(t, "sh", "/api/v1/launch/exchange"), "\n") {
			// The block's placeholder assignments give way to the real values.
			if !regexp.MustCompile(`^(PORTAL|CLIENT_ID|CLIENT_SECRET|TOKEN)=`).MatchString(line) {
				script = append(script, line)
			}
		}
		tok := launchToken(t, c, ex.Slug)
		run := func() string {
			cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.Join(script, "\n"))
			cmd.Env = env(tok)
			out, err := cmd.CombinedOutput()
			testdb.Must(t, err, "run the curl example: %s", out)
			return string(out)
		}
		out := run()
		if !strings.Contains(out, `"alg":"EdDSA"`) || !strings.Contains(out, `"name":"Carla Cliente"`) {
			t.Errorf("curl example output lacks the JWKS or the user:\n%s", out)
		}
		if out := run(); !strings.Contains(out, `"code":"token_used"`) {
			t.Errorf("curl example run twice: want token_used:\n%s", out)
		}
	})

	t.Run("go", func(t *testing.T) {
		dir := t.TempDir()
		mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
		testdb.Must(t, err, "read go.mod")
		sum, err := os.ReadFile(filepath.Join("..", "..", "go.sum"))
		testdb.Must(t, err, "read go.sum")
		mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module docexample"))
		testdb.Must(t, os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o600), "write go.mod")
		testdb.Must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o600), "write go.sum")
		testdb.Must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(docBlock(t, "go", "package main")), 0o600), "write main.go")
		bin := filepath.Join(dir, "example")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = dir
		build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build the Go example: %v\n%s", err, out)
		}
		tok := launchToken(t, c, ex.Slug)
		cmd := exec.Command(bin)
		cmd.Env = env(tok)
		out, err := cmd.CombinedOutput()
		testdb.Must(t, err, "run the Go example: %s", out)
		// It read the nested portico claim exactly as the token carries it.
		var got struct {
			Sub     string         `json:"sub"`
			Portico map[string]any `json:"portico"`
			User    map[string]any `json:"user"`
		}
		testdb.Must(t, json.Unmarshal(out, &got), "Go example output %s", out)
		real := tokenPayload(t, tok)
		if !reflect.DeepEqual(got.Portico, real["portico"]) || got.Portico["role"] != "cliente" {
			t.Errorf("Go example read portico %v, the token carries %v", got.Portico, real["portico"])
		}
		if got.Sub != real["sub"] || got.User["id"] != got.Sub || got.User["name"] != "Carla Cliente" || got.User["role"] != got.Portico["role"] {
			t.Errorf("Go example output %s does not match the token %v", out, real)
		}
		// Run again: the offline check passes, the exchange refuses.
		cmd = exec.Command(bin)
		cmd.Env = env(tok)
		out, err = cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "token_used") {
			t.Errorf("Go example with a used token: %v %s, want token_used", err, out)
		}
		// A token for another audience fails the offline check.
		cmd = exec.Command(bin)
		cmd.Env = append(env(tok), "CLIENT_ID=pc_someone_else")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "offline check") {
			t.Errorf("Go example with another client_id: %v %s, want an offline refusal", err, out)
		}
	})
}

// tokenPayload decodes a compact JWS's payload (no verification).
func tokenPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	testdb.Must(t, err, "decode the payload")
	var out map[string]any
	testdb.Must(t, json.Unmarshal(raw, &out), "payload %s", raw)
	return out
}

// sameShape reports the differences between a JSON example of the
// documentation (doc) and a real document (real): the same members at
// every level, of the same JSON types; a documented string without "…" (a
// constant such as "EdDSA" or "cliente") must also be the real value unless
// its path is in free (values that vary by installation, like iss).
func sameShape(path string, doc, real any, free map[string]bool) []string {
	switch d := doc.(type) {
	case map[string]any:
		r, ok := real.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: documented as an object, is %T", path, real)}
		}
		var diffs []string
		for k, v := range d {
			rv, ok := r[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: documented, absent from the real document", path, k))
				continue
			}
			diffs = append(diffs, sameShape(path+"."+k, v, rv, free)...)
		}
		for k := range r {
			if _, ok := d[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: in the real document, not documented", path, k))
			}
		}
		return diffs
	case []any:
		r, ok := real.([]any)
		if !ok || len(d) == 0 || len(r) == 0 {
			return []string{fmt.Sprintf("%s: documented as a non-empty array, is %v", path, real)}
		}
		var diffs []string
		for _, rv := range r {
			diffs = append(diffs, sameShape(path+"[]", d[0], rv, free)...)
		}
		return diffs
	case string:
		r, ok := real.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: documented as a string, is %T", path, real)}
		}
		if !strings.Contains(d, "…") && !free[path] && d != r {
			return []string{fmt.Sprintf("%s: documented %q, real %q", path, d, r)}
		}
	case float64:
		if _, ok := real.(float64); !ok {
			return []string{fmt.Sprintf("%s: documented as a number, is %T", path, real)}
		}
	}
	return nil
}

// docJSON returns the JSON block of docs/launch.md containing marker, decoded.
func docJSON(t *testing.T, marker string) any {
	t.Helper()
	block := docBlock(t, "json", marker)
	var v any
	testdb.Must(t, json.Unmarshal([]byte(block), &v), "docs/launch.md JSON block %s", block)
	return v
}

// TestLaunchDocShapes compares every JSON example of docs/launch.md (the
// token's header and payload, the JWKS, the exchange's answer) with the
// real thing, and checks that the claim names the Python and PHP examples
// read exist in a real token, at the nesting they use (claims["portico"]
// ["role"], $claims->portico->role). When python3 has PyJWT and requests,
// the Python example runs against the real server too; PHP is not on the
// build machines.
func TestLaunchDocShapes(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ex := startExampleApp(t, p)
	ctx := context.Background()
	// The exchange example is of a plugin granted all four profile fields.
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, ex.Slug)
	testdb.Must(t, err, "plugin")
	_, err = p.Store.UpdatePlugin(ctx, p.Demo.ID, ex.Slug, pl.Version, model.Actor{Type: "system", Label: "test"}, "plugin.access",
		func(pl *model.Plugin) error {
			pl.UserFields = model.StringList{model.UserFieldName, model.UserFieldEmail, model.UserFieldDocument, model.UserFieldPhone}
			return nil
		})
	testdb.Must(t, err, "grant every profile field")
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	tok := launchToken(t, c, ex.Slug)
	payload := tokenPayload(t, tok)

	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "launch.md"))
	testdb.Must(t, err, "read docs/launch.md")
	doc := string(raw)

	t.Run("header", func(t *testing.T) {
		m := regexp.MustCompile("Header: `(\\{[^`]+\\})`").FindStringSubmatch(doc)
		if m == nil {
			t.Fatal("docs/launch.md shows no Header: `{…}`")
		}
		var d, r any
		testdb.Must(t, json.Unmarshal([]byte(m[1]), &d), "documented header %s", m[1])
		hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		testdb.Must(t, err, "decode the header")
		testdb.Must(t, json.Unmarshal(hdr, &r), "header %s", hdr)
		for _, d := range sameShape("header", d, r, nil) {
			t.Error(d)
		}
	})
	t.Run("payload", func(t *testing.T) {
		free := map[string]bool{"payload.iss": true}
		for _, d := range sameShape("payload", docJSON(t, `"portico": {`), payload, free) {
			t.Error(d)
		}
		if payload["iss"] != p.URL {
			t.Errorf("iss %v, want the portal origin %s", payload["iss"], p.URL)
		}
	})
	t.Run("jwks", func(t *testing.T) {
		r := c.Do("GET", "/.well-known/jwks.json", nil)
		var real any
		testdb.Must(t, json.Unmarshal(r.Body, &real), "jwks %s", r.Body)
		for _, d := range sameShape("jwks", docJSON(t, `"kty":"OKP"`), real, nil) {
			t.Error(d)
		}
	})
	t.Run("exchange", func(t *testing.T) {
		req, err := http.NewRequest("POST", p.URL+"/api/v1/launch/exchange", strings.NewReader(`{"token":"`+launchToken(t, c, ex.Slug)+`"}`))
		testdb.Must(t, err, "request")
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(ex.Client.ClientID, ex.Client.ClientSecret)
		res, err := http.DefaultClient.Do(req)
		testdb.Must(t, err, "exchange")
		body := readAll(t, res)
		var real any
		testdb.Must(t, json.Unmarshal([]byte(body), &real), "exchange %d %s", res.StatusCode, body)
		free := map[string]bool{"user.name": true, "user.email": true}
		for _, d := range sameShape("user", docJSON(t, `"id": "Zq3…"`), real, free) {
			t.Error(d)
		}
	})
	// claimPath reports whether path (e.g. portico, role) names a value
	// of the real payload.
	claimPath := func(path []string) bool {
		var cur any = payload
		for _, k := range path {
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if cur, ok = m[k]; !ok {
				return false
			}
		}
		return true
	}
	t.Run("python claim names", func(t *testing.T) {
		py := docBlock(t, "python", "PyJWKClient")
		uses := regexp.MustCompile(`claims((?:\[["'][a-z_.]+["']\])+)`).FindAllStringSubmatch(py, -1)
		required := regexp.MustCompile(`"require": \[([^\]]*)\]`).FindStringSubmatch(py)
		if len(uses) == 0 || required == nil {
			t.Fatalf("the Python example reads no claims: %s", py)
		}
		sawPortico := false
		for _, u := range uses {
			path := regexp.MustCompile(`["']([a-z_.]+)["']`).FindAllStringSubmatch(u[1], -1)
			var keys []string
			for _, k := range path {
				keys = append(keys, k[1])
			}
			sawPortico = sawPortico || keys[0] == "portico"
			if !claimPath(keys) {
				t.Errorf("the Python example reads claims%s, which a real token does not have: %v", u[1], payload)
			}
		}
		for _, k := range regexp.MustCompile(`"([a-z_]+)"`).FindAllStringSubmatch(required[1], -1) {
			if !claimPath([]string{k[1]}) {
				t.Errorf("the Python example requires claim %q, which a real token does not have", k[1])
			}
		}
		if !sawPortico {
			t.Error("the Python example never shows how to read the portico claim")
		}
	})
	t.Run("php claim names", func(t *testing.T) {
		php := docBlock(t, "php", "JWK::parseKeySet")
		uses := regexp.MustCompile(`\$claims((?:->(?:[a-z_]+|\{'[a-z_.]+'\}))+)`).FindAllStringSubmatch(php, -1)
		if len(uses) == 0 {
			t.Fatalf("the PHP example reads no claims: %s", php)
		}
		sawPortico := false
		for _, u := range uses {
			keys := strings.Split(strings.NewReplacer("{'", "", "'}", "").Replace(strings.TrimPrefix(u[1], "->")), "->")
			sawPortico = sawPortico || keys[0] == "portico"
			if !claimPath(keys) {
				t.Errorf("the PHP example reads $claims%s, which a real token does not have: %v", u[1], payload)
			}
		}
		if !sawPortico {
			t.Error("the PHP example never shows how to read the portico claim")
		}
	})
	t.Run("python", func(t *testing.T) {
		// The first python3 that has the libraries: a version manager's
		// shim on $PATH may shadow Debian's, where .ci/run installs them.
		python := ""
		for _, p := range []string{"python3", "/usr/bin/python3"} {
			if exec.Command(p, "-c", "import jwt, requests, cryptography").Run() == nil {
				python = p
				break
			}
		}
		if python == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("python3 with PyJWT, cryptography and requests is not installed (.ci/run installs python3-jwt, python3-cryptography and python3-requests)")
			}
			t.Skip("python3 with PyJWT, cryptography and requests is not installed: only the claim names were checked")
		}
		var script []string
		for _, line := range strings.Split(docBlock(t, "python", "PyJWKClient"), "\n") {
			// The placeholders give way to the real values.
			if m := regexp.MustCompile(`^(PORTAL|CLIENT_ID|CLIENT_SECRET) = `).FindStringSubmatch(line); m != nil {
				line = m[1] + ` = os.environ["` + m[1] + `"]`
			}
			script = append(script, line)
		}
		script = append([]string{"import json, os"}, script...)
		script = append(script, `tok = os.environ["TOKEN"]`, `claims = verify(tok)`, `user = exchange(tok)`,
			`print(json.dumps({"sub": claims["sub"], "portico": claims["portico"], "user": user}))`)
		fresh := launchToken(t, c, ex.Slug)
		cmd := exec.Command(python, "-c", strings.Join(script, "\n"))
		cmd.Env = append(os.Environ(), "PORTAL="+p.URL, "CLIENT_ID="+ex.Client.ClientID, "CLIENT_SECRET="+ex.Client.ClientSecret, "TOKEN="+fresh)
		out, err := cmd.CombinedOutput()
		testdb.Must(t, err, "run the Python example: %s", out)
		var got struct {
			Sub     string         `json:"sub"`
			Portico map[string]any `json:"portico"`
			User    map[string]any `json:"user"`
		}
		testdb.Must(t, json.Unmarshal(out, &got), "Python example output %s", out)
		real := tokenPayload(t, fresh)
		if got.Sub != real["sub"] || !reflect.DeepEqual(got.Portico, real["portico"]) || got.User["id"] != got.Sub {
			t.Errorf("Python example printed %s for a token carrying %v", out, real)
		}
	})
}

// BenchmarkExampleAppLaunch is one whole launch on loopback: the portal
// mints a token on its launch page, the example app verifies it offline,
// exchanges it and opens a session (answering 303).
func BenchmarkExampleAppLaunch(b *testing.B) {
	p := servertest.Start(b, "sqlite")
	ex := startExampleApp(b, p)
	c := p.NewClient(b, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	b.ResetTimer()
	for b.Loop() {
		res := postToApp(b, ex, launchToken(b, c, ex.Slug))
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			b.Fatalf("launch answered %d", res.StatusCode)
		}
	}
}
