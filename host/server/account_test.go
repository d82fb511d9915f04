package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestAccountPages: a customer edits their own profile and address; bad
// input is refused field by field in their language and changes nothing,
// a form without the CSRF token or from a stale page is refused, and every
// change is audited as the customer's own.
func TestAccountPages(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	c := p.NewClient(t, "")
	c.Login("cliente@demo.portico.test", demo.Password)
	form := func(path string) (string, string) {
		page := c.Do("GET", path, nil)
		if page.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, page.Status)
		}
		v := regexp.MustCompile(`name="version" value="(\d+)"`).FindSubmatch(page.Body)
		if v == nil {
			t.Fatalf("no version in %s", path)
		}
		return csrfOf(t, page), string(v[1])
	}
	me := func() *model.User {
		u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "cliente@demo.portico.test")
		testdb.Must(t, err, "load user")
		return u
	}
	before := me()

	csrf, version := form("/account/profile")
	bad := c.Do("POST", "/account/profile", url.Values{"_csrf": {csrf}, "version": {version}, "name": {""}, "phone": {"abc"}, "locale": {"xx"}},
		"Accept-Language", "pt-BR")
	body := string(bad.Body)
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(body, "Campo obrigatório.") || !strings.Contains(body, "Telefone inválido: informe o DDD") ||
		!strings.Contains(body, `id="f-phone" name="phone" value="abc"`) || strings.Count(body, `aria-invalid="true"`) != 3 {
		t.Fatalf("bad profile: %d %.2000s", bad.Status, body)
	}
	// The summary takes the focus, and the title says there is an error
	// (what a screen reader reads first after the submit).
	if !strings.Contains(body, `id="account-problem" data-testid="account-problem" tabindex="-1" autofocus>`) || !strings.Contains(body, "<title>Erro: ") {
		t.Errorf("bad profile: the error summary is not focused, or the title does not say Erro: %.600s", body)
	}
	if u := me(); u.Name != before.Name || u.Version != before.Version {
		t.Fatalf("a refused form changed the user: %+v", u)
	}
	if r := c.Do("POST", "/account/profile", url.Values{"version": {version}, "name": {"Sem Token"}}); r.Status != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", r.Status)
	}
	ok := c.Do("POST", "/account/profile", url.Values{"_csrf": {csrf}, "version": {version}, "name": {"Carla C. Cliente"},
		"phone": {"+55 (11) 98765-4321"}, "locale": {"en"}})
	if ok.Status != http.StatusSeeOther || ok.Header.Get("Location") != "/account/profile?saved=1" {
		t.Fatalf("profile: %d %s", ok.Status, ok.Body)
	}
	if saved := c.Follow(ok); !strings.Contains(string(saved.Body), `data-testid="account-saved"`) || !strings.Contains(string(saved.Body), `<html lang="en">`) {
		t.Fatalf("after saving: %.500s", saved.Body)
	}
	u := me()
	if u.Name != "Carla C. Cliente" || u.Phone == "" || u.Locale != "en" || u.Email != before.Email || u.Document != before.Document {
		t.Fatalf("profile saved as %+v", u)
	}
	// The stale form (the version it was shown at) does not overwrite.
	if r := c.Do("POST", "/account/profile", url.Values{"_csrf": {csrf}, "version": {version}, "name": {"Antiga"}}); r.Status != http.StatusConflict {
		t.Fatalf("stale form: %d", r.Status)
	}

	csrf, version = form("/account/address")
	bad = c.Do("POST", "/account/address", url.Values{"_csrf": {csrf}, "version": {version}, "cep": {"0131-10"}, "street": {"Av. Paulista"},
		"state": {"XX"}})
	body = string(bad.Body)
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(body, "CEP invalid") && !strings.Contains(body, "Invalid CEP") {
		t.Fatalf("bad address (in English, the language just chosen): %d %.1500s", bad.Status, body)
	}
	for _, f := range []string{"cep", "number", "city", "state"} {
		if !strings.Contains(body, `id="e-`+f+`"`) {
			t.Errorf("no message for %s", f)
		}
		// The summary at the top names each field it links to.
		if !regexp.MustCompile(`<li><a href="#f-` + f + `">[^<:]+: [^<]+</a></li>`).MatchString(body) {
			t.Errorf("the error summary's link to %s does not name the field", f)
		}
	}
	ok = c.Do("POST", "/account/address", url.Values{"_csrf": {csrf}, "version": {version}, "cep": {"01310100"}, "street": {"Av. Paulista"},
		"number": {"1000"}, "complement": {"ap. 42"}, "district": {"Bela Vista"}, "city": {"São Paulo"}, "state": {"SP"}})
	if ok.Status != http.StatusSeeOther {
		t.Fatalf("address: %d %.500s", ok.Status, ok.Body)
	}
	if page := c.Follow(ok); !strings.Contains(string(page.Body), `value="01310-100"`) {
		t.Fatalf("the CEP is not shown formatted: %.1500s", page.Body)
	}
	if a := me().Address; a.CEP != "01310100" || a.City != "São Paulo" || a.State != "SP" || a.Complement != "ap. 42" {
		t.Fatalf("address saved as %+v", a)
	}
	// The same address sent again (as the form shows it) saves nothing:
	// no new version, no audit entry (the loop below counts one), and the
	// page says so instead of "saved".
	csrf, version = form("/account/address")
	same := c.Do("POST", "/account/address", url.Values{"_csrf": {csrf}, "version": {version}, "cep": {"01310-100"}, "street": {"Av. Paulista"},
		"number": {"1000"}, "complement": {"ap. 42"}, "district": {"Bela Vista"}, "city": {"São Paulo"}, "state": {"SP"}})
	if same.Status != http.StatusSeeOther || same.Header.Get("Location") != "/account/address?unchanged=1" {
		t.Fatalf("unchanged address: %d to %q", same.Status, same.Header.Get("Location"))
	}
	if page := string(c.Follow(same).Body); !strings.Contains(page, `data-testid="account-unchanged"`) || strings.Contains(page, `data-testid="account-saved"`) {
		t.Errorf("the page after an unchanged save: %.800s", page)
	}
	if v := me().Version; strconv.FormatInt(v, 10) != version {
		t.Errorf("an unchanged save moved the version from %s to %d", version, v)
	}
	for _, action := range []string{model.AuditUserProfile, model.AuditUserAddress} {
		es, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: action})
		testdb.Must(t, err, "audit")
		if len(es) != 1 || es[0].ActorType != "user" || es[0].ActorID != u.ID || es[0].BeforeJSON == "" || es[0].AfterJSON == "" {
			t.Errorf("%s audit: %+v", action, es)
		}
	}
}

