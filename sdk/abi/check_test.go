package abi

import (
	"strings"
	"testing"
)

// TestCheckView holds the check's messages: each broken rule is named by
// its path and says what is wrong.
func TestCheckView(t *testing.T) {
	allowed := []string{"https://erp.example.com"}
	btn := []Button{{Label: "Go", Action: "go"}}
	form := func(f ...Field) Block { return Block{Type: BlockForm, Fields: f, Buttons: btn} }
	for _, tc := range []struct {
		name string
		b    Block
		want string // "" = valid
	}{
		{"heading", Block{Type: BlockHeading, Level: 3, Text: "h"}, ""},
		{"heading default level", Block{Type: BlockHeading, Text: "h"}, ""},
		{"heading level 4", Block{Type: BlockHeading, Level: 4, Text: "h"}, "level 4"},
		{"heading empty", Block{Type: BlockHeading, Level: 1}, "text: empty"},
		{"heading at limit", Block{Type: BlockHeading, Text: strings.Repeat("é", MaxTitle)}, ""},
		{"heading over limit", Block{Type: BlockHeading, Text: strings.Repeat("é", MaxTitle+1)}, "121 characters"},
		{"heading with newline", Block{Type: BlockHeading, Text: "a\nb"}, "control character"},
		{"text with newline", Block{Type: BlockText, Text: "a\nb"}, ""},
		{"text with bidi override", Block{Type: BlockText, Text: "a\u202eb"}, "bidirectional"},
		{"alert", Block{Type: BlockAlert, Tone: ToneError, Text: "x"}, ""},
		{"alert tone", Block{Type: BlockAlert, Tone: "red", Text: "x"}, "unknown tone"},
		{"kv", Block{Type: BlockKV, Items: []KV{{Label: "a", Value: ""}}}, ""},
		{"kv empty", Block{Type: BlockKV}, "0 items"},
		{"kv item without label", Block{Type: BlockKV, Items: []KV{{Value: "v"}}}, "label: empty"},
		{"table", Block{Type: BlockTable, Columns: []string{"a"}, Rows: [][]string{{""}}}, ""},
		{"table no columns", Block{Type: BlockTable}, "0 columns"},
		{"table ragged", Block{Type: BlockTable, Columns: []string{"a", "b"}, Rows: [][]string{{"1"}}}, "1 cells for 2 columns"},
		{"table too many rows", Block{Type: BlockTable, Columns: []string{"a"}, Rows: make([][]string, MaxRows+1)}, "501 rows"},
		{"barcode", Block{Type: BlockBarcode, Value: "0123"}, ""},
		{"barcode odd", Block{Type: BlockBarcode, Value: "012"}, "even number"},
		{"barcode letters", Block{Type: BlockBarcode, Value: "01a3"}, "even number"},
		{"barcode too long", Block{Type: BlockBarcode, Value: strings.Repeat("01", 33)}, "even number"},
		{"qr", Block{Type: BlockQR, Value: "pix"}, ""},
		{"qr empty", Block{Type: BlockQR}, "QR content"},
		{"qr too long", Block{Type: BlockQR, Value: strings.Repeat("x", MaxQRBytes+1)}, "QR content"},
		{"link allowed", Block{Type: BlockLink, Label: "ERP", URL: "https://erp.example.com:443/x"}, ""},
		{"link other host", Block{Type: BlockLink, Label: "x", URL: "https://evil.example/x"}, "allowed hosts"},
		{"link javascript", Block{Type: BlockLink, Label: "x", URL: "javascript:alert(1)"}, "allowed hosts"},
		{"link with space", Block{Type: BlockLink, Label: "x", URL: "https://erp.example.com/a b"}, "space"},
		{"link without label", Block{Type: BlockLink, URL: "https://erp.example.com/"}, "label: empty"},
		{"download", Block{Type: BlockDownload, Label: "d", Filename: "a.pdf", ContentType: "application/pdf"}, ""},
		{"download no name", Block{Type: BlockDownload, Label: "d", Filename: "..", ContentType: "text/csv"}, "file name"},
		{"download html", Block{Type: BlockDownload, Label: "d", Filename: "a.html", ContentType: "text/html"}, "allowed types"},
		{"download too big", Block{Type: BlockDownload, Label: "d", Filename: "a.csv", ContentType: "text/csv", Data: make([]byte, MaxDownloadBytes+1)}, "bytes, at most"},
		{"form", form(Field{Type: "text", Name: "a", Label: "A"}), ""},
		{"form hidden without label", form(Field{Type: "hidden", Name: "a", Value: "1"}), ""},
		{"form field type", form(Field{Type: "file", Name: "a", Label: "A"}), "unknown field type"},
		{"form field name", form(Field{Type: "text", Label: "A"}), "not a valid field name"},
		{"form field name with _", form(Field{Type: "text", Name: "_csrf", Label: "A"}), "not a valid field name"},
		{"form duplicate field", form(Field{Type: "text", Name: "a", Label: "A"}, Field{Type: "text", Name: "a", Label: "B"}), "duplicate"},
		{"form field without label", form(Field{Type: "text", Name: "a"}), "label: empty"},
		{"form number", form(Field{Type: "number", Name: "a", Label: "A", Value: "x"}), "not a number"},
		{"form date", form(Field{Type: "date", Name: "a", Label: "A", Value: "10/08/2025"}), "YYYY-MM-DD"},
		{"form checkbox value", form(Field{Type: "checkbox", Name: "a", Label: "A", Value: "yes"}), `"on" or empty`},
		{"form select value", form(Field{Type: "select", Name: "s", Label: "S", Value: "x", Options: []Option{{Value: "a", Label: "A"}}}), "not one of the options"},
		{"form select no options", form(Field{Type: "select", Name: "s", Label: "S"}), "0 options"},
		{"form no buttons", Block{Type: BlockForm}, "0 buttons"},
		{"form unknown action", Block{Type: BlockForm, Buttons: []Button{{Label: "X", Action: "nope"}}}, "no handler"},
		{"form bad action name", Block{Type: BlockForm, Buttons: []Button{{Label: "X", Action: "1go"}}}, "not a valid action name"},
		{"unknown type", Block{Type: "html"}, "unknown block type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := CheckView(&View{Blocks: []Block{tc.b}}, Policy{AllowedHosts: allowed, Actions: []string{"go"}})
			if tc.want == "" && len(p) != 0 || tc.want != "" && (len(p) != 1 || !strings.Contains(p[0].Error(), tc.want)) {
				t.Errorf("problems = %q, want one with %q", p, tc.want)
			}
		})
	}
	if p := CheckView(&View{Blocks: make([]Block, MaxBlocks+1)}, Policy{}); len(p) != 1 || !strings.Contains(p[0].Error(), "101 blocks") {
		t.Errorf("too many blocks: %q", p)
	}
	many := make([]Block, MaxBlocks)
	for i := range many {
		many[i] = Block{Type: "bad"}
	}
	if p := CheckView(&View{Blocks: many}, Policy{}); len(p) != MaxProblems+1 || !strings.Contains(p[MaxProblems].Error(), "left out") {
		t.Errorf("problems are not bounded: %d", len(p))
	}
}

