package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testsmtp"
)

// startWithSMTP starts a SQLite portal that sends its mail to a real SMTP
// server on 127.0.0.1, returned beside it; configure (when not nil) sets
// more of the configuration.
func startWithSMTP(t *testing.T, configure func(*config.Config)) (*servertest.Portal, *testsmtp.Server) {
	t.Helper()
	smtp := testsmtp.Start(t)
	host, port, _ := net.SplitHostPort(smtp.Addr)
	n, _ := strconv.Atoi(port)
	p := servertest.StartWith(t, "sqlite", func(c *config.Config) {
		c.SMTP = &mail.Config{Host: host, Port: n, From: "portal@demo.portico.test", TLS: mail.TLSNone}
		if configure != nil {
			configure(c)
		}
	})
	return p, smtp
}

// TestForgotPassword is the self-service reset against a real SMTP server
// on 127.0.0.1: the login page links it; an unknown address and a known
// one get the same answer; only the known one gets a mail, whose link
// sets a new password once; requests for one address are throttled; and
// without SMTP nothing of it is offered.
func TestForgotPassword(t *testing.T) {
	p, smtp := startWithSMTP(t, nil)
	c := p.NewClient(t, "")
	login := c.Do("GET", "/login", nil)
	if !strings.Contains(string(login.Body), `href="/forgot"`) {
		t.Fatalf("the login page has no forgot-password link")
	}
	ask := func(email string) *servertest.Response {
		page := c.Do("GET", "/forgot", nil, "Accept-Language", "pt-BR")
		return c.Do("POST", "/forgot", url.Values{"_csrf": {csrfOf(t, page)}, "email": {email}}, "Accept-Language", "pt-BR")
	}
	sentRE := regexp.MustCompile(`data-testid="forgot-sent">([^<]*)<`)
	unknown := ask("ninguem@demo.portico.test")
	known := ask("cliente@demo.portico.test")
	um, km := sentRE.FindSubmatch(unknown.Body), sentRE.FindSubmatch(known.Body)
	if unknown.Status != http.StatusOK || known.Status != http.StatusOK || um == nil || km == nil || string(um[1]) != string(km[1]) {
		t.Fatalf("unknown and known addresses are answered differently: %d %q / %d %q", unknown.Status, um, known.Status, km)
	}
	// The confirmation is good news, in the success style (not the
	// danger style of an error).
	if !strings.Contains(string(known.Body), `<div class="alert alert-ok" role="status" data-testid="forgot-sent">`) {
		t.Errorf("the confirmation is not in the success style: %.1500s", known.Body)
	}
	m := smtp.Next(t, 15*time.Second)
	if len(m.To) != 1 || m.To[0] != "cliente@demo.portico.test" || m.From != "portal@demo.portico.test" {
		t.Fatalf("mail envelope %q → %q", m.From, m.To)
	}
	link := regexp.MustCompile(`/reset/[A-Za-z0-9_-]+`).FindString(m.Data)
	if link == "" || !strings.Contains(m.Data, p.URL[len("http://"):]) {
		t.Fatalf("no reset link to this portal in the mail:\n%s", m.Data)
	}
	select {
	case extra := <-smtp.Mail:
		t.Fatalf("a mail went to %q too (only the known address gets one)", extra.To)
	case <-time.After(time.Second):
	}
	// The mailed link keeps the Host header's port only when it is the
	// listener's: the tenant is found by the host name alone, so a
	// requester naming another port would choose where a customer's
	// reset link points.
	other := p.NewClient(t, "")
	other.Host = "localhost:6666"
	page := other.Do("GET", "/forgot", nil)
	other.Do("POST", "/forgot", url.Values{"_csrf": {csrfOf(t, page)}, "email": {"ambos@demo.portico.test"}})
	if m := smtp.Next(t, 15*time.Second); !strings.Contains(m.Data, "http://localhost/reset/") || strings.Contains(m.Data, "6666") {
		t.Fatalf("the reset link follows a Host header's port:\n%s", m.Data)
	}
	// The link sets a new password, once.
	r := c.Do("GET", link, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("reset page: %d", r.Status)
	}
	// The page names the account to password managers.
	if !strings.Contains(string(r.Body), `<input type="email" name="username" value="cliente@demo.portico.test" autocomplete="username" hidden readonly>`) {
		t.Errorf("the reset page has no username field for password managers")
	}
	// A refused password keeps it.
	if r := c.Do("POST", link, url.Values{"_csrf": {csrfOf(t, r)}, "password": {"curta"}, "confirm": {"curta"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), `value="cliente@demo.portico.test" autocomplete="username"`) {
		t.Errorf("a refused new password: %d, or the page lost the username field", r.Status)
	}
	const newPassword = "uma-senha-nova-e-longa"
	r = c.Do("POST", link, url.Values{"_csrf": {csrfOf(t, r)}, "password": {newPassword}, "confirm": {newPassword}})
	if r.Status >= 400 {
		t.Fatalf("setting the new password: %d %.300s", r.Status, r.Body)
	}
	fresh := p.NewClient(t, "")
	fresh.Login("cliente@demo.portico.test", newPassword)
	again := c.Do("GET", link, nil)
	if r := c.Do("POST", link, url.Values{"_csrf": {csrfOf(t, again)}, "password": {"outra-senha-bem-longa"}, "confirm": {"outra-senha-bem-longa"}}); r.Status != http.StatusNotFound {
		t.Errorf("the link works a second time: %d", r.Status)
	}
	// Three requests per address an hour: the fourth and later get 429,
	// known address or not.
	ask("cliente@demo.portico.test")
	ask("cliente@demo.portico.test")
	// Refused, the e-mail is not marked invalid: waiting, not typing,
	// is the way out. A malformed address is.
	if r := ask("cliente@demo.portico.test"); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" ||
		strings.Contains(inputTag(t, r.Body, "email"), `aria-invalid`) {
		t.Errorf("fourth request for one address: %d %s", r.Status, inputTag(t, r.Body, "email"))
	}
	for range 2 {
		smtp.Next(t, 15*time.Second) // the two allowed ones
	}
	if r := ask("nao-e-um-email"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(inputTag(t, r.Body, "email"), `aria-invalid="true"`) {
		t.Errorf("a malformed address: %d %s", r.Status, inputTag(t, r.Body, "email"))
	}

	// Without SMTP the link stays, and the page says whom to ask: no form
	// whose mail would never leave.
	plain := servertest.Start(t, "sqlite")
	pc := plain.NewClient(t, "")
	if !strings.Contains(string(pc.Do("GET", "/login", nil).Body), `href="/forgot"`) {
		t.Error("without SMTP the login page gives no way out of a forgotten password")
	}
	token := csrfOf(t, pc.Do("GET", "/login", nil))
	for _, method := range []string{"GET", "POST"} {
		r := pc.Do(method, "/forgot", url.Values{"_csrf": {token}, "email": {"cliente@demo.portico.test"}}, "Accept-Language", "pt-BR")
		body := string(r.Body)
		if r.Status != http.StatusOK || !strings.Contains(body, "Peça ao atendimento (Construtora Exemplo) um link") || strings.Contains(body, `name="email"`) {
			t.Errorf("%s /forgot without SMTP: %d %.300s", method, r.Status, body)
		}
	}
}

// TestLinksIgnoreForwardedHost: behind a trusted proxy, a client's
// X-Forwarded-Host (which proxies pass on unless told otherwise) never
// becomes the host of a link Portico hands out: the mailed reset link,
// a portal session's auth_url and the logout redirect all name the Host
// header's host. A reset link on the attacker's host would hand them the
// victim's account.
func TestLinksIgnoreForwardedHost(t *testing.T) {
	p, smtp := startWithSMTP(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"} // the test's own requests come from the proxy
	})
	const evil = "attacker.example"
	forwarded := []string{"X-Forwarded-Host", evil}
	c := p.NewClient(t, "")
	page := c.Do("GET", "/forgot", nil, forwarded...)
	if r := c.Do("POST", "/forgot", url.Values{"_csrf": {csrfOf(t, page)}, "email": {"gestor@demo.portico.test"}}, forwarded...); r.Status != http.StatusOK {
		t.Fatalf("forgot: %d %.300s", r.Status, r.Body)
	}
	m := smtp.Next(t, 15*time.Second)
	// The Host header's host; its port is the proxy's, so the link takes
	// the scheme's default (web.LinkOrigin).
	host, _, err := net.SplitHostPort(p.Addr)
	testdb.Must(t, err, "split %s", p.Addr)
	if link, want := regexp.MustCompile(`https?://[^/\s]+/reset/`).FindString(m.Data), "http://"+host+"/reset/"; link != want {
		t.Errorf("the mailed reset link starts %q, want %q:\n%s", link, want, m.Data)
	}

	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	r := c.Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "cliente@demo.portico.test"},
		append(bearer(key), forwarded...)...)
	var ps portalSession
	r.JSON(t, &ps)
	if r.Status != http.StatusCreated || ps.AuthURL == nil || !strings.HasPrefix(*ps.AuthURL, p.URL+"/") {
		t.Errorf("auth_url behind X-Forwarded-Host: %d %s", r.Status, r.Body)
	}

	cl := p.NewClient(t, "")
	cl.Login("cliente@demo.portico.test", demo.Password)
	home := cl.Do("GET", "/", nil)
	out := cl.Do("POST", "/logout", url.Values{"_csrf": {csrfOf(t, home)}}, forwarded...)
	if loc := out.Header.Get("Location"); out.Status != http.StatusSeeOther || loc != p.URL+"/login?bye=1" {
		t.Errorf("logout behind X-Forwarded-Host: %d to %q, want %q", out.Status, loc, p.URL+"/login?bye=1")
	}
	// The login page it leads to says the person left.
	if page := cl.Do("GET", "/login?bye=1", nil); !strings.Contains(string(page.Body), `data-testid="logged-out">Você saiu do portal.`) {
		t.Error("the login page after a logout does not say so")
	}
}

