package server_test

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/internal/testdb"
)

// scenario is one request through the real app over real HTTP.
type scenario struct {
	name     string
	as       string // demo e-mail to log in as; "" for anonymous
	host     string // Host header; "" is the demo tenant
	method   string
	path     string
	body     any
	header   []string
	status   int
	code     string   // expected error.code for JSON errors
	contains []string // fragments the body must contain
	absent   []string // fragments the body must not contain
}

func runScenarios(t *testing.T, p *servertest.Portal, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			c := p.NewClient(t, sc.host)
			if sc.as != "" {
				pw := demo.Password
				if sc.host == servertest.OtherHost {
					pw = servertest.OtherPassword
				}
				c.Login(sc.as, pw)
			}
			method := sc.method
			if method == "" {
				method = http.MethodGet
			}
			r := c.Do(method, sc.path, sc.body, sc.header...)
			if r.Status != sc.status {
				t.Fatalf("%s %s: status %d, want %d; body: %.400s", method, sc.path, r.Status, sc.status, r.Body)
			}
			if sc.code != "" && r.ErrorCode() != sc.code {
				t.Fatalf("error code %q, want %q; body: %.400s", r.ErrorCode(), sc.code, r.Body)
			}
			for _, frag := range sc.contains {
				if !strings.Contains(string(r.Body), frag) {
					t.Errorf("body lacks %q; body: %.600s", frag, r.Body)
				}
			}
			for _, frag := range sc.absent {
				if strings.Contains(string(r.Body), frag) {
					t.Errorf("body has %q; body: %.600s", frag, r.Body)
				}
			}
		})
	}
}

func menuSlugs(t *testing.T, r *servertest.Response) []string {
	t.Helper()
	var m struct {
		Entries []struct {
			Slug   string `json:"slug"`
			Path   string `json:"path"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"entries"`
	}
	r.JSON(t, &m)
	out := []string{}
	for _, e := range m.Entries {
		if e.Path != "/p/"+e.Slug {
			t.Errorf("entry %s has path %q", e.Slug, e.Path)
		}
		out = append(out, e.Slug)
	}
	return out
}

func TestMenusOfDemoAccounts(t *testing.T) {
	for _, driver := range testdb.Drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			p := servertest.Start(t, driver)
			tests := []struct {
				email, query string
				status       int
				want         []string
			}{
				{"cliente@demo.portico.test", "", 200, []string{"financeiro", "documentos", "chamados"}},
				{"cliente@demo.portico.test", "?role=cliente", 200, []string{"financeiro", "documentos", "chamados"}},
				{"cliente@demo.portico.test", "?role=sindico", 403, nil},
				{"cliente@demo.portico.test", "?panel=gestor", 403, nil},
				{"sindico@demo.portico.test", "?role=sindico", 200, []string{"documentos", "assembleias", "chamados"}},
				{"sindico@demo.portico.test", "?role=s%C3%ADndico", 200, []string{"documentos", "assembleias", "chamados"}},
				{"ambos@demo.portico.test", "?role=cliente", 200, []string{"financeiro", "documentos", "chamados"}},
				{"ambos@demo.portico.test", "?role=sindico", 200, []string{"documentos", "assembleias", "chamados"}},
				{"ambos@demo.portico.test", "", 200, []string{"financeiro", "documentos", "chamados"}},
				{"gestor@demo.portico.test", "?panel=gestor", 200, []string{"chamados", "relatorios"}},
				{"gestor@demo.portico.test", "?role=cliente", 403, nil},
				{"gestor@demo.portico.test", "", 403, nil},
			}
			for _, tt := range tests {
				c := p.NewClient(t, "")
				c.Login(tt.email, demo.Password)
				r := c.Do("GET", "/api/v1/me/menu"+tt.query, nil)
				if r.Status != tt.status {
					t.Fatalf("%s %s: status %d, want %d: %s", tt.email, tt.query, r.Status, tt.status, r.Body)
				}
				if tt.status != 200 {
					if r.ErrorCode() != "role_not_held" {
						t.Errorf("%s %s: code %q", tt.email, tt.query, r.ErrorCode())
					}
					continue
				}
				if got := menuSlugs(t, r); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("%s %s: menu %v, want %v", tt.email, tt.query, got, tt.want)
				}
			}
		})
	}
}

