// Command hello is Portico's example wasm plugin: it greets the user, counts
// their visits in the plugin's KV store, and shows a form whose button runs
// an action that echoes the submitted values. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
//
// and see docs/plugin-tutorial.md.
package main

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

// A reactor never runs main; the handlers are registered in init.
func init() {
	sdk.Render(render)
	sdk.Action("greet", greet)
	sdk.Settings(settings)
}

func main() {}

// maxName bounds the name typed in the form, in characters.
const maxName = 80

// colors are the select's choices: value → label per language.
var colors = []struct{ value, ptBR, es, en string }{
	{"blue", "Azul", "Azul", "Blue"},
	{"green", "Verde", "Verde", "Green"},
	{"orange", "Laranja", "Naranja", "Orange"},
}

func colorLabel(c *sdk.Context, value string) (string, bool) {
	for _, col := range colors {
		if col.value == value {
			return c.Tr(col.ptBR, col.es, col.en), true
		}
	}
	return "", false
}

// plainText reports whether s may be shown on one line of a view: what
// the portal's view check accepts there (valid UTF-8, no control
// characters, no bidirectional controls, no line or paragraph separators).
// A plugin checks what it echoes, so it never produces a view the portal
// refuses.
func plainText(s string) bool { return abi.ValidText(s, false) }

// greeting returns "Olá" (or the configured "greeting", when it fits on
// one line) with the name, if any.
func greeting(c *sdk.Context, name string) string {
	g := c.Config("greeting")
	if g == "" || !plainText(g) {
		g = c.Tr("Olá", "Hola", "Hello")
	}
	if name == "" {
		return g + "!"
	}
	return g + ", " + name + "!"
}

// settings describes the one configuration key the plugin reads, for the
// gestor's form on the admin's plugin page, and says when its value is one
// greeting ignores.
func settings(c *sdk.Context) *sdk.SettingsPage {
	page := &sdk.SettingsPage{Fields: []sdk.Setting{{
		Key:     "greeting",
		Type:    abi.SettingText,
		Label:   c.Tr("Saudação", "Saludo", "Greeting"),
		Help:    c.Tr("A palavra que abre a página, antes do nome do cliente.", "La palabra que abre la página, antes del nombre del cliente.", "The word that opens the page, before the customer's name."),
		Default: c.Tr("Olá", "Hola", "Hello"),
	}}}
	if g := c.Config("greeting"); g != "" && !plainText(g) {
		page.Problems = append(page.Problems, sdk.Problem{Key: "greeting",
			Message: c.Tr("deve caber em uma linha, sem caracteres de controle; a página usa o padrão.",
				"debe caber en una línea, sin caracteres de control; la página usa el predeterminado.",
				"must fit on one line, without control characters; the page uses the default.")})
	}
	return page
}

func render(c *sdk.Context) (*sdk.View, error) {
	u := c.User()
	if !plainText(u.Name) {
		u.Name = "" // the portal validates names, but a plugin trusts no input
	}
	hello := greeting(c, u.Name)
	v := sdk.NewView(c.Tr("Olá", "Hola", "Hello")).
		Heading(1, hello)

	visits, err := countVisit(c)
	switch {
	case err == nil:
		v.Text(c.Tr("Esta é a sua visita nº ", "Esta es su visita n.º ", "This is your visit #") + strconv.Itoa(visits) + ".")
	case sdk.Code(err) == abi.ErrGrantMissing:
		v.Info(c.Tr("Sem acesso ao armazenamento: as visitas não são contadas.",
			"Sin acceso al almacenamiento: las visitas no se cuentan.",
			"No storage access: visits are not counted."))
	default:
		c.Log().Warn("visit counter failed", "err", err.Error())
		v.Warning(c.Tr("Não foi possível contar a visita.", "No se pudo contar la visita.", "Could not count the visit."))
	}

	v.Table([]string{c.Tr("Campo", "Campo", "Field"), c.Tr("Valor", "Valor", "Value")},
		[]string{c.Tr("Perfil", "Perfil", "Role"), c.RoleName()},
		[]string{c.Tr("Idioma", "Idioma", "Language"), u.Locale},
		[]string{c.Tr("Empresa", "Empresa", "Company"), u.Tenant},
	)
	// A copy block (the portal adds a copy button): in a real plugin, a
	// boleto's linha digitável or a PIX code. Never the user's ID, which is
	// a key for the plugin's records, not something a customer should see.
	v.Copy(c.Tr("Sua saudação, para copiar", "Su saludo, para copiar", "Your greeting, to copy"), hello)
	v.Heading(2, c.Tr("Diga olá", "Di hola", "Say hello"))
	v.Form(form(c, u.Name, "blue", false))
	return v, nil
}

