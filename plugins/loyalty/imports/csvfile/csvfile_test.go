package csvfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// got is a row as the tests compare it.
type got struct {
	Line, N  int
	Name     string
	Email    string
	Document string
	Points   int64
	Codes    string // the problems' codes, comma-separated
}

func readAll(t *testing.T, data []byte) (Encoding, *Reader, []got, error) {
	t.Helper()
	enc, err := Detect(bytes.NewReader(data))
	if err != nil {
		return "", nil, nil, err
	}
	// One byte at a time: the detector's and the decoders' boundaries.
	rd, err := NewReader(iotest.OneByteReader(bytes.NewReader(data)), enc)
	if err != nil {
		return enc, nil, nil, err
	}
	var out []got
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return enc, rd, out, nil
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		var codes []string
		for _, p := range row.Problems {
			codes = append(codes, p.Code)
			if p.Message == "" {
				t.Errorf("line %d: problem %s without a message", row.Line, p.Code)
			}
		}
		out = append(out, got{row.Line, row.N, row.Name, row.Email, row.Document, row.Points, strings.Join(codes, ",")})
	}
}

// threeCustomers is what utf8_bom.csv, latin1.csv and es_semicolon.csv
// hold, each in its own way.
var threeCustomers = []got{
	{2, 1, "José da Conceição", "jose@exemplo.com.br", "52998224725", 100, ""},
	{3, 2, "Ana Souza", "ana@exemplo.com.br", "", 1500, ""},
	{4, 3, "Bia", "bia@exemplo.com.br", "11222333000181", 0, ""},
}

func TestFiles(t *testing.T) {
	for _, tc := range []struct {
		file    string
		enc     Encoding
		sep     rune
		rows    []got
		ignored []string
	}{
		{"utf8_bom.csv", UTF8BOM, ',', threeCustomers, nil},
		{"latin1.csv", Windows1252, ';', threeCustomers, nil},
		{"es_semicolon.csv", UTF8, ';', threeCustomers, []string{"Observación"}},
		{"quoted.csv", UTF8, ',', []got{
			{2, 1, "Souza, Ana", "ana@exemplo.com.br", "", 10, ""},
			// "Carlos\r\nAlberto": one spreadsheet row, one name.
			{3, 2, "Carlos Alberto", "carlos@exemplo.com.br", "", 20, ""},
			{4, 3, "Davi", "davi@exemplo.com.br", "", 30, ""},
		}, []string{"observacao"}},
		{"empty_lines.csv", UTF8, ';', []got{
			{4, 1, "Ana", "ana@exemplo.com.br", "", 10, ""},
			{8, 2, "Bia", "bia@exemplo.com.br", "", 20, ""},
		}, nil},
		{"cr_only.csv", UTF8, ',', []got{
			{2, 1, "Ana", "ana@exemplo.com.br", "", 10, ""},
			{3, 2, "Bia", "bia@exemplo.com.br", "", 20, ""},
		}, nil},
		{"bad_rows.csv", UTF8, ',', []got{
			{2, 1, "Ana", "ana@exemplo.com.br", "", 10, ""},
			{3, 2, "", "semnome@exemplo.com.br", "", 10, CodeNameRequired},
			{4, 3, "Bia", "nao-e-email", "", 10, CodeEmailInvalid},
			{5, 4, "Caio", "caio@exemplo.com.br", "123.456.789-00", 10, CodeDocumentInvalid},
			{6, 5, "Duda", "duda@exemplo.com.br", "", 0, CodePointsInvalid},
			{7, 6, "Edu", "edu@exemplo.com.br", "", 0, CodePointsInvalid},
			{8, 7, "Fabi", "fabi@exemplo.com.br", "", 0, CodePointsOutOfRange},
			{9, 8, "", "", "", 0, CodeMalformed},
			{10, 9, "Hugo", "", "", 0, CodeEmailRequired},
			{11, 10, "Iris", "iris@exemplo.com.br", "", 10_000_000, ""},
		}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			enc, rd, rows, err := readAll(t, data)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if enc != tc.enc || rd.Separator() != tc.sep {
				t.Errorf("encoding %s separator %q; want %s %q", enc, rd.Separator(), tc.enc, tc.sep)
			}
			if !reflect.DeepEqual(rows, tc.rows) {
				t.Errorf("rows:\n got %+v\nwant %+v", rows, tc.rows)
			}
			if !reflect.DeepEqual(rd.Ignored, tc.ignored) {
				t.Errorf("ignored %q, want %q", rd.Ignored, tc.ignored)
			}
		})
	}
}