func TestAPIScenarios(t *testing.T) {
	t.Parallel() // beside the browser tests, after the sequential ones: see TestBrowser
	p := servertest.Start(t, "sqlite")
	login := func(email, pw string) map[string]string { return map[string]string{"email": email, "password": pw} }
	runScenarios(t, p, []scenario{
		{name: "healthz needs no tenant", host: "unknown.test", path: "/healthz", status: 200, contains: []string{"ok"}},
		{name: "readyz", path: "/readyz", status: 200, contains: []string{"ready"}},
		{name: "unknown host html", host: "unknown.test", path: "/", status: 404, contains: []string{"Não há portal neste endereço",
			`<h1 id="error-title">Página não encontrada</h1>`, `<link rel="stylesheet" href="/assets/`}, absent: []string{"Construtora", "Outra", "/theme.css"}},
		{name: "unknown host api", host: "unknown.test", path: "/api/v1/me", status: 404, code: "unknown_host"},
		{name: "unknown host jwks", host: "unknown.test", path: "/.well-known/jwks.json", status: 404, code: "unknown_host"},
		{name: "malformed host", host: "bad_host!", path: "/", status: 400, absent: []string{"Construtora", "Outra"}}, // RFC 9112: 400 before any tenant
		{name: "me anonymous", path: "/api/v1/me", status: 401, code: "unauthenticated", contains: []string{"Faça login para continuar."}},
		{name: "me anonymous in spanish", path: "/api/v1/me", header: []string{"Accept-Language", "es-AR,es;q=0.9"}, status: 401, contains: []string{"Inicie sesión para continuar."}},
		{name: "me anonymous in english", path: "/api/v1/me", header: []string{"Accept-Language", "en-US"}, status: 401, contains: []string{"Log in to continue."}},
		{name: "unsupported language falls back to pt-BR", path: "/api/v1/me", header: []string{"Accept-Language", "de-DE"}, status: 401, contains: []string{"Faça login"}},
		{name: "me", as: "ambos@demo.portico.test", path: "/api/v1/me", status: 200,
			contains: []string{`"email":"ambos@demo.portico.test"`, `"roles":["cliente","sindico"]`, `"slug":"construtora-exemplo"`, `"locale":"pt-BR"`}, absent: []string{"password", "argon2"}},
		{name: "login odd case and spaces", method: "POST", path: "/api/v1/session", body: login("  SINDICO@Demo.Portico.TEST ", demo.Password), status: 200, contains: []string{`"email":"sindico@demo.portico.test"`}},
		{name: "login wrong password", method: "POST", path: "/api/v1/session", body: login("cliente@demo.portico.test", "nope"), status: 401, code: "invalid_credentials", contains: []string{"E-mail ou senha incorretos."}},
		{name: "login unknown user", method: "POST", path: "/api/v1/session", body: login("ninguem@demo.portico.test", "x"), status: 401, code: "invalid_credentials"},
		{name: "login other tenant's user on demo host", method: "POST", path: "/api/v1/session", body: login("cliente@outra.test", servertest.OtherPassword), status: 401, code: "invalid_credentials"},
		{name: "login missing fields", method: "POST", path: "/api/v1/session", body: map[string]string{}, status: 422, code: "validation_failed", contains: []string{`"email":"Campo obrigatório."`, `"password":"Campo obrigatório."`}},
		{name: "login malformed json", method: "POST", path: "/api/v1/session", body: `{"email":`, header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_json"},
		{name: "login trailing data", method: "POST", path: "/api/v1/session", body: `{"email":"a@b.co","password":"x"} {}`, header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_json"},
		{name: "login wrong type", method: "POST", path: "/api/v1/session", body: `{"email":1,"password":"x"}`, header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_json", contains: []string{`"email":"Tipo de valor incorreto."`}},
		{name: "login unknown field", method: "POST", path: "/api/v1/session", body: map[string]string{"email": "a@b.co", "password": "x", "admin": "true"}, status: 400, code: "unknown_field", contains: []string{`"admin"`}},
		{name: "login not json", method: "POST", path: "/api/v1/session", body: url.Values{"email": {"a@b.co"}}, status: 415, code: "unsupported_media_type"},
		{name: "login oversized json", method: "POST", path: "/api/v1/session", body: `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, header: []string{"Content-Type", "application/json"}, status: 413, code: "body_too_large"},
		{name: "cross-site login refused", method: "POST", path: "/api/v1/session", body: login("cliente@demo.portico.test", demo.Password), header: []string{"Origin", "https://evil.example"}, status: 403, code: "cross_origin"},
		{name: "unknown api route", as: "cliente@demo.portico.test", path: "/api/v1/nope", status: 404, code: "not_found"},
		{name: "bad role param", as: "cliente@demo.portico.test", path: "/api/v1/me/menu?role=admin", status: 400, code: "invalid_parameter"},
		{name: "role and panel", as: "gestor@demo.portico.test", path: "/api/v1/me/menu?role=cliente&panel=gestor", status: 400, code: "invalid_parameter"},
		{name: "bad panel param", as: "gestor@demo.portico.test", path: "/api/v1/me/menu?panel=root", status: 400, code: "invalid_parameter"},
		{name: "logout without session", method: "DELETE", path: "/api/v1/session", status: 204},
	})

	// The unknown host's page has its style: the portal's static files are
	// served on any host (they name no tenant).
	c := p.NewClient(t, "unknown.test")
	page := c.Do("GET", "/", nil)
	css := regexp.MustCompile(`href="(/assets/[0-9a-f]+/app\.css)"`).FindSubmatch(page.Body)
	if css == nil {
		t.Fatalf("the unknown host's page links no style sheet: %.300s", page.Body)
	}
	if r := c.Do("GET", string(css[1]), nil); r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("%s on an unknown host: %d %q", css[1], r.Status, r.Header.Get("Content-Type"))
	}
}

func TestPortalPages(t *testing.T) {
	t.Parallel() // beside the browser tests, after the sequential ones: see TestBrowser
	p := servertest.Start(t, "sqlite")
	runScenarios(t, p, []scenario{
		{name: "home redirects anonymous to login", path: "/", status: 303},
		{name: "login page", path: "/login", status: 200, contains: []string{`name="_csrf"`, "Construtora Exemplo", `lang="pt-BR"`}},
		{name: "login page spanish", path: "/login", header: []string{"Accept-Language", "es"}, status: 200, contains: []string{"Iniciar sesión", `lang="es"`}},
		{name: "cliente home", as: "cliente@demo.portico.test", path: "/", status: 200,
			contains: []string{`data-slug="financeiro"`, `data-slug="documentos"`, `data-slug="chamados"`, "Olá, Carla Cliente", "<small>Portal do cliente Portico</small>"},
			absent:   []string{`data-slug="assembleias"`, `data-slug="relatorios"`, `data-slug="pontos"`, `data-slug="vistoria"`, "segredo-outra", "data-testid=\"role-sindico\""}},
		{name: "ambos sees role switch", as: "ambos@demo.portico.test", path: "/", status: 200, contains: []string{`data-testid="role-sindico"`, `data-testid="role-cliente"`}},
		{name: "gestor home goes to panel", as: "gestor@demo.portico.test", path: "/", status: 303},
		{name: "gestor panel", as: "gestor@demo.portico.test", path: "/gestor", status: 200, contains: []string{`data-slug="chamados"`, `data-slug="relatorios"`, "<small>Painel do gestor · Portico</small>"}, absent: []string{`data-slug="financeiro"`, "Portal do cliente Portico"}},
		{name: "panel refused to cliente", as: "cliente@demo.portico.test", path: "/gestor", status: 403, contains: []string{"<small>Portal do cliente Portico</small>"}, absent: []string{"Painel do gestor · Portico"}},
		{name: "plugin page frames the plugin origin only", as: "cliente@demo.portico.test", path: "/p/financeiro", status: 200,
			contains: []string{`data-testid="plugin-frame"`, `/demo/frame/financeiro`, `width="1280"`, `referrerpolicy="no-referrer"`, `sandbox="`}},
		{name: "plugin of another role is 404", as: "cliente@demo.portico.test", path: "/p/assembleias", status: 404, contains: []string{"não existe ou não está disponível"}},
		{name: "inactive plugin is 404", as: "cliente@demo.portico.test", path: "/p/pontos", status: 404, contains: []string{"não existe ou não está disponível"}},
		{name: "hidden plugin is 404", as: "ambos@demo.portico.test", path: "/p/vistoria", status: 404},
		{name: "unknown plugin is 404", as: "cliente@demo.portico.test", path: "/p/nao-existe", status: 404, contains: []string{"não existe ou não está disponível"}},
		{name: "invalid slug is 404", as: "cliente@demo.portico.test", path: "/p/%2e%2e", status: 404},
		{name: "panel plugin opens for gestor", as: "gestor@demo.portico.test", path: "/p/relatorios", status: 200, contains: []string{"/demo/frame/relatorios"}},
		{name: "manager-only plugin hidden from sindico", as: "sindico@demo.portico.test", path: "/p/relatorios", status: 404},
		{name: "theme css", path: "/theme.css", status: 200, contains: []string{"--primary:#0b6e4f"}},
		{name: "unknown page", as: "cliente@demo.portico.test", path: "/nada", status: 404, contains: []string{"Página não encontrada"}},
		{name: "post without csrf", method: "POST", path: "/login", body: url.Values{"email": {"cliente@demo.portico.test"}, "password": {demo.Password}}, status: 403, contains: []string{"formulário expirou"}},
		{name: "demo frame", path: "/demo/frame/financeiro", status: 200, contains: []string{"Plugin de demonstração: Financeiro"}}, // the plugin's title, not its slug
		{name: "demo frame of no plugin", path: "/demo/frame/nenhum", status: 200, contains: []string{"Plugin de demonstração: nenhum"}},
	})
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, r *servertest.Response) string {
	t.Helper()
	m := csrfRe.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no csrf token in %.300s", r.Body)
	}
	return string(m[1])
}

func TestLoginFormLogoutAndReplay(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	page := c.Do("GET", "/login?next=/p/documentos", nil)
	token := csrfOf(t, page)
	for _, form := range []url.Values{{"email": {""}, "password": {""}}, {"email": {"cliente@demo.portico.test"}, "password": {""}}} {
		form.Set("_csrf", token)
		if r := c.Do("POST", "/login", form); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "Informe o seu e-mail e a sua senha.") {
			t.Errorf("login with %q empty: %d, want 422 asking for both", form, r.Status)
		}
	}
	bad := c.Do("POST", "/login", url.Values{"_csrf": {token}, "email": {"Cliente@demo.portico.test"}, "password": {"errada"}, "next": {"/p/documentos"}})
	if bad.Status != 401 || !strings.Contains(string(bad.Body), "E-mail ou senha incorretos.") || !strings.Contains(string(bad.Body), `value="Cliente@demo.portico.test"`) {
		t.Fatalf("failed login: %d %.500s", bad.Status, bad.Body)
	}
	ok := c.Do("POST", "/login", url.Values{"_csrf": {token}, "email": {"Cliente@demo.portico.test"}, "password": {demo.Password}, "next": {"/p/documentos"}})
	if ok.Status != 303 || ok.Header.Get("Location") != "/p/documentos" {
		t.Fatalf("login: %d location %q", ok.Status, ok.Header.Get("Location"))
	}
	cookie := ""
	for _, ck := range (&http.Response{Header: ok.Header}).Cookies() {
		if ck.Name == "portico_session" {
			cookie = ck.Value
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie flags: %+v", ck)
			}
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie")
	}
	home := c.Do("GET", "/", nil)
	if home.Status != 200 {
		t.Fatalf("home after login: %d", home.Status)
	}
	// Logout needs the session's CSRF token, not the pre-login one.
	if r := c.Do("POST", "/logout", url.Values{"_csrf": {token}}); r.Status != 403 {
		t.Fatalf("logout with the login form's token: %d, want 403", r.Status)
	}
	if r := c.Do("POST", "/logout", url.Values{"_csrf": {csrfOf(t, home)}}); r.Status != 303 {
		t.Fatalf("logout: %d", r.Status)
	}
	// The old cookie is dead on the server, not just forgotten by the browser.
	replay := p.NewClient(t, "")
	r := replay.Do("GET", "/api/v1/me", nil, "Cookie", "portico_session="+cookie)
	if r.Status != 401 {
		t.Fatalf("replayed session after logout: %d %s", r.Status, r.Body)
	}
}

// inputTag returns the <input> of a page with the given id.
func inputTag(t *testing.T, body []byte, id string) string {
	t.Helper()
	tag := regexp.MustCompile(`<input id="` + regexp.QuoteMeta(id) + `"[^>]*>`).Find(body)
	if tag == nil {
		t.Fatalf("no input #%s in %.1500s", id, body)
	}
	return string(tag)
}

// TestLoginFieldErrors: a refused login marks invalid only the fields its
// message is about: a missing e-mail or password its own field, wrong
// credentials both, a lock-out neither (no field can fix it). The message
// is announced (role=alert) every time.
func TestLoginFieldErrors(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	token := csrfOf(t, c.Do("GET", "/login", nil))
	const invalid = `aria-invalid="true"`
	for _, tc := range []struct {
		name, email, password string
		status                int
		emailBad, passwordBad bool
	}{
		{"no e-mail", "", "x", http.StatusUnprocessableEntity, true, false},
		{"no password", "cliente@demo.portico.test", "", http.StatusUnprocessableEntity, false, true},
		{"neither", "", "", http.StatusUnprocessableEntity, true, true},
		{"wrong password", "cliente@demo.portico.test", "errada", http.StatusUnauthorized, true, true},
		{"unknown account", "ninguem@demo.portico.test", "errada", http.StatusUnauthorized, true, true},
	} {
		r := c.Do("POST", "/login", url.Values{"_csrf": {token}, "email": {tc.email}, "password": {tc.password}})
		email, password := inputTag(t, r.Body, "email"), inputTag(t, r.Body, "password")
		if r.Status != tc.status || !strings.Contains(string(r.Body), `role="alert" id="login-error"`) ||
			!strings.Contains(string(r.Body), "<title>Erro: Entrar · Construtora Exemplo</title>") {
			t.Errorf("%s: %d, want %d with an announced message and a title saying Erro", tc.name, r.Status, tc.status)
		}
		if strings.Contains(email, invalid) != tc.emailBad || strings.Contains(password, invalid) != tc.passwordBad {
			t.Errorf("%s: e-mail field %s, password field %s; want invalid %v, %v", tc.name, email, password, tc.emailBad, tc.passwordBad)
		}
	}
	// The account's budget is spent (the two wrong passwords above and
	// these): the lock-out is nobody's typing mistake.
	var locked *servertest.Response
	for range 5 {
		locked = c.Do("POST", "/login", url.Values{"_csrf": {token}, "email": {"cliente@demo.portico.test"}, "password": {"errada"}})
		if locked.Status == http.StatusTooManyRequests {
			break
		}
	}
	if locked.Status != http.StatusTooManyRequests {
		t.Fatalf("never locked out: %d", locked.Status)
	}
	if email, password := inputTag(t, locked.Body, "email"), inputTag(t, locked.Body, "password"); strings.Contains(email+password, invalid) ||
		!strings.Contains(password, `aria-describedby="login-error"`) || !strings.Contains(string(locked.Body), `role="alert" id="login-error"`) {
		t.Errorf("lock-out: e-mail field %s, password field %s; want neither invalid, the message announced and describing the focused field", email, password)
	}
}

// TestSessionEndedSaysSo: a browser whose session ended (it expired, or
// its cookie names no session) and that opens a portal page is sent to
// the login page, which says that the session ended; a first visit, a
// reload of the login page and the page after a logout say nothing of
// the kind.
func TestSessionEndedSaysSo(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	const ended = `data-testid="session-ended"`
	clears := func(r *servertest.Response) bool {
		for _, v := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "portico_session=;") {
				return true
			}
		}
		return false
	}
	// openPlugin opens a page that needs a login, follows the redirect
	// and returns the login page.
	openPlugin := func(c *servertest.Client, header ...string) *servertest.Response {
		t.Helper()
		r := c.Do("GET", "/p/financeiro", nil, header...)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fp%2Ffinanceiro" {
			t.Fatalf("/p/financeiro without a live session: %d to %q", r.Status, r.Header.Get("Location"))
		}
		return c.Do("GET", r.Header.Get("Location"), nil, header...)
	}

	first := p.NewClient(t, "")
	if page := openPlugin(first); strings.Contains(string(page.Body), ended) {
		t.Errorf("a first visit is told that its session ended")
	}
	made := p.NewClient(t, "")
	page := openPlugin(made, "Cookie", "portico_session=feito-a-mao")
	if !strings.Contains(string(page.Body), ended) || !strings.Contains(string(page.Body), "Sua sessão terminou. Entre de novo para continuar.") || !clears(page) {
		t.Errorf("a cookie naming no session: the login page does not say so, or keeps the cookie: %.1500s", page.Body)
	}

	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	if r := c.Do("GET", "/p/financeiro", nil); r.Status != http.StatusOK {
		t.Fatalf("plugin page while logged in: %d", r.Status)
	}
	p.Clock.Advance(web.SessionIdle + time.Minute)
	page = openPlugin(c, "Accept-Language", "es")
	if !strings.Contains(string(page.Body), ended) || !strings.Contains(string(page.Body), "Su sesión terminó.") || !clears(page) {
		t.Fatalf("an expired session: the login page does not say so, or keeps the cookie: %.1500s", page.Body)
	}
	if again := c.Do("GET", "/login", nil); strings.Contains(string(again.Body), ended) {
		t.Errorf("the login page says it again on a reload, the cookie gone")
	}

	c.Login("cliente@demo.portico.test", demo.Password)
	home := c.Do("GET", "/", nil)
	if r := c.Do("POST", "/logout", url.Values{"_csrf": {csrfOf(t, home)}}); r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "/login?bye=1") {
		t.Fatalf("logout: %d to %q", r.Status, r.Header.Get("Location"))
	}
	bye := c.Do("GET", "/login?bye=1", nil)
	if body := string(bye.Body); !strings.Contains(body, `data-testid="logged-out"`) || strings.Contains(body, ended) {
		t.Errorf("after a logout: %.1500s", body)
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1"} {
		c := p.NewClient(t, "")
		token := csrfOf(t, c.Do("GET", "/login", nil))
		r := c.Do("POST", "/login", url.Values{"_csrf": {token}, "email": {"cliente@demo.portico.test"}, "password": {demo.Password}, "next": {next}})
		loc := r.Header.Get("Location")
		if r.Status != 303 || (loc != "/" && loc != next) || strings.Contains(loc, "evil") || strings.HasPrefix(loc, "javascript") {
			t.Errorf("next=%q: status %d location %q", next, r.Status, loc)
		}
		if next != "/%0d%0aSet-Cookie:x=1" && loc != "/" {
			t.Errorf("next=%q: location %q, want /", next, loc)
		}
	}
}

