package abi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// many returns n copies of elem joined by commas.
func many(elem string, n int) string {
	return strings.TrimSuffix(strings.Repeat(elem+",", n), ",")
}

func TestDecodeOutputLimits(t *testing.T) {
	for _, tt := range []struct {
		name, raw, path, reason string
	}{
		{"blocks", `{"view":{"blocks":[` + many(`{}`, MaxBlocks+1) + `]}}`, "blocks", "more than 100 blocks"},
		{"blocks in any case", `{"VIEW":{"Blocks":[` + many(`{}`, MaxBlocks+1) + `]}}`, "Blocks", "more than 100 blocks"},
		// encoding/json matches keys under Unicode case folding: the Kelvin
		// sign (U+212A) is a "k", raw or escaped.
		{"kelvin key", `{"view":{"bloc\u212as":[` + many(`{}`, MaxBlocks+1) + `]}}`, "bloc\\u212as", "more than 100 blocks"},
		{"kelvin raw", "{\"view\":{\"bloc\u212as\":[" + many(`{}`, MaxBlocks+1) + `]}}`, "", "more than 100 blocks"},
		{"escaped key", `{"\u0076iew":{"\u0062locks":[` + many(`{}`, MaxBlocks+1) + `]}}`, "", "more than 100 blocks"},
		{"rows", `{"view":{"blocks":[{},{"type":"table","rows":[` + many(`[]`, MaxRows+1) + `]}]}}`, "blocks[1].rows", "more than 500 rows"},
		{"cells", `{"view":{"blocks":[{"rows":[[` + many(`""`, MaxColumns+1) + `]]}]}}`, "blocks[0].rows[0]", "more than 12 cells"},
		{"columns", `{"view":{"blocks":[{"columns":[` + many(`"a"`, MaxColumns+1) + `]}]}}`, "blocks[0].columns", "more than 12 columns"},
		{"items", `{"view":{"blocks":[{"items":[` + many(`{}`, MaxItems+1) + `]}]}}`, "blocks[0].items", "more than 100 items"},
		{"fields", `{"view":{"blocks":[{"fields":[` + many(`{}`, MaxFields+1) + `]}]}}`, "blocks[0].fields", "more than 40 fields"},
		{"options", `{"view":{"blocks":[{"fields":[{"options":[` + many(`{"value":"a"}`, MaxOptions+1) + `]}]}]}}`, "blocks[0].fields[0].options", "more than 200 options"},
		{"buttons", `{"view":{"blocks":[{"buttons":[` + many(`{}`, MaxButtons+1) + `]}]}}`, "blocks[0].buttons", "more than 6 buttons"},
		{"depth", `{"x":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`, "", "nested deeper than 10 levels"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeOutput([]byte(tt.raw))
			var ve *ViewError
			if !errors.As(err, &ve) || ve.Reason != tt.reason || (tt.path != "" && ve.Path != tt.path) {
				t.Fatalf("got %v, want %s: %s", err, tt.path, tt.reason)
			}
		})
	}
	// At the limits, and with big arrays outside the view's shape, the
	// output decodes as encoding/json decodes it.
	for _, raw := range []string{
		`{"view":{"blocks":[` + many(`{"type":"text","text":"a"}`, MaxBlocks) + `]}}`,
		`{"view":{"blocks":[{"type":"table","columns":["a"],"rows":[` + many(`["x"]`, MaxRows) + `]}]}}`,
		`{"extra":[` + many(`1`, 10000) + `],"view":{"title":"t","blocks":[]}}`,
		`{"error":"polite"}`,
		` null `,
	} {
		got, err := DecodeOutput([]byte(raw))
		var want Output
		if jerr := json.Unmarshal([]byte(raw), &want); err != nil || jerr != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%.60s: got %v, %v", raw, err, jerr)
		}
	}
	// Text that is not JSON is reported as such, also when the walk found
	// an array over its limit before the fault.
	for _, raw := range []string{
		`{"view": not json`,
		`{"view":{"blocks":[` + many(`{}`, MaxBlocks+1) + `]}} trailing`,
		`{"view":{"blocks":[` + many(`{}`, MaxBlocks+1),
		`{"view":{"blocks":[{` + strings.Repeat("[", 50),
	} {
		if _, err := DecodeOutput([]byte(raw)); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("%.40s…: %v, want an invalid JSON error", raw, err)
		}
	}
}

