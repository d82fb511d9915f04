package model

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"ana@exemplo.com.br", "ana@exemplo.com.br", true},
		{"  Ana@Exemplo.COM.br ", "ana@exemplo.com.br", true},
		{"\tCLIENTE@DEMO.PORTICO.TEST\n", "cliente@demo.portico.test", true},
		{"", "", false},
		{"   ", "", false},
		{"ana", "", false},
		{"ana@", "", false},
		{"@exemplo.com", "", false},
		{"ana@localhost", "", false},
		{"Ana <ana@exemplo.com>", "", false},
		{"ana@exemplo.com, bia@exemplo.com", "", false},
		{"ana @exemplo.com", "", false},
		{strings.Repeat("a", 250) + "@x.com", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+55 (11) 98765-4321", "+5511987654321", true},
		{"11 3333.4444", "1133334444", true},
		{"123", "", false},
		{"+55 11 9876x4321", "", false},
		{"++5511987654321", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestResolveSize(t *testing.T) {
	tests := []struct {
		size         Size
		w, h         int
		wantW, wantH int
		ok           bool
	}{
		{SizePequeno, 0, 0, 640, 480, true},
		{SizeMedio, 5, 5, 960, 640, true},
		{SizeGrande, 0, 0, 1280, 800, true},
		{SizeTelaCheia, 0, 0, 0, 0, true},
		{SizeCustom, 800, 600, 800, 600, true},
		{SizeCustom, MinFrameWidth - 1, 600, 0, 0, false},
		{SizeCustom, 800, MaxFrameHeight + 1, 0, 0, false},
		{"gigante", 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		w, h, err := ResolveSize(tt.size, tt.w, tt.h)
		if (err == nil) != tt.ok || w != tt.wantW || h != tt.wantH {
			t.Errorf("ResolveSize(%q,%d,%d) = %d,%d,%v", tt.size, tt.w, tt.h, w, h, err)
		}
	}
}

func validPlugin() Plugin {
	return Plugin{Slug: "financeiro", Name: "Financeiro", Title: "Financeiro", Type: PluginIframe,
		URL: "https://erp.exemplo.com.br/app", Icon: "financeiro", Active: true, ShowInPortal: true,
		Size: SizeMedio, VisibleTo: VisibleCliente, AuthType: AuthToken}
}

func TestPluginValidate(t *testing.T) {
	rules := PluginRules{IconExists: func(s string) bool { return s == "financeiro" }}
	tests := []struct {
		name   string
		mutate func(*Plugin)
		field  string // "" means valid
	}{
		{"valid", func(*Plugin) {}, ""},
		{"bad slug", func(p *Plugin) { p.Slug = "Financeiro!" }, "slug"},
		{"missing title", func(p *Plugin) { p.Title = "  " }, "title"},
		{"long title", func(p *Plugin) { p.Title = strings.Repeat("x", MaxPluginTitleLength+1) }, "title"},
		{"http url", func(p *Plugin) { p.URL = "http://erp.exemplo.com.br" }, "url"},
		{"javascript url", func(p *Plugin) { p.URL = "javascript:alert(1)" }, "url"},
		{"credentials in url", func(p *Plugin) { p.URL = "https://u:p@erp.exemplo.com.br" }, "url"},
		{"missing url", func(p *Plugin) { p.URL = "" }, "url"},
		{"wasm with url", func(p *Plugin) { p.Type = PluginWasm }, "url"},
		{"unknown type", func(p *Plugin) { p.Type = "exe" }, "type"},
		{"unknown icon", func(p *Plugin) { p.Icon = "foguete" }, "icon"},
		{"bad visibility", func(p *Plugin) { p.VisibleTo = "todos" }, "visible_to"},
		{"bad auth", func(p *Plugin) { p.AuthType = "basic" }, "auth_type"},
		{"bad size", func(p *Plugin) { p.Size = SizeCustom; p.Width = 10 }, "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPlugin()
			tt.mutate(&p)
			err := p.Validate(rules)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			v, ok := AsValidation(err)
			if !ok {
				t.Fatalf("want a ValidationError on %s, got %v", tt.field, err)
			}
			found := false
			for _, f := range v.Fields {
				found = found || f.Field == tt.field
			}
			if !found {
				t.Fatalf("want failure on %s, got %v", tt.field, v)
			}
		})
	}
}

func TestPluginMenuRules(t *testing.T) {
	tests := []struct {
		name                    string
		mutate                  func(*Plugin)
		cliente, sindico, panel bool
	}{
		{"cliente only", func(p *Plugin) {}, true, false, false},
		{"sindico only", func(p *Plugin) { p.VisibleTo = VisibleSindico }, false, true, false},
		{"both", func(p *Plugin) { p.VisibleTo = VisibleAmbos }, true, true, false},
		{"inactive", func(p *Plugin) { p.VisibleTo = VisibleAmbos; p.Active = false; p.ShowInManager = true }, false, false, false},
		{"hidden from portal", func(p *Plugin) { p.ShowInPortal = false }, false, false, false},
		{"manager panel only", func(p *Plugin) { p.ShowInPortal = false; p.ShowInManager = true }, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPlugin()
			tt.mutate(&p)
			if got := p.InPortalMenu(RoleCliente); got != tt.cliente {
				t.Errorf("cliente: got %v", got)
			}
			if got := p.InPortalMenu(RoleSindico); got != tt.sindico {
				t.Errorf("sindico: got %v", got)
			}
			if got := p.InPortalMenu(RoleGestor); got {
				t.Errorf("gestor is not a portal role, got %v", got)
			}
			if got := p.InManagerPanel(); got != tt.panel {
				t.Errorf("panel: got %v", got)
			}
		})
	}
}

func TestRolesRoundTrip(t *testing.T) {
	in := Roles{RoleGestor, RoleCliente, RoleCliente}
	v, err := in.Value()
	if err != nil || v != "cliente,gestor" {
		t.Fatalf("Value = %v, %v", v, err)
	}
	var out Roles
	if err := out.Scan("gestor, síndico ,root,cliente"); err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || !out.Has(RoleCliente) || !out.Has(RoleSindico) || !out.Has(RoleGestor) {
		t.Fatalf("Scan = %v", out)
	}
}

func TestUserValidate(t *testing.T) {
	u := &User{Email: " Ana@Exemplo.com ", Name: " Ana ", Document: "529.982.247-25", Phone: "(11) 98765-4321", Roles: Roles{RoleCliente}}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if u.Email != "ana@exemplo.com" || u.Name != "Ana" || u.Document != "52998224725" || u.Phone != "11987654321" {
		t.Fatalf("not normalised: %+v", u)
	}
	bad := &User{Email: "x", Document: "123", Phone: "1", Locale: "fr"}
	v, ok := AsValidation(bad.Validate())
	if !ok || len(v.Fields) != 6 {
		t.Fatalf("want 6 field errors (email,name,document,phone,roles,locale), got %v", v)
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://Boletos.Example.com/App?x=1", "https://boletos.example.com/App?x=1", true},
		{"HTTPS://example.com:443", "https://example.com/", true},
		{"https://MÜNCHEN.de/portal", "https://xn--mnchen-3ya.de/portal", true},
		{"https://example.com:8443/a#frag", "https://example.com:8443/a#frag", true},
		{"http://localhost:8080/demo", "", false},
		{"https://u:p@example.com/", "", false},
		{"javascript:alert(1)", "", false},
		{"https:///nohost", "", false},
		{"https://[fe80::1%2525x;frame-ancestors%2520*;x]/a", "", false},
		{"https://[fe80::1%25x]/a", "", false},
		{"https://[fe80::1%25eth0]:8443/a", "", false},
		{"https://[2001:DB8::1]:8443/a", "https://[2001:db8::1]:8443/a", true},
		{"https://[::ffff:1.2.3.4]/a", "https://[::ffff:1.2.3.4]/a", true},
		{"https://a.example.com,https://evil.example/a", "", false},
		{"https://a.example.com;x/a", "", false},
		{"https://a.example.com:0/a", "", false},
		{"https://a.example.com:65536/a", "", false},
		{"https://a.example.com:0443/a", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeURL(tt.in, false)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got, err := NormalizeURL("http://127.0.0.1:8080/demo/frame/x", true); err != nil || got != "http://127.0.0.1:8080/demo/frame/x" {
		t.Errorf("local demo URL: %q %v", got, err)
	}
}

func TestPluginTitles(t *testing.T) {
	rules := PluginRules{IconExists: func(string) bool { return true }}
	base := func(titles Titles) *Plugin {
		return &Plugin{Slug: "fin", Name: "Financeiro", Title: "Financeiro", Titles: titles, Type: PluginIframe, URL: "https://apps.exemplo.com/fin",
			Icon: "financeiro", VisibleTo: VisibleCliente, AuthType: AuthNone, Size: SizeMedio}
	}
	p := base(Titles{"es": "  Finanzas ", "en": "", "pt-BR": "Financeiro"})
	if err := p.Validate(rules); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Titles, Titles{"es": "Finanzas", "pt-BR": "Financeiro"}) {
		t.Errorf("titles = %v, want trimmed and without the empty one", p.Titles)
	}
	for loc, want := range map[string]string{"es": "Finanzas", "en": "Financeiro", "fr": "Financeiro"} {
		if got := p.TitleIn(loc); got != want {
			t.Errorf("TitleIn(%s) = %q, want %q", loc, got, want)
		}
	}
	for _, tc := range []struct {
		titles Titles
		field  string
	}{
		{Titles{"fr": "Finances"}, "titles.fr"},
		{Titles{"es": strings.Repeat("x", MaxPluginTitleLength+1)}, "titles.es"},
		{Titles{"en": "Bills\u202e"}, "titles.en"},
	} {
		var ve *ValidationError
		err := base(tc.titles).Validate(rules)
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Fields, func(f FieldError) bool { return f.Field == tc.field }) {
			t.Errorf("titles %q: %v, want a problem at %s", tc.titles, err, tc.field)
		}
	}
}

// TestFormatPhone: a stored Brazilian number reads as people write it, and
// NormalizePhone takes it back to what is stored.
func TestFormatPhone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"11987654321", "(11) 98765-4321"},
		{"1134567890", "(11) 3456-7890"},
		{"+5511987654321", "+55 (11) 98765-4321"},
		{"+551134567890", "+55 (11) 3456-7890"},
		{"+14155550123", "+14155550123"},
		{"98765432", "98765432"},
		{"", ""},
	} {
		got := FormatPhone(tt.in)
		if got != tt.want {
			t.Errorf("FormatPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := NormalizePhone(got); tt.in != "" && (err != nil || back != tt.in) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q back", got, back, err, tt.in)
		}
	}
}

// TestOriginProblem: a refused origin is answered with what is wrong with
// it, so the gestor knows what to change.
func TestOriginProblem(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://erp.example.com", "origin_not_https"},
		{"erp.example.com", "origin_not_https"},
		{"ftp://erp.example.com", "origin_not_https"},
		{"https://erp.example.com/api", "origin_not_bare"},
		{"https://user:pw@erp.example.com", "origin_not_bare"},
		{"https://erp.example.com?x=1", "origin_not_bare"},
		{"https://erp.example.com:99999", "invalid_origin"},
		{"https://[fe80::1%25eth0]", "invalid_origin"},
	} {
		_, err := NormalizeOrigin(tc.in, false)
		if err == nil {
			t.Errorf("%s accepted", tc.in)
			continue
		}
		if got := OriginProblem(err); got != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.in, got, err, tc.want)
		}
	}
}