func TestRoleAndLanguageSwitch(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	c.Login("ambos@demo.portico.test", demo.Password)
	home := c.Do("GET", "/", nil)
	token := csrfOf(t, home)
	if r := c.Do("POST", "/role", url.Values{"_csrf": {token}, "role": {"sindico"}}); r.Status != 303 {
		t.Fatalf("switch role: %d %s", r.Status, r.Body)
	}
	if got := menuSlugs(t, c.Do("GET", "/api/v1/me/menu", nil)); fmt.Sprint(got) != "[documentos assembleias chamados]" {
		t.Fatalf("menu after switch: %v", got)
	}
	if r := c.Do("POST", "/role", url.Values{"_csrf": {token}, "role": {"gestor"}}); r.Status != 403 {
		t.Fatalf("switch to a role not held: %d", r.Status)
	}
	if r := c.Do("POST", "/locale", url.Values{"_csrf": {token}, "locale": {"en"}, "next": {"/"}}); r.Status != 303 {
		t.Fatalf("switch language: %d", r.Status)
	}
	// The choice is stored on the user: a fresh login elsewhere sees it.
	other := p.NewClient(t, "")
	other.Login("ambos@demo.portico.test", demo.Password)
	if r := other.Do("GET", "/", nil); !strings.Contains(string(r.Body), `lang="en"`) || !strings.Contains(string(r.Body), "Hello, Antônio Ambos") {
		t.Fatalf("language not kept: %.400s", r.Body)
	}
	if r := c.Do("POST", "/locale", url.Values{"_csrf": {token}, "locale": {"fr"}}); r.Status != 400 {
		t.Fatalf("unsupported language: %d", r.Status)
	}
}