// TestCheckViewCases is the table the portal and the SDK's test harness
// were once held equal by (a parity test): now both call CheckView, so it
// states what the one check accepts and refuses.
func TestCheckViewCases(t *testing.T) {
	hosts := []string{"https://erp.example.com"}
	btn := []Button{{Label: "Go", Action: "go"}}
	form := func(f ...Field) Block { return Block{Type: BlockForm, Fields: f, Buttons: btn} }
	long := func(n int) string { return strings.Repeat("é", n) }
	for i, tc := range []struct {
		b  Block
		ok bool
	}{
		{Block{Type: BlockHeading, Text: "h"}, true},
		{Block{Type: BlockHeading, Level: 4, Text: "h"}, false},
		{Block{Type: BlockHeading, Text: long(MaxTitle)}, true},
		{Block{Type: BlockHeading, Text: long(MaxTitle + 1)}, false},
		{Block{Type: BlockHeading, Text: "a\nb"}, false},
		{Block{Type: BlockText, Text: "a\nb\tc"}, true},
		{Block{Type: BlockText, Text: "a\u202eb"}, false},
		{Block{Type: BlockText, Text: long(MaxText + 1)}, false},
		{Block{Type: BlockText}, false},
		{Block{Type: BlockAlert, Text: "x"}, true},
		{Block{Type: BlockAlert, Tone: "red", Text: "x"}, false},
		{Block{Type: BlockKV, Items: []KV{{Label: "a"}}}, true},
		{Block{Type: BlockKV}, false},
		{Block{Type: BlockKV, Items: []KV{{Value: "v"}}}, false},
		{Block{Type: BlockKV, Items: make([]KV, MaxItems+1)}, false},
		{Block{Type: BlockTable, Columns: []string{"a"}, Rows: [][]string{{""}}}, true},
		{Block{Type: BlockTable}, false},
		{Block{Type: BlockTable, Columns: []string{"a", "b"}, Rows: [][]string{{"1"}}}, false},
		{Block{Type: BlockTable, Columns: []string{"a"}, Rows: [][]string{{long(MaxCell + 1)}}}, false},
		{Block{Type: BlockTable, Columns: make([]string, MaxColumns+1)}, false},
		{Block{Type: BlockCopy, Text: "x"}, true},
		{Block{Type: BlockCopy}, false},
		{Block{Type: BlockBarcode, Value: "0123"}, true},
		{Block{Type: BlockBarcode, Value: "012"}, false},
		{Block{Type: BlockBarcode, Value: strings.Repeat("01", MaxBarcodeDigits/2)}, true},
		{Block{Type: BlockBarcode, Value: strings.Repeat("01", MaxBarcodeDigits/2+1)}, false},
		{Block{Type: BlockQR, Value: "pix"}, true},
		{Block{Type: BlockQR, Value: strings.Repeat("x", MaxQRBytes+1)}, false},
		{Block{Type: BlockLink, Label: "l", URL: "https://erp.example.com/a?b=c"}, true},
		{Block{Type: BlockLink, Label: "l", URL: "https://erp.example.com:443/a"}, true},
		{Block{Type: BlockLink, Label: "l", URL: "https://evil.example/a"}, false},
		{Block{Type: BlockLink, Label: "l", URL: "javascript:alert(1)"}, false},
		{Block{Type: BlockLink, URL: "https://erp.example.com/"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: "a.pdf", ContentType: "application/pdf"}, true},
		{Block{Type: BlockDownload, Label: "d", Filename: "a.csv", ContentType: "text/csv; charset=utf-8"}, true},
		{Block{Type: BlockDownload, Label: "d", Filename: "a.html", ContentType: "text/html"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: "..", ContentType: "text/csv"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: "boleto.pdf.exe", ContentType: "application/pdf"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: "x.html", ContentType: "text/plain"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: "boleto", ContentType: "application/pdf"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: ".pdf", ContentType: "application/pdf"}, false},
		{Block{Type: BlockDownload, Label: "d", Filename: "Foto.JPEG", ContentType: "image/jpeg"}, true},
		{Block{Type: BlockDownload, Label: "d", Filename: `C:\docs\extrato.csv`, ContentType: "text/csv"}, true},
		{Block{Type: BlockQR, Value: "pix\u202eabc"}, false},
		{Block{Type: BlockQR, Value: "pix\x00abc"}, false},
		{Block{Type: BlockQR, Value: "a\nb"}, true},
		{Block{Type: BlockDownload, Label: "d", Filename: "a.csv", ContentType: "text/csv", Data: make([]byte, MaxDownloadBytes+1)}, false},
		{form(Field{Type: "text", Name: "a", Label: "A"}), true},
		{form(Field{Type: "hidden", Name: "a", Value: "1"}), true},
		{form(Field{Type: "file", Name: "a", Label: "A"}), false},
		{form(Field{Type: "text", Name: "_csrf", Label: "A"}), false},
		{form(Field{Type: "text", Name: "1a", Label: "A"}), false},
		{form(Field{Type: "text", Name: "a", Label: "A"}, Field{Type: "text", Name: "a", Label: "B"}), false},
		{form(Field{Type: "text", Name: "a"}), false},
		{form(Field{Type: "number", Name: "a", Label: "A", Value: "1.5"}), true},
		{form(Field{Type: "number", Name: "a", Label: "A", Value: "x"}), false},
		{form(Field{Type: "date", Name: "a", Label: "A", Value: "2025-08-10"}), true},
		{form(Field{Type: "date", Name: "a", Label: "A", Value: "10/08/2025"}), false},
		{form(Field{Type: "checkbox", Name: "a", Label: "A", Value: "on"}), true},
		{form(Field{Type: "checkbox", Name: "a", Label: "A", Value: "yes"}), false},
		{form(Field{Type: "select", Name: "s", Label: "S", Value: "a", Options: []Option{{Value: "a", Label: "A"}}}), true},
		{form(Field{Type: "select", Name: "s", Label: "S", Value: "x", Options: []Option{{Value: "a", Label: "A"}}}), false},
		{form(Field{Type: "select", Name: "s", Label: "S"}), false},
		{Block{Type: BlockForm}, false},
		{Block{Type: BlockForm, Buttons: []Button{{Label: "X", Action: "1go"}}}, false},
		{Block{Type: BlockForm, Buttons: make([]Button, MaxButtons+1)}, false},
		{Block{Type: "html"}, false},
	} {
		v := &View{Blocks: []Block{tc.b}}
		p := CheckView(v, Policy{AllowedHosts: hosts})
		if (len(p) == 0) != tc.ok {
			t.Errorf("case %d %+v: problems %v, want ok=%v", i, tc.b, p, tc.ok)
		}
		if err := ViewErr(v, Policy{AllowedHosts: hosts}); (err == nil) != tc.ok || (err != nil && err.Error() != p[0].Error()) {
			t.Errorf("case %d: ViewErr = %v, CheckView %v", i, err, p)
		}
	}
}

