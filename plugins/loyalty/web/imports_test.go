package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
)

// upload posts file as the import page's form would.
func (h *harness) upload(path, name string, file []byte) response {
	h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		testdb.Must(h.t, err, "form file")
		_, _ = fw.Write(file)
	}
	testdb.Must(h.t, mw.Close(), "multipart")
	req, err := http.NewRequest("POST", h.srv.URL+path, &body)
	testdb.Must(h.t, err, "request")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", h.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return h.do(req)
}

// TestImportPages: a gestor uploads a CSV; the import runs in the
// background while its page shows a progress bar (and the JSON the script
// polls); when done, the per-row report downloads as CSV; the same file
// again counts nothing; a refused file says why and changes nothing.
func TestImportPages(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		base := h.launch(gestor())
		mustContain(t, "import page", h.get(base+"/importacoes"), 200, "Importar pontos (CSV)", "Nenhuma importação ainda.", `enctype="multipart/form-data"`, "até 20 MB")

		csv := []byte("nome;email;documento;pontos\r\nCarla;carla@x.test;529.982.247-25;100\r\nSem email;;;10\r\nDaniel;daniel@x.test;;25\r\n")
		r := h.upload(base+"/importacoes", "clientes.csv", csv)
		loc := r.Header.Get("Location")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/importacoes/") {
			t.Fatalf("upload: %d %q %.500s", r.Status, loc, text(r.Body))
		}
		id := strings.TrimPrefix(loc, base+"/importacoes/")
		page := h.get(loc)
		mustContain(t, "import page", page, 200, "clientes.csv", "Arquivo recebido", `id="import-progress"`, `id="import-count"`)
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		imp, err := h.imp.Wait(wctx, id)
		testdb.Must(t, err, "wait for the import")
		if imp.Status != "done" || imp.Applied != 2 || imp.Failed != 1 {
			t.Fatalf("import %+v", imp)
		}
		var p struct {
			Status      string
			Total, Done int
			Running     bool
			Text        string
			Applied     int
			Failed      int
			Skipped     int
		}
		r = h.get(loc + "/progresso")
		testdb.Must(t, json.Unmarshal([]byte(r.Body), &p), "progress %s", r.Body)
		if p.Status != "done" || p.Running || p.Total != 3 || p.Done != 3 || p.Text != "3 de 3 linhas processadas." {
			t.Errorf("progress %+v", p)
		}
		page = h.get(loc)
		mustContain(t, "done", page, 200, "Concluída", "2 aplicadas, 1 com erro, 0 ignoradas", `id="import-report"`)
		if strings.Contains(page.Body, `data-running`) || strings.Contains(page.Body, `http-equiv="refresh"`) {
			t.Error("a finished import's page still refreshes")
		}
		rep := h.get(loc + "/relatorio.csv")
		if rep.Status != 200 || !strings.HasPrefix(rep.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(rep.Header.Get("Content-Disposition"), `attachment; filename=relatorio-clientes.csv`) {
			t.Fatalf("report: %d %v", rep.Status, rep.Header)
		}
		if lines := strings.Count(strings.TrimSpace(rep.Body), "\n") + 1; lines != 4 {
			t.Errorf("report has %d lines, want a header and 3 rows:\n%s", lines, rep.Body)
		}
		c, err := h.st.CustomerBy(ctx, "email", "carla@x.test")
		testdb.Must(t, err, "imported customer")
		if bal, _ := h.st.Balance(ctx, c.ID); bal != 100 {
			t.Errorf("balance %d after the import", bal)
		}
		// The staff see the import on the customer's history.
		mustContain(t, "history", h.get(base+"/clientes/"+c.ID), 200, "100 pontos")

		// The same file again: nothing counted, the first import shown.
		r = h.upload(base+"/importacoes", "de-novo.csv", csv)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != loc {
			t.Fatalf("the same file again: %d %q", r.Status, r.Header.Get("Location"))
		}
		mustContain(t, "already imported", h.get(loc), 200, "Este arquivo já foi importado")
		if bal, _ := h.st.Balance(ctx, c.ID); bal != 100 {
			t.Errorf("balance %d after the same file again", bal)
		}

		// Refused files.
		for _, tc := range []struct {
			name, file string
			body       []byte
			status     int
			want       string
		}{
			{"missing column", "x.csv", []byte("nome;pontos\nCarla;10\n"), 422, "falta a coluna obrigatória"},
			{"spreadsheet", "x.xlsx", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0}, 64)...), 422, "é uma planilha"},
			{"empty", "x.csv", nil, 422, "O arquivo foi recusado e nada foi alterado"},
			{"no file", "", nil, 422, "Escolha um arquivo CSV"},
		} {
			r := h.upload(base+"/importacoes", tc.file, tc.body)
			mustContain(t, tc.name, r, tc.status, tc.want, `role="alert"`)
		}
		list := h.get(base + "/importacoes")
		mustContain(t, "list", list, 200, "Importações anteriores", "clientes.csv", "Concluída")
		if n := len(regexp.MustCompile(`<tr>\s*<td`).FindAllString(list.Body, -1)); n != 1 {
			t.Errorf("%d imports listed, want 1", n)
		}
		mustContain(t, "unknown import", h.get(base+"/importacoes/nope"), http.StatusNotFound)

		// A gestor whose e-mail the portal does not share cannot import
		// (the report is mailed to the uploader).
		anon := gestor()
		anon.ID, anon.Email = "sub-anon", nil
		mustContain(t, "no e-mail", h.upload(h.launch(anon)+"/importacoes", "y.csv", csv), http.StatusUnprocessableEntity, "precisa informar o seu e-mail")
	})
}

// TestUploadTooLarge: a file over the limit is refused with the limit.
func TestUploadTooLarge(t *testing.T) {
	h := newHarness(t, "sqlite", options{maxUpload: 1 << 20})
	base := h.launch(gestor())
	big := append([]byte("nome,email,pontos\n"), bytes.Repeat([]byte("Carla,carla@x.test,1\n"), 60_000)...)
	r := h.upload(base+"/importacoes", "big.csv", big)
	mustContain(t, "too large", r, http.StatusRequestEntityTooLarge, "Arquivo grande demais: o limite é de 1 MB.")
}