// TestSameRowsSameDigest: the three spellings of the same customers — BOM
// and CRLF, Latin-1 and ';', es headers in another order with an extra
// column — have one digest; a changed row changes it.
func TestSameRowsSameDigest(t *testing.T) {
	digest := func(file string, data []byte) string {
		if data == nil {
			var err error
			if data, err = os.ReadFile(filepath.Join("testdata", file)); err != nil {
				t.Fatal(err)
			}
		}
		enc, err := Detect(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Scan(bytes.NewReader(data), enc)
		if err != nil {
			t.Fatal(err)
		}
		return s.Digest
	}
	a, b, c := digest("utf8_bom.csv", nil), digest("latin1.csv", nil), digest("es_semicolon.csv", nil)
	if a != b || b != c {
		t.Fatalf("the same rows have different digests: %s %s %s", a, b, c)
	}
	data, _ := os.ReadFile("testdata/utf8_bom.csv")
	if d := digest("", bytes.Replace(data, []byte(",100"), []byte(",101"), 1)); d == a {
		t.Fatalf("a changed row kept the digest")
	}
	if d := digest("", bytes.Replace(data, []byte("Ana,"), []byte("Ana Maria,"), 1)); d == a {
		t.Fatalf("a changed name kept the digest")
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   []byte
		code   string
		column string
	}{
		{"missing_email.csv", nil, CodeMissingColumn, "email"},
		{"binary.png", nil, CodeBinary, ""},
		{"planilha.xlsx", nil, CodeSpreadsheet, ""},
		{"utf16.csv", nil, CodeUTF16, ""},
		{"header_only.csv", nil, CodeNoRows, ""},
		{"empty", []byte{}, CodeEmpty, ""},
		{"only blank lines", []byte("\r\n\r\n;;\r\n"), CodeEmpty, ""},
		{"no name", []byte("email,pontos\na@b.co,1\n"), CodeMissingColumn, "nome"},
		{"neither", []byte("foo;bar\n1;2\n"), CodeMissingColumn, "nome"},
		{"one column", []byte("nome email pontos\nAna a@b.co 1\n"), CodeNoSeparator, ""},
		{"pipes", []byte("nome|email|pontos\nAna|a@b.co|1\n"), CodeNoSeparator, ""},
		{"a quoted header", []byte("\"nome,email\"\nAna,a@b.co\n"), CodeNoSeparator, ""},
		{"sep= and nothing else", []byte("sep=;\n"), CodeEmpty, ""},
		{"duplicate", []byte("nome;email;nombres\nAna;a@b.co;Ana\n"), CodeDuplicateColumn, "nombres"},
		{"malformed header", []byte("nome,\"email\"x\nAna,a@b.co\n"), CodeMalformedHeader, ""},
		{"BOM then Latin-1", append([]byte("\xEF\xBB\xBFnome,email\nJos\xe9,a@b.co\n"), 0), CodeBinary, ""},
		{"BOM then Latin-1 text", []byte("\xEF\xBB\xBFnome,email\nJos\xe9,a@b.co\n"), CodeInvalidEncoding, ""},
		{"undefined 1252 byte", []byte("nome,email\nJos\x81,a@b.co\n"), CodeInvalidEncoding, ""},
		{"controls", []byte("nome,email\x01\x02\x03\x04\x05\x06\x07\x08\n"), CodeBinary, ""},
		{"UTF-8 and one Latin-1 byte", []byte("nome;email;pontos\nJosé da Conceição;jose@exemplo.com;100\nJo\xe3o;joao@exemplo.com;50\n"), CodeMixedEncoding, ""},
		{"Latin-1 then UTF-8", []byte("nome;email\r\nJo\xe3o;joao@exemplo.com\r\nJosé;jose@exemplo.com\r\n"), CodeMixedEncoding, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if data == nil {
				var err error
				if data, err = os.ReadFile(filepath.Join("testdata", tc.name)); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			enc, err := Detect(bytes.NewReader(data))
			if err == nil {
				_, err = Scan(bytes.NewReader(data), enc)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FileError %s", err, tc.code)
			}
			if fe.Code != tc.code || fe.Column != tc.column {
				t.Fatalf("got %s column %q, want %s column %q (%v)", fe.Code, fe.Column, tc.code, tc.column, fe)
			}
			if fe.Message() == "" || strings.Contains(fe.Message(), "Arquivo recusado: ") {
				t.Errorf("no pt-BR message for %s: %q", fe.Code, fe.Message())
			}
		})
	}
}

func TestHeaderKeys(t *testing.T) {
	for in, want := range map[string]string{
		"Nome": "nome", " NOMBRES ": "nombres", "Documento de identidad": "documento_de_identidad",
		"documento_de_identidad": "documento_de_identidad", "E-mail": "e_mail", "Correo electrónico": "correo_electronico",
		"PONTOS": "pontos", "Puntos": "puntos", "CPF/CNPJ": "cpf_cnpj", "Sobrenome": "sobrenome", "Observación": "observacion",
	} {
		if got := headerKey(in); got != want {
			t.Errorf("headerKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsePoints(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "10": 10, "1.500": 1500, "10.000.000": 10_000_000, "007": 7,
		"-5": -1, "+5": -1, "1,5": -1, "1.5": -1, "1.50": -1, ".500": -1, "1234.567": -1, "1e3": -1, "٣": -1, "9999999999999": -1} {
		n, ok := parsePoints(in)
		if (want < 0) == ok || (ok && n != want) {
			t.Errorf("parsePoints(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
}

// TestDetectorChunks: the detector's answer does not depend on where the
// writes cut the bytes (a rune split across two writes).
func TestDetectorChunks(t *testing.T) {
	for _, s := range []string{"nome,email\nJosé 😀 Conceição,a@b.co\n", "nome,email\nJos\xe9,a@b.co\n", "ok\xe2\x82",
		"nome,email\r\nJosé,a@b.co\r\nJo\xe3o,b@b.co\r\n", "a\rb\n\xe9\n\xc3\xa9", "\xe2\x82\n\xe2\x82\xac"} {
		var whole Detector
		_, _ = whole.Write([]byte(s))
		want, wantErr := whole.Result()
		var wantFE *FileError
		errors.As(wantErr, &wantFE)
		for cut := 0; cut <= len(s); cut++ {
			for cut2 := cut; cut2 <= len(s); cut2++ {
				var d Detector
				_, _ = d.Write([]byte(s[:cut]))
				_, _ = d.Write([]byte(s[cut:cut2]))
				_, _ = d.Write([]byte(s[cut2:]))
				got, err := d.Result()
				var fe *FileError
				errors.As(err, &fe)
				if got != want || (err == nil) != (wantErr == nil) || (fe != nil && (fe.Code != wantFE.Code || fe.Line != wantFE.Line)) {
					t.Fatalf("%q cut at %d,%d: %s %v; whole: %s %v", s, cut, cut2, got, err, want, wantErr)
				}
			}
		}
	}
}

// TestLostZeros: a CPF or CNPJ a spreadsheet read as a number lost its
// leading zeros; the row's message says so, and a document that is simply
// wrong gets no such hint.
func TestLostZeros(t *testing.T) {
	data := []byte("nome;email;documento\nAna;ana@x.test;1234567890\nBia;bia@x.test;191\nCaio;caio@x.test;123.456.789-00\n")
	rd, err := NewReader(bytes.NewReader(data), UTF8)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{true, true, false} {
		row, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		msg := Messages(row.Problems)
		if got := strings.Contains(msg, "sem os zeros à esquerda"); got != want || !strings.Contains(msg, "documento inválido") {
			t.Errorf("line %d: %q, hint %v, want %v", row.Line, msg, got, want)
		}
	}
}

// TestMixedEncoding: a UTF-8 file with a line in Latin-1 (or the other way
// round) is refused, naming the line of the first byte that is not UTF-8,
// rather than read as Windows-1252 with every UTF-8 name garbled; a plain
// Latin-1 file, accents and all, is still Windows-1252.
func TestMixedEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		line int // 0: not refused
	}{
		{"a Latin-1 row in UTF-8", "nome;email;pontos\nJosé da Conceição;jose@exemplo.com;100\nJo\xe3o;joao@exemplo.com;50\n", 3},
		{"CRLF, the Latin-1 row first", "nome;email\r\nJo\xe3o;joao@exemplo.com\r\nJosé;jose@exemplo.com\r\n", 2},
		{"CR only", "nome;email\rAna;a@b.co\rJosé;j@b.co\rJo\xe3o;b@b.co\r", 4},
		{"an accent at the end of a line", "nome;email\nAndr\xe9\nJosé;j@b.co\n", 2},
		{"a cut sequence at the end", "nome;email\nJosé;j@b.co\nJo\xc3", 3},
		{"Latin-1 only", "nome;email\nJo\xe3o;joao@exemplo.com\nJos\xe9;jose@exemplo.com\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := Detect(strings.NewReader(tc.data))
			var fe *FileError
			switch {
			case tc.line == 0 && (err != nil || enc != Windows1252):
				t.Fatalf("%s %v, want windows-1252", enc, err)
			case tc.line == 0:
			case !errors.As(err, &fe) || fe.Code != CodeMixedEncoding || fe.Line != tc.line:
				t.Fatalf("%s %v, want mixed_encoding at line %d", enc, err, tc.line)
			case !strings.Contains(fe.Message(), fmt.Sprintf("a linha %d tem bytes", tc.line)) || !strings.Contains(fe.Message(), "CSV UTF-8"):
				t.Errorf("message %q", fe.Message())
			}
		})
	}
}

// TestSeparators: tab-separated files, and Excel's "sep=X" first line
// (skipped, not counted as a row, its X used even where the header has
// more of another separator); the same rows read from every spelling have
// one digest. A header with no separator is refused saying so.
func TestSeparators(t *testing.T) {
	ana := []got{{2, 1, "Ana", "ana@x.com", "", 10, ""}}
	for _, tc := range []struct {
		name string
		data string
		sep  rune
		rows []got
	}{
		{"tabs", "nome\temail\tpontos\nAna\tana@x.com\t10\n", '\t', ana},
		{"tabs, CRLF, an empty column", "nome\temail\t\tpontos\r\nAna\tana@x.com\t\t10\r\n", '\t', ana},
		{"sep=;", "sep=;\nnome;email;pontos\nAna;ana@x.com;10\n", ';', ana},
		{"sep=, after a BOM, CRLF", "\xef\xbb\xbfsep=,\r\nnome,email,pontos\r\nAna,ana@x.com,10\r\n", ',', ana},
		{"SEP=; quoted and padded", "\"SEP=;\";;\nnome;email;pontos\nAna;ana@x.com;10\n", ';', ana},
		{"sep=tab", "sep=\t\nnome\temail\tpontos\nAna\tana@x.com\t10\n", '\t', ana},
		{"sep=; over a header with more commas", "sep=;\nnome;email;pontos;a,b,c,d\nAna;ana@x.com;10;x\n", ';', ana},
		{"sep=| (any punctuation)", "sep=|\nnome|email|pontos\nAna|ana@x.com|10\n", '|', ana},
		{"sep=;  Latin-1", "sep=;\nnome;email;pontos\nAn\xe1;ana@x.com;10\n", ';', []got{{2, 1, "Aná", "ana@x.com", "", 10, ""}}},
		{"not a sep line", "sep=;email\nnome;email\n", ';', nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rd, rows, err := readAll(t, []byte(tc.data))
			if tc.rows == nil {
				var fe *FileError
				if !errors.As(err, &fe) || fe.Code != CodeMissingColumn {
					t.Fatalf("got %v, want missing_column (an ordinary header)", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if rd.Separator() != tc.sep || !reflect.DeepEqual(rows, tc.rows) {
				t.Fatalf("separator %q rows %+v; want %q %+v", rd.Separator(), rows, tc.sep, tc.rows)
			}
		})
	}

	digest := func(data string) string {
		t.Helper()
		enc, err := Detect(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Scan(strings.NewReader(data), enc)
		if err != nil {
			t.Fatal(err)
		}
		return sum.Digest
	}
	plain := digest("nome,email,pontos\nAna,ana@x.com,10\n")
	for _, other := range []string{"nome\temail\tpontos\nAna\tana@x.com\t10\n", "sep=;\nnome;email;pontos\nAna;ana@x.com;10\n"} {
		if digest(other) != plain {
			t.Errorf("%q: another digest than the same row comma-separated", other)
		}
	}

	testNoSep := func(data, wantLine string) {
		t.Helper()
		_, err := NewReader(strings.NewReader(data), UTF8)
		var fe *FileError
		if !errors.As(err, &fe) || fe.Code != CodeNoSeparator || !strings.Contains(fe.Message(), wantLine) ||
			!strings.Contains(fe.Message(), "vírgula, ponto e vírgula ou tabulação") {
			t.Errorf("%q: %v, want no_separator naming %s", data, err, wantLine)
		}
	}
	testNoSep("\n  \nnome email pontos\nAna a@b.co 1\n", `"nome email pontos"`)
	testNoSep("nome|email\n", `"nome|email"`)
}
