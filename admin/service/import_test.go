package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/userimport"
)

// importFile is a file of n people (cliente, síndico, ambos in turn) whose
// e-mails start with prefix.
func importFile(t testing.TB, prefix string, n int) *userimport.File {
	t.Helper()
	var b strings.Builder
	b.WriteString("nome;email;perfil\n")
	for i := range n {
		fmt.Fprintf(&b, "Pessoa %d;%s%d@exemplo.com.br;%s\n", i, prefix, i, []string{"cliente", "síndico", "ambos"}[i%3])
	}
	f, err := userimport.Parse([]byte(b.String()))
	testdb.Must(t, err, "parse")
	return f
}

// importService is a service over a fresh database of driver with one
// tenant.
func importService(t testing.TB, driver string) (*service.Service, *model.Tenant, func(string) (*model.User, error)) {
	t.Helper()
	ctx := context.Background()
	st := testdb.Open(t, driver)
	tn := &model.Tenant{Slug: "imp", Name: "Imp"}
	testdb.Must(t, tn.Validate(false), "tenant")
	testdb.Must(t, st.CreateTenantWith(ctx, tn, nil, nil, model.SystemActor("test")), "create tenant")
	return service.New(service.Deps{Store: st}), tn, func(email string) (*model.User, error) { return st.UserByEmail(ctx, tn.ID, email) }
}

// TestImportUsers runs a file through ImportUsers on both databases:
// everyone is created once, the same file again creates nobody, and two
// people of one file with one e-mail are one user.
func TestImportUsers(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			svc, tn, userByEmail := importService(t, driver)
			const n = 300
			f := importFile(t, "pessoa", n)
			// The first one's e-mail again, in capitals, and a row asking
			// for the gestor role (a file built by code, not by Parse).
			f.Rows = append(f.Rows,
				userimport.Row{Line: n + 2, Email: "PESSOA0@exemplo.com.br", Name: "Outra", Roles: []string{userimport.RoleCliente}},
				userimport.Row{Line: n + 3, Email: "chefe@exemplo.com.br", Name: "Chefe", Roles: []string{"gestor"}})
			rep, err := svc.ImportUsers(ctx, tn.ID, model.SystemActor("test"), f)
			testdb.Must(t, err, "import")
			if rep.Created != n || rep.Exists != 1 || rep.Failed != 1 || len(rep.Rows) != n+2 {
				t.Fatalf("report: created %d, exists %d, failed %d", rep.Created, rep.Exists, rep.Failed)
			}
			if r := rep.Rows[n]; r.Note != service.NoteRepeated || r.SameAs != 2 {
				t.Errorf("the repeated e-mail: %+v", r)
			}
			if r := rep.Rows[n+1]; r.Status != service.ImportFailed || len(r.Problems) != 1 || r.Problems[0].Code != "import_bad_role" {
				t.Errorf("the gestor row: %+v", r)
			}
			if _, err := userByEmail("chefe@exemplo.com.br"); err == nil {
				t.Error("an import created a gestor")
			}
			u, err := userByEmail("pessoa2@exemplo.com.br")
			testdb.Must(t, err, "load a user")
			if !u.Roles.Has(model.RoleCliente) || !u.Roles.Has(model.RoleSindico) || u.PasswordHash != "" || !u.Active {
				t.Errorf("pessoa2 = %+v, want an active cliente and síndico without a password", u)
			}
			// A database that fails (here: the request is gone) stops the
			// import at that row, with the report of the rows before it.
			gone, cancel := context.WithCancel(ctx)
			cancel()
			stopped, err := svc.ImportUsers(gone, tn.ID, model.SystemActor("test"), importFile(t, "parada", 3))
			if err == nil || stopped == nil || stopped.StoppedAt != 2 || len(stopped.Rows) != 0 {
				t.Errorf("a failing database: %+v, %v; want the import stopped at line 2", stopped, err)
			}
			again, err := svc.ImportUsers(ctx, tn.ID, model.SystemActor("test"), f)
			testdb.Must(t, err, "import again")
			if again.Created != 0 || again.Exists != n+1 || again.Failed != 1 {
				t.Errorf("the same file again: created %d, exists %d", again.Created, again.Exists)
			}
		})
	}
}

// BenchmarkImportUsers imports files of userimport.MaxRows new people:
// ms/user is what one row costs, and ms/file must stay well within the
// server's 30 s write timeout (docs/benchmarks.md, "User import").
func BenchmarkImportUsers(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			svc, tn, _ := importService(b, driver)
			files := 0
			var took time.Duration
			for b.Loop() {
				f := importFile(b, fmt.Sprintf("b%d-", files), userimport.MaxRows)
				start := time.Now()
				if _, err := svc.ImportUsers(context.Background(), tn.ID, model.SystemActor("bench"), f); err != nil {
					b.Fatal(err)
				}
				took += time.Since(start)
				files++
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(files), "ms/file")
			b.ReportMetric(float64(took.Microseconds())/1000/float64(files*userimport.MaxRows), "ms/user")
		})
	}
}
