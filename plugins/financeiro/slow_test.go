package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/plugins/fakeerp/erp"
	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/sdktest"
)

// The tests of a slow ERP run under a call of 2 s (the host's default
// timeout, the shortest the plugin is written for) rather than sdktest's
// 10 s, so that the host's deadline, not the test's patience, is what
// cuts the ERP off.
const slowCall = 2 * time.Second

// pendingText is what the page says under a contract whose installments
// it could not load.
const pendingText = "Não foi possível carregar as parcelas deste contrato agora."

// investor is the demo cliente with n contracts: the demo's two and n-2
// more, each a copy of the apartment's installments (two of them overdue).
func investor(t *testing.T, n int) (*sdktest.Host, *erp.Server, *erp.Data) {
	t.Helper()
	h, _ := setup(t)
	h.Timeout = slowCall
	seed := erp.DemoSeed(testNow)
	for i := 2; i < n; i++ {
		id := 6000 + i
		seed.Bills = append(seed.Bills, erp.ReceivableBill{ID: id, CustomerID: 101, DocumentID: "CT", DocumentNumber: fmt.Sprintf("CT-2025/%04d", id),
			EnterpriseName: "Torre Empresarial", UnitName: fmt.Sprintf("Sala %d", id)})
		seed.Installments[id] = append([]erp.Installment(nil), seed.Installments[5001]...)
	}
	srv := erp.New(erp.Config{User: erp.DemoUser, Password: erp.DemoPassword, Now: func() time.Time { return testNow }, Seed: seed})
	h.ServeERP(erpOrigin, srv)
	return h, srv, seed
}

// shown counts the contracts a page lists with their installments (each
// has open ones, so a table) and those it lists without them.
func shown(r *sdktest.Result) (loaded, pending int) {
	for _, b := range r.View.Blocks {
		switch {
		case b.Type == abi.BlockTable:
			loaded++
		case b.Type == abi.BlockText && b.Text == pendingText:
			pending++
		}
	}
	return loaded, pending
}

// TestSlowERPShowsTheContractsRead: an ERP slow enough that the call's
// time does not cover every contract shows the contracts read, says
// first that the list is incomplete, and offers to try again; each try
// adds the contracts the last could not read (kept in the KV store), until
// the page is whole and says nothing of the kind. The first page, cut by
// the host, teaches the plugin its call's time: the next ones stop asking
// with the plugin's own reserve left, not the host's.
func TestSlowERPShowsTheContractsRead(t *testing.T) {
	const n = 12
	h, srv, _ := investor(t, n)
	// 300 ms a request: the customer, the contracts, then about five
	// installment lists fit in 2 s.
	srv.SetFault(erp.Fault{Mode: erp.FaultSlow, DelayMS: 300})
	start := time.Now()
	r := h.Render().NoError()
	took := time.Since(start)
	loaded, pending := shown(r)
	if loaded == 0 || loaded == n || loaded+pending != n {
		t.Fatalf("%d contracts with installments and %d without, want some of %d of each:\n%s", loaded, pending, n, r.Text())
	}
	if took >= slowCall {
		t.Errorf("the page took %v, past the call's %v", took, slowCall)
	}
	notice := fmt.Sprintf("Não conseguimos carregar agora as parcelas de %d dos seus %d contratos, então esta lista está incompleta.", pending, n)
	if first := r.View.Blocks[0]; first.Type != abi.BlockAlert || first.Tone != abi.ToneWarning || !strings.HasPrefix(first.Text, notice) {
		t.Errorf("the first block is %s %q, want the notice %q", first.Type, first.Text, notice)
	}
	if f := r.View.Blocks[1]; f.Type != abi.BlockForm || len(f.Buttons) != 1 || f.Buttons[0].Action != "voltar" || f.Buttons[0].Label != "Tentar novamente" {
		t.Errorf("the notice is not followed by a button to try again: %+v", f)
	}
	// Nothing reads as the whole: the overdue ones are those of the
	// contracts loaded, and there is no "nothing open".
	r.Contains("Nos contratos carregados, você tem").NotContains("indisponível", "Nenhuma parcela em aberto", "Você tem")
	r.Logged("some contracts' installments were not loaded: the page says so and offers to try again")
	r.Logged("the ERP is unavailable")
	t.Logf("at 300 ms a request, %d of %d contracts in %v", loaded, n, took.Round(time.Millisecond))
	learnedAbout(t, h, slowCall)

	for try := 1; pending > 0; try++ {
		if try > 3 {
			t.Fatalf("still %d contracts missing after %d tries", pending, try-1)
		}
		before := loaded
		start := time.Now()
		r = h.Submit(r, "voltar", nil).NoError()
		took := time.Since(start)
		loaded, pending = shown(r)
		if loaded <= before || loaded+pending != n {
			t.Fatalf("try %d: %d contracts loaded (before %d), %d not: trying again must add the missing ones", try, loaded, before, pending)
		}
		if pending > 0 {
			// Stopped before a request that would have ended too late.
			r.Logged("the ERP is too slow to read every contract in the call's time")
			if took > slowCall-renderReserve+50*time.Millisecond {
				t.Errorf("try %d took %v, past the plugin's reserve of %v before the call's %v", try, took, renderReserve, slowCall)
			}
		}
	}
	r.NotContains("incompleta", pendingText, "Nos contratos carregados").Contains("Você tem 12 parcelas vencidas")
}

