package view

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
)

var update = flag.Bool("update", false, "rewrite golden files")

var pol = Policy{AllowedHosts: []string{"https://pay.exemplo.com", "http://localhost:9000"}, AllowInsecureLocal: true}

// goodView has one block of every type, each at its simplest.
func goodView() *abi.View {
	return &abi.View{Title: "Financeiro", Blocks: []abi.Block{
		{Type: abi.BlockHeading, Text: "Boletos"},
		{Type: abi.BlockText, Text: "Linha 1\nLinha 2"},
		{Type: abi.BlockAlert, Text: "Atenção"},
		{Type: abi.BlockKV, Items: []abi.KV{{Label: "Vencimento", Value: "10/05"}}},
		{Type: abi.BlockTable, Columns: []string{"Mês", "Valor"}, Rows: [][]string{{"Jan", "R$ 10"}, {"Fev", ""}}},
		{Type: abi.BlockForm, Fields: []abi.Field{
			{Type: abi.FieldText, Name: "nome", Label: "Nome", Placeholder: "Seu nome"},
			{Type: abi.FieldNumber, Name: "n", Label: "N", Value: "-1.5"},
			{Type: abi.FieldDate, Name: "d", Label: "Data", Value: "2024-02-29"},
			{Type: abi.FieldSelect, Name: "s", Label: "S", Value: "b", Options: []abi.Option{{Value: "a", Label: "A"}, {Value: "b", Label: "B"}}},
			{Type: abi.FieldCheckbox, Name: "c", Label: "C", Value: "on"},
			{Type: abi.FieldHidden, Name: "h", Value: "x"},
		}, Buttons: []abi.Button{{Label: "Enviar", Action: "save"}}},
		{Type: abi.BlockCopy, Label: "Linha digitável", Text: "23790.12345"},
		{Type: abi.BlockBarcode, Value: "12345678"},
		{Type: abi.BlockQR, Value: "00020126580014BR.GOV.BCB.PIX"},
		{Type: abi.BlockLink, Label: "Pagar", URL: "https://PAY.exemplo.com:443/x?y=1"},
		{Type: abi.BlockDownload, Label: "Extrato", Filename: "extrato.csv", ContentType: "text/csv; charset=UTF-8", Data: []byte("a,b\n")},
	}}
}

func TestCleanAcceptsEveryBlockType(t *testing.T) {
	v, err := Clean(goodView(), pol)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if len(v.Blocks) != 11 {
		t.Fatalf("blocks = %d", len(v.Blocks))
	}
	if v.Blocks[0].Level != 2 || v.Blocks[2].Tone != abi.ToneInfo {
		t.Errorf("defaults not filled: %+v %+v", v.Blocks[0], v.Blocks[2])
	}
	if v.Blocks[9].URL != "https://pay.exemplo.com/x?y=1" {
		t.Errorf("link not normalised: %q", v.Blocks[9].URL)
	}
	if v.Blocks[10].ContentType != "text/csv; charset=utf-8" {
		t.Errorf("content type = %q", v.Blocks[10].ContentType)
	}
}

