package abi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckSettings(t *testing.T) {
	ok := func() *Settings {
		return &Settings{Fields: []Setting{
			{Key: "erp_url", Type: SettingText, Label: "Endereço do ERP", Help: "A URL base da API.", Required: true},
			{Key: "multa", Type: SettingNumber, Label: "Multa (%)", Default: "2"},
			{Key: "dias_uteis", Type: SettingBoolean, Label: "Só dias úteis", Default: "true"},
			{Key: "erp_senha", Type: SettingSecret, Label: "Senha do ERP", Required: true},
		}, Problems: []Problem{{Key: "multa", Message: "A multa passa de 2 %."}, {Message: "Configuração incompleta."}}}
	}
	if err := CheckSettings(ok()); err != nil {
		t.Fatalf("valid settings refused: %v", err)
	}
	many := func(n int) []Setting {
		fs := make([]Setting, n)
		for i := range fs {
			fs[i] = Setting{Key: "k" + strings.Repeat("a", i%50) + string(rune('a'+i/50)), Type: SettingText, Label: "L"}
		}
		return fs
	}
	tests := []struct {
		name   string
		change func(s *Settings)
		want   string
	}{
		{"nil fields is fine", func(s *Settings) { s.Fields, s.Problems = nil, nil }, ""},
		{"bad key", func(s *Settings) { s.Fields[0].Key = "ERP-URL" }, "is not lower-case"},
		{"long key", func(s *Settings) { s.Fields[0].Key = "a" + strings.Repeat("b", 64) }, "is not lower-case"},
		{"twice", func(s *Settings) { s.Fields[1].Key = "erp_url" }, "declared twice"},
		{"no label", func(s *Settings) { s.Fields[0].Label = "" }, "label is empty"},
		{"long label", func(s *Settings) { s.Fields[0].Label = strings.Repeat("é", MaxSettingLabel+1) }, "label has 121 characters"},
		{"control in help", func(s *Settings) { s.Fields[0].Help = "a\nb" }, "help text holds a control character"},
		{"bidi in label", func(s *Settings) { s.Fields[0].Label = "a\u202eb" }, "bidirectional"},
		{"unknown type", func(s *Settings) { s.Fields[0].Type = "url" }, `type "url" is not one of`},
		{"number default", func(s *Settings) { s.Fields[1].Default = "dois" }, "is not a number"},
		{"boolean default", func(s *Settings) { s.Fields[2].Default = "sim" }, "is not true or false"},
		{"secret default", func(s *Settings) { s.Fields[3].Default = "x" }, "a secret has no default"},
		{"too many fields", func(s *Settings) { s.Fields = many(MaxSettings + 1) }, "101 fields"},
		{"problem about an undeclared key", func(s *Settings) { s.Problems[0].Key = "juros" }, `key "juros" is not a declared field`},
		{"empty problem", func(s *Settings) { s.Problems[0].Message = "" }, "message is empty"},
		{"long problem", func(s *Settings) { s.Problems[0].Message = strings.Repeat("x", MaxProblemText+1) }, "message has 301"},
		{"too many problems", func(s *Settings) { s.Problems = make([]Problem, MaxSettingProblems+1) }, "101 problems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok()
			tt.change(s)
			err := CheckSettings(s)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	if CheckSettings(nil) == nil {
		t.Fatal("nil settings accepted")
	}
}

func TestMissing(t *testing.T) {
	s := &Settings{Fields: []Setting{
		{Key: "erp_url", Type: SettingText, Label: "ERP", Required: true},
		{Key: "multa", Type: SettingNumber, Label: "Multa", Required: true, Default: "2"},
		{Key: "conta", Type: SettingText, Label: "Conta"},
		{Key: "erp_senha", Type: SettingSecret, Label: "Senha", Required: true},
		{Key: "erp_usuario", Type: SettingSecret, Label: "Usuário", Required: true},
	}}
	got := Missing(s, map[string]string{"erp_url": "  "}, map[string]bool{"erp_usuario": true})
	var keys []string
	for _, f := range got {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "erp_url,erp_senha" {
		t.Fatalf("missing %v, want erp_url (blank) and erp_senha (no secret)", keys)
	}
	if got := Missing(s, map[string]string{"erp_url": "https://erp"}, map[string]bool{"erp_usuario": true, "erp_senha": true}); len(got) != 0 {
		t.Fatalf("missing %v with everything set", got)
	}
}

func TestConfigType(t *testing.T) {
	for typ, want := range map[string]string{SettingText: "string", SettingNumber: "number", SettingBoolean: "boolean", SettingSecret: "", "x": ""} {
		if got, ok := ConfigType(typ); got != want || ok != (want != "") {
			t.Errorf("ConfigType(%q) = %q, %v", typ, got, ok)
		}
	}
}

// FuzzCheckSettings feeds a plugin's settings answer, as the host decodes
// it, to CheckSettings: it must never panic, and what it accepts must hold
// to the limits the admin page relies on.
func FuzzCheckSettings(f *testing.F) {
	f.Add([]byte(`{"settings":{"fields":[{"key":"erp_url","type":"text","label":"ERP","required":true},{"key":"s","type":"secret","label":"S"}],"problems":[{"key":"erp_url","message":"m"}]}}`))
	f.Add([]byte(`{"settings":{"fields":[{"key":"n","type":"number","label":"N","default":"1e3"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := DecodeOutput(b)
		if err != nil || out.Settings == nil {
			return
		}
		if CheckSettings(out.Settings) != nil {
			return
		}
		keys := map[string]bool{}
		for _, fl := range out.Settings.Fields {
			if !ValidSettingKey(fl.Key) || keys[fl.Key] || fl.Label == "" || !ValidText(fl.Label+fl.Help+fl.Default, false) {
				t.Fatalf("accepted field %+v", fl)
			}
			keys[fl.Key] = true
		}
		for _, p := range out.Settings.Problems {
			if (p.Key != "" && !keys[p.Key]) || p.Message == "" {
				t.Fatalf("accepted problem %+v", p)
			}
		}
		if _, err := json.Marshal(out.Settings); err != nil {
			t.Fatal(err)
		}
	})
}