// learnedAbout checks that the plugin keeps about d (within 100 ms below,
// the time the handler starts after the call) as its call's time.
func learnedAbout(t *testing.T, h *sdktest.Host, d time.Duration) {
	t.Helper()
	var learned callTime
	if err := json.Unmarshal(h.KV[callTimeKey], &learned); err != nil {
		t.Fatalf("the call's time learned: %q: %v", h.KV[callTimeKey], err)
	}
	if got := time.Duration(learned.MS) * time.Millisecond; got < d-100*time.Millisecond || got > d+10*time.Millisecond {
		t.Errorf("the call's time learned: %v, want about %v", got, d)
	}
}

// TestSolveDeadline: from when a request started and when the host ended
// it (abi.HTTPReserveMS before the deadline), the deadline, in each of the
// rule's three ranges.
func TestSolveDeadline(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct{ deadline, start time.Duration }{
		{2000 * ms, 1700 * ms},  // 300 ms left: 50 ms reserve
		{2000 * ms, 1500 * ms},  // 500 ms left: 50 ms
		{5000 * ms, 4200 * ms},  // 800 ms left: 80 ms
		{5000 * ms, 10 * ms},    // 4990 ms left: 499 ms
		{10000 * ms, 1000 * ms}, // 9 s left: 500 ms
	} {
		end := tc.deadline - time.Duration(abi.HTTPReserveMS((tc.deadline-tc.start).Milliseconds()))*ms
		if d, ok := solveDeadline(tc.start, end); !ok || (d-tc.deadline).Abs() > 2*ms {
			t.Errorf("started %v, ended %v: deadline %v, %v; want %v", tc.start, end, d, ok, tc.deadline)
		}
	}
	if _, ok := solveDeadline(time.Second, time.Second); ok {
		t.Error("a request that took no time gave a deadline")
	}
}

// TestLearnedCallTime: a call's time learned less than callTimeTTL ago
// stops the page before a request that would not end in time (here, the
// first installments); an older one is not used.
func TestLearnedCallTime(t *testing.T) {
	h, srv, _ := investor(t, 4)
	h.Timeout = 0
	srv.SetFault(erp.Fault{Mode: erp.FaultSlow, DelayMS: 100})
	h.KV[callTimeKey] = []byte(fmt.Sprintf(`{"ms":250,"at":%q}`, testNow.Add(-callTimeTTL).Format(time.RFC3339)))
	h.Render().NoError().NotContains("incompleta", "indisponível")
	// A quarter of a second is learned: after the customer and the
	// contracts (200 ms), no installments request fits.
	h.KV[callTimeKey] = []byte(fmt.Sprintf(`{"ms":250,"at":%q}`, testNow.Format(time.RFC3339)))
	now = func() time.Time { return testNow.Add(snapshotTTL + time.Second) }
	h.Render().NoError().Contains("indisponível").Logged("the ERP is too slow to read every contract in the call's time")
}

// TestNoNoticeWhenEverythingFits: many contracts, an ERP quick enough for
// all of them: the whole list, no notice.
func TestNoNoticeWhenEverythingFits(t *testing.T) {
	const n = 8
	h, srv, _ := investor(t, n)
	srv.SetFault(erp.Fault{Mode: erp.FaultSlow, DelayMS: 20})
	r := h.Render().NoError().NotContains("incompleta", "indisponível")
	if loaded, pending := shown(r); loaded != n || pending != 0 {
		t.Errorf("%d contracts loaded and %d not, want all %d", loaded, pending, n)
	}
}

// TestNothingReadable: the contracts are listed but not one installment
// list can be read: the page is "indisponível", not a list of names.
func TestNothingReadable(t *testing.T) {
	for _, f := range []erp.Fault{
		{Mode: erp.FaultError, Endpoint: erp.EndpointInstallments},
		// Slower than the call: the host ends the first installments
		// request a tenth of the time left before the deadline (~200 ms),
		// which teaches the plugin its call's time.
		{Mode: erp.FaultSlow, DelayMS: 3000, Endpoint: erp.EndpointInstallments},
	} {
		t.Run(f.Mode, func(t *testing.T) {
			h, srv, _ := investor(t, 4)
			srv.SetFault(f)
			r := h.Render().NoError().Contains("O financeiro está indisponível no momento.", "Tentar novamente").
				NotContains("Residencial Jardim das Flores", "incompleta").Logged("the ERP is unavailable")
			if len(r.Blocks(abi.BlockHeading)) != 0 {
				t.Errorf("the unavailable page lists contracts:\n%s", r.Text())
			}
			if f.Mode == erp.FaultSlow {
				learnedAbout(t, h, slowCall)
			}
			h.Card().ErrorContains("indisponível")
		})
	}
}