// FuzzDecodeOutput checks the bounded decoder against encoding/json: what
// it accepts, json.Unmarshal decodes to the same value, with every array
// of the view within its limit; what json.Unmarshal refuses, it refuses.
func FuzzDecodeOutput(f *testing.F) {
	for _, s := range []string{
		`{"view":{"blocks":[]}}`, `{"error":"x"}`, `{}`, `null`, `[`, ``, `{"view":{"blocks":[{},{}]}} x`,
		`{"view":{"blocks":[{"type":"table","columns":["a"],"rows":[["1"],["2"]]}]}}`,
		`{"view":{"blocks":[{"fields":[{"options":[{"value":"a","label":"b"}]}],"buttons":[{"label":"l","action":"a"}]}]}}`,
		`{"\u0076iew":{"bloc\u212as":[{},{},{}]}}`, "{\"view\":{\"BLOC\u212aS\":[{}]}}", `{"view":{"blocks":[{"items":[{"label":"\ud83d\ude00"}]}]}}`,
		`{"x":[[[[[[[[[[[1]]]]]]]]]]]}`, `{"view":{"blocks":[{"data":"AAEC"}]},"view":{"blocks":[{}]}}`,
		// A repeated view after the blocks were counted (the decoder makes
		// room for them in advance).
		`{"view":{"blocks":[{},{}]},"view":null}`, `{"view":null,"view":{"blocks":[{}]}}`,
		`{"view":{"blocks":[{},{}]},"view":{"title":"t"}}`, `{"view":{"blocks":[{}]},"view":{"blocks":null}}`,
		// Not JSON: the walk must end without reading past the text.
		`[}`, `{"a":}`, `{"a" 1}`, `{"\`, `{"\u12`, `{"view":{"blocks":[{},`, `{"view":{"blocks":[{}}`, `"`, `{,}`,
		// Settings answers (KindSettings).
		`{"settings":{"fields":[{"key":"erp_url","type":"text","label":"ERP"}],"problems":[{"key":"erp_url","message":"m"}]}}`,
		`{"settings":{"fields":[{},{},{}],"problems":[{}]}}`, `{"settings":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeOutput(b)
		var want Output
		jerr := json.Unmarshal(b, &want)
		if err != nil {
			return
		}
		if jerr != nil {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", jerr, b)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("decoded %+v, encoding/json %+v: %q", *got, want, b)
		}
		if st := got.Settings; st != nil && (len(st.Fields) > MaxSettings || len(st.Problems) > MaxSettingProblems) {
			t.Fatalf("%d fields, %d problems accepted: %q", len(st.Fields), len(st.Problems), b)
		}
		if got.View == nil {
			return
		}
		if len(got.View.Blocks) > MaxBlocks {
			t.Fatalf("%d blocks accepted: %q", len(got.View.Blocks), b)
		}
		for _, bl := range got.View.Blocks {
			if len(bl.Items) > MaxItems || len(bl.Columns) > MaxColumns || len(bl.Rows) > MaxRows ||
				len(bl.Fields) > MaxFields || len(bl.Buttons) > MaxButtons {
				t.Fatalf("over-limit block accepted: %q", b)
			}
			for _, r := range bl.Rows {
				if len(r) > MaxColumns {
					t.Fatalf("%d cells accepted: %q", len(r), b)
				}
			}
			for _, fl := range bl.Fields {
				if len(fl.Options) > MaxOptions {
					t.Fatalf("%d options accepted: %q", len(fl.Options), b)
				}
			}
		}
	})
}

// BenchmarkDecodeOutput decodes the demo plugin's page (plugins/hello's
// render: headings, text, a table, a copy block and a form), the output the
// host decodes on every view.
func BenchmarkDecodeOutput(b *testing.B) {
	raw, err := json.Marshal(Output{View: &View{Title: "Olá", Blocks: []Block{
		{Type: BlockHeading, Text: "Olá, Carla Cliente!", Level: 1},
		{Type: BlockText, Text: "Esta é a sua visita nº 34507."},
		{Type: BlockTable, Columns: []string{"Campo", "Valor"}, Rows: [][]string{
			{"Perfil", "Cliente"}, {"Idioma", "pt-BR"}, {"Empresa", "construtora-exemplo"}}},
		{Type: BlockCopy, Text: "Olá, Carla Cliente!", Label: "Sua saudação, para copiar"},
		{Type: BlockHeading, Text: "Diga olá", Level: 2},
		{Type: BlockForm, Fields: []Field{
			{Type: FieldText, Name: "name", Label: "Nome", Value: "Carla Cliente", Placeholder: "Seu nome", Required: true},
			{Type: FieldSelect, Name: "color", Label: "Cor favorita", Options: []Option{
				{Value: "blue", Label: "Azul"}, {Value: "green", Label: "Verde"}, {Value: "orange", Label: "Laranja"}}},
			{Type: FieldCheckbox, Name: "news", Label: "Quero receber novidades"},
		}, Buttons: []Button{{Label: "Enviar", Action: "greet"}}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeOutput(raw); err != nil {
			b.Fatal(err)
		}
	}
}
