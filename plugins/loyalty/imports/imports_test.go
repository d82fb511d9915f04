package imports

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	imail "github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testsmtp"
	"github.com/portico-dev/portico/plugins/loyalty/imports/csvfile"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// mixed has good and bad rows against four customers who exist before
// it; every way a row can go.
const mixed = `nome,sobrenome,email,documento,pontos,loja
Ana,Souza,ana@exemplo.com.br,111.444.777-35,100,Centro
Carla,,CARLA@exemplo.com.br,,50,
Davi,Novo,davi.novo@exemplo.com.br,123.456.789-09,30,
Bruno,,bruno@exemplo,,10,
Eva,,eva@exemplo.com.br,98765432100,10,
Carla,,carla@exemplo.com.br,39053344705,10,
Gil,,gil@exemplo.com.br,,,
Ana,Souza,ana@exemplo.com.br,,25,
Hugo,,hugo@exemplo.com.br,,abc,
Ivo,,ivo@exemplo.com.br,000.000.191-00,1,
`

var mixedReport = [][]string{
	{"2", "ok", "cliente criado (ana@exemplo.com.br); 100 pontos"},
	{"3", "ok", "cliente já cadastrado (carla@exemplo.com.br); 50 pontos"},
	{"4", "ok", "cliente já cadastrado com este documento e o e-mail davi.antigo@exemplo.com.br; 30 pontos"},
	{"5", "error", `e-mail inválido: "bruno@exemplo"`},
	{"6", "error", "o e-mail eva@exemplo.com.br e o documento pertencem a clientes diferentes; nada foi alterado"},
	{"7", "error", "o cliente com o e-mail carla@exemplo.com.br tem outro documento cadastrado; nada foi alterado"},
	{"8", "ok", "cliente criado (gil@exemplo.com.br); sem pontos"},
	{"9", "ok", "cliente já cadastrado (ana@exemplo.com.br); 25 pontos"},
	{"10", "error", `pontos devem ser um número inteiro positivo: "abc"`},
	{"11", "ok", "cliente criado (ivo@exemplo.com.br); 1 ponto"},
}

func seedCustomers(t *testing.T, st *store.Store) {
	t.Helper()
	for _, c := range []*store.Customer{
		{Name: "Carla Cliente", Email: "carla@exemplo.com.br", Document: "52998224725"},
		{Name: "Davi", Email: "davi.antigo@exemplo.com.br", Document: "12345678909"},
		{Name: "Eva", Email: "eva@exemplo.com.br"},
		{Name: "Fábio", Email: "fabio@exemplo.com.br", Document: "98765432100"},
	} {
		testdb.Must(t, st.CreateCustomer(context.Background(), c), "create %s", c.Email)
	}
}

