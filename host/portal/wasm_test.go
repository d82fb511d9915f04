package portal

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
	wasmview "github.com/portico-dev/portico/internal/view"
	"github.com/portico-dev/portico/sdk/abi"
)

var update = flag.Bool("update", false, "rewrite golden files")

// everyBlock is a view with one block of each type, with text that tries
// to break out of its context.
func everyBlock() *abi.View {
	evil := `<script>alert("x")</script>`
	return &abi.View{Title: "Boletos " + evil, Blocks: []abi.Block{
		{Type: abi.BlockHeading, Level: 1, Text: "Olá " + evil},
		{Type: abi.BlockHeading, Level: 3, Text: "Detalhes"},
		{Type: abi.BlockText, Text: "Linha 1\nLinha 2 " + evil},
		{Type: abi.BlockAlert, Tone: abi.ToneWarning, Text: "Vence amanhã"},
		{Type: abi.BlockKV, Label: "Resumo", Items: []abi.KV{{Label: "Valor", Value: "R$ 10,00"}, {Label: `a"b`, Value: "x'y"}}},
		{Type: abi.BlockTable, Label: "Parcelas", Columns: []string{"Mês", "Valor", "Pago"}, Rows: [][]string{{"Jan", "10", "R$ 10,00"}, {"Fev", evil, "—"}}},
		{Type: abi.BlockForm, Label: "Filtro", Fields: []abi.Field{
			{Type: abi.FieldText, Name: "q", Label: "Busca", Value: `" onfocus="x`, Placeholder: "Digite", Required: true},
			{Type: abi.FieldNumber, Name: "n", Label: "Número", Value: "2.5"},
			{Type: abi.FieldDate, Name: "d", Label: "Data", Value: "2025-01-31"},
			{Type: abi.FieldSelect, Name: "s", Label: "Situação", Value: "b", Options: []abi.Option{{Value: "a", Label: "Aberto"}, {Value: "b", Label: "Pago"}}},
			{Type: abi.FieldCheckbox, Name: "c", Label: "Só vencidos", Value: "on"},
			{Type: abi.FieldHidden, Name: "h", Value: "7"},
		}, Buttons: []abi.Button{{Label: "Filtrar", Action: "filter"}, {Label: "Limpar", Action: "clear"}}},
		{Type: abi.BlockCopy, Label: "Linha digitável", Text: "23790.12345 60000.000000"},
		{Type: abi.BlockBarcode, Label: "Boleto", Value: "23793381286000782713695000063305975520000370"},
		{Type: abi.BlockQR, Label: "Pix", Value: "00020126580014BR.GOV.BCB.PIX"},
		{Type: abi.BlockLink, Label: "Segunda via", URL: "https://pay.exemplo.com/2via?id=1&x=2"},
		{Type: abi.BlockDownload, Label: "Extrato", Filename: "extrato.csv", ContentType: "text/csv", Data: []byte("mes,valor\njan,10\n")},
	}}
}

