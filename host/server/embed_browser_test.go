package server_test

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testbrowser"
	"github.com/portico-dev/portico/internal/testdb"
)

// companySite is a company's own web site on loopback: it serves whatever
// page the test sets, at "/", and a landing page at "/voltar".
type companySite struct {
	URL  string // http://localhost:port, another site than the portal's 127.0.0.1
	mu   sync.Mutex
	page string
}

func startCompanySite(t *testing.T) *companySite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testdb.Must(t, err, "listen")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &companySite{URL: "http://localhost:" + port}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, s.page)
	})
	mux.HandleFunc("GET /voltar", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="pt-BR"><title>Construtora</title><h1 id="company-home">Bem-vindo de volta</h1></html>`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// frame makes the site's home page frame src.
func (s *companySite) frame(src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.page = `<!doctype html><html lang="pt-BR"><title>Minha conta · Construtora</title><h1>Área do cliente</h1>` +
		`<iframe id="portal" title="Portal" src="` + html.EscapeString(src) + `" style="width:100%;height:700px;border:0"></iframe></html>`
}

// TestEmbeddedPortalInBrowser, in headless Chromium with third-party
// cookies blocked (as Safari and Firefox do): the company's site, an
// allowed origin, frames a portal session's auth_url; the customer lands
// on the address page inside the frame, saves a form, navigates inside the
// frame, and "Voltar ao site" takes the whole window back to the site and
// ends the login. Another origin's frame of the portal is blocked by the
// browser. A top-level auth_url lands on the address page and "Sair"
// returns to return_url; an expired link shows the expiry page.
func TestEmbeddedPortalInBrowser(t *testing.T) {
	t.Parallel() // browser tests run side by side: see TestBrowser
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	allowed, other := startCompanySite(t), startCompanySite(t)
	_, err := p.Store.UpdateTenant(ctx, p.Demo.ID, p.Demo.Version, model.SystemActor("test"), func(tn *model.Tenant) error {
		tn.AllowedOrigins = model.StringList{allowed.URL}
		return tn.Validate(true)
	})
	testdb.Must(t, err, "allow the company's site")
	p.Server.Env.Registry.Invalidate(p.Demo.ID)
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	api := p.NewClient(t, "")
	create := func(forward string) portalSession {
		t.Helper()
		r := api.Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "cliente@demo.portico.test",
			"forward": forward, "return_url": allowed.URL + "/voltar", "locale": "pt-BR"}, bearer(key)...)
		var ps portalSession
		r.JSON(t, &ps)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		return ps
	}

	b := testbrowser.Start(t, p.URL, 3*time.Minute, chromedp.Flag("test-third-party-cookie-phaseout", true))

	// The allowed site frames the portal.
	ps := create(model.ForwardAddress)
	allowed.frame(*ps.AuthURL + "?embed=1")
	tab := b.NewTab(t)
	tab.Run("open the company's page", chromedp.Navigate(allowed.URL+"/"))
	// The frame is redirected from auth_url to the address page: attach to
	// the document that shows the form (one attached during the redirect
	// may hold the old one, and keys typed there would go nowhere).
	frame := frameShowing(t, tab, p.URL+"/e/", `[data-testid=address-form]`)
	frame.WaitVisible(`[data-testid=address-form]`)
	if n := frame.Count(`.footer`); n != 0 {
		t.Errorf("the embedded page shows the portal's footer")
	}
	// Values are set, not typed: key events sent to a frame of another
	// site (its own renderer process) were sometimes cut short (the CEP
	// arrived as "0" in one run of five), and typing is not what this test
	// is about; the portal's pages run no script that listens to keys.
	frame.Run("fill in the address",
		chromedp.SetValue(`#f-cep`, "01310100", chromedp.ByQuery),
		chromedp.SetValue(`#f-street`, "Avenida Paulista", chromedp.ByQuery),
		chromedp.SetValue(`#f-number`, "1578", chromedp.ByQuery),
		chromedp.SetValue(`#f-city`, "São Paulo", chromedp.ByQuery),
		chromedp.SetValue(`#f-state`, "SP", chromedp.ByQuery),
		chromedp.Click(`[data-testid=address-save]`, chromedp.ByQuery, chromedp.NodeVisible),
	)
	// The form's answer navigates the frame: wait for the saved address,
	// then attach to the frame's new document (the old one's nodes are
	// gone, and waiting on them races the navigation).
	var u *model.User
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		u, err = p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
		testdb.Must(t, err, "load the customer")
		if u.Address.CEP != "" || time.Now().After(deadline) {
			break
		}
	}
	if u.Address.CEP != "01310100" || u.Address.Street != "Avenida Paulista" || u.Address.State != "SP" {
		t.Fatalf("the form sent from the frame saved %+v", u.Address)
	}
	frame = frameShowing(t, tab, p.URL+"/e/", `[data-testid=account-saved]`)
	frame.Click(`[data-testid=tab-profile]`)
	frame = frameShowing(t, tab, p.URL+"/e/", `[data-testid=profile-form]`)
	if loc := frame.Path(); !strings.HasPrefix(loc, "/e/") || !strings.HasSuffix(loc, "/account/profile") {
		t.Errorf("navigating inside the frame left the embedded login: %s", loc)
	}
	// No cookie was needed, and none was set for the portal.
	var cookies []string
	frame.Run("read the frame's cookies", chromedp.Evaluate(`document.cookie.split('; ').filter(Boolean)`, &cookies))
	for _, c := range cookies {
		if strings.HasPrefix(c, "portico_session=") {
			t.Errorf("the embedded login set a session cookie: %s", c)
		}
	}
	status := func(id, want string) {
		t.Helper()
		r := api.Do("GET", "/api/v1/portal/sessions/"+id, nil, bearer(key)...)
		if !strings.Contains(string(r.Body), `"status":"`+want+`"`) {
			t.Errorf("portal session %s: %s, want %s", id, r.Body, want)
		}
	}
	status(ps.ID, "logged_in")
	frame.Run("go back to the site", chromedp.Click(`[data-testid=logout]`, chromedp.ByQuery, chromedp.NodeVisible))
	tab.WaitVisible(`#company-home`)
	var top string
	tab.Run("read the top window", chromedp.Location(&top))
	if top != allowed.URL+"/voltar" {
		t.Errorf("'Voltar ao site' went to %s", top)
	}
	status(ps.ID, "logged_out")

	// Another origin cannot frame the portal: the browser refuses.
	ps2 := create(model.ForwardProfile)
	other.frame(*ps2.AuthURL + "?embed=1")
	evil := b.NewTab(t)
	evil.Run("open the other site", chromedp.Navigate(other.URL+"/"))
	evil.WaitJS("the frame to settle", `document.readyState === "complete"`)
	// The frame exists, but what it holds is the browser's error page, not
	// the portal's: Chromium refused the document for its frame-ancestors.
	blockedFrame := evil.Frame(p.URL + "/e/")
	var shown struct {
		URL  string `json:"url"`
		Form bool   `json:"form"`
	}
	blockedFrame.Run("read the blocked frame", chromedp.Evaluate(`({url: document.URL, form: !!document.querySelector('[data-testid=profile-form]')})`, &shown))
	if shown.Form || !strings.HasPrefix(shown.URL, "chrome-error://") {
		t.Fatalf("a frame on %s shows the portal: %+v", other.URL, shown)
	}

	// A top-level auth_url lands on the address page; "Sair" goes back.
	ps3 := create(model.ForwardAddress)
	top3 := b.NewTab(t)
	top3.Run("open the auth_url", chromedp.Navigate(*ps3.AuthURL))
	top3.WaitVisible(`[data-testid=address-form]`)
	if got := top3.Path(); got != "/account/address" {
		t.Errorf("the auth_url landed on %s", got)
	}
	if txt := top3.Text(`[data-testid=logout]`); txt != "Voltar ao site" {
		t.Errorf("the logout button reads %q", txt)
	}
	top3.Click(`[data-testid=logout]`)
	top3.WaitVisible(`#company-home`)
	top3.Run("back on the site", chromedp.Location(&top))
	if top != allowed.URL+"/voltar" {
		t.Errorf("'Sair' went to %s", top)
	}

	// An expired link says so, in the customer's language, with a way back.
	ps4 := create("")
	p.Clock.Advance(31 * time.Minute)
	late := b.NewTab(t)
	late.Run("open the expired auth_url", chromedp.Navigate(*ps4.AuthURL))
	late.WaitVisible(`[data-testid=portal-link-page]`)
	if h := late.Text(`#link-title`); h != "Este link expirou" {
		t.Errorf("expired page title %q", h)
	}
	if href := late.Attr(`[data-testid=link-return]`, "href"); href != allowed.URL+"/voltar" {
		t.Errorf("expired page's way back: %q", href)
	}
	if v := late.Axe(); len(v) > 0 {
		t.Errorf("accessibility violations on the expired page: %v", v)
	}
}

// frameShowing returns the frame at prefix once its document shows sel,
// attaching to it afresh each try: after a navigation inside a frame of
// another site, a context attached before it may still hold the old
// document. It fails the test after 15 seconds.
func frameShowing(t *testing.T, tab *testbrowser.Tab, prefix, sel string) *testbrowser.Tab {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		fr := tab.Frame(prefix)
		ctx, cancel := context.WithTimeout(fr.Ctx, 2*time.Second)
		var found bool
		err := chromedp.Run(ctx, chromedp.Evaluate(`!!document.querySelector(`+testbrowser.JS(sel)+`)`, &found))
		cancel()
		if err == nil && found {
			return fr
		}
		if time.Now().After(deadline) {
			t.Fatalf("the frame at %s never showed %s (last error %v)", prefix, sel, err)
		}
	}
}