func TestCleanDropsFieldsABlockDoesNotUse(t *testing.T) {
	in := &abi.View{Blocks: []abi.Block{{Type: abi.BlockText, Text: "oi", URL: "javascript:alert(1)", Rows: [][]string{{"x"}}, Data: []byte("x")}}}
	v, err := Clean(in, pol)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"blocks":[{"type":"text","text":"oi"}]}` {
		t.Fatalf("clean = %s", b)
	}
}

// mutate returns goodView with block i replaced by fn's change.
func mutate(i int, fn func(b *abi.Block)) *abi.View {
	v := goodView()
	fn(&v.Blocks[i])
	return v
}

func TestCleanRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	manyRows := func(n, cols int) [][]string {
		rows := make([][]string, n)
		for i := range rows {
			rows[i] = make([]string, cols)
		}
		return rows
	}
	blocks := func(n int) *abi.View {
		v := &abi.View{}
		for i := 0; i < n; i++ {
			v.Blocks = append(v.Blocks, abi.Block{Type: abi.BlockText, Text: "t"})
		}
		return v
	}
	cases := []struct {
		name string
		v    *abi.View
		ok   bool
	}{
		{"blocks at limit", blocks(abi.MaxBlocks), true},
		{"blocks above limit", blocks(abi.MaxBlocks + 1), false},
		{"title at limit", &abi.View{Title: long(abi.MaxTitle)}, true},
		{"title above limit", &abi.View{Title: long(abi.MaxTitle + 1)}, false},
		{"title multibyte at limit", &abi.View{Title: strings.Repeat("ç", abi.MaxTitle)}, true},
		{"title control char", &abi.View{Title: "a\x07b"}, false},
		{"title newline", &abi.View{Title: "a\nb"}, false},
		{"title bidi override", &abi.View{Title: "a\u202eb"}, false},
		{"unknown type", mutate(0, func(b *abi.Block) { b.Type = "html" }), false},
		{"heading level 4", mutate(0, func(b *abi.Block) { b.Level = 4 }), false},
		{"heading level 3", mutate(0, func(b *abi.Block) { b.Level = 3 }), true},
		{"heading empty", mutate(0, func(b *abi.Block) { b.Text = "" }), false},
		{"text at limit", mutate(1, func(b *abi.Block) { b.Text = long(abi.MaxText) }), true},
		{"text above limit", mutate(1, func(b *abi.Block) { b.Text = long(abi.MaxText + 1) }), false},
		{"text invalid utf-8", mutate(1, func(b *abi.Block) { b.Text = "a\xffb" }), false},
		{"alert bad tone", mutate(2, func(b *abi.Block) { b.Tone = "danger" }), false},
		{"kv no items", mutate(3, func(b *abi.Block) { b.Items = nil }), false},
		{"kv items above limit", mutate(3, func(b *abi.Block) { b.Items = make([]abi.KV, abi.MaxItems+1) }), false},
		{"table no columns", mutate(4, func(b *abi.Block) { b.Columns = nil }), false},
		{"table columns above limit", mutate(4, func(b *abi.Block) { b.Columns = strings.Split(long(abi.MaxColumns+1), "") }), false},
		{"table ragged row", mutate(4, func(b *abi.Block) { b.Rows = [][]string{{"a"}} }), false},
		{"table rows at limit", mutate(4, func(b *abi.Block) { b.Rows = manyRows(abi.MaxRows, 2) }), true},
		{"table rows above limit", mutate(4, func(b *abi.Block) { b.Rows = manyRows(abi.MaxRows+1, 2) }), false},
		{"table cells above limit", mutate(4, func(b *abi.Block) {
			b.Columns = strings.Split(long(abi.MaxColumns), "")
			b.Rows = manyRows(abi.MaxTableCells/abi.MaxColumns+1, abi.MaxColumns)
		}), false},
		{"table cell above limit", mutate(4, func(b *abi.Block) { b.Rows[0][0] = long(abi.MaxCell + 1) }), false},
		{"form no buttons", mutate(5, func(b *abi.Block) { b.Buttons = nil }), false},
		{"form buttons above limit", mutate(5, func(b *abi.Block) { b.Buttons = make([]abi.Button, abi.MaxButtons+1) }), false},
		{"form bad action", mutate(5, func(b *abi.Block) { b.Buttons[0].Action = "../admin" }), false},
		{"form action with slash", mutate(5, func(b *abi.Block) { b.Buttons[0].Action = "a/b" }), false},
		{"form fields above limit", mutate(5, func(b *abi.Block) {
			for i := 0; i <= abi.MaxFields; i++ {
				b.Fields = append(b.Fields, abi.Field{Type: abi.FieldHidden, Name: "f" + strings.Repeat("x", i)})
			}
		}), false},
		{"form duplicate name", mutate(5, func(b *abi.Block) { b.Fields[1].Name = "nome" }), false},
		{"form reserved name", mutate(5, func(b *abi.Block) { b.Fields[0].Name = "_csrf" }), false},
		{"form name too long", mutate(5, func(b *abi.Block) { b.Fields[0].Name = "a" + long(abi.MaxName) }), false},
		{"form name at limit", mutate(5, func(b *abi.Block) { b.Fields[0].Name = "a" + long(abi.MaxName-1) }), true},
		{"form unknown field type", mutate(5, func(b *abi.Block) { b.Fields[0].Type = "file" }), false},
		{"form field no label", mutate(5, func(b *abi.Block) { b.Fields[0].Label = "" }), false},
		{"form number not a number", mutate(5, func(b *abi.Block) { b.Fields[1].Value = "1e" }), false},
		{"form bad date", mutate(5, func(b *abi.Block) { b.Fields[2].Value = "2023-02-29" }), false},
		{"form select value not an option", mutate(5, func(b *abi.Block) { b.Fields[3].Value = "z" }), false},
		{"form select no options", mutate(5, func(b *abi.Block) { b.Fields[3].Options = nil; b.Fields[3].Value = "" }), false},
		{"form checkbox bad value", mutate(5, func(b *abi.Block) { b.Fields[4].Value = "yes" }), false},
		{"copy empty", mutate(6, func(b *abi.Block) { b.Text = "" }), false},
		{"barcode odd digits", mutate(7, func(b *abi.Block) { b.Value = "123" }), false},
		{"barcode letters", mutate(7, func(b *abi.Block) { b.Value = "12ab" }), false},
		{"barcode at limit", mutate(7, func(b *abi.Block) { b.Value = strings.Repeat("1", abi.MaxBarcodeDigits) }), true},
		{"barcode above limit", mutate(7, func(b *abi.Block) { b.Value = strings.Repeat("1", abi.MaxBarcodeDigits+2) }), false},
		{"barcode empty", mutate(7, func(b *abi.Block) { b.Value = "" }), false},
		{"qr at limit", mutate(8, func(b *abi.Block) { b.Value = long(abi.MaxQRBytes) }), true},
		{"qr above limit", mutate(8, func(b *abi.Block) { b.Value = long(abi.MaxQRBytes + 1) }), false},
		{"link javascript", mutate(9, func(b *abi.Block) { b.URL = "javascript:alert(1)" }), false},
		{"link data", mutate(9, func(b *abi.Block) { b.URL = "data:text/html,x" }), false},
		{"link other host", mutate(9, func(b *abi.Block) { b.URL = "https://evil.example/x" }), false},
		{"link other port", mutate(9, func(b *abi.Block) { b.URL = "https://pay.exemplo.com:8443/x" }), false},
		{"link http to https host", mutate(9, func(b *abi.Block) { b.URL = "http://pay.exemplo.com/x" }), false},
		{"link credentials", mutate(9, func(b *abi.Block) { b.URL = "https://u:p@pay.exemplo.com/x" }), false},
		{"link relative", mutate(9, func(b *abi.Block) { b.URL = "/admin" }), false},
		{"link protocol relative", mutate(9, func(b *abi.Block) { b.URL = "//pay.exemplo.com/x" }), false},
		{"link with space", mutate(9, func(b *abi.Block) { b.URL = "https://pay.exemplo.com/a b" }), false},
		{"link local http allowed", mutate(9, func(b *abi.Block) { b.URL = "http://localhost:9000/x" }), true},
		{"link no label", mutate(9, func(b *abi.Block) { b.Label = "" }), false},
		{"download html", mutate(10, func(b *abi.Block) { b.ContentType = "text/html" }), false},
		{"download svg", mutate(10, func(b *abi.Block) { b.ContentType = "image/svg+xml" }), false},
		{"download latin1", mutate(10, func(b *abi.Block) { b.ContentType = "text/csv; charset=latin1" }), false},
		{"download at limit", mutate(10, func(b *abi.Block) { b.Data = make([]byte, abi.MaxDownloadBytes) }), true},
		{"download above limit", mutate(10, func(b *abi.Block) { b.Data = make([]byte, abi.MaxDownloadBytes+1) }), false},
		{"download no filename", mutate(10, func(b *abi.Block) { b.Filename = "../.." }), false},
		{"download exe behind a pdf name", mutate(10, func(b *abi.Block) { b.Filename, b.ContentType = "boleto.pdf.exe", "application/pdf" }), false},
		{"download html name as text", mutate(10, func(b *abi.Block) { b.Filename, b.ContentType = "x.html", "text/plain" }), false},
		{"download without extension", mutate(10, func(b *abi.Block) { b.Filename, b.ContentType = "boleto", "application/pdf" }), false},
		{"download extension only", mutate(10, func(b *abi.Block) { b.Filename, b.ContentType = ".pdf", "application/pdf" }), false},
		{"download pdf", mutate(10, func(b *abi.Block) { b.Filename, b.ContentType = "Boleto 2025-08.PDF", "application/pdf" }), true},
		{"download jpeg as jpg", mutate(10, func(b *abi.Block) { b.Filename, b.ContentType = "foto.jpg", "image/jpeg" }), true},
		{"download csv named txt", mutate(10, func(b *abi.Block) { b.Filename = "extrato.txt" }), false},
		{"qr bidi override", mutate(8, func(b *abi.Block) { b.Value = "pix\u202eabc" }), false},
		{"qr NUL", mutate(8, func(b *abi.Block) { b.Value = "pix\x00abc" }), false},
		{"qr escape", mutate(8, func(b *abi.Block) { b.Value = "pix\x1b[2J" }), false},
		{"qr line separator", mutate(8, func(b *abi.Block) { b.Value = "pix\u2028abc" }), false},
		{"qr line breaks", mutate(8, func(b *abi.Block) { b.Value = "BEGIN:VCARD\nEND:VCARD" }), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Clean(tc.v, pol)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				var ve *Error
				if !errors.As(err, &ve) {
					t.Fatalf("accepted (err = %v)", err)
				}
			}
		})
	}
}

func TestCleanOutput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     *abi.Output
		message string
		ok      bool
	}{
		{"nil", nil, "", false},
		{"empty", &abi.Output{}, "", false},
		{"error", &abi.Output{Error: "Sem boletos."}, "Sem boletos.", true},
		{"error and view", &abi.Output{Error: "x", View: &abi.View{}}, "", false},
		{"error too long", &abi.Output{Error: strings.Repeat("x", abi.MaxText+1)}, "", false},
		{"empty view", &abi.Output{View: &abi.View{}}, "", true},
	} {
		r, err := CleanOutput(tc.out, pol)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if err == nil && r.Message != tc.message {
			t.Errorf("%s: message = %q", tc.name, r.Message)
		}
	}
}

func TestSanitizeFilename(t *testing.T) {
	for in, want := range map[string]string{
		"extrato.csv":               "extrato.csv",
		"../../etc/passwd":          "passwd",
		`C:\Users\x\boleto.pdf`:     "boleto.pdf",
		".htaccess":                 "htaccess",
		"a\"b;c\r\nd.txt":           "a_b_c__d.txt",
		"relatório de março.pdf":    "relatório de março.pdf",
		"..":                        "",
		"":                          "",
		"___":                       "",
		strings.Repeat("a", 200):    strings.Repeat("a", abi.MaxFilename),
		"ok\u202etxt.exe":           "ok_txt.exe",
		"<script>alert(1)</script>": "script_",
	} {
		if got := SanitizeFilename(in); got != want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBarcodeSVGBars reads the bars back from the SVG and checks them
// against the Interleaved 2 of 5 pattern of "1234": start (narrow bar,
// space, bar, space), pairs (1,2) and (3,4) interleaved, stop (wide bar,
// narrow space, narrow bar).
func TestBarcodeSVGBars(t *testing.T) {
	svg, err := BarcodeSVG("1234")
	if err != nil {
		t.Fatal(err)
	}
	type rect struct {
		X     int `xml:"x,attr"`
		Width int `xml:"width,attr"`
	}
	var doc struct {
		Rects []rect `xml:"rect"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, svg)
	}
	// 2 start bars + 5 bars per pair × 2 + 2 stop bars, plus the background.
	if len(doc.Rects) != 1+2+10+2 {
		t.Fatalf("%d rects", len(doc.Rects))
	}
	// Widths of the bars of "12": digit 1 = wide n n n wide, so bars W N N N W.
	widths := []int{}
	for _, r := range doc.Rects[3:8] {
		widths = append(widths, r.Width)
	}
	if widths[0] <= widths[1] || widths[4] <= widths[1] || widths[1] != widths[2] || widths[2] != widths[3] {
		t.Fatalf("bars of digit 1 = %v, want wide narrow narrow narrow wide", widths)
	}
	for _, bad := range []string{"", "123", "12a4", strings.Repeat("1", abi.MaxBarcodeDigits+2)} {
		if _, err := BarcodeSVG(bad); err == nil {
			t.Errorf("BarcodeSVG(%q) accepted", bad)
		}
	}
}