// TestPortalSessionCodeAfterExpiry: when the tenant allows it, a customer
// whose auth_url was used or expired gets in with a one-time code that a
// real SMTP client sends (to a local SMTP server here); wrong codes are
// counted and exhaust it; without the setting nothing is offered.
func TestPortalSessionCodeAfterExpiry(t *testing.T) {
	p, smtp := startWithSMTP(t, nil)
	ctx := context.Background()
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	api := p.NewClient(t, "")
	create := func() string {
		r := api.Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "cliente@demo.portico.test",
			"forward": "customer_profile", "locale": "pt-BR", "return_url": "http://localhost:3000/"}, bearer(key)...)
		var ps portalSession
		r.JSON(t, &ps)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		return pathOf(t, *ps.AuthURL)
	}

	// Off (the default): the expired page offers no code.
	link := create()
	p.Clock.Advance(31 * time.Minute)
	page := p.NewClient(t, "").Do("GET", link, nil)
	if page.Status != http.StatusGone || strings.Contains(string(page.Body), "code-request") {
		t.Fatalf("without the setting: %d %.600s", page.Status, page.Body)
	}
	if r := p.NewClient(t, "").Do("POST", link+"/code", nil); r.Status != http.StatusNotFound {
		t.Fatalf("code without the setting: %d", r.Status)
	}

	_, err := p.Store.UpdateTenant(ctx, p.Demo.ID, p.Demo.Version, model.SystemActor("test"), func(tn *model.Tenant) error {
		tn.PortalLinkEmailLogin = true
		return nil
	})
	testdb.Must(t, err, "enable e-mail login")
	p.Server.Env.Registry.Invalidate(p.Demo.ID)

	link = create()
	first := p.NewClient(t, "")
	if r := first.Do("GET", link, nil); r.Status != http.StatusSeeOther {
		t.Fatalf("first open: %d", r.Status)
	}
	browser := p.NewClient(t, "")
	used := browser.Do("GET", link, nil)
	if used.Status != http.StatusGone || !strings.Contains(string(used.Body), `data-testid="code-request"`) {
		t.Fatalf("used link: %d %s", used.Status, used.Body[strings.Index(string(used.Body), "<main"):])
	}
	sent := browser.Do("POST", link+"/code", nil)
	if sent.Status != http.StatusOK || !strings.Contains(string(sent.Body), "c••••••@demo.portico.test") {
		t.Fatalf("send code: %d %.800s", sent.Status, sent.Body)
	}
	m := smtp.Next(t, 15*time.Second)
	code := mailCode(m.Data)
	if len(m.To) != 1 || m.To[0] != "cliente@demo.portico.test" || code == "" || !strings.Contains(m.Data, "Seu c=C3=B3digo") && !strings.Contains(m.Data, "Seu código") {
		t.Fatalf("the code mail to %q:\n%s", m.To, m.Data)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := browser.Do("POST", link+"/verify", url.Values{"code": {wrong}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), "Código incorreto") {
		t.Fatalf("wrong code: %d %.600s", r.Status, r.Body)
	}
	in := browser.Do("POST", link+"/verify", url.Values{"code": {code[:3] + " " + code[3:]}})
	if in.Status != http.StatusSeeOther || in.Header.Get("Location") != "/account/profile" {
		t.Fatalf("right code: %d %s %.300s", in.Status, in.Header.Get("Location"), in.Body)
	}
	if r := browser.Follow(in); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `data-testid="profile-form"`) {
		t.Fatalf("after the code: %d", r.Status)
	}
	if r := p.NewClient(t, "").Do("POST", link+"/verify", url.Values{"code": {code}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a used code worked again: %d", r.Status)
	}

	// The company's logout ends the login the code made, too.
	cl, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditPortalSessionCodeLogin})
	testdb.Must(t, err, "audit")
	if r := api.Do("POST", "/api/v1/portal/sessions/"+cl[0].TargetID+"/logout", nil, bearer(key)...); r.Status != http.StatusOK {
		t.Fatalf("API logout: %d", r.Status)
	}
	if r := browser.Do("GET", "/account/profile", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("the code's login survived the company's logout: %d", r.Status)
	}

	// A link still in its time offers no code (it can simply be opened),
	// and a portal session the company ended stays ended: no code then.
	fresh := create()
	if r := p.NewClient(t, "").Do("POST", fresh+"/code", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a code for a link that can still be opened: %d", r.Status)
	}
	ended := create()
	if r := p.NewClient(t, "").Do("GET", ended, nil); r.Status != http.StatusSeeOther {
		t.Fatalf("open: %d", r.Status)
	}
	es0, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditPortalSessionOpen, Limit: 1})
	testdb.Must(t, err, "audit")
	if r := api.Do("POST", "/api/v1/portal/sessions/"+es0[0].TargetID+"/logout", nil, bearer(key)...); r.Status != http.StatusOK {
		t.Fatalf("API logout: %d %s", r.Status, r.Body)
	}
	if page := p.NewClient(t, "").Do("GET", ended, nil); strings.Contains(string(page.Body), "code-request") {
		t.Fatalf("a code is offered after the company's logout: %.600s", page.Body)
	}
	if r := p.NewClient(t, "").Do("POST", ended+"/code", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a code after the company's logout: %d", r.Status)
	}

	// Five wrong guesses exhaust a code: the right one fails after them.
	link = create()
	p.Clock.Advance(31 * time.Minute)
	guesser := p.NewClient(t, "")
	if r := guesser.Do("POST", link+"/code", nil); r.Status != http.StatusOK {
		t.Fatalf("send code: %d", r.Status)
	}
	code = mailCode(smtp.Next(t, 15*time.Second).Data)
	for i := range 5 {
		g := strconv.Itoa(100000 + i)
		if g == code {
			g = "999999"
		}
		guesser.Do("POST", link+"/verify", url.Values{"code": {g}})
	}
	if r := guesser.Do("POST", link+"/verify", url.Values{"code": {code}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("the code survived five wrong guesses: %d", r.Status)
	}
	es, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditPortalSessionCodeLogin})
	testdb.Must(t, err, "audit")
	if len(es) != 1 || es[0].IP == "" {
		t.Errorf("code login audit: %+v", es)
	}
}