// TestCardWhenSomeContractsAreMissing: the home card does not sum a
// partial list as if it were whole: the overdue installments found are a
// minimum, there is no next installment nor "nothing open", and it says
// that not every contract was read. The next card adds the rest.
func TestCardWhenSomeContractsAreMissing(t *testing.T) {
	h, srv, _ := investor(t, 8)
	srv.SetFault(erp.Fault{Mode: erp.FaultSlow, DelayMS: 300})
	r := h.Card().NoError()
	r.Contains("Pelo menos", "parcelas vencidas", "Não foi possível consultar todos os seus contratos agora").
		NotContains("Próxima parcela", "Nenhuma parcela em aberto")
	if n := len(r.View.Blocks); n > abi.MaxCardBlocks {
		t.Errorf("%d blocks on the card", n)
	}
	h.User.Locale = "en"
	h.Card().NoError().Contains("8 overdue installments", "Next installment").NotContains("At least", "Not all")
}

// TestKeptInstallmentsWhileTheERPFails: installments read a minute ago
// are shown when reading them again fails (no notice: nothing is
// missing), and those read more than installmentsTTL ago are not.
func TestKeptInstallmentsWhileTheERPFails(t *testing.T) {
	h, srv := setup(t)
	h.Render().NoError().Contains("5/12")
	srv.SetFault(erp.Fault{Mode: erp.FaultError, Endpoint: erp.EndpointInstallments})
	later := testNow.Add(time.Minute)
	now = func() time.Time { return later }
	h.Render().NoError().Contains("5/12", "Vaga de garagem 12").NotContains("incompleta").Logged("the ERP is unavailable")
	later = testNow.Add(installmentsTTL + snapshotTTL)
	h.Render().NoError().Contains("indisponível").NotContains("5/12")
}

// TestIssueReadsTheInstallmentAgain: the slip is computed from the
// installment as the ERP has it when the customer presses "Emitir" on a
// page read more than pageFreshness before, not as that page read it: a
// balance changed in between is the one charged, and an installment paid
// in between is not issued.
func TestIssueReadsTheInstallmentAgain(t *testing.T) {
	h, _, seed := investor(t, 2)
	h.Timeout = 0
	h.Render().NoError().Contains("5/12", "6/12")
	later := testNow.Add(pageFreshness + time.Second)
	now = func() time.Time { return later }
	// Between the page and the click, the ERP records a partial payment of
	// the fifth installment and the payment of the sixth (the test writes
	// the fake's data between two calls, while no request is under way).
	seed.Installments[5001][4].Balance = 100000
	seed.Installments[5001][5].Situation, seed.Installments[5001][5].Balance = erp.SituationPaid, 0
	// 27 days late on R$ 1.000,00: 2 % fine (20,00) and 0.9 % interest (9,00).
	h.Action("emitir", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}).NoError().
		Contains("Segunda via emitida: R$ 1.029,00")
	h.Action("emitir", url.Values{fieldInstallment: {"5001:6"}, fieldDue: {"2026-12-07"}}).NoError().
		Contains("Esta parcela já está paga.")
}

// TestKeptInstallmentsStayBounded: each contract's installments take one
// of installmentBuckets keys, named by a hash (no CPF, no contract
// number), and no larger than maxKeptInstallments.
func TestKeptInstallmentsStayBounded(t *testing.T) {
	h, _, _ := investor(t, 12)
	h.Render().NoError()
	kept := 0
	for k, v := range h.KV {
		if strings.Contains(k, erp.DemoClienteCPF) || strings.Contains(string(v), erp.DemoClienteCPF) {
			t.Errorf("the key %s holds the CPF", k)
		}
		if b, ok := strings.CutPrefix(k, "parcelas:"); ok {
			kept++
			var n int
			if _, err := fmt.Sscan(b, &n); err != nil || n < 0 || n >= installmentBuckets || len(v) > maxKeptInstallments {
				t.Errorf("key %s (%d bytes) is outside the %d buckets of at most %d bytes", k, len(v), installmentBuckets, maxKeptInstallments)
			}
		}
	}
	// Twelve contracts in 512 buckets: one may share another's.
	if kept < 10 || kept > 12 {
		t.Errorf("%d installment keys for 12 contracts", kept)
	}
}
