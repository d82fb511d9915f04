package imports

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

var gestor = Uploader{Name: "Gestora Teste", Email: "gestora@exemplo.com.br"}

func openStore(t testing.TB, driver string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), testdb.URL(t, driver), store.Options{Logger: testdb.Logger(t)})
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newService returns a service that is closed when the test ends.
func newService(t testing.TB, st *store.Store, o Options) *Service {
	t.Helper()
	o.Store = st
	if o.Log == nil {
		o.Log = testdb.Logger(t)
	}
	s := New(o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func forEachDriver(t *testing.T, f func(t *testing.T, st *store.Store)) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, openStore(t, d))
		})
	}
}

// run starts data and waits for the import to end.
func run(t testing.TB, s *Service, name string, data []byte) *Import {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	imp, err := s.Start(ctx, bytes.NewReader(data), name, gestor)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	if imp.Status != StatusQueued || imp.Total == 0 {
		t.Fatalf("started import: %+v", imp)
	}
	done, err := s.Wait(ctx, imp.ID)
	if err != nil {
		t.Fatalf("wait %s: %v", name, err)
	}
	if done.Status != StatusDone {
		t.Fatalf("import %s ended %s: %s", name, done.Status, done.Message)
	}
	return done
}

// report reads an import's report back, checking its form.
func report(t testing.TB, s *Service, id string) [][]string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteReport(context.Background(), id, &b); err != nil {
		t.Fatalf("report: %v", err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\ufeffline;status;message\r\n")) {
		t.Fatalf("report starts %q", b.Bytes()[:min(40, b.Len())])
	}
	r := csv.NewReader(bytes.NewReader(b.Bytes()[3:]))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, b.String())
	}
	return recs[1:]
}

// balanceOf returns the balance of the customer with email, checking it
// equals the ledger's sum.
func balanceOf(t testing.TB, st *store.Store, email string) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := st.CustomerBy(ctx, "email", email)
	if errors.Is(err, store.ErrNotFound) {
		return -1
	}
	testdb.Must(t, err, "customer %s", email)
	bal, err := st.Balance(ctx, c.ID)
	testdb.Must(t, err, "balance")
	sum, err := st.LedgerSum(ctx, c.ID)
	testdb.Must(t, err, "ledger sum")
	if bal != sum {
		t.Fatalf("%s: balance %d, ledger sum %d", email, bal, sum)
	}
	return bal
}

// count returns the rows of table.
func count(t testing.TB, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	testdb.Must(t, st.DB().Table(table).Count(&n).Error, "count %s", table)
	return n
}

// checkAllBalances checks every balance against its ledger.
func checkAllBalances(t testing.TB, st *store.Store) {
	t.Helper()
	var bad int64
	err := st.DB().Raw(`SELECT COUNT(*) FROM balances b WHERE b.points <> (SELECT COALESCE(SUM(l.points), 0) FROM ledger l WHERE l.customer_id = b.customer_id)`).Scan(&bad).Error
	testdb.Must(t, err, "check balances")
	if bad != 0 {
		t.Fatalf("%d balances differ from their ledger", bad)
	}
}

// latin1 encodes s as Windows-1252.
func latin1(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("latin1: %v", err)
	}
	return b
}

// cpf returns a valid CPF made from n.
func cpf(n int) string {
	d := []byte(fmt.Sprintf("%09d", n%1_000_000_000))
	for _, size := range []int{9, 10} {
		sum := 0
		for i := 0; i < size; i++ {
			sum += int(d[i]-'0') * (size + 1 - i)
		}
		r := sum * 10 % 11
		if r == 10 {
			r = 0
		}
		d = append(d, byte('0'+r))
	}
	return string(d)
}

// generated is a reader of a file of n rows, made as it is read.
type generated struct {
	n, i int
	buf  bytes.Buffer
}

func newGenerated(n int) *generated {
	g := &generated{n: n}
	g.buf.WriteString("\ufeffNome;Sobrenome;Email;Documento;Pontos;Loja\r\n")
	return g
}

func (g *generated) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i < g.n {
		g.i++
		fmt.Fprintf(&g.buf, "Cliente %d;da Silva Conceição;cliente%d@exemplo.com.br;%s;%d;Loja %d\r\n",
			g.i, g.i, cpf(100_000_000+g.i), 1+g.i%500, g.i%7)
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

func lines(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
