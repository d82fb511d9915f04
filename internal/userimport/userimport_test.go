package userimport

import (
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

func TestParseEncodingsAndSeparators(t *testing.T) {
	// Windows-1252, as Excel saves on Windows: "João" and "Síndico".
	latin := []byte("nome,email,perfil\nJo\xe3o,joao@x.com,S\xedndico\n")
	f, err := Parse(latin)
	if err != nil || f.Rows[0].Name != "João" || !slices.Equal(f.Rows[0].Roles, []string{RoleSindico}) {
		t.Fatalf("windows-1252: %+v, %v", f, err)
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
		{"blank header", "\n\nemail,nome\n", FileEmpty, ""},
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
			if fe.Error() == "" {
				t.Error("empty message")
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
		for _, r := range file.Rows {
			if r.Line <= last {
				t.Fatalf("line %d after %d", r.Line, last)
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