// langSwitchNext reads where a page's language switch comes back to.
var langSwitchNext = regexp.MustCompile(`<form class="lang-switch"[^>]*><input type="hidden" name="_csrf" value="[^"]*">\s*<input type="hidden" name="next" value="([^"]*)">`)

func langNextOf(t *testing.T, r *servertest.Response) string {
	t.Helper()
	m := langSwitchNext.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no language switch in %.600s", r.Body)
	}
	return html.UnescapeString(string(m[1]))
}

// TestLanguageSwitchKeepsQuery: switching language comes back to the page
// with its query: the segunda via shown at /p/{slug}?r=…, the login's
// ?next= (also after a refused login, whose POST has no query).
func TestLanguageSwitchKeepsQuery(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	anon := p.NewClient(t, "")
	login := anon.Do("GET", "/login?next=%2Fp%2Ffinanceiro", nil)
	if got := langNextOf(t, login); got != "/login?next=%2Fp%2Ffinanceiro" {
		t.Errorf("login page: the language switch comes back to %q", got)
	}
	token := csrfOf(t, login)
	sw := anon.Do("POST", "/locale", url.Values{"_csrf": {token}, "locale": {"en"}, "next": {langNextOf(t, login)}})
	if sw.Status != http.StatusSeeOther || sw.Header.Get("Location") != "/login?next=%2Fp%2Ffinanceiro" {
		t.Fatalf("switch on the login page: %d to %q", sw.Status, sw.Header.Get("Location"))
	}
	if page := string(anon.Follow(sw).Body); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, `name="next" value="/p/financeiro"`) {
		t.Errorf("the login page after the switch lost next or the language: %.1500s", page)
	}
	bad := anon.Do("POST", "/login", url.Values{"_csrf": {token}, "email": {"cliente@demo.portico.test"}, "password": {"errada"}, "next": {"/p/financeiro"}})
	if got := langNextOf(t, bad); bad.Status != http.StatusUnauthorized || got != "/login?next=%2Fp%2Ffinanceiro" {
		t.Errorf("refused login (%d): the language switch comes back to %q", bad.Status, got)
	}

	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	if got := langNextOf(t, c.Do("GET", "/p/financeiro?r=abc123", nil)); got != "/p/financeiro?r=abc123" {
		t.Errorf("plugin page with a result: the language switch comes back to %q", got)
	}
	if got := langNextOf(t, c.Do("GET", "/account/profile?saved=1&x=%0d%0a", nil)); got != "/account/profile?saved=1&x=%0d%0a" {
		t.Errorf("account page: the language switch comes back to %q", got)
	}
}