// TestCheckViewTextRule: every rune of the Basic Multilingual Plane, in a
// one-line text (a heading), a multi-line one (a text block) and a QR
// value, is accepted exactly when CheckText accepts it (the SDK's harness
// and the portal once held two copies of this rule equal).
func TestCheckViewTextRule(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue // surrogates are not runes of valid UTF-8
		}
		s := "a" + string(r) + "b"
		for _, tc := range []struct {
			b         Block
			multiline bool
		}{{Block{Type: BlockHeading, Text: s}, false}, {Block{Type: BlockText, Text: s}, true}, {Block{Type: BlockQR, Value: s}, true}} {
			ok := len(CheckView(&View{Blocks: []Block{tc.b}}, Policy{})) == 0
			if ok != ValidText(s, tc.multiline) {
				t.Errorf("%U in a %s block: accepted=%v, CheckText: %v", r, tc.b.Type, ok, CheckText(s, tc.multiline))
			}
		}
	}
}

func TestCheckCard(t *testing.T) {
	text := Block{Type: BlockText, Text: "Próxima parcela: R$ 1.250,00"}
	kv := Block{Type: BlockKV, Items: []KV{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}}
	for _, tc := range []struct {
		name   string
		blocks []Block
		want   string // a path with a problem, "" for none
	}{
		{"text, alert and key-values", []Block{text, {Type: BlockAlert, Tone: ToneWarning, Text: "Vencida"}, kv}, ""},
		{"too many blocks", []Block{text, text, text, text}, "blocks"},
		{"a form", []Block{{Type: BlockForm, Buttons: []Button{{Label: "x", Action: "x"}}}}, "blocks[0].type"},
		{"a download", []Block{{Type: BlockDownload, Label: "x", Filename: "a.pdf", ContentType: "application/pdf", Data: []byte("x")}}, "blocks[0].type"},
		{"too many items", []Block{{Type: BlockKV, Items: append(kv.Items, KV{"e", "5"})}}, "blocks[0].items"},
		{"long text", []Block{{Type: BlockText, Text: strings.Repeat("á", MaxCardText+1)}}, "blocks[0].text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &View{Blocks: tc.blocks}
			ps := CheckView(v, Policy{Card: true})
			if tc.want == "" {
				if len(ps) != 0 {
					t.Errorf("problems %v", ps)
				}
				return
			}
			if len(ps) == 0 || ps[0].Path != tc.want {
				t.Errorf("problems %v, want one at %s", ps, tc.want)
			}
			// The same view is a page's view when not a card (apart from
			// the limits a card alone has).
			if tc.name == "a form" && len(CheckView(v, Policy{})) != 0 {
				t.Errorf("a form is refused outside a card: %v", CheckView(v, Policy{}))
			}
		})
	}
}

