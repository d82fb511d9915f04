package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/sdktest"
)

func TestRenderGreetsAndCountsVisits(t *testing.T) {
	h := sdktest.New(t)
	h.User.Name = "Ana"
	r := h.Render().NoError().Contains("# Olá, Ana!", "Esta é a sua visita nº 1.", "Cliente", "construtora-exemplo")
	if tb := r.Block(abi.BlockTable); len(tb.Rows) < 1 || tb.Rows[0][1] != "Cliente" {
		t.Errorf("the role is shown as %v, want its name (Cliente), not its code", tb.Rows)
	}
	// The ID is a key for the plugin's records, not something a customer
	// should see or copy.
	r.NotContains(h.User.ID)
	if got := r.Block(abi.BlockCopy).Text; got != "Olá, Ana!" {
		t.Errorf("copy block = %q, want the greeting", got)
	}
	if tb := r.Block(abi.BlockTable); len(tb.Rows) != 3 || len(tb.Columns) != 2 {
		t.Errorf("table = %v / %v, want 2 columns and 3 rows", tb.Columns, tb.Rows)
	}
	h.Render().NoError().Contains("visita nº 2.")
	if got := string(h.KV["visits:user-1"]); got != "2" {
		t.Errorf("kv visits = %q, want 2", got)
	}
	// Another user has their own count.
	h.User.ID = "user-2"
	h.Render().NoError().Contains("visita nº 1.")
}

func TestRenderWithoutGrants(t *testing.T) {
	h := sdktest.New(t).Grant() // no grants at all
	h.User.Name = ""            // the name is not granted either
	h.Config["greeting"] = "Bem-vindo"
	r := h.Render().NoError().Contains("# Olá!", "as visitas não são contadas").NotContains("Bem-vindo", "visita nº")
	if len(r.HostCalls) != 1 || r.HostCalls[0].Op != abi.OpKVIncr {
		t.Errorf("host calls = %+v, want one refused kv.incr", r.HostCalls)
	}
}

func TestConfiguredGreeting(t *testing.T) {
	h := sdktest.New(t)
	h.Config["greeting"] = "Bem-vindo"
	h.Render().NoError().Contains("# Bem-vindo, Maria Souza!")
}

func TestSettings(t *testing.T) {
	h := sdktest.New(t)
	h.User.Locale = "en"
	r := h.Settings().NoError()
	if len(r.Settings.Fields) != 1 {
		t.Fatalf("fields %+v, want the greeting alone", r.Settings.Fields)
	}
	if f := r.Settings.Fields[0]; f.Key != "greeting" || f.Type != abi.SettingText || f.Label != "Greeting" || f.Default != "Hello" || f.Required {
		t.Errorf("greeting declared as %+v", f)
	}
	if len(r.Settings.Problems) != 0 {
		t.Errorf("problems %v with nothing configured", r.Settings.Problems)
	}
	// A greeting of two lines is one the page ignores: the settings say so.
	h.Config["greeting"] = "Bem-vindo\nde volta"
	r = h.Settings().NoError()
	if len(r.Settings.Problems) != 1 || r.Settings.Problems[0].Key != "greeting" || !strings.Contains(r.Settings.Problems[0].Message, "one line") {
		t.Errorf("problems %+v, want one about the greeting", r.Settings.Problems)
	}
	// The call has no grants: the visit counter is not touched.
	if len(r.HostCalls) != 0 || len(h.KV) != 0 {
		t.Errorf("a settings call made host calls %v", r.HostCalls)
	}
	h.Render().NoError().Contains("# Hello, Maria Souza!")
}

func TestKVFailureIsAWarning(t *testing.T) {
	h := sdktest.New(t)
	h.User.ID = strings.Repeat("x", 300) // the key is over the host's limit
	r := h.Render().NoError().Contains("[warning] Não foi possível contar a visita.")
	r.Logged("visit counter failed")
}

func TestLocales(t *testing.T) {
	for _, tc := range []struct{ locale, want string }{
		{"pt-BR", "# Olá, Maria Souza!"},
		{"es", "# Hola, Maria Souza!"},
		{"en", "# Hello, Maria Souza!"},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			h := sdktest.New(t)
			h.User.Locale = tc.locale
			h.Render().NoError().Contains(tc.want)
		})
	}
}

func TestFormRoundTrip(t *testing.T) {
	h := sdktest.New(t)
	h.User.Locale = "en"
	page := h.Render().NoError()
	r := h.Submit(page, "greet", url.Values{"name": {"  João  "}, "color": {"green"}, "news": {"on"}}).NoError()
	r.Contains("[success] Hello, João!", "Name: João", "Favourite colour: Green", "News: Yes").Logged("greeted")
	// The echoed form keeps the values, so a second submit round-trips them.
	r2 := h.Submit(r, "greet", url.Values{"news": {""}}).NoError()
	r2.Contains("Name: João", "Favourite colour: Green", "News: No")
}

func TestGreetRejectsBadInput(t *testing.T) {
	long := make([]byte, 81)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"empty name", url.Values{"name": {" "}, "color": {"blue"}}, "[error] Informe o seu nome."},
		{"no fields", nil, "[error] Informe o seu nome."},
		{"long name", url.Values{"name": {string(long)}, "color": {"blue"}}, "[error] O nome pode ter até 80 caracteres."},
		{"80 chars is fine", url.Values{"name": {string(long[:80])}, "color": {"blue"}}, "[success]"},
		{"unknown color", url.Values{"name": {"Ana"}, "color": {"<script>"}}, "[error] Escolha uma das cores."},
		// Every failure at once: each value the view would echo is checked,
		// so the form never carries one the portal refuses.
		{"unknown color and no name", url.Values{"name": {""}, "color": {"roxo"}}, "[error] Informe o seu nome."},
		{"unknown color and a long name", url.Values{"name": {string(long)}, "color": {"roxo"}}, "[error] O nome pode ter até 80 caracteres."},
		{"unknown color with a control character", url.Values{"name": {"Ana"}, "color": {"blue\x1b"}}, "[error] Escolha uma das cores."},
		{"name with a bidi override", url.Values{"name": {"Ana\u202e"}, "color": {"blue"}}, "[error] O nome não pode ter caracteres de controle."},
		{"name with an escape", url.Values{"name": {"Ana\x1b[2J"}, "color": {"roxo"}}, "[error] O nome não pode ter caracteres de controle."},
		{"name with a line separator", url.Values{"name": {"Ana\u2028Maria"}, "color": {"green"}}, "[error] O nome não pode ter caracteres de controle."},
		{"two colors", url.Values{"name": {"Ana"}, "color": {"blue", "roxo"}}, "[success]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdktest.New(t).Action("greet", tc.form).NoError().Contains(tc.want)
		})
	}
	// Invalid UTF-8 or a NUL byte never reaches the plugin: the portal
	// refuses the form with 400 before it runs (abi.CheckForm).
	for _, name := range []string{"\xff", "Ana\x00"} {
		sdktest.New(t).Action("greet", url.Values{"name": {name}, "color": {"blue"}}).Fails("invalid_input")
	}
}

// TestUnknownAction: an action the plugin does not have (a page left open
// across an upgrade) is answered politely, in the person's language.
func TestUnknownAction(t *testing.T) {
	h := sdktest.New(t)
	h.Action("nope", nil).ErrorContains("Esta ação não está mais disponível")
	h.User.Locale = "en"
	h.Action("nope", nil).ErrorContains("This action is no longer available")
}