// TestGoodAndBadRows: good rows are applied (customers created or found
// by e-mail, else by document), bad ones reported by line with the
// reason, the report is exact, every balance equals its ledger, and the
// ledger entries carry the reason, the actor, the source key and the
// programme's expiry.
func TestGoodAndBadRows(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seedCustomers(t, st)
		testdb.Must(t, st.SaveSettings(ctx, points.Settings{CentsPerPoint: 1000, Rounding: points.RoundDown, ExpiryDays: 30}, "test"), "settings")
		s := newService(t, st, Options{})
		imp := run(t, s, "clientes.csv", []byte(mixed))
		if imp.Total != 10 || imp.Done != 10 || imp.Applied != 6 || imp.Failed != 4 || imp.Skipped != 0 || imp.FinishedAt == nil {
			t.Fatalf("counts: %+v", imp)
		}
		if want := "10 linhas: 6 aplicadas (3 clientes novos, 206 pontos), 4 com erro, 0 ignoradas (pontos já lançados antes)."; imp.Message != want {
			t.Errorf("message %q, want %q", imp.Message, want)
		}
		if got := report(t, s, imp.ID); !reflect.DeepEqual(got, mixedReport) {
			t.Errorf("report:\n got %q\nwant %q", got, mixedReport)
		}
		for email, want := range map[string]int64{"ana@exemplo.com.br": 125, "carla@exemplo.com.br": 50, "davi.antigo@exemplo.com.br": 30,
			"eva@exemplo.com.br": 0, "fabio@exemplo.com.br": 0, "gil@exemplo.com.br": 0, "ivo@exemplo.com.br": 1, "davi.novo@exemplo.com.br": -1,
			"bruno@exemplo": -1, "hugo@exemplo.com.br": -1} {
			if got := balanceOf(t, st, email); got != want {
				t.Errorf("%s: balance %d, want %d", email, got, want)
			}
		}
		if n := count(t, st, "customers"); n != 7 {
			t.Errorf("%d customers, want 4 + 3 created", n)
		}
		ana, err := st.CustomerBy(ctx, "email", "ana@exemplo.com.br")
		testdb.Must(t, err, "ana")
		if ana.Name != "Ana Souza" || ana.Document != "11144477735" || ana.Subject != nil || !strings.HasPrefix(ana.Code, "PT-") {
			t.Errorf("created customer %+v", ana)
		}
		hist, err := st.History(ctx, ana.ID, "", 10)
		testdb.Must(t, err, "history")
		if len(hist) != 2 {
			t.Fatalf("ana's history: %+v", hist)
		}
		var digest string
		for _, e := range hist {
			if e.Kind != store.KindEarn || e.Reason != "importação clientes.csv" || e.Actor != "import:gestora@exemplo.com.br" || e.SourceKey == nil || e.ExpiresAt == nil {
				t.Fatalf("entry %+v", e)
			}
			if d := time.Until(*e.ExpiresAt) - 30*24*time.Hour; d > time.Minute || d < -time.Minute {
				t.Errorf("expires at %s, want in 30 days", e.ExpiresAt)
			}
			parts := strings.Split(*e.SourceKey, ":")
			if len(parts) != 3 || parts[0] != "import" || len(parts[1]) != 64 {
				t.Fatalf("source key %q", *e.SourceKey)
			}
			digest = parts[1]
		}
		// Rows 1 and 8 are Ana's: the ordinals are in the keys.
		keys := []string{*hist[0].SourceKey, *hist[1].SourceKey}
		if !(keys[0] == SourceKey(digest, 8) && keys[1] == SourceKey(digest, 1) || keys[0] == SourceKey(digest, 1) && keys[1] == SourceKey(digest, 8)) {
			t.Errorf("source keys %q", keys)
		}
		checkAllBalances(t, st)
		if n := count(t, st, "import_files"); n != 0 {
			t.Errorf("the stored file was kept: %d chunks", n)
		}
		list, err := s.List(ctx, 10)
		testdb.Must(t, err, "list")
		if len(list) != 1 || list[0].ID != imp.ID || list[0].Uploader != gestor || list[0].FileName != "clientes.csv" {
			t.Errorf("list: %+v", list)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get unknown: %v", err)
		}
		if err := s.WriteReport(ctx, "nope", io.Discard); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("report of unknown: %v", err)
		}
	})
}

// campaign is three customers and their points.
const campaign = "nome;sobrenome;email;documento;pontos\n" +
	"José;da Conceição;jose@exemplo.com.br;529.982.247-25;100\n" +
	"Ana;Souza;ana@exemplo.com.br;;1.500\n" +
	"Bia;;bia@exemplo.com.br;11.222.333/0001-81;7\n"

