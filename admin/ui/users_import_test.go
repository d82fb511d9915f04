package ui_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-dev/portico/admin/admintest"
	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/demo"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
)

// upload posts data as the import form's file, with the session's CSRF
// token, in lang.
func (s *session) upload(path, lang string, data []byte) *servertest.Response {
	s.t.Helper()
	body, ct := admintest.MultipartFiles(s.t, map[string]string{"_csrf": s.csrf}, "file", "clientes-%d.csv", data)
	return s.c.Do("POST", path, body, "Content-Type", ct, "Accept-Language", lang)
}

// TestAdminUIImportUsers: a gestor uploads a spreadsheet saved as CSV; the
// new people become users with their roles, one already in the portal is
// left alone, rows the user form would refuse are reported in the gestor's
// words, and uploading the same file again creates nobody twice. A file
// without an e-mail column is refused next to the file field, creating
// nobody.
func TestAdminUIImportUsers(t *testing.T) {
	p := servertest.Start(t, "sqlite")
	ctx := context.Background()
	g := logIn(t, p, "gestor@demo.portico.test", demo.Password)
	if page := string(g.get("/admin/users", "pt-BR").Body); !strings.Contains(page, `href="/admin/users/import"`) {
		t.Error("the users page has no link to the import")
	}
	// Without outgoing mail, the page says how imported people get a
	// password (a reset link from their page), not "Esqueci minha senha".
	if page := string(g.get("/admin/users/import", "pt-BR").Body); !strings.Contains(page, `data-testid="import-no-mail"`) || strings.Contains(page, "Esqueci minha senha") {
		t.Error("the import page sends people to a password reset this portal cannot mail")
	}
	tpl := g.get("/admin/users/import/template.csv", "pt-BR")
	if tpl.Status != http.StatusOK || !strings.Contains(tpl.Header.Get("Content-Disposition"), "attachment") ||
		!strings.HasPrefix(string(tpl.Body), "\ufeffnome;email;perfil;documento;telefone\r\n") {
		t.Errorf("template: %d %q %q", tpl.Status, tpl.Header.Get("Content-Disposition"), tpl.Body)
	}

	file := []byte("Nome;E-mail;Perfil;CPF;Celular;Unidade\r\n" +
		"Joana Prado;joana@exemplo.com.br;;390.533.447-05;(11) 98888-7777;Apto 12\r\n" +
		"Rui Síndico;rui@exemplo.com.br;síndico;;;\r\n" +
		"Cliente Demo;cliente@demo.portico.test;cliente;;;\r\n" +
		"Sem Arroba;sem-arroba;cliente;;;\r\n" +
		"Chefe;chefe@exemplo.com.br;gestor;;;\r\n" +
		"CPF Errado;errado@exemplo.com.br;ambos;111.111.111-11;;\r\n" +
		"Arroba;@evil;;;;\r\n")
	r := g.upload("/admin/users/import", "pt-BR", file)
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %.500s", r.Status, r.Body)
	}
	body := string(r.Body)
	if !strings.Contains(body, "Criados: 2 · Já existiam: 1 · Não importados: 4") || !strings.Contains(body, "Colunas ignoradas: Unidade.") {
		t.Errorf("the summary is wrong:\n%s", regexp.MustCompile(`(?s)data-testid="import-report".*?</table>`).FindString(body))
	}
	for _, want := range []string{"sem-arroba", "E-mail: ", "Perfis: &#34;gestor&#34; não é um perfil do portal", "CPF ou CNPJ: "} {
		if !strings.Contains(body, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// The report can be kept as a CSV file, a cell that a spreadsheet
	// would run as a formula quoted.
	m := regexp.MustCompile(`href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="resultado-importacao.csv"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the report has no CSV download")
	}
	report, err := base64.StdEncoding.DecodeString(m[1])
	testdb.Must(t, err, "decode the report")
	if s := string(report); !strings.HasPrefix(s, "\ufeffLinha;E-mail;Resultado;Detalhes\r\n") ||
		!strings.Contains(s, "\r\n5;sem-arroba;Não importado;") || !strings.Contains(s, ";'@evil;") {
		t.Errorf("report CSV:\n%s", s)
	}
	// The rows that need the gestor come first.
	if strings.Index(body, "sem-arroba") > strings.Index(body, "joana@exemplo.com.br") {
		t.Error("a failed row is listed after a created one")
	}
	users := map[string]*model.User{}
	for _, email := range []string{"joana@exemplo.com.br", "rui@exemplo.com.br", "chefe@exemplo.com.br", "errado@exemplo.com.br"} {
		u, err := p.Store.UserByEmail(ctx, p.Demo.ID, email)
		if err == nil {
			users[email] = u
		}
	}
	if u := users["joana@exemplo.com.br"]; u == nil || !u.Active || u.Name != "Joana Prado" || u.Document != "39053344705" ||
		len(u.Roles) != 1 || u.Roles[0] != model.RoleCliente || u.PasswordHash != "" {
		t.Errorf("joana = %+v", u)
	}
	if u := users["rui@exemplo.com.br"]; u == nil || len(u.Roles) != 1 || u.Roles[0] != model.RoleSindico {
		t.Errorf("rui = %+v", u)
	}
	if users["chefe@exemplo.com.br"] != nil || users["errado@exemplo.com.br"] != nil {
		t.Error("a refused row was created")
	}

	// The same file again, Rui deactivated meanwhile and Joana twice:
	// nobody new, nobody reactivated, and the gestor is told both.
	rui := users["rui@exemplo.com.br"]
	_, err = p.Store.UpdateUser(ctx, p.Demo.ID, rui.ID, rui.Version, model.SystemActor("test"), func(u *model.User) error { u.Active = false; return nil })
	testdb.Must(t, err, "deactivate rui")
	again := string(g.upload("/admin/users/import", "pt-BR", append(file, []byte("Joana de novo;JOANA@exemplo.com.br;;;;\r\n")...)).Body)
	if !strings.Contains(again, "Criados: 0 · Já existiam: 4 · Não importados: 4") {
		t.Errorf("the second import created someone: %s", regexp.MustCompile(`data-testid="import-summary">[^<]*`).FindString(again))
	}
	if !strings.Contains(again, "O usuário está desativado e continua assim") || !strings.Contains(again, "O mesmo e-mail já está na linha 2 do arquivo.") {
		t.Error("the report does not say that Rui is deactivated or that Joana is twice in the file")
	}
	if u, _ := p.Store.UserByEmail(ctx, p.Demo.ID, "rui@exemplo.com.br"); u == nil || u.Active {
		t.Error("the import reactivated Rui")
	}

	// A file without an e-mail column, in Spanish: 422, next to the field.
	r = g.upload("/admin/users/import", "es", []byte("nombre;telefono\nAna;1\n"))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("no e-mail column: %d", r.Status)
	}
	if block := fieldBlock(t, string(r.Body), "f-file"); !strings.Contains(string(r.Body), `Falta la columna &#34;correo&#34;`) ||
		!strings.Contains(block, `aria-invalid="true"`) {
		t.Errorf("the refusal is not next to the file field:\n%s", block)
	}
	// A spreadsheet that was not saved as CSV.
	if r := g.upload("/admin/users/import", "pt-BR", []byte("PK\x03\x04\x14\x00\x00\x00")); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), "Salvar como › CSV") {
		t.Errorf("an .xlsx: %d", r.Status)
	}
	// Only gestores import.
	c := logIn(t, p, "cliente@demo.portico.test", demo.Password)
	if r := c.upload("/admin/users/import", "pt-BR", file); r.Status != http.StatusForbidden {
		t.Errorf("a cliente imported: %d", r.Status)
	}
	_, err = p.Store.UserByEmail(ctx, p.Demo.ID, "joana@exemplo.com.br")
	testdb.Must(t, err, "joana is still there")
}