// TestAbsoluteFormTargetRefused sends "esqueci minha senha" with the
// request target in absolute form naming another host and the tenant's
// Host header (what a client reaching Portico without a proxy in front,
// or through a TCP balancer, can send): it is refused with 400 and no
// mail goes out, so no reset link can be built on the other host. (Links
// are built from the Host header anyway: web's TestOriginIsTheHostHeader.)
func TestAbsoluteFormTargetRefused(t *testing.T) {
	p, smtp := startWithSMTP(t, nil)
	c := p.NewClient(t, "")
	page := c.Do("GET", "/forgot", nil)
	token := csrfOf(t, page)
	u, _ := url.Parse(p.URL)
	var cookies []string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	raw := func(target, body string) int {
		conn, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: %d\r\nConnection: close\r\n\r\n%s", target, p.Addr, strings.Join(cookies, "; "), len(body), body)
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, target := range []string{"http://attacker.example/forgot", "https://attacker.example:8443/forgot", "http://" + p.Addr + "/forgot",
		"//attacker.example/forgot?x=://"} {
		if got := raw(target, url.Values{"_csrf": {token}, "email": {"gestor@demo.portico.test"}}.Encode()); got != http.StatusBadRequest {
			t.Errorf("POST %s: %d, want 400", target, got)
		}
	}
	// "OPTIONS *" (asterisk-form) is not refused as a target.
	conn, err := net.Dial("tcp", p.Addr)
	testdb.Must(t, err, "dial")
	fmt.Fprintf(conn, "OPTIONS * HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", p.Addr)
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "OPTIONS"})
	testdb.Must(t, err, "read OPTIONS * answer")
	res.Body.Close()
	conn.Close()
	if res.StatusCode == http.StatusBadRequest {
		t.Errorf("OPTIONS *: 400, the asterisk-form is not a target to refuse")
	}
	// The same request with its target a path is served, and its mail is
	// the first: the refused ones sent none.
	if got := raw("/forgot", url.Values{"_csrf": {token}, "email": {"cliente@demo.portico.test"}}.Encode()); got != http.StatusOK {
		t.Fatalf("POST /forgot: %d", got)
	}
	m := smtp.Next(t, 15*time.Second)
	if len(m.To) != 1 || m.To[0] != "cliente@demo.portico.test" || !strings.Contains(m.Data, p.URL+"/reset/") {
		t.Errorf("first mail: to %v, %.300s; want the cliente's, with a link on %s", m.To, m.Data, p.URL)
	}
}