func TestLoginRateLimit(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	body := map[string]string{"email": "cliente@demo.portico.test", "password": "errada"}
	for i := 0; i < 5; i++ {
		if r := c.Do("POST", "/api/v1/session", body); r.Status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.Status)
		}
	}
	r := c.Do("POST", "/api/v1/session", body)
	if r.Status != 429 || r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d %q retry-after %q", r.Status, r.ErrorCode(), r.Header.Get("Retry-After"))
	}
	// Even the right password is refused while locked: guessing cannot continue.
	if r := c.Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}); r.Status != 429 {
		t.Fatalf("correct password during lock-out: %d", r.Status)
	}
	// Another account from the same IP is not locked by the first one's failures.
	c.Login("sindico@demo.portico.test", demo.Password)
	// The same e-mail in another tenant is another account.
	o := p.NewClient(t, servertest.OtherHost)
	o.Login("cliente@demo.portico.test", servertest.OtherPassword)
	// Spraying many accounts from one IP hits the per-IP limit.
	spray := p.NewClient(t, "")
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		r := spray.Do("POST", "/api/v1/session", map[string]string{"email": fmt.Sprintf("u%d@demo.portico.test", i), "password": "x"})
		limited = r.Status == 429
	}
	if !limited {
		t.Fatal("40 failures over distinct accounts from one IP were never limited")
	}
}

