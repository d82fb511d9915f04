package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestAdminAPIImportUsers: the API's report names each row's outcome with
// codes a program can switch on and messages in the request's language,
// failed rows first; a refused file names the column as the reader's
// spreadsheets head it.
func TestAdminAPIImportUsers(t *testing.T) {
	f := start(t, "sqlite")
	csv := "name,email,role,document\n" +
		"Nova,nova@demo.portico.test,,\n" +
		"Velha,cliente@demo.portico.test,,\n" +
		"Ruim,nao-e-email,both,\n" +
		"Notação,notacao@demo.portico.test,,\"1,23457E+13\"\n"
	r := f.byKey.Do("POST", adminPrefix+"/users/import", csv, "Content-Type", "text/csv", "Accept-Language", "en")
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	var rep struct {
		Created, Exists, Failed int
		Rows                    []struct {
			Line     int
			Email    string
			Status   string
			Problems map[string]string
			Codes    map[string]string
		}
	}
	if err := json.Unmarshal(r.Body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Created != 1 || rep.Exists != 1 || rep.Failed != 2 || len(rep.Rows) != 4 {
		t.Fatalf("report = %s", r.Body)
	}
	if row := rep.Rows[0]; row.Line != 4 || row.Status != "failed" || row.Codes["email"] == "" || row.Problems["email"] == "" {
		t.Errorf("first row %+v, want line 4's e-mail problem first", row)
	}
	if row := rep.Rows[1]; row.Line != 5 || row.Codes["document"] != "import_scientific" {
		t.Errorf("second row %+v, want line 5's document in scientific notation", row)
	}
	r = f.byKey.Do("POST", adminPrefix+"/users/import", "nombre;telefono\nA;1\n", "Content-Type", "text/csv", "Accept-Language", "en")
	code, msg, _ := errorOf(t, r)
	if r.Status != http.StatusUnprocessableEntity || code != "csv_missing_column" || msg != `The file's header line has no "email" column; nobody was imported.` {
		t.Errorf("missing column: %d %s %q", r.Status, code, msg)
	}
}