// mailCode returns the six-digit code in a mail's body (not its headers,
// whose message ID may hold digits).
func mailCode(data string) string {
	_, body, _ := strings.Cut(strings.ReplaceAll(data, "\r\n", "\n"), "\n\n")
	return regexp.MustCompile(`\b\d{6}\b`).FindString(body)
}

// TestAccountPassword: a customer changes their password on the account
// page. Bad input is refused field by field, in their language, with no
// password echoed and nothing changed; a wrong current password counts as
// a failed login (the sixth in a row is 429, so the form cannot be used to
// guess); the change keeps this session, ends the customer's others,
// makes the old password fail and the new one work, and is audited. An
// account created by a portal session has no password: it is told how it
// logs in, and a POST changes nothing.
func TestAccountPassword(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	const email, newPassword = "cliente@demo.portico.test", "uma frase nova e longa"
	here, phone := p.NewClient(t, ""), p.NewClient(t, "")
	here.Login(email, demo.Password)
	phone.Login(email, demo.Password)
	page := here.Do("GET", "/account/password", nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `data-testid="password-form"`) || strings.Contains(string(page.Body), " else") ||
		!strings.Contains(string(page.Body), `autocomplete="current-password"`) || !strings.Contains(string(page.Body), `aria-current="page" data-testid="tab-password"`) {
		t.Fatalf("password page: %d %.1500s", page.Status, page.Body)
	}
	csrf := csrfOf(t, page)
	send := func(current, next, confirm string) *servertest.Response {
		return here.Do("POST", "/account/password", url.Values{"_csrf": {csrf}, "current_password": {current}, "new_password": {next},
			"confirm_password": {confirm}}, "Accept-Language", "pt-BR")
	}
	version := func() int64 {
		u, err := p.Store.UserByEmail(ctx, p.Demo.ID, email)
		testdb.Must(t, err, "load user")
		return u.Version
	}
	v0 := version()

	for _, tt := range []struct {
		name, current, next, confirm string
		status                       int
		want                         []string
	}{
		{"nothing", "", "", "", 422, []string{"Campo obrigatório.", "A senha deve ter de 10 a 256 caracteres."}},
		{"short", demo.Password, "curta", "curta", 422, []string{"A senha deve ter de 10 a 256 caracteres."}},
		{"mismatch", demo.Password, newPassword, newPassword + "!", 422, []string{"As senhas não conferem."}},
		{"wrong current", "nao-e-esta-senha", newPassword, newPassword, 422, []string{"A senha atual não confere."}},
	} {
		r := send(tt.current, tt.next, tt.confirm)
		body := string(r.Body)
		for _, w := range tt.want {
			if r.Status != tt.status || !strings.Contains(body, w) {
				t.Errorf("%s: %d, want %d with %q: %.1500s", tt.name, r.Status, tt.status, w, body)
			}
		}
		if strings.Contains(body, newPassword) || strings.Contains(body, demo.Password) || strings.Contains(body, "nao-e-esta-senha") {
			t.Errorf("%s: a password was echoed", tt.name)
		}
	}
	if r := here.Do("POST", "/account/password", url.Values{"current_password": {demo.Password}, "new_password": {newPassword},
		"confirm_password": {newPassword}}); r.Status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", r.Status)
	}
	if v := version(); v != v0 {
		t.Fatalf("a refused form changed the user (version %d → %d)", v0, v)
	}
	// A refused new password costs no check of the current one: it does
	// not count as a failed login (six would lock the account).
	for i := 0; i < 8; i++ {
		if r := send("errada-"+strconv.Itoa(i), "curta", "curta"); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong current and short new password %d: %d", i, r.Status)
		}
	}
	if r := send(demo.Password, newPassword, newPassword+"!"); !strings.Contains(string(r.Body), `aria-describedby="e-confirm_password"`) {
		t.Errorf("the repeated password's error is not tied to its field: %.1500s", r.Body)
	}

	ok := send(demo.Password, newPassword, newPassword)
	if ok.Status != http.StatusSeeOther || ok.Header.Get("Location") != "/account/password?changed=1" {
		t.Fatalf("change: %d %.500s", ok.Status, ok.Body)
	}
	if done := here.Follow(ok); done.Status != 200 || !strings.Contains(string(done.Body), `data-testid="password-changed"`) {
		t.Fatalf("after the change, this session: %d %.500s", done.Status, done.Body)
	}
	if r := phone.Do("GET", "/account/profile", nil); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("the other session after the change: %d %s, want the login page", r.Status, r.Header.Get("Location"))
	}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", map[string]string{"email": email, "password": demo.Password}); r.Status != http.StatusUnauthorized {
		t.Errorf("the old password still logs in: %d", r.Status)
	}
	if r := p.NewClient(t, "").Do("POST", "/api/v1/session", map[string]string{"email": email, "password": newPassword}); r.Status != http.StatusOK {
		t.Errorf("the new password does not log in: %d %s", r.Status, r.Body)
	}
	log, err := p.Store.AuditLog(ctx, p.Demo.ID, model.AuditFilter{Action: model.AuditUserPasswordChange})
	testdb.Must(t, err, "audit")
	if len(log) != 1 || log[0].ActorType != "user" || log[0].TargetID != log[0].ActorID {
		t.Errorf("audit: %+v, want one entry of the user's own", log)
	}

	// Wrong current passwords are failed logins of the account: after the
	// account's budget, the form answers 429, even with the right one.
	last := 0
	for i := 0; i < 8 && last != http.StatusTooManyRequests; i++ {
		r := send("errada-"+strconv.Itoa(i), "outra frase nova e longa", "outra frase nova e longa")
		last = r.Status
		if last == http.StatusTooManyRequests && (r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "Muitas tentativas")) {
			t.Errorf("429 without Retry-After or its message: %v %.500s", r.Header, r.Body)
		}
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("8 wrong current passwords in a row: last %d, want 429", last)
	}
	if r := send(newPassword, "outra frase nova e longa", "outra frase nova e longa"); r.Status != http.StatusTooManyRequests {
		t.Errorf("the right password while the account is locked: %d, want 429", r.Status)
	}

	// An account created by a portal session has no password.
	key := newKey(t, p, p.Demo.ID, model.ScopePortalSessions)
	created := p.NewClient(t, "").Do("POST", "/api/v1/portal/sessions", map[string]any{"customer_email": "sem.senha@demo.portico.test",
		"create_customer": map[string]any{"name": "Sem Senha"}}, bearer(key)...)
	var ps portalSession
	created.JSON(t, &ps)
	if created.Status != http.StatusCreated || ps.AuthURL == nil {
		t.Fatalf("portal session: %d %s", created.Status, created.Body)
	}
	sso := p.NewClient(t, "")
	if r := sso.Do("GET", pathOf(t, *ps.AuthURL), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("open the auth_url: %d", r.Status)
	}
	none := sso.Do("GET", "/account/password", nil)
	if none.Status != 200 || !strings.Contains(string(none.Body), `data-testid="password-none"`) || strings.Contains(string(none.Body), `data-testid="password-form"`) {
		t.Fatalf("a passwordless account's page: %d %.1500s", none.Status, none.Body)
	}
	if r := sso.Do("POST", "/account/password", url.Values{"_csrf": {csrfOf(t, none)}, "current_password": {"x"}, "new_password": {newPassword},
		"confirm_password": {newPassword}}); r.Status != http.StatusConflict {
		t.Errorf("a passwordless account's POST: %d, want 409", r.Status)
	}
	if u, err := p.Store.UserByEmail(ctx, p.Demo.ID, "sem.senha@demo.portico.test"); err != nil || u.PasswordHash != "" {
		t.Errorf("the passwordless account got a password (%v)", err)
	}
}
