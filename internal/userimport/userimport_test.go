package userimport

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	f, err := Parse([]byte("\xef\xbb\xbfNome;E-mail;Perfil;CPF/CNPJ;Celular;Bloco\r\n" +
		"Ana Souza;ana@exemplo.com.br;;123.456.789-09;(11) 99999-0000;A\r\n" +
		"\r\n" +
		"\"Bruno; o síndico\";bruno@exemplo.com.br;Síndico;;;B\r\n" +
		"Carla;carla@exemplo.com.br;cliente, síndico;;;\r\n" +
		"Davi;davi@exemplo.com.br;gestor;;;\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Separator != ';' || !slices.Equal(f.Ignored, []string{"Bloco"}) || len(f.Rows) != 4 {
		t.Fatalf("file = %+v", f)
	}
	want := []Row{
		{Line: 2, Email: "ana@exemplo.com.br", Name: "Ana Souza", Document: "123.456.789-09", Phone: "(11) 99999-0000", Roles: []string{RoleCliente}},
		{Line: 4, Email: "bruno@exemplo.com.br", Name: "Bruno; o síndico", Roles: []string{RoleSindico}},
		{Line: 5, Email: "carla@exemplo.com.br", Name: "Carla", Roles: []string{RoleCliente, RoleSindico}},
		{Line: 6, Email: "davi@exemplo.com.br", Name: "Davi", Problem: RowBadRole},
	}
	for i, w := range want {
		g := f.Rows[i]
		if g.Line != w.Line || g.Email != w.Email || g.Name != w.Name || g.Document != w.Document || g.Phone != w.Phone ||
			!slices.Equal(g.Roles, w.Roles) || g.Problem != w.Problem {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestParseSpreadsheetQuirks: what Excel and Google Sheets write.
func TestParseSpreadsheetQuirks(t *testing.T) {
	// Excel's "sep=;" line, blank lines before the header, CR-only line
	// breaks, and a name over two lines (one spreadsheet row).
	f, err := Parse([]byte("sep=;\r\r\nNome;Email\r\"Ana\rMaria\";ana@x.com\rBia;bia@x.com\r"))
	if err != nil {
		t.Fatal(err)
	}
	// The sep= line is a setting, not a row: the blank line is row 1.
	if len(f.Rows) != 2 || f.Rows[0].Line != 3 || f.Rows[0].Name != "Ana\nMaria" || f.Rows[1].Line != 4 || f.Rows[1].Name != "Bia" {
		t.Fatalf("rows = %+v, want Ana on row 3 and Bia on row 4", f.Rows)
	}
	// A tab named by sep=, quoted as Excel sometimes writes it; a header
	// cell with a line break typed in it.
	f, err = Parse([]byte("\"sep=\t\"\n\"Nome\ncompleto\"\tE-mail\nAna\tana@x.com\n"))
	if err != nil || f.Separator != '\t' || f.Rows[0].Name != "Ana" || f.Rows[0].Line != 2 {
		t.Fatalf("sep=tab: %+v, %v", f, err)
	}
	// Text after a closing quote spoils that row only; Telefone and
	// Celular side by side give the first one filled in.
	f, err = Parse([]byte("nome;email;telefone;celular\n\"Ana\" Maria;a@x.com;;(11) 9\nBia;b@x.com;(21) 1;(21) 2\n"))
	if err != nil || len(f.Rows) != 2 || f.Rows[0].Problem != RowMalformed || f.Rows[1].Phone != "(21) 1" {
		t.Fatalf("quote after quote, two phones: %+v, %v", f, err)
	}
	// A header whose other cells hold commas: the separator is the one
	// that names both required columns.
	f, err = Parse([]byte("Nome;E-mail;Endereço, número, complemento, bairro\nAna;a@x.com;Rua A, 1, apto 2, Centro\n"))
	if err != nil || f.Separator != ';' || f.Rows[0].Email != "a@x.com" {
		t.Fatalf("%+v, %v", f, err)
	}
	// A quote opened on row 3 and never closed is reported on row 3,
	// not at the end of the file.
	_, err = Parse([]byte("nome,email\nA,a@x.com\n\"B,b@x.com\nC,c@x.com\nD,d@x.com\n"))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Code != FileBadCSV || fe.Line != 3 {
		t.Fatalf("unclosed quote: %v, want %s at line 3", err, FileBadCSV)
	}
	// A quote inside an unquoted cell spoils that row only.
	f, err = Parse([]byte("nome,email\nAna \"Tuca\" Souza,a@x.com\nBia,b@x.com\n"))
	if err != nil || len(f.Rows) != 2 || f.Rows[0].Problem != RowMalformed || f.Rows[0].Line != 2 || f.Rows[1].Email != "b@x.com" {
		t.Fatalf("bare quote: %+v, %v", f, err)
	}
	// A CPF or CNPJ stored as a number lost its leading zeros: they are
	// put back when that makes a valid document; scientific notation is a
	// problem of its own.
	f, err = Parse([]byte("nome;email;cpf\nA;a@x.com;1234567890\nB;b@x.com;456789103\nC;c@x.com;1,23457E+13\nD;d@x.com;123\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows[0].Document != "01234567890" || f.Rows[1].Document != "00456789103" || f.Rows[2].Problem != RowScientific ||
		f.Rows[2].Field != ColDocument || f.Rows[3].Document != "123" || f.Rows[3].Problem != "" {
		t.Errorf("documents = %+v", f.Rows)
	}
	// A typo in an 11-digit CPF is never padded into a valid CNPJ.
	f, _ = Parse([]byte("nome;email;cpf\nA;a@x.com;52398224725\n"))
	if f.Rows[0].Document != "52398224725" {
		t.Errorf("an invalid CPF became %q", f.Rows[0].Document)
	}
	// A role that is not a customer's names the value found.
	f, _ = Parse([]byte("nome,email,perfil\nA,a@x.com,Gestor\n"))
	if r := f.Rows[0]; r.Problem != RowBadRole || r.Field != ColRole || r.Value != "Gestor" {
		t.Errorf("bad role: %+v", r)
	}
	// Thousands of unknown columns: the first MaxIgnored are listed.
	f, _ = Parse([]byte("nome,email" + strings.Repeat(",x", 5000) + "\nA,a@x.com\n"))
	if len(f.Ignored) != MaxIgnored {
		t.Errorf("%d ignored columns listed", len(f.Ignored))
	}
}

func TestParseEncodingsAndSeparators(t *testing.T) {
	// Windows-1252, as Excel saves on Windows: "João" and "Síndico".
	latin := []byte("nome,email,perfil\nJo\xe3o,joao@x.com,S\xedndico\n")
	f, err := Parse(latin)
	if err != nil || f.Rows[0].Name != "João" || !slices.Equal(f.Rows[0].Roles, []string{RoleSindico}) {
		t.Fatalf("windows-1252: %+v, %v", f, err)
	}
	// Windows-1252 whose accented capital meets a curly quote or a
	// no-break space: valid UTF-8 by accident, read as Windows-1252.
	for raw, want := range map[string]string{
		"nome;email\nJOS\xc9\xa0DA SILVA;j@x.com\n":         "JOSÉ\u00a0DA SILVA",
		"nome;email\nJO\xc3O \x93Z\xc9\x94 SILVA;j@x.com\n": "JOÃO “ZÉ” SILVA",
	} {
		f, err := Parse([]byte(raw))
		if err != nil || f.Rows[0].Name != want {
			t.Errorf("%q: %+v, %v; want %q", raw, f, err, want)
		}
	}
	// Excel's "Unicode Text": UTF-16 with a byte order mark, tabs.
	u16 := []byte{0xff, 0xfe}
	for _, r := range "nome\temail\nJoão\tj@x.com\n" {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	if f, err := Parse(u16); err != nil || f.Rows[0].Name != "João" {
		t.Errorf("utf-16: %+v, %v", f, err)
	}
	tab, err := Parse([]byte("email\tname\nx@y.com\tX\n"))
	if err != nil || tab.Separator != '\t' || tab.Rows[0].Name != "X" {
		t.Fatalf("tab: %+v, %v", tab, err)
	}
	// A comma inside a quoted header cell does not make it the separator.
	q, err := Parse([]byte("\"nome, completo\";email\nA;a@b.com\n"))
	if err != nil || q.Separator != ';' || q.Rows[0].Name != "A" || q.Rows[0].Email != "a@b.com" {
		t.Fatalf("quoted header: %+v, %v", q, err)
	}
}

func TestParseRefusals(t *testing.T) {
	many := "email,nome\n" + strings.Repeat("a@b.com,A\n", MaxRows+1)
	for _, tc := range []struct {
		name, data, code, column string
	}{
		{"empty", "", FileEmpty, ""},
		{"blank lines only", "\n\n ; ;\n", FileEmpty, ""},
		{"mixed encodings", "nome;email\nJo\xc3\xa3o;a@b.com\nJos\xe9;c@d.com\n", FileMixed, ""},
		{"bom and latin-1", "\xef\xbb\xbfnome;email\nJos\xe9;c@d.com\n", FileMixed, ""},
		{"undefined windows-1252 byte", "nome;email\nJos\x81;c@d.com\n", FileMixed, ""},
		{"binary", "PK\x03\x04\x00\x00", FileNotText, ""},
		{"no email", "nome;perfil\nA;cliente\n", FileMissingColumn, ColEmail},
		{"no name", "email\na@b.com\n", FileMissingColumn, ColName},
		{"twice", "email,e-mail,nome\n", FileDuplicate, ColEmail},
		{"open quote", "email,nome\n\"a@b.com,A\n", FileBadCSV, ""},
		{"header only", "email,nome\n\n", FileNoRows, ""},
		{"too many", many, FileTooManyRows, ""},
		{"too large", strings.Repeat("x", MaxBytes+1), FileTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data))
			var fe *FileError
			if !errors.As(err, &fe) || fe.Code != tc.code || fe.Column != tc.column {
				t.Fatalf("err %v, want %s %s", err, tc.code, tc.column)
			}

		})
	}
	// A field over the limit is the row's problem, and is cut.
	f, err := Parse([]byte("email,nome\na@b.com," + strings.Repeat("é", MaxField+5) + "\n"))
	if err != nil || f.Rows[0].Problem != RowTooLong || utf8.RuneCountInString(f.Rows[0].Name) != MaxField {
		t.Fatalf("%+v, %v", f, err)
	}
}

// FuzzParse: any bytes are parsed or refused with a FileError, never a
// panic, and what is accepted holds to the limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"email;nome\na@b.com;A\n", "Nome,E-mail,Perfil\n\"x\"\"y\",a@b,ambos\n", "email\tnome\n\t\n",
		"email,nome\n\"open", "\xef\xbb\xbfemail,nome\nJo\xe3o,x\n", "nome\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FileError", err)
			}
			return
		}
		if len(file.Rows) == 0 || len(file.Rows) > MaxRows {
			t.Fatalf("%d rows accepted", len(file.Rows))
		}
		last := 0
		physical := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		for _, r := range file.Rows {
			if r.Line <= last || r.Line > physical {
				t.Fatalf("line %d after %d, in %d physical lines", r.Line, last, physical)
			}
			last = r.Line
			for _, s := range []string{r.Email, r.Name, r.Document, r.Phone} {
				if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxField {
					t.Fatalf("field %q accepted", s)
				}
			}
			if r.Problem == "" && len(r.Roles) == 0 {
				t.Fatalf("row without roles or problem: %+v", r)
			}
		}
	})
}