func form(c *sdk.Context, name, color string, news bool) *sdk.Form {
	opts := make([]abi.Option, len(colors))
	for i, col := range colors {
		opts[i] = sdk.Option(col.value, c.Tr(col.ptBR, col.es, col.en))
	}
	return sdk.NewForm().
		Text("name", c.Tr("Nome", "Nombre", "Name"), name).Required().
		Placeholder(c.Tr("Seu nome", "Su nombre", "Your name")).
		Select("color", c.Tr("Cor preferida", "Color preferido", "Favourite colour"), color, opts...).
		Checkbox("news", c.Tr("Quero receber novidades", "Quiero recibir novedades", "Send me news"), news).
		Button(c.Tr("Enviar", "Enviar", "Send"), "greet")
}

// countVisit increments and returns the user's visit count, atomically
// (KV.Incr: two tabs opened at once count two visits). The key holds the
// user's ID: opaque, stable, and known only to this plugin (another plugin
// gets another ID for the same person), so it is a key, never something to
// show the user.
func countVisit(c *sdk.Context) (int, error) {
	n, err := c.KV().Incr("visits:"+c.User().ID, 1)
	return int(n), err
}

func greet(c *sdk.Context) (*sdk.View, error) {
	name := strings.TrimSpace(c.FormValue("name"))
	color := c.FormValue("color")
	news := c.Checked("news")

	v := sdk.NewView(c.Tr("Olá", "Hola", "Hello"))
	// Each value the form echoes is checked on its own, whatever else is
	// wrong: an unknown colour is not one of the select's options and a name
	// with control characters is not valid text, and the portal refuses a
	// view that shows either.
	label, okColor := colorLabel(c, color)
	if !okColor {
		color = colors[0].value
	}
	nameOK := utf8.RuneCountInString(name) <= maxName && plainText(name)
	if !nameOK {
		name = ""
	}
	switch {
	case !nameOK && !plainText(c.FormValue("name")):
		v.Error(c.Tr("O nome não pode ter caracteres de controle.", "El nombre no puede tener caracteres de control.",
			"The name may not contain control characters."))
	case !nameOK:
		v.Error(c.Tr("O nome pode ter até 80 caracteres.", "El nombre puede tener hasta 80 caracteres.", "The name may have at most 80 characters."))
	case name == "":
		v.Error(c.Tr("Informe o seu nome.", "Indique su nombre.", "Please enter your name."))
	case !okColor:
		v.Error(c.Tr("Escolha uma das cores.", "Elija uno de los colores.", "Choose one of the colours."))
	default:
		c.Log().Info("greeted", "color", color)
		v.Success(greeting(c, name)).
			KV(
				sdk.Item(c.Tr("Nome", "Nombre", "Name"), name),
				sdk.Item(c.Tr("Cor preferida", "Color preferido", "Favourite colour"), label),
				sdk.Item(c.Tr("Novidades", "Novedades", "News"), yesNo(c, news)),
			)
	}
	return v.Form(form(c, name, color, news)), nil
}

func yesNo(c *sdk.Context, b bool) string {
	if b {
		return c.Tr("Sim", "Sí", "Yes")
	}
	return c.Tr("Não", "No", "No")
}