func TestNoMissingTranslations(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	paths := []string{"/", "/gestor", "/p/financeiro", "/p/assembleias", "/login", "/nada", "/api/v1/me", "/api/v1/me/menu?role=x"}
	for _, lang := range []string{"pt-BR", "es", "en"} {
		for _, as := range []string{"", "cliente@demo.portico.test", "gestor@demo.portico.test", "ambos@demo.portico.test"} {
			c := p.NewClient(t, "")
			if as != "" {
				c.Login(as, demo.Password)
			}
			for _, path := range paths {
				c.Do("GET", path, nil, "Accept-Language", lang)
			}
		}
	}
	if n := p.Server.Env.Catalog.Missing(); n != 0 {
		t.Fatalf("%d lookups of missing translation keys (see the log)", n)
	}
}

// TestBodyOverServerLimit announces a body above the 1 MiB server limit and
// reads the answer before sending it, as a client that honours an early
// response would; sending the whole body races the server's close.
func TestBodyOverServerLimit(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	conn, err := net.Dial("tcp", p.Addr)
	testdb.Must(t, err, "dial")
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nAccept-Language: en\r\n\r\n", p.Addr, 2<<20)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	testdb.Must(t, err, "read response")
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 413 || !strings.Contains(string(body), `"code":"body_too_large"`) || !strings.Contains(string(body), "too large") {
		t.Fatalf("status %d body %s", res.StatusCode, body)
	}
	// A page's form over the limit gets a page that names the refusal
	// and leads back.
	conn2, err := net.Dial("tcp", p.Addr)
	testdb.Must(t, err, "dial")
	defer conn2.Close()
	_ = conn2.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn2, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", p.Addr, 2<<20)
	res, err = http.ReadResponse(bufio.NewReader(conn2), nil)
	testdb.Must(t, err, "read response")
	defer res.Body.Close()
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != 413 || !strings.Contains(string(body), "<h1 id=\"error-title\">Conteúdo grande demais</h1>") || !strings.Contains(string(body), `<a href="/">`) {
		t.Errorf("a form over the limit: %d %s", res.StatusCode, body)
	}
}

// TestExpiredFormLeadsBack: a form refused as expired (its CSRF token no
// longer matches) says so, and links back to the page it came from, on
// this portal only.
func TestExpiredFormLeadsBack(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	r := c.Do("POST", "/account/address", url.Values{"_csrf": {"expirado"}}, "Referer", p.URL+"/account/address?x=1")
	if body := string(r.Body); r.Status != http.StatusForbidden || !strings.Contains(body, "Formulário expirado") ||
		!strings.Contains(body, `<a href="/account/address?x=1" data-testid="back-to-form">`) {
		t.Errorf("expired form: %d %.600s", r.Status, body)
	}
	r = c.Do("POST", "/account/address", url.Values{"_csrf": {"expirado"}}, "Referer", "https://evil.example/account/address")
	if strings.Contains(string(r.Body), `data-testid="back-to-form"`) {
		t.Error("the page links back to another site's page")
	}
}

