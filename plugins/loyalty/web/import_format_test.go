package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
)

// TestImportMixedEncoding: a UTF-8 file with one row in Latin-1 is refused,
// in the gestor's language, naming the line — not imported with garbled
// names — and nothing is stored.
func TestImportMixedEncoding(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	file := []byte("nome;email;pontos\nJosé da Conceição;jose@exemplo.com;100\nJo\xe3o;joao@exemplo.com;50\n")
	for lang, want := range map[string]string{
		"pt-BR": "o arquivo mistura codificações: tem texto em UTF-8, mas a linha 3 tem bytes que não são UTF-8",
		"es":    "el archivo mezcla codificaciones: tiene texto en UTF-8, pero la línea 3 tiene bytes que no son UTF-8",
		"en":    "the file mixes encodings: it has UTF-8 text, but line 3 has bytes that are not UTF-8",
	} {
		g := gestor()
		g.ID, g.Locale = "sub-gestor-"+lang, lang
		r := h.upload(h.launch(g)+"/importacoes", "misto.csv", file)
		mustContain(t, "mixed ("+lang+")", r, http.StatusUnprocessableEntity, want, `role="alert"`)
	}
	if list, err := h.imp.List(context.Background(), 10); err != nil || len(list) != 0 {
		t.Fatalf("imports after refusals: %v %v", list, err)
	}
	if n, _ := h.st.CountCustomers(context.Background()); n != 0 {
		t.Fatalf("%d customers after a refused file", n)
	}
}

// TestImportPageShowsTheFormat: an import's page says how its file was
// read (encoding and separator), in the gestor's language.
func TestImportPageShowsTheFormat(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	for _, tc := range []struct {
		lang, name string
		file       []byte
		want       string
	}{
		{"pt-BR", "latin1.csv", []byte("nome;email;pontos\nJo\xe3o;joao@x.test;5\n"), "Lido como Latin-1 (Windows-1252), colunas separadas por ponto e vírgula."},
		{"es", "bom.csv", []byte("\xef\xbb\xbfnombres,email,puntos\nJosé,jose@x.test,5\n"), "Leído como UTF-8 (con BOM), columnas separadas por coma."},
		{"en", "plain.csv", []byte("nome,email,pontos\nAna,ana@x.test,5\n"), "Read as UTF-8, columns separated by commas."},
		{"pt-BR", "excel.csv", []byte("sep=;\r\nnome;email;pontos\r\nBia;bia@x.test;5\r\n"), "Lido como UTF-8, colunas separadas por ponto e vírgula."},
		{"es", "tabs.tsv", []byte("nombres\temail\tpuntos\nCaio\tcaio@x.test\t5\n"), "Leído como UTF-8, columnas separadas por tabulación."},
	} {
		g := gestor()
		g.ID, g.Locale = "sub-gestor-"+tc.lang, tc.lang
		base := h.launch(g)
		r := h.upload(base+"/importacoes", tc.name, tc.file)
		loc := r.Header.Get("Location")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/importacoes/") {
			t.Fatalf("%s: %d %.300s", tc.name, r.Status, text(r.Body))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := h.imp.Wait(ctx, strings.TrimPrefix(loc, base+"/importacoes/"))
		cancel()
		testdb.Must(t, err, "wait")
		page := h.get(loc)
		mustContain(t, tc.name, page, 200, tc.want)
		if idOf(page.Body, "import-format") != tc.want {
			t.Errorf("%s: format %q", tc.name, idOf(page.Body, "import-format"))
		}
	}
}

// TestImportNoSeparator: a header without a recognised separator is
// refused saying so (not "missing column nome and email"), in the
// gestor's language.
func TestImportNoSeparator(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	for lang, want := range map[string]string{
		"pt-BR": "a linha de cabeçalho “nome|email|pontos” não tem separador de colunas",
		"es":    "la fila de encabezados «nome|email|pontos» no tiene separador de columnas",
		"en":    "the header line “nome|email|pontos” has no column separator",
	} {
		g := gestor()
		g.ID, g.Locale = "sub-gestor-"+lang, lang
		r := h.upload(h.launch(g)+"/importacoes", "pipes.csv", []byte("nome|email|pontos\nAna|ana@x.test|5\n"))
		mustContain(t, "no separator ("+lang+")", r, http.StatusUnprocessableEntity, want)
		if strings.Contains(r.Body, "missing") || strings.Contains(r.Body, "falta a coluna") {
			t.Errorf("%s: still says a column is missing", lang)
		}
	}
}
