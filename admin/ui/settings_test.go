package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testguest"
)

var (
	inputTag     = regexp.MustCompile(`<input [^>]*>`)
	configInput  = regexp.MustCompile(`name="(config\.[0-9]+\.[a-z]+|version)" value="([^"]*)"`)
	configArea   = regexp.MustCompile(`(?s)<textarea[^>]*name="(config\.[0-9]+\.value)"[^>]*>\n?(.*?)</textarea>`)
	configSelect = regexp.MustCompile(`(?s)<select[^>]*name="(config\.[0-9]+\.[a-z]+)"[^>]*>(.*?)</select>`)
	selectedOpt  = regexp.MustCompile(`<option value="([^"]*)" selected`)
	configForm   = regexp.MustCompile(`(?s)<form method="post" action="/admin/plugins/[a-z0-9-]+/config".*?</form>`)
)

// configFormValues returns what a browser submits from the configuration
// form of an admin plugin page: every input's value and each select's
// selected option (the first one when none is marked).
func configFormValues(t *testing.T, page string) url.Values {
	t.Helper()
	form := configForm.FindString(page)
	if form == "" {
		t.Fatal("the page has no configuration form")
	}
	v := url.Values{}
	for _, tag := range inputTag.FindAllString(form, -1) {
		// A browser sends a checkbox only when it is ticked.
		if strings.Contains(tag, `type="checkbox"`) && !strings.Contains(tag, " checked") {
			continue
		}
		if m := configInput.FindStringSubmatch(tag); m != nil {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	for _, m := range configArea.FindAllStringSubmatch(form, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range configSelect.FindAllStringSubmatch(form, -1) {
		if s := selectedOpt.FindStringSubmatch(m[2]); s != nil {
			v.Set(m[1], html.UnescapeString(s[1]))
		} else if first := regexp.MustCompile(`<option value="([^"]*)"`).FindStringSubmatch(m[2]); first != nil {
			v.Set(m[1], html.UnescapeString(first[1]))
		}
	}
	return v
}

// declaredIndex returns the row prefix ("config.N.") of the declared
// setting key in values.
func declaredIndex(t *testing.T, values url.Values, key string) string {
	t.Helper()
	for name, vs := range values {
		if strings.HasSuffix(name, ".key") && vs[0] == key {
			prefix := strings.TrimSuffix(name, "key")
			if values.Get(prefix+"declared") != "" {
				return prefix
			}
		}
	}
	t.Fatalf("no declared row for %s in %v", key, values)
	return ""
}

// TestAdminUIPluginSettings: the finance plugin's page shows the settings
// its module declares (a real settings call of the demo's module) as a
// labelled form in the gestor's language; a saved value the plugin finds
// wrong is listed with the plugin's own words; a declared field left blank
// is removed so the default applies; a missing required secret is named.
// The plugin list flags the plugin with the number of things to fix.
func TestAdminUIPluginSettings(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	installFinance(t, p)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	page := string(g.get("/admin/plugins/financeiro", "pt-BR").Body)
	for _, want := range []string{
		`data-testid="settings-fields"`, `>Endereço da API do ERP`, `>Multa por atraso (%)`, `placeholder="2"`,
		`>Só dias úteis`, `Padrão do plugin (Sim)`, `data-testid="declared-secrets"`, `<strong>Usuário da API do ERP</strong>`,
		`>Outras chaves</h3>`, `aria-required="true"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the plugin page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-testid="settings-problems"`) {
		t.Errorf("the demo's complete configuration is reported as having problems:\n%s", configForm.FindString(page))
	}
	attention := func(want string) {
		t.Helper()
		list := string(g.get("/admin/plugins", "pt-BR").Body)
		got := regexp.MustCompile(`data-testid="attention-financeiro">.*?</a>`).FindString(list)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) || want != "" && !strings.Contains(list, `href="/admin/plugins/financeiro#config" class="attention"`) {
			t.Errorf("the plugin list flags the finance plugin with %q, want %q", got, want)
		}
	}
	attention("")
	if es := string(g.get("/admin/plugins/financeiro", "es").Body); !strings.Contains(es, ">Dirección de la API del ERP") {
		t.Error("the labels are not in the gestor's language (es)")
	}

	// A fine above the legal cap, and the business-days switch back to
	// the plugin's default.
	values := configFormValues(t, page)
	fine, days := declaredIndex(t, values, "multa"), declaredIndex(t, values, "dias_uteis")
	values.Set(fine+"value", "5")
	values.Set(days+"value", "")
	r := g.post("/admin/plugins/financeiro/config", "pt-BR", values)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %.600s", r.Status, r.Body)
	}
	page = string(g.get("/admin/plugins/financeiro", "pt-BR").Body)
	problems := regexp.MustCompile(`(?s)data-testid="settings-problems">.*?</div>`).FindString(page)
	if !strings.Contains(problems, "Multa por atraso (%): deve ser no máximo 2 %") {
		t.Errorf("the problems list does not name the fine in the plugin's words:\n%s\n%s", problems, configForm.FindString(page))
	}
	attention("A configuração tem 1 pendência")
	// Rows are numbered afresh on every page: find the fine's again.
	id := "f-" + strings.ReplaceAll(declaredIndex(t, configFormValues(t, page), "multa"), ".", "-") + "value"
	if !strings.Contains(problems, `href="#`+id+`"`) || !strings.Contains(page, `id="`+id+`-problem"`) {
		t.Errorf("the problem does not point at the fine's input #%s", id)
	}
	cfg, err := p.Store.PluginConfig(ctx, p.Demo.ID, p.DemoPlugin(t, "financeiro").ID)
	testdb.Must(t, err, "load config")
	for _, c := range cfg {
		switch c.Key {
		case "dias_uteis":
			t.Errorf("dias_uteis left blank is still stored as %q", c.Value)
		case "multa":
			if c.Value != "5" || c.Type != model.ConfigString {
				t.Errorf("multa stored as %s %q, want the declared text 5", c.Type, c.Value)
			}
		}
	}

	// Without the ERP password, the required secret is named.
	if r := g.post("/admin/plugins/financeiro/secrets/erp_senha/delete", "pt-BR", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete secret: %d", r.Status)
	}
	page = string(g.get("/admin/plugins/financeiro", "pt-BR").Body)
	if !strings.Contains(page, `<a href="#declared-secret-erp_senha">Senha da API do ERP: campo obrigatório ainda não preenchido.</a>`) {
		t.Errorf("the missing ERP password is not listed:\n%s", regexp.MustCompile(`(?s)data-testid="settings-problems">.*?</div>`).FindString(page))
	}
	attention("A configuração tem 2 pendências")
}

// storeConfig sets key of the finance plugin's configuration directly in
// the store, as a value saved before the plugin declared it would be.
func storeConfig(t *testing.T, p *servertest.Portal, key string, typ model.ConfigType, value string) {
	t.Helper()
	ctx := context.Background()
	pl, err := p.Store.PluginBySlug(ctx, p.Demo.ID, "financeiro")
	testdb.Must(t, err, "load plugin")
	cfg, err := p.Store.PluginConfig(ctx, p.Demo.ID, pl.ID)
	testdb.Must(t, err, "load config")
	out := []model.ConfigValue{{Key: key, Type: typ, Value: value}}
	for _, c := range cfg {
		if c.Key != key {
			out = append(out, c)
		}
	}
	testdb.Must(t, p.Store.ReplacePluginConfig(ctx, p.Demo.ID, "financeiro", pl.Version, out, model.SystemActor("test")), "store config")
}

// storedConfig returns the finance plugin's stored value and type of key.
func storedConfig(t *testing.T, p *servertest.Portal, key string) (string, model.ConfigType) {
	t.Helper()
	cfg, err := p.Store.PluginConfig(context.Background(), p.Demo.ID, p.DemoPlugin(t, "financeiro").ID)
	testdb.Must(t, err, "load config")
	for _, c := range cfg {
		if c.Key == key {
			return c.Value, c.Type
		}
	}
	return "", ""
}

// TestAdminUIPluginSettingsKeepValues: a value saved before the plugin
// declared its key survives the declared form (a boolean spelt "1" becomes
// true; one that is no boolean stays as it was), and a refused save keeps
// what was typed, with the error next to the declared field.
func TestAdminUIPluginSettingsKeepValues(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	installFinance(t, p)
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	save := func(change func(v url.Values)) *servertest.Response {
		t.Helper()
		v := configFormValues(t, string(g.get("/admin/plugins/financeiro", "pt-BR").Body))
		if change != nil {
			change(v)
		}
		return g.post("/admin/plugins/financeiro/config", "pt-BR", v)
	}

	storeConfig(t, p, "dias_uteis", model.ConfigString, "1")
	if r := save(nil); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.Status)
	}
	if v, typ := storedConfig(t, p, "dias_uteis"); v != "true" || typ != model.ConfigBoolean {
		t.Errorf(`dias_uteis "1" saved unchanged became %s %q, want boolean true`, typ, v)
	}

	storeConfig(t, p, "dias_uteis", model.ConfigString, "sim")
	page := string(g.get("/admin/plugins/financeiro", "pt-BR").Body)
	if !strings.Contains(page, `<option value="sim" selected>sim</option>`) || !strings.Contains(page, "Só dias úteis: deve ser Sim ou Não") {
		t.Errorf("a stored boolean that does not parse is not shown with the plugin's problem:\n%s", configForm.FindString(page))
	}
	if r := save(nil); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.Status)
	}
	if v, typ := storedConfig(t, p, "dias_uteis"); v != "sim" || typ != model.ConfigString {
		t.Errorf(`dias_uteis "sim" saved unchanged became %s %q, want it kept`, typ, v)
	}

	// A key the plugin does not declare, a number written the Brazilian
	// way and a blank declared text survive a save that changes nothing
	// (or are left out, for the blank one, as a blank field is).
	storeConfig(t, p, "extra", model.ConfigString, "fica")
	storeConfig(t, p, "prazo_dias", model.ConfigString, "1.000")
	if r := save(nil); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.Status)
	}
	if v, _ := storedConfig(t, p, "extra"); v != "fica" {
		t.Errorf("an undeclared key was lost by an unchanged save: %q", v)
	}
	if v, typ := storedConfig(t, p, "prazo_dias"); v != "1.000" || typ != model.ConfigString {
		t.Errorf(`prazo_dias "1.000" saved unchanged became %s %q`, typ, v)
	}
	// A value typed over an old one of another type is saved as declared.
	storeConfig(t, p, "prazo_dias", model.ConfigBoolean, "true")
	if r := save(func(v url.Values) { v.Set(declaredIndex(t, v, "prazo_dias")+"value", "45") }); r.Status != http.StatusSeeOther {
		t.Fatalf("typing a number over a stored boolean: %d %.300s", r.Status, r.Body)
	}
	if v, typ := storedConfig(t, p, "prazo_dias"); v != "45" || typ != model.ConfigNumber {
		t.Errorf("prazo_dias typed 45 stored as %s %q, want the number 45", typ, v)
	}

	// A number field that is no number: 422, the error next to it, and
	// every typed value kept.
	var days, agency string
	r := save(func(v url.Values) {
		days, agency = declaredIndex(t, v, "prazo_dias"), declaredIndex(t, v, "agencia")
		v.Set(days+"value", "trinta")
		v.Set(agency+"value", "9999-9")
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a number field with text: %d, want 422", r.Status)
	}
	body := string(r.Body)
	id := "f-" + strings.ReplaceAll(days, ".", "-") + "value"
	if block := fieldBlock(t, body, id); !strings.Contains(block, `value="trinta"`) || !strings.Contains(body, `id="err-`+strings.TrimPrefix(id, "f-")+`"`) {
		t.Errorf("the refused value is not kept with its error next to it:\n%s", block)
	}
	if !strings.Contains(fieldBlock(t, body, "f-"+strings.ReplaceAll(agency, ".", "-")+"value"), `value="9999-9"`) {
		t.Error("another typed value was lost by the refused save")
	}
	if v, _ := storedConfig(t, p, "agencia"); v == "9999-9" {
		t.Error("a refused save stored something")
	}
}

// installFinance installs the demo's finance plugin (its real module) on p;
// its settings call never reaches the ERP, so no server answers there.
func installFinance(t *testing.T, p *servertest.Portal) {
	t.Helper()
	module, err := testguest.Build("../../plugins/financeiro")
	testdb.Must(t, err, "build the finance plugin")
	path := filepath.Join(t.TempDir(), "financeiro.wasm")
	testdb.Must(t, os.WriteFile(path, module, 0o600), "write financeiro.wasm")
	installed, err := demo.InstallFinanceiro(context.Background(), p.Store, demo.Finance{Module: path, Check: p.Server.Sandbox.CheckABI,
		Box: p.Server.Secrets, APIURL: "http://127.0.0.1:9/sienge/v1", User: "portal", Password: "senha-do-erp"})
	testdb.Must(t, err, "install the finance plugin")
	if !installed {
		t.Fatal("the finance plugin was not installed")
	}
}