func TestSVGGolden(t *testing.T) {
	for name, fn := range map[string]func() (string, error){
		"barcode_boleto.svg": func() (string, error) {
			s, err := BarcodeSVG("23793381286000782713695000063305975520000370")
			return string(s), err
		},
		"qr_hello.svg": func() (string, error) {
			s, err := QRSVG("https://portico.example/olá")
			return string(s), err
		},
	} {
		got, err := fn()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.ContainsAny(got, "'&") || strings.Contains(got, "script") {
			t.Fatalf("%s: unexpected markup", name)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read golden (run with -update): %v", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file", name)
		}
	}
}

func TestQRSVGLimits(t *testing.T) {
	if _, err := QRSVG(strings.Repeat("é", abi.MaxQRBytes/2)); err != nil {
		t.Fatalf("at limit: %v", err)
	}
	for _, bad := range []string{"", strings.Repeat("x", abi.MaxQRBytes+1)} {
		if _, err := QRSVG(bad); err == nil {
			t.Errorf("QRSVG(len %d) accepted", len(bad))
		}
	}
}

func FuzzCleanOutput(f *testing.F) {
	good, _ := json.Marshal(abi.Output{View: goodView()})
	f.Add(good)
	f.Add([]byte(`{"error":"x"}`))
	f.Add([]byte(`{"view":{"blocks":[{"type":"link","label":"a","url":"https://pay.exemplo.com"}]}}`))
	f.Add([]byte(`{"view":{"blocks":[{"type":"barcode","value":"0000"},{"type":"qr","value":"q"}]}}`))
	f.Add([]byte(`{"view":{"blocks":[{"type":"download","label":"d","filename":"a.txt","content_type":"text/plain","data":"aGk="}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o abi.Output
		if json.Unmarshal(data, &o) != nil {
			return
		}
		r, err := CleanOutput(&o, pol)
		if err != nil {
			return
		}
		if r.View == nil {
			return
		}
		// A clean view is a fixed point and its codes always draw.
		again, err := Clean(r.View, pol)
		if err != nil {
			t.Fatalf("clean view refused on second pass: %v", err)
		}
		a, _ := json.Marshal(again)
		b, _ := json.Marshal(r.View)
		if string(a) != string(b) {
			t.Fatalf("Clean is not idempotent:\n%s\n%s", a, b)
		}
		for _, bl := range r.View.Blocks {
			switch bl.Type {
			case abi.BlockBarcode:
				if _, err := BarcodeSVG(bl.Value); err != nil {
					t.Fatalf("barcode %q: %v", bl.Value, err)
				}
			case abi.BlockQR:
				if _, err := QRSVG(bl.Value); err != nil {
					t.Fatalf("qr %q: %v", bl.Value, err)
				}
			case abi.BlockLink:
				if !strings.HasPrefix(bl.URL, "https://pay.exemplo.com") && !strings.HasPrefix(bl.URL, "http://localhost:9000") {
					t.Fatalf("link escaped the allow-list: %q", bl.URL)
				}
			case abi.BlockDownload:
				if bl.Filename == "" || strings.ContainsAny(bl.Filename, "/\\\"\r\n") {
					t.Fatalf("unsafe filename %q", bl.Filename)
				}
			}
		}
	})
}

func BenchmarkCleanOutput(b *testing.B) {
	out := &abi.Output{View: goodView()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CleanOutput(out, pol); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBarcodeSVG(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BarcodeSVG("23793381286000782713695000063305975520000370"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQRSVG draws a Pix payload: uncached (a new code each time) and
// cached (the same code again).
func BenchmarkQRSVG(b *testing.B) {
	pix := "00020126580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := drawQR(pix); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := QRSVG(pix); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestQRCacheIsBoundedAndConsistent(t *testing.T) {
	first, err := QRSVG("consistent")
	if err != nil {
		t.Fatal(err)
	}
	// Fill the cache without drawing (each drawing takes milliseconds).
	qrCache.Lock()
	for i := len(qrCache.m); i < qrCacheSize; i++ {
		qrCache.m[strings.Repeat("q", i+1)] = ""
	}
	qrCache.Unlock()
	if _, err := QRSVG("one more"); err != nil {
		t.Fatal(err)
	}
	qrCache.Lock()
	n := len(qrCache.m)
	qrCache.Unlock()
	if n != 1 {
		t.Fatalf("a full cache was not emptied: %d entries", n)
	}
	again, _ := QRSVG("consistent")
	direct, _ := drawQR("consistent")
	if again != first || direct != first {
		t.Fatal("cached and drawn codes differ")
	}
}