// TestDuplicates: the same bytes again are refused and change nothing;
// the same rows in other bytes (Latin-1, ',', CRLF, es headers in another
// order, an extra column) are processed but every row is skipped; a
// different file giving the same customers the same points counts.
func TestDuplicates(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, Options{})
		first := run(t, s, "campanha.csv", []byte(campaign))
		if first.Applied != 3 {
			t.Fatalf("first: %+v", first)
		}
		balances := func() [3]int64 {
			return [3]int64{balanceOf(t, st, "jose@exemplo.com.br"), balanceOf(t, st, "ana@exemplo.com.br"), balanceOf(t, st, "bia@exemplo.com.br")}
		}
		if b := balances(); b != [3]int64{100, 1500, 7} {
			t.Fatalf("balances after the first file: %v", b)
		}

		// The same bytes, under another name.
		_, err := s.Start(ctx, strings.NewReader(campaign), "campanha (1).csv", gestor)
		var again *AlreadyImportedError
		if !errors.As(err, &again) || again.Import.ID != first.ID || again.Import.Status != StatusDone {
			t.Fatalf("the same file again: %v", err)
		}
		if n := count(t, st, "imports"); n != 1 {
			t.Fatalf("%d imports after a refused duplicate", n)
		}

		// The same rows, other bytes.
		other := latin1(t, lines("Email,Puntos,Nombres,Apellidos,Documento de identidad,Observación\n"+
			"JOSE@exemplo.com.br,100,José,da Conceição,52998224725,x\n"+
			"ana@exemplo.com.br,1500,Ana,Souza,,\n"+
			"bia@exemplo.com.br,\"7\",\"Bia\",,11222333000181,\n"))
		second := run(t, s, "campana.csv", other)
		if second.SHA256 == first.SHA256 || second.Applied != 0 || second.Skipped != 3 {
			t.Fatalf("the same rows in other bytes: %+v", second)
		}
		for _, rec := range report(t, s, second.ID) {
			if rec[1] != "skipped" || !strings.Contains(rec[2], "(importação "+first.ID+")") {
				t.Errorf("report of the same rows: %q", rec)
			}
		}
		if b := balances(); b != [3]int64{100, 1500, 7} {
			t.Fatalf("the same rows were counted again: %v", b)
		}

		// Another campaign: the same three rows and one more.
		next := run(t, s, "campanha-2.csv", []byte(campaign+"Caio;;caio@exemplo.com.br;;5\n"))
		if next.Applied != 4 || next.Skipped != 0 {
			t.Fatalf("another campaign: %+v", next)
		}
		if b := balances(); b != [3]int64{200, 3000, 14} {
			t.Fatalf("another campaign did not count: %v", b)
		}

		// A failed import's bytes may be sent again; what it had applied
		// is skipped.
		testdb.Must(t, st.DB().Table("imports").Where("id = ?", first.ID).Update("status", StatusFailed).Error, "fail the first import")
		retry := run(t, s, "campanha.csv", []byte(campaign))
		if retry.SHA256 != first.SHA256 || retry.Skipped != 3 || retry.Applied != 0 {
			t.Fatalf("the failed file sent again: %+v", retry)
		}
		if b := balances(); b != [3]int64{200, 3000, 14} {
			t.Fatalf("the failed file sent again counted: %v", b)
		}
		checkAllBalances(t, st)
	})
}