// newTestPortal returns a portal with no server behind it, to render pages
// directly, and the pt-BR localizer.
func newTestPortal(t *testing.T) (*Portal, *i18n.Localizer) {
	t.Helper()
	p, err := New(&web.Env{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, cat.Localizer("pt-BR")
}

func TestWasmPageRendersEveryBlockSafely(t *testing.T) {
	p, l := newTestPortal(t)
	clean, err := wasmview.Clean(everyBlock(), wasmview.Policy{AllowedHosts: []string{"https://pay.exemplo.com"}})
	if err != nil {
		t.Fatalf("clean: %v", err)
	}
	v := &view{assets: p.assets, L: l, Tenant: &model.Tenant{Slug: "x", BrandName: "Exemplo", Version: 1}, User: &model.User{Name: "Ana"},
		CSRF: "tok", Title: "Financeiro", Path: "/p/fin", Here: "/p/fin", Locales: web.LocaleOptions(l), Back: "/",
		Plugin: &model.Plugin{Slug: "fin", Title: "Financeiro", Icon: "financeiro"}}
	page := &wasmPage{view: v, Slug: "fin"}
	if err := page.setView(clean); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pluginWasmPage(page).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	if strings.Contains(got, "<script>alert") || strings.Contains(got, `" onfocus="x`) {
		t.Fatal("plugin text reached the page unescaped")
	}
	if n := strings.Count(got, "<script"); n != 1 || !strings.Contains(got, `<script src="/assets/`) {
		t.Fatalf("want exactly the one self-hosted script, found %d", n)
	}
	for _, want := range []string{
		`class="wasm-heading" id="b0">Olá &lt;script&gt;`,
		`action="/p/fin/actions/filter"`, `formaction="/p/fin/actions/clear"`, `name="_csrf" value="tok"`,
		`<option value="b" selected>Pago</option>`, `type="checkbox" id="b6-c" name="c" value="on" checked`,
		`type="date"`, `type="number" step="any"`, `<input type="hidden" name="h" value="7">`,
		`href="data:text/csv;base64,bWVzLHZhbG9yCmphbiwxMAo=" download="extrato.csv"`,
		`href="https://pay.exemplo.com/2via?id=1&amp;x=2" rel="noopener noreferrer" target="_blank"`,
		`<svg xmlns="http://www.w3.org/2000/svg" class="barcode"`, `<svg xmlns="http://www.w3.org/2000/svg" class="qr"`,
		`role="img" aria-label="Boleto: 23793381286000782713695000063305975520000370"`,
		`<caption id="b5-caption">Parcelas</caption>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	golden := filepath.Join("testdata", "plugin_wasm_blocks.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("rendered page differs from %s (run with -update and review the diff)", golden)
	}
}

// TestViewTitleNotRepeated: a view titled like its plugin does not get a
// second heading saying the same (the page's h1 is the plugin's title).
func TestViewTitleNotRepeated(t *testing.T) {
	for _, tc := range []struct{ plugin, view, want string }{
		{"Olá", "Olá", ""},
		{"Olá", " olá ", ""},
		{"Financeiro", "Boletos em aberto", "Boletos em aberto"},
		{"Financeiro", "", ""},
	} {
		page := &wasmPage{view: &view{Plugin: &model.Plugin{Title: tc.plugin}}}
		if err := page.setView(&abi.View{Title: tc.view}); err != nil {
			t.Fatal(err)
		}
		if page.ViewTitle != tc.want {
			t.Errorf("plugin %q, view %q: view title %q, want %q", tc.plugin, tc.view, page.ViewTitle, tc.want)
		}
	}
}

// TestHeadingTags: the view's highest heading is the page's h2 (h3 under a
// view title of its own), the others follow it, and none passes h6.
func TestHeadingTags(t *testing.T) {
	for _, tt := range []struct {
		levels    []int
		viewTitle bool
		want      []int
	}{
		{[]int{2, 2}, false, []int{2, 2}}, // the finance plugin's: h1 then h2, not h3
		{[]int{1, 2, 3}, false, []int{2, 3, 4}},
		{[]int{1, 2}, true, []int{3, 4}},
		{[]int{3, 1, 6}, false, []int{4, 2, 6}},
		{[]int{1, 6}, true, []int{3, 6}},
	} {
		blocks := []wasmBlock{{Block: abi.Block{Type: abi.BlockText}}}
		for _, l := range tt.levels {
			blocks = append(blocks, wasmBlock{Block: abi.Block{Type: abi.BlockHeading, Level: l}})
		}
		headingTags(blocks, tt.viewTitle)
		var got []int
		for _, b := range blocks[1:] {
			got = append(got, b.Tag)
		}
		if !slices.Equal(got, tt.want) || blocks[0].Tag != 0 {
			t.Errorf("levels %v (view title %v): tags %v, want %v", tt.levels, tt.viewTitle, got, tt.want)
		}
	}
}

// TestNumericColumns: columns of amounts are found (and only those), so
// the portal right-aligns them.
func TestNumericColumns(t *testing.T) {
	for _, tt := range []struct {
		name string
		rows [][]string
		want []bool
	}{
		{"installments", [][]string{
			{"5/12", "10/11/2026", "R$ 1.250,00", "Vencida"},
			{"6/12", "10/12/2026", "R$ 980,10", "Em aberto"},
		}, []bool{false, false, true, false}},
		{"signs, percent, suffix, dash", [][]string{
			{"-R$ 50,00", "−3,5%", "1.250,00 €", "—"},
			{"+12", "10%", "3 €", "7"},
		}, []bool{true, true, true, true}},
		{"empty column is not numeric", [][]string{{"", "-"}, {" ", "—"}}, []bool{false, false}},
		{"codes and words", [][]string{{"01310-100", "(11) 98765-4321", "R$", "1.2.a"}}, []bool{false, false, false, false}},
		{"separator at an end", [][]string{{",5", "5,", "1 000", "12'345"}}, []bool{false, false, true, true}},
		{"ragged row", [][]string{{"1"}, {"2", "x"}}, []bool{true, false}},
	} {
		if got := numericColumns(len(tt.want), tt.rows); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzIsAmount: any cell a plugin sends is classified without panicking,
// and what is called an amount has a digit and no letter.
func FuzzIsAmount(f *testing.F) {
	for _, s := range []string{"R$ 1.250,00", "-3,5%", "1 000 €", "5/12", "—", "R$", "\u00a0", "1\u202f000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isAmount(s) {
			return
		}
		if !strings.ContainsAny(s, "0123456789") {
			t.Fatalf("%q: an amount without a digit", s)
		}
		rest := s
		for _, cur := range []string{"R$", "US$"} {
			rest = strings.ReplaceAll(rest, cur, "")
		}
		if strings.IndexFunc(rest, unicode.IsLetter) >= 0 {
			t.Fatalf("%q: an amount with a letter", s)
		}
	})
}

// TestWasmNamesForScreenReaders: a table without a label of its own is
// named by the heading it sits under (the finance plugin's contract), and
// is a region only then: named after the plugin, each table was another
// "Financeiro" region beside the view's own (axe landmark-unique). Each
// copy button's name says what it copies: a boleto view had two buttons
// both named "Copiar".
func TestWasmNamesForScreenReaders(t *testing.T) {
	p, l := newTestPortal(t)
	cols, rows := []string{"Parcela", "Vencimento", "Valor"}, [][]string{{"1", "10/01/2025", "R$ 10,00"}}
	blocks := []abi.Block{
		{Type: abi.BlockHeading, Level: 2, Text: "Contrato 101"},
		{Type: abi.BlockTable, Columns: cols, Rows: rows},
		{Type: abi.BlockHeading, Level: 2, Text: "Contrato 202"},
		{Type: abi.BlockTable, Columns: cols, Rows: rows},
		{Type: abi.BlockTable, Columns: cols, Rows: rows}, // a second one under the same heading
		{Type: abi.BlockTable, Label: "Pagas", Columns: cols, Rows: rows},
		{Type: abi.BlockCopy, Label: "Pix copia e cola", Text: "000201"},
		{Type: abi.BlockCopy, Label: "Linha digitável", Text: "23790.12345"},
		{Type: abi.BlockCopy, Text: "sem rótulo"},
	}
	v := &view{assets: p.assets, L: l, Tenant: &model.Tenant{BrandName: "Exemplo"}, User: &model.User{Name: "Ana"},
		CSRF: "tok", Title: "Financeiro", Locales: web.LocaleOptions(l), Back: "/", Plugin: &model.Plugin{Slug: "fin", Title: "Financeiro", Icon: "financeiro"}}
	page := &wasmPage{view: v, Slug: "fin"}
	if err := page.setView(&abi.View{Blocks: blocks}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pluginWasmPage(page).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		`<h2 class="wasm-heading" id="b0">Contrato 101</h2><div class="wasm-table-wrap" tabindex="0" role="region" aria-labelledby="b0"><table class="wasm-table wasm-table-stack" aria-labelledby="b0"><thead>`,
		`<h2 class="wasm-heading" id="b2">Contrato 202</h2><div class="wasm-table-wrap" tabindex="0" role="region" aria-labelledby="b2"><table class="wasm-table wasm-table-stack" aria-labelledby="b2"><thead>`,
		`<div class="wasm-table-wrap" tabindex="0"><table class="wasm-table wasm-table-stack"><thead>`,
		`<div class="wasm-table-wrap" tabindex="0" role="region" aria-labelledby="b5-caption"><table class="wasm-table wasm-table-stack"><caption id="b5-caption">Pagas</caption>`,
		`id="b6-copy" class="copy-button" data-copy="b6-text"`, `aria-labelledby="b6-copy b6-label" hidden>Copiar</button>`,
		`aria-labelledby="b7-copy b7-label" hidden>Copiar</button>`,
		`id="b8-copy" class="copy-button" data-copy="b8-text" data-copied="Copiado" data-copy-failed=`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if n := strings.Count(got, `role="region"`); n != 3 {
		t.Errorf("%d regions, want 3 (the tables with a name of their own)", n)
	}
	if n := strings.Count(got, "<caption"); n != 1 {
		t.Errorf("%d captions, want 1 (the labelled table's)", n)
	}
}