// TestLoginBurstThrottledExactly: a burst of concurrent wrong passwords for
// one account never gets more than the account's budget of password checks
// (5): every other attempt is refused with 429 before hashing — by the
// login queue's per-client bound while the client has logins in flight
// (login_busy), or by the throttle (rate_limited). Attempts after the burst
// find the budget spent exactly: 5 checks in all. (The throttle used to be
// checked before the hash and counted after it, so a burst passed it
// whole.)
func TestLoginBurstThrottledExactly(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	body := map[string]string{"email": "cliente@demo.portico.test", "password": "errada"}
	var wg sync.WaitGroup
	var unauthorized, limited atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch r := p.NewClient(t, "").Do("POST", "/api/v1/session", body); r.Status {
			case http.StatusUnauthorized:
				unauthorized.Add(1)
			case http.StatusTooManyRequests:
				if code := r.ErrorCode(); code != "login_busy" && code != "rate_limited" {
					t.Errorf("429 %s", code)
				}
				limited.Add(1)
			default:
				t.Errorf("attempt: %d %.200s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if unauthorized.Load() > 5 || unauthorized.Load()+limited.Load() != 20 {
		t.Fatalf("401: %d, 429: %d; want at most 5 checks", unauthorized.Load(), limited.Load())
	}
	for range 10 {
		r := p.NewClient(t, "").Do("POST", "/api/v1/session", body)
		if r.Status == http.StatusUnauthorized {
			unauthorized.Add(1)
			continue
		}
		if r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("after the budget: %d %s", r.Status, r.Body)
		}
		break
	}
	if unauthorized.Load() != 5 {
		t.Errorf("%d password checks in all, want the budget of 5", unauthorized.Load())
	}
}

// TestLoginDeviceCookie: an attacker spraying passwords from the customers'
// shared address locks that address out, but a browser where an account
// logged in before still logs in to that account (not to another one); a
// new browser behind the same address is refused.
func TestLoginDeviceCookie(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	victim := p.NewClient(t, "")
	if r := victim.Do("POST", "/api/v1/session", right); r.Status >= 300 {
		t.Fatalf("first login: %d", r.Status)
	}
	attacker := p.NewClient(t, "")
	for i := 0; ; i++ {
		r := attacker.Do("POST", "/api/v1/session", map[string]string{"email": fmt.Sprintf("alvo%d@demo.portico.test", i), "password": "errada"})
		if r.Status == http.StatusTooManyRequests {
			break
		}
		if r.Status != http.StatusUnauthorized || i > 40 {
			t.Fatalf("spray attempt %d: %d", i, r.Status)
		}
	}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right); r.Status != http.StatusTooManyRequests {
		t.Errorf("a new browser behind the locked address: %d, want 429", r.Status)
	}
	if r := victim.Do("POST", "/api/v1/session", right); r.Status >= 300 {
		t.Errorf("the known browser of the account: %d, want a session", r.Status)
	}
	if r := victim.Do("POST", "/api/v1/session", map[string]string{"email": "sindico@demo.portico.test", "password": demo.Password}); r.Status != http.StatusTooManyRequests {
		t.Errorf("the known browser, another account: %d, want 429", r.Status)
	}
}

// TestLoginSprayFromOneIPv6Network: an attacker holding an IPv6 /64
// sends each wrong password from another address of it; the throttle
// counts the network, not the address, so the spray is refused as one
// client, while a customer on another /64 behind the same proxy still
// logs in.
func TestLoginSprayFromOneIPv6Network(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	refused := false
	for i := range 40 {
		r := p.NewClient(t, "").Do("POST", "/api/v1/session", map[string]string{"email": fmt.Sprintf("alvo%d@demo.portico.test", i), "password": "errada"},
			"X-Forwarded-For", fmt.Sprintf("2001:db8:1:2:%x::%x", (i*7919)&0xffff, i+1))
		if r.Status == http.StatusTooManyRequests {
			refused = true
			break
		}
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("spray attempt %d: %d %.200s", i, r.Status, r.Body)
		}
	}
	if !refused {
		t.Fatal("40 wrong passwords from one /64, each from its own address, were all checked")
	}
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right, "X-Forwarded-For", "2001:db8:1:2::abcd"); r.Status != http.StatusTooManyRequests {
		t.Errorf("a new browser in the attacker's /64: %d, want 429", r.Status)
	}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right, "X-Forwarded-For", "2001:db8:1:3::1"); r.Status >= 300 {
		t.Errorf("a customer on another /64: %d %.200s, want a session", r.Status, r.Body)
	}
}

// TestLoginSprayFromOneIPv6Site: the /64s of one /48 share a budget
// too (web.Env.NetThrottle), so a spray that moves to a new /64 for each
// attempt meets it; a customer of another /48 still logs in.
func TestLoginSprayFromOneIPv6Site(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	// The real budget is NetFailures (120): a smaller one keeps the test short.
	small, err := p.Store.Throttle(storage.ThrottleOptions{Name: "login-net-test", Limit: 5, Window: server.ThrottleWindow, Secret: p.Server.Env.Config.SecretKey})
	testdb.Must(t, err, "throttle")
	p.Server.Env.NetThrottle = small // before any login: nothing reads it yet
	for i := range 5 {
		r := p.NewClient(t, "").Do("POST", "/api/v1/session", map[string]string{"email": fmt.Sprintf("alvo%d@demo.portico.test", i), "password": "errada"},
			"X-Forwarded-For", fmt.Sprintf("2001:db8:7:%x::1", i+1))
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("spray attempt %d: %d %.200s", i, r.Status, r.Body)
		}
	}
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right, "X-Forwarded-For", "2001:db8:7:ffff::1"); r.Status != http.StatusTooManyRequests {
		t.Errorf("a sixth /64 of the /48: %d, want 429", r.Status)
	}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right, "X-Forwarded-For", "2001:db8:8:1::1"); r.Status >= 300 {
		t.Errorf("a customer of another /48: %d %.200s, want a session", r.Status, r.Body)
	}
}