// TestRefusedBeforeAnyChange: a file refused up front stores nothing and
// changes nothing.
func TestRefusedBeforeAnyChange(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, Options{})
		for _, tc := range []struct {
			name   string
			r      io.Reader
			code   string
			column string
		}{
			{"sem-email.csv", strings.NewReader("nome;documento;pontos\nAna;52998224725;10\n"), csvfile.CodeMissingColumn, "email"},
			{"sem-nome.csv", strings.NewReader("email,pontos\nana@exemplo.com.br,10\n"), csvfile.CodeMissingColumn, "nome"},
			{"foto.png", bytes.NewReader([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")), csvfile.CodeBinary, ""},
			{"planilha.xlsx", strings.NewReader("PK\x03\x04\x14\x00\x06\x00"), csvfile.CodeSpreadsheet, ""},
			{"vazio.csv", strings.NewReader(""), csvfile.CodeEmpty, ""},
			{"cabecalho.csv", strings.NewReader("nome,email,pontos\r\n"), csvfile.CodeNoRows, ""},
			{"grande.csv", io.MultiReader(strings.NewReader("nome,email\n"), io.LimitReader(zeros{}, MaxFileSize)), csvfile.CodeTooLarge, ""},
		} {
			_, err := s.Start(ctx, tc.r, tc.name, gestor)
			var fe *csvfile.FileError
			if !errors.As(err, &fe) || fe.Code != tc.code || fe.Column != tc.column {
				t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.column)
			}
		}
		for _, table := range []string{"imports", "import_files", "import_lines", "customers", "ledger"} {
			if n := count(t, st, table); n != 0 {
				t.Errorf("%d rows in %s after refusals", n, table)
			}
		}
		// A failing upload is its own error, wrapped.
		boom := errors.New("connection reset")
		if _, err := s.Start(ctx, io.MultiReader(strings.NewReader("nome,email\n"), iotestErr{boom}), "x.csv", gestor); !errors.Is(err, boom) {
			t.Errorf("a failing upload: %v", err)
		}
		if _, err := s.Start(ctx, strings.NewReader(campaign), "x.csv", Uploader{Name: "x"}); err == nil {
			t.Errorf("an uploader without an e-mail was accepted")
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// bigFile returns n generated rows.
func bigFile(t testing.TB, n int) []byte {
	t.Helper()
	b, err := io.ReadAll(newGenerated(n))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProgressAndResume: progress shows while the import runs; an import
// interrupted by a shutdown stays "running" and the next service resumes
// it after its last committed batch — no line processed twice, no point
// counted twice.
func TestProgressAndResume(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const rows = 3*BatchSize + 100
		first := New(Options{Store: st, Log: testdb.Logger(t)})
		reached, release := make(chan int, 1), make(chan struct{})
		first.afterBatch = func(id string, done int) {
			if done == 2*BatchSize {
				reached <- done
				select {
				case <-release:
				case <-first.ctx.Done():
				}
			}
		}
		imp, err := first.Start(ctx, bytes.NewReader(bigFile(t, rows)), "grande.csv", gestor)
		testdb.Must(t, err, "start")
		if imp.Total != rows || imp.Status != StatusQueued {
			t.Fatalf("started: %+v", imp)
		}
		select {
		case <-reached:
		case <-time.After(time.Minute):
			t.Fatalf("the import never reached its second batch")
		}
		mid, err := first.Get(ctx, imp.ID)
		testdb.Must(t, err, "get")
		if mid.Status != StatusRunning || mid.Done != 2*BatchSize || mid.Total != rows || mid.Applied != 2*BatchSize {
			t.Fatalf("mid-run: %+v", mid)
		}
		// A shutdown that does not wait: the import stops after its batch.
		expired, cancel := context.WithCancel(ctx)
		cancel()
		testdb.Must(t, first.Close(expired), "close")
		if _, err := first.Start(ctx, strings.NewReader(campaign), "x.csv", gestor); !errors.Is(err, ErrClosed) {
			t.Errorf("start after close: %v", err)
		}
		stopped, err := first.Get(ctx, imp.ID)
		testdb.Must(t, err, "get")
		if stopped.Status != StatusRunning || stopped.Done != 2*BatchSize {
			t.Fatalf("after the shutdown: %+v", stopped)
		}

		second := newService(t, st, Options{})
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		done, err := second.Wait(wctx, imp.ID)
		testdb.Must(t, err, "wait")
		if done.Status != StatusDone || done.Done != rows || done.Applied != rows || done.Failed != 0 || done.Skipped != 0 {
			t.Fatalf("resumed: %+v", done)
		}
		rep := report(t, second, imp.ID)
		if len(rep) != rows {
			t.Fatalf("%d report lines, want %d", len(rep), rows)
		}
		for i, rec := range rep {
			if rec[0] != strconv.Itoa(i+2) || rec[1] != "ok" {
				t.Fatalf("report line %d: %q", i, rec)
			}
		}
		if n := count(t, st, "ledger"); n != rows {
			t.Fatalf("%d ledger entries for %d rows", n, rows)
		}
		if n := count(t, st, "customers"); n != rows {
			t.Fatalf("%d customers for %d rows", n, rows)
		}
		checkAllBalances(t, st)
	})
}

// TestTwoProcessesOneImport: two services (as two app processes) running
// the same import at once apply each batch once.
func TestTwoProcessesOneImport(t *testing.T) {
	forEachDriver(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const rows = 4 * BatchSize
		a := newService(t, st, Options{})
		gate := make(chan struct{})
		var once sync.Once
		a.afterBatch = func(string, int) { once.Do(func() { <-gate }) }
		imp, err := a.Start(ctx, bytes.NewReader(bigFile(t, rows)), "dois.csv", gestor)
		testdb.Must(t, err, "start")
		b := newService(t, st, Options{}) // resumes the running import
		time.Sleep(50 * time.Millisecond)
		close(gate)
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		done, err := b.Wait(wctx, imp.ID)
		testdb.Must(t, err, "wait")
		if _, err := a.Wait(wctx, imp.ID); err != nil {
			t.Fatal(err)
		}
		if done.Status != StatusDone || done.Done != rows || done.Applied != rows {
			t.Fatalf("import: %+v", done)
		}
		if n := count(t, st, "ledger"); n != rows {
			t.Fatalf("%d ledger entries for %d rows", n, rows)
		}
		if n := count(t, st, "import_lines"); n != rows {
			t.Fatalf("%d report lines for %d rows", n, rows)
		}
		checkAllBalances(t, st)
	})
}

// TestMail: the uploader gets a pt-BR mail with the counts and where the
// report is, through a real SMTP server.
func TestMail(t *testing.T) {
	smtp := testsmtp.Start(t)
	host, port, _ := net.SplitHostPort(smtp.Addr)
	n, _ := strconv.Atoi(port)
	st := openStore(t, "sqlite")
	s := newService(t, st, Options{Mailer: imail.New(imail.Config{Host: host, Port: n, From: "pontos@exemplo.com.br", TLS: imail.TLSNone})})
	seedCustomers(t, st)
	imp := run(t, s, "clientes.csv", []byte(mixed))
	m := smtp.Next(t, 15*time.Second)
	if m.From != "pontos@exemplo.com.br" || len(m.To) != 1 || m.To[0] != gestor.Email {
		t.Fatalf("envelope %q → %q", m.From, m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	testdb.Must(t, err, "parse the mail")
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	testdb.Must(t, err, "subject")
	if subject != "Importação de pontos concluída: clientes.csv" {
		t.Errorf("subject %q", subject)
	}
	var body []byte
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body, err = io.ReadAll(quotedprintable.NewReader(msg.Body))
	} else {
		body, err = io.ReadAll(msg.Body)
	}
	testdb.Must(t, err, "body")
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	for _, want := range []string{"Olá, Gestora Teste.", `A importação do arquivo "clientes.csv"`, "Linhas no arquivo: 10\n",
		"Aplicadas: 6\n", "Com erro (não aplicadas): 4\n", "Ignoradas (pontos já lançados por uma importação anterior das mesmas linhas): 0\n",
		`"Importar CSV"`, "Baixar o relatório por linha (CSV)", "Importação " + imp.ID} {
		if !strings.Contains(text, want) {
			t.Errorf("the mail lacks %q:\n%s", want, text)
		}
	}
	select {
	case extra := <-smtp.Mail:
		t.Errorf("a second mail: %+v", extra)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestMailText covers the failed import's mail.
func TestMailText(t *testing.T) {
	now := time.Date(2025, 3, 1, 15, 4, 0, 0, time.UTC)
	m := Mail(&Import{ID: "x", FileName: "a.csv", Uploader: Uploader{Email: "g@x.co"}, Status: StatusFailed, Total: 10, Done: 4,
		Applied: 3, Failed: 1, CreatedAt: now, FinishedAt: &now, Message: "a importação parou."})
	if m.To != "g@x.co" || m.Subject != "Importação de pontos interrompida: a.csv" ||
		!strings.Contains(m.Text, "parou em 01/03/2025 12:04: a importação parou.") || !strings.Contains(m.Text, "Linhas processadas: 4") {
		t.Errorf("mail %+v", m)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "-5": "'-5", "ok": "ok", "": "", "'=x": "'=x"} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