// TestCheckPaths holds the path each problem names, down to the nested
// elements (an option of a field of a form, a cell of a row), as
// integrators read it in `plugin run` and the portal's logs.
func TestCheckPaths(t *testing.T) {
	btn := []Button{{Label: "Go", Action: "go"}}
	ok := Block{Type: BlockText, Text: "ok"}
	v := &View{Title: "a\x00b", Blocks: []Block{
		ok,
		{Type: BlockKV, Items: []KV{{Label: "a", Value: "1"}, {Value: "2"}}},
		{Type: BlockTable, Columns: []string{"a", ""}, Rows: [][]string{{"1", "2"}, {"1", "2\x00"}, {"1"}}},
		{Type: BlockForm, Fields: []Field{
			{Type: "text", Name: "a", Label: "A"},
			{Type: "select", Name: "s", Label: "S", Options: []Option{{Value: "x", Label: "X"}, {Value: "y"}}},
			{Type: "text", Name: "a", Label: "B"},
		}, Buttons: []Button{{Label: "Go", Action: "go"}, {Label: "", Action: "1x"}}},
		{Type: BlockLink, Label: "l", URL: "https://evil.example/"},
		{Type: BlockDownload, Label: "d", Filename: "a.html", ContentType: "text/html"},
		{Type: BlockForm, Buttons: btn, Fields: []Field{{Type: "file", Name: "f", Label: "F"}}},
	}}
	want := []string{
		"title",
		"blocks[1].items[1].label",
		"blocks[2].columns[1]",
		"blocks[2].rows[1][1]",
		"blocks[2].rows[2]",
		"blocks[3].fields[1].options[1].label",
		"blocks[3].fields[2].name",
		"blocks[3].buttons[1].label",
		"blocks[3].buttons[1].action",
		"blocks[4].url",
		"blocks[5].content_type",
		"blocks[6].fields[0].type",
	}
	var got []string
	for _, p := range CheckView(v, Policy{}) {
		got = append(got, p.Path)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct {
		o    *Output
		want string
	}{
		{&Output{}, "output"},
		{&Output{Error: "x", View: &View{}}, "error"},
		{&Output{Error: "a\x00"}, "error"},
		{&Output{View: &View{Blocks: make([]Block, MaxBlocks+1)}}, "blocks"},
	} {
		if p := CheckOutput(tc.o, Policy{}); len(p) == 0 || p[0].Path != tc.want {
			t.Errorf("CheckOutput(%+v) = %v, want a problem at %q", tc.o, p, tc.want)
		}
	}
}