// TestLoginLockedAccountKnownBrowser: someone guessing one customer's
// password from elsewhere locks the account (5 failures) against new
// browsers, but not against the browser the customer logged in from
// before, whose own budget is untouched.
func TestLoginLockedAccountKnownBrowser(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	victim := p.NewClient(t, "")
	if r := victim.Do("POST", "/api/v1/session", right, "X-Forwarded-For", "198.51.100.10"); r.Status >= 300 {
		t.Fatalf("first login: %d", r.Status)
	}
	attacker := p.NewClient(t, "")
	wrong := map[string]string{"email": "cliente@demo.portico.test", "password": "errada"}
	for i := 0; ; i++ {
		r := attacker.Do("POST", "/api/v1/session", wrong, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		if r.Status == http.StatusTooManyRequests {
			break
		}
		if r.Status != http.StatusUnauthorized || i > 10 {
			t.Fatalf("guess %d: %d", i, r.Status)
		}
	}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", right, "X-Forwarded-For", "198.51.100.20"); r.Status != http.StatusTooManyRequests {
		t.Errorf("the right password from a new browser while the account is locked: %d, want 429", r.Status)
	}
	if r := victim.Do("POST", "/api/v1/session", right, "X-Forwarded-For", "198.51.100.10"); r.Status >= 300 {
		t.Errorf("the customer's own browser while the account is locked: %d %.200s, want a session", r.Status, r.Body)
	}
	// A new password ends every device cookie of the account: whoever
	// kept one from before counts as a new browser.
	ctx := context.Background()
	u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
	testdb.Must(t, err, "load user")
	newHash, err := auth.HashPassword(ctx, "uma-senha-bem-nova")
	testdb.Must(t, err, "hash")
	testdb.Must(t, p.Store.ChangeOwnPassword(ctx, p.Demo.ID, u.ID, "", u.PasswordHash, newHash, model.SystemActor("test")), "change password")
	// (The attacker's failures above still lock the account.)
	if r := victim.Do("POST", "/api/v1/session", map[string]string{"email": "cliente@demo.portico.test", "password": "uma-senha-bem-nova"},
		"X-Forwarded-For", "198.51.100.10"); r.Status != http.StatusTooManyRequests {
		t.Errorf("a device cookie from before the new password still has its own budget: %d, want 429", r.Status)
	}
}

// TestLoginFloodShedsAndServes: wrong-password logins from 16 clients at
// once, each attempt for its own account and from its own address (a
// botnet's spray, through a trusted proxy, so no throttle stops it before
// the hash), while a logged-in customer keeps using the portal and
// another logs in again from the browser they used before. The login
// queue sheds what it cannot take at once (503 login_busy with
// Retry-After) instead of queueing it all, no attempt fails otherwise,
// every request of the logged-in customer is served, and the known
// browser's logins all pass: the queue keeps places the flood cannot take.
func TestLoginFloodShedsAndServes(t *testing.T) {
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	// The queue's size follows the cores (Slots = NumCPU/2): the one of a
	// two-core machine, so that 16 clients fill it on any machine.
	p.Server.Env.LoginGate = auth.NewGate(auth.GateOptions{Slots: 1}) // before any login: nothing reads it yet
	user := p.NewClient(t, "")
	user.Login("sindico@demo.portico.test", "portico-demo")
	right := map[string]string{"email": "cliente@demo.portico.test", "password": demo.Password}
	known := p.NewClient(t, "")
	if r := known.Do("POST", "/api/v1/session", right, "X-Forwarded-For", "198.51.100.7"); r.Status >= 300 {
		t.Fatalf("the known browser's first login: %d", r.Status)
	}
	var wg sync.WaitGroup
	var attempts, denied, busy, other atomic.Int32
	stop := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := attempts.Add(1)
				if i > 3000 { // bounded whatever happens
					return
				}
				r := p.NewClient(t, "").Do("POST", "/api/v1/session", map[string]string{"email": fmt.Sprintf("alvo%d@demo.portico.test", i), "password": "errada"},
					"X-Forwarded-For", fmt.Sprintf("203.0.%d.%d", 113+i/250, i%250+1))
				switch {
				case r.Status == http.StatusUnauthorized, r.Status == http.StatusTooManyRequests && r.ErrorCode() == "rate_limited":
					denied.Add(1)
				case r.Status == http.StatusServiceUnavailable && r.ErrorCode() == "login_busy" && r.Header.Get("Retry-After") != "":
					busy.Add(1)
				default:
					other.Add(1)
					t.Errorf("flood attempt: %d %.200s", r.Status, r.Body)
				}
			}
		}()
	}
	// Once the queue sheds, it is full of the flood's attempts.
	for deadline := time.Now().Add(20 * time.Second); busy.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 5 {
		if r := known.Do("POST", "/api/v1/session", right, "X-Forwarded-For", "198.51.100.7"); r.Status >= 300 {
			t.Errorf("the known browser's login %d during the flood: %d %.200s", i, r.Status, r.Body)
		}
	}
	for range 20 {
		if r := user.Do("GET", "/api/v1/me/menu", nil); r.Status != http.StatusOK {
			t.Errorf("the logged-in customer's menu during the flood: %d", r.Status)
		}
	}
	close(stop)
	wg.Wait()
	if busy.Load() == 0 || other.Load() != 0 {
		t.Errorf("denied %d, shed %d, other %d: the queue shed nothing", denied.Load(), busy.Load(), other.Load())
	}
}
