package main

import (
	"bytes"
	"cmp"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/plugins/fakeerp/erp"
	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/pix"
	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/sdktest"
)

// The tests run on 2026-12-04 at 10:00 in Brasília. The demo contract's
// fifth installment (R$ 1.250,00) fell due on 2026-11-10, a Tuesday.
var testNow = time.Date(2026, 12, 4, 10, 0, 0, 0, zone)

// erpOrigin is https: the portal refuses an http allowed host (but for
// localhost in the demo), and so does sdktest.
const erpOrigin = "https://erp.test"

// setup returns a fake host for the demo cliente, configured as the demo
// tenant is, against a fresh fake ERP served in process.
func setup(t *testing.T) (*sdktest.Host, *erp.Server) {
	t.Helper()
	prev := now
	now = func() time.Time { return testNow }
	t.Cleanup(func() { now = prev })
	srv := erp.New(erp.Config{User: erp.DemoUser, Password: erp.DemoPassword, Now: func() time.Time { return testNow }})
	h := sdktest.New(t).ServeERP(erpOrigin, srv)
	h.User.Document = erp.DemoClienteCPF
	h.User.Name = "Carla Cliente"
	h.Plugin = abi.PluginInfo{Slug: "financeiro", Title: "Financeiro"}
	for k, v := range erp.DemoPluginConfig(erpOrigin + srv.BasePath()) {
		h.Config[k] = v
	}
	h.Secrets[secretUser] = erp.DemoUser
	h.Secrets[secretPassword] = erp.DemoPassword
	return h, srv
}

func TestListShowsOpenAndOverdueInstallments(t *testing.T) {
	h, _ := setup(t)
	r := h.Render().NoError().NotContains("incompleta", "Não foi possível carregar")
	r.Contains("Residencial Jardim das Flores — Bloco A, apto 101 (CT-2024/0187)", "Vaga de garagem 12",
		"5/12", "10/11/2026", "R$ 1.250,00", "Vencida há 24 dias", "Vencida há 50 dias", "Em aberto", "4 parcelas pagas deste contrato não aparecem aqui.",
		"Você tem 2 parcelas vencidas, somando R$ 3.350,50.", "2/4", "15/10/2026", "R$ 2.100,50")
	// Paid installments are not offered; overdue ones say so.
	overdueOffered := 0
	for _, f := range r.Blocks(abi.BlockForm) {
		for _, o := range f.Fields[0].Options {
			if strings.HasPrefix(o.Label, "1/12") || strings.HasPrefix(o.Label, "4/12") {
				t.Errorf("a paid installment is offered: %q", o.Label)
			}
			if strings.HasSuffix(o.Label, " — vencida") {
				overdueOffered++
			}
		}
		// Business days (the default) from today to 30 days ahead, a
		// Sunday, so to Monday 4 January: no weekend, 25 or 31 December
		// nor 1 January.
		if dates := f.Fields[1].Options; len(dates) != 19 || dates[0].Value != "2026-12-04" || dates[0].Label != "sex, 04/12/2026" || dates[18].Value != "2027-01-04" {
			t.Errorf("due dates = %d options, %+v to %+v, want 19 from today to 2027-01-04", len(dates), dates[0], dates[len(dates)-1])
		}
	}
	if overdueOffered != 2 {
		t.Errorf("%d installments offered as overdue, want 2", overdueOffered)
	}
	if n := len(r.Blocks(abi.BlockForm)); n != 2 {
		t.Errorf("%d forms, want one per contract with open installments (2)", n)
	}
	// Only this customer's contracts: Antônio's is not there.
	r.NotContains("Mirante do Parque")
}

func TestIssueSegundaVia(t *testing.T) {
	h, srv := setup(t)
	list := h.Render().NoError()
	sim := h.Submit(list, "simular", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}).NoError()
	// 27 calendar days from 10/11 to 07/12: fine 2 % of 1 250,00 = 25,00;
	// interest 1 % a month pro rata die = 1 250,00 × 27 / 30 % = 11,25.
	sim.Contains("Multa (2%)", "R$ 25,00", "Juros de mora (1% ao mês, 27 dias)", "R$ 11,25", "R$ 1.286,25", "07/12/2026", "10/11/2026")
	if st := srv.Stats(); st.Registrations != 0 {
		t.Fatalf("simulating registered %d slips", st.Registrations)
	}
	slip := h.Submit(sim, "emitir", nil).NoError()
	slip.Contains("Segunda via emitida: R$ 1.286,25, a pagar até 07/12/2026.")
	// The slip's page leads back to the installments.
	h.Submit(slip, "voltar", nil).NoError().Contains("Vencida", "Em aberto")
	line := copyText(t, slip, "Linha digitável")
	s, err := boleto.ParseLine(line)
	if err != nil {
		t.Fatalf("linha digitável %q: %v", line, err)
	}
	due, _, _ := s.DueDate(testNow)
	if s.Bank != "001" || s.Amount != 128625 || due.Format(time.DateOnly) != "2026-12-07" {
		t.Errorf("slip = bank %s, amount %d, due %s; want 001, 128625, 2026-12-07", s.Bank, s.Amount, due.Format(time.DateOnly))
	}
	bb, err := boleto.ParseBBConvenio7(s.FreeField)
	if err != nil || bb.Convenio != erp.DemoConvenio || bb.Carteira != "17" || bb.Sequence != 9_000_001 {
		t.Errorf("campo livre = %+v, %v; want the convênio, carteira 17 and the ERP's first sequence", bb, err)
	}
	bar, _ := s.Barcode()
	if got := slip.Block(abi.BlockBarcode).Value; got != bar {
		t.Errorf("barcode block = %s, want %s", got, bar)
	}
	// The ways to pay, each under its heading: Pix (copia e cola, the
	// quickest on a phone, then its QR), then the boleto (linha
	// digitável, PDF, barcode), so no caption reads as another's.
	var order []string
	for _, b := range slip.View.Blocks {
		switch b.Type {
		case abi.BlockCopy, abi.BlockDownload, abi.BlockQR, abi.BlockBarcode:
			order = append(order, b.Type+":"+cmp.Or(b.Label, b.Text))
		case abi.BlockHeading:
			if b.Text != "Detalhes" {
				order = append(order, b.Type+":"+b.Text)
			}
		}
	}
	if want := []string{"heading:Pix", "copy:Pix copia e cola", "qr:QR Code do Pix", "heading:Boleto", "copy:Linha digitável",
		"download:Baixar boleto em PDF", "barcode:Código de barras"}; !slices.Equal(order, want) {
		t.Errorf("payment blocks %q, want %q", order, want)
	}
	pixCode := copyText(t, slip, "Pix copia e cola")
	p, err := pix.Parse(pixCode)
	if err != nil || p.Amount != 128625 || p.Key != erp.DemoPixKey {
		t.Errorf("pix = %+v, %v; want the amount and the contract's key", p, err)
	}
	if slip.Block(abi.BlockQR).Value != pixCode {
		t.Error("the QR code is not the Pix string")
	}
	pdf := slip.Block(abi.BlockDownload)
	if pdf.ContentType != "application/pdf" || !bytes.HasPrefix(pdf.Data, []byte("%PDF-1.")) || !bytes.Contains(pdf.Data[len(pdf.Data)-32:], []byte("%%EOF")) {
		t.Errorf("download %s %s is not a PDF (%d bytes)", pdf.Filename, pdf.ContentType, len(pdf.Data))
	}
	if st := srv.Stats(); st.Registrations != 1 {
		t.Errorf("%d registrations, want 1", st.Registrations)
	}

	t.Run("again from the store", func(t *testing.T) {
		again := h.Submit(sim, "emitir", nil).NoError()
		if got := copyText(t, again, "Linha digitável"); got != line {
			t.Errorf("second issue = %s, want the same slip %s", got, line)
		}
		if st := srv.Stats(); st.Registrations != 1 || st.Replays != 0 {
			t.Errorf("stats %+v: the second issue should not reach the ERP", st)
		}
	})
	t.Run("again without the store: the ERP replays", func(t *testing.T) {
		clear(h.KV)
		again := h.Submit(sim, "emitir", nil).NoError()
		if got := copyText(t, again, "Linha digitável"); got != line {
			t.Errorf("issue after losing the store = %s, want the same slip %s", got, line)
		}
		if st := srv.Stats(); st.Registrations != 1 || st.Replays != 1 {
			t.Errorf("stats %+v, want 1 registration and 1 replay", st)
		}
	})
}

func TestNoChargesWithinTerm(t *testing.T) {
	h, _ := setup(t)
	// The sixth installment falls due on 10/12: a new date before it is
	// free of charges.
	r := h.Action("simular", url.Values{fieldInstallment: {"5001:6"}, fieldDue: {"2026-12-09"}}).NoError()
	r.Contains("Sem multa nem juros", "R$ 1.250,00").NotContains("R$ 25,00")
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, document, installment, due string
		config                           map[string]string
		want                             string
	}{
		{"another customer's installment", erp.DemoAmbosCPF, "5001:5", "2026-12-07", nil, "não está mais em aberto"},
		{"an installment that does not exist", erp.DemoClienteCPF, "5001:99", "2026-12-07", nil, "não está mais em aberto"},
		{"a paid installment", erp.DemoClienteCPF, "5001:1", "2026-12-07", nil, "já está paga"},
		{"a past date", erp.DemoClienteCPF, "5001:5", "2026-12-03", nil, "já passou"},
		{"past the window", erp.DemoClienteCPF, "5001:5", "2027-01-05", nil, "longe demais"},
		{"not a date", erp.DemoClienteCPF, "5001:5", "amanhã", nil, "Escolha a nova data"},
		{"a weekend with business days only", erp.DemoClienteCPF, "5001:5", "2026-12-05", map[string]string{cfgBusinessDays: "true"}, "fim de semana"},
		{"a weekend by default", erp.DemoClienteCPF, "5001:5", "2026-12-05", map[string]string{cfgBusinessDays: ""}, "fim de semana"},
		{"Christmas with business days only", erp.DemoClienteCPF, "5001:5", "2026-12-25", map[string]string{cfgBusinessDays: "true"}, "feriado"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, srv := setup(t)
			h.User.Document = tc.document
			for k, v := range tc.config {
				h.Config[k] = v
			}
			// The list under the message is whole: the contracts the
			// issue did not need are read when it is drawn.
			r := h.Action("emitir", url.Values{fieldInstallment: {tc.installment}, fieldDue: {tc.due}}).NoError().Contains(tc.want).
				NotContains("incompleta", pendingText)
			// The message is the first thing under the title, not below
			// every contract, where a phone would never show it.
			if first := r.View.Blocks[0]; first.Type != abi.BlockAlert || !strings.Contains(first.Text, tc.want) {
				t.Errorf("the first block is %s %q, want the message", first.Type, first.Text)
			}
			if st := srv.Stats(); st.Registrations != 0 {
				t.Errorf("%d slips registered", st.Registrations)
			}
		})
	}
}

func TestEmptyStates(t *testing.T) {
	h, _ := setup(t)
	h.User.Document = erp.DemoAmbosCPF
	h.Render().NoError().Contains("Nenhuma parcela em aberto", "Todas as 6 parcelas deste contrato estão pagas.")
	h.User.Document = "39053344705" // a valid CPF the ERP does not know
	h.Render().NoError().Contains("Não há contratos no seu CPF ou CNPJ")
	h.User.Document = "12ABC34501DE35" // an alphanumeric CNPJ: asked of the ERP like any other
	h.Render().NoError().Contains("Não há contratos no seu CPF ou CNPJ")
	h.User.Document = "12ABC34501DE36" // not a CNPJ (its check digits are wrong)
	h.Render().NoError().Contains("Não encontramos o seu CPF ou CNPJ")
	h.User.Document = ""
	h.Render().NoError().Contains("Não encontramos o seu CPF ou CNPJ").Logged(
		"the user context has no document: grant the profile field document, and check the user's CPF or CNPJ")
}

// copyText returns the text of the view's copy block labelled label.
func copyText(t *testing.T, r *sdktest.Result, label string) string {
	t.Helper()
	for _, b := range r.Blocks(abi.BlockCopy) {
		if b.Label == label {
			return b.Text
		}
	}
	t.Fatalf("no copy block %q", label)
	return ""
}

// pdfText extracts the text of a PDF with Poppler's pdftotext (which
// .ci/run installs; the test skips without it outside CI).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is required under CI=true")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	cmd := exec.Command(bin, "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// TestSlipPDF: the PDF's "Valor do documento" is what the barcode
// carries (the total), the breakdown is in the instructions, the payer is
// the customer, and Pix is named only on a slip that has it.
func TestSlipPDF(t *testing.T) {
	h, _ := setup(t)
	sim := h.Submit(h.Render().NoError(), "simular", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}).NoError()
	slip := h.Submit(sim, "emitir", nil).NoError()
	text := strings.Join(strings.Fields(pdfText(t, slip.Block(abi.BlockDownload).Data)), " ")
	for _, want := range []string{"Valor do documento R$ 1.286,25", "Parcela R$ 1.250,00 + multa R$ 25,00 + juros de mora R$ 11,25 (27 dias) = R$ 1.286,25",
		"Pagador Carla Cliente CPF/CNPJ 529.982.247-25", "ou pelo Pix"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "Valor do documento R$ 1.250,00") {
		t.Error("the document's value is the installment without the charges the barcode carries")
	}
}

// TestIssueWithUnusablePixKey: the ERP registered the slip with a Pix key
// the plugin cannot read; the customer still gets the boleto, and the log
// says why it has no Pix.
func TestIssueWithUnusablePixKey(t *testing.T) {
	h, _ := setup(t)
	seed := erp.DemoSeed(testNow)
	for i := range seed.Bills {
		seed.Bills[i].PixKey = "(11) 98765-4321"
	}
	h.ServeERP(erpOrigin, erp.New(erp.Config{User: erp.DemoUser, Password: erp.DemoPassword, Now: func() time.Time { return testNow }, Seed: seed}))
	sim := h.Submit(h.Render().NoError(), "simular", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}).NoError()
	slip := h.Submit(sim, "emitir", nil).NoError().Contains("Segunda via emitida: R$ 1.286,25").Logged("the slip goes without Pix")
	if n := len(slip.Blocks(abi.BlockCopy)); n != 1 || len(slip.Blocks(abi.BlockQR)) != 0 {
		t.Errorf("%d copy blocks and %d QR codes, want the linha digitável alone", n, len(slip.Blocks(abi.BlockQR)))
	}
	if _, err := boleto.ParseLine(copyText(t, slip, "Linha digitável")); err != nil {
		t.Errorf("linha digitável: %v", err)
	}
	if text := pdfText(t, slip.Block(abi.BlockDownload).Data); strings.Contains(text, "Pix") {
		t.Errorf("a slip without Pix names it: %s", text)
	}
}

// TestOverdue: an installment is late only after the business day its due
// date is payable on.
func TestOverdue(t *testing.T) {
	sat := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC) // Monday the 12th is a holiday
	tue := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		due, today time.Time
		want       bool
	}{
		{sat, sat, false},
		{sat, sat.AddDate(0, 0, 2), false}, // the holiday
		{sat, sat.AddDate(0, 0, 3), false}, // Tuesday, the day it is payable on
		{sat, sat.AddDate(0, 0, 4), true},
		{tue, tue, false},
		{tue, tue.AddDate(0, 0, 1), true},
	} {
		if got := overdue(tt.due, tt.today); got != tt.want {
			t.Errorf("due %s, today %s: overdue %v, want %v", tt.due.Format(time.DateOnly), tt.today.Format(time.DateOnly), got, tt.want)
		}
	}
}

func TestLocales(t *testing.T) {
	h, _ := setup(t)
	h.User.Locale = "en"
	h.Render().NoError().Contains("Billing", "R$1,250.00", "Nov 10, 2026", "Overdue", "Fri, Dec 4, 2026")
	h.User.Locale = "es"
	h.Action("simular", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}).NoError().
		Contains("Intereses de mora (1% al mes, 27 días)", "R$ 1.286,25")
}

// TestERPFailures: whatever the ERP does, the customer reads a polite
// message in their language, the gestor finds the reason in the log, and
// nothing is registered twice.
func TestERPFailures(t *testing.T) {
	for _, tc := range []struct {
		fault  erp.Fault
		rotate bool
		want   string
		logged string
	}{
		{fault: erp.Fault{Mode: erp.FaultError}, want: "indisponível no momento", logged: "the ERP is unavailable"},
		{fault: erp.Fault{Mode: erp.FaultHang}, want: "indisponível no momento", logged: "the ERP is unavailable"},
		{fault: erp.Fault{Mode: erp.FaultMalformed}, want: "indisponível no momento", logged: "the ERP is unavailable"},
		{fault: erp.Fault{Mode: erp.FaultHuge}, want: "indisponível no momento", logged: "the ERP is unavailable"},
		{fault: erp.Fault{Mode: erp.FaultRateLimit, RetryAfter: 90}, want: "Tente novamente em 2 min.", logged: "the ERP is limiting requests"},
		{fault: erp.Fault{Mode: erp.FaultUnauthorized}, want: "indisponível no momento", logged: "the ERP refused the API user: check the secrets erp_usuario and erp_senha"},
		{rotate: true, want: "indisponível no momento", logged: "the ERP refused the API user: check the secrets erp_usuario and erp_senha"},
	} {
		name := tc.fault.Mode
		if tc.rotate {
			name = "rotated password"
		}
		t.Run(name, func(t *testing.T) {
			h, srv := setup(t)
			srv.SetFault(tc.fault)
			if tc.rotate {
				srv.SetPassword("nova-senha")
			}
			for _, r := range []*sdktest.Result{
				h.Render(),
				h.Action("emitir", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}),
			} {
				r.NoError().Contains(tc.want, "Tentar novamente").NotContains("NullPointer", "Exception", "status", "http").Logged(tc.logged)
			}
			if st := srv.Stats(); st.Registrations != 0 {
				t.Errorf("%d slips registered", st.Registrations)
			}
			// The button asks again: once the ERP is back, the list.
			failed := h.Render()
			srv.SetFault(erp.Fault{})
			srv.SetPassword(erp.DemoPassword)
			h.Submit(failed, "voltar", nil).NoError().Contains("5/12")
		})
	}
	t.Run("slow but in time", func(t *testing.T) {
		h, srv := setup(t)
		srv.SetFault(erp.Fault{Mode: erp.FaultSlow, DelayMS: 50})
		h.Render().NoError().Contains("5/12", "Vaga de garagem 12", "2/4").NotContains("incompleta", "Não foi possível carregar")
	})
}

func TestConfigurationProblems(t *testing.T) {
	h, srv := setup(t)
	delete(h.Config, cfgERPURL)
	h.Config[cfgFine] = "3"
	h.Config[cfgMaxDays] = "trinta"
	h.Config[cfgBusinessDays] = "sim"
	h.Config[cfgConvenio] = "12345"
	r := h.Render().NoError().Contains("indisponível no momento").NotContains("Configuração incompleta", "erp_url")
	r.Logged("configuration: erp_url is not set")
	r.Logged("configuration: multa must be at most 2 %, the cap of the consumer code (CDC art. 52 §1)")
	r.Logged("configuration: convenio must be Banco do Brasil's convênio of seven digits (1000000 to 9999999)")
	r.Logged("configuration: prazo_dias must be a number of days from 0 (today only) to 365")
	r.Logged("configuration: dias_uteis must be true or false")
	// The gestor previewing the plugin sees what to fix.
	h.As("gestor").Render().NoError().Contains("Configuração incompleta", "erp_url", "não está definido", "multa", "deve ser no máximo 2 %", "convenio")
	if srv.Stats().Requests != 0 {
		t.Error("the ERP was called with a broken configuration")
	}
	h, _ = setup(t)
	delete(h.Secrets, secretPassword)
	h.Render().NoError().Contains("indisponível no momento")

	h, _ = setup(t)
	h.AllowedHosts = nil
	h.Render().NoError().Contains("indisponível no momento").Logged(
		"the ERP's address is not allowed: add the origin of erp_url to the plugin's allowed hosts")

	// The admin's settings call reports the same problems from the same
	// check, in the gestor's language, without the missing erp_url (the
	// admin reports required keys from the declaration) and without
	// touching the ERP or the secrets.
	h, srv = setup(t)
	delete(h.Config, cfgERPURL)
	h.Config[cfgFine] = "3"
	h.Config[cfgMaxDays] = "trinta"
	h.Config[cfgBusinessDays] = "sim"
	h.Config[cfgConvenio] = "12345"
	h.User.Locale = "es"
	r = h.Settings().NoError()
	got := map[string]string{}
	for _, p := range r.Settings.Problems {
		got[p.Key] = p.Message
	}
	want := map[string]string{
		cfgFine:         "debe ser como máximo 2 %",
		cfgConvenio:     "debe ser el convenio del Banco do Brasil",
		cfgMaxDays:      "debe ser un número de días de 0 (solo hoy) a 365",
		cfgBusinessDays: "debe ser Sí o No",
	}
	if len(got) != len(want) {
		t.Errorf("problems %v, want exactly %v", got, want)
	}
	for k, w := range want {
		if !strings.HasPrefix(got[k], w) {
			t.Errorf("problem of %s = %q, want it to start with %q", k, got[k], w)
		}
	}
	if len(r.HostCalls) != 0 || srv.Stats().Requests != 0 {
		t.Errorf("the settings call made host calls %v", r.HostCalls)
	}
}

func TestSettingsDeclareEveryKey(t *testing.T) {
	h, _ := setup(t)
	r := h.Settings().NoError()
	if len(r.Settings.Problems) != 0 {
		t.Errorf("the test configuration has problems: %v", r.Settings.Problems)
	}
	declared := map[string]abi.Setting{}
	for _, f := range r.Settings.Fields {
		declared[f.Key] = f
	}
	// Every key and secret the plugin reads is declared, with its type;
	// the required ones are those loadSettings reports as not set.
	for key, typ := range map[string]string{
		cfgERPURL: abi.SettingText, cfgBank: abi.SettingText, cfgAgency: abi.SettingText, cfgAccount: abi.SettingText,
		cfgCarteira: abi.SettingText, cfgConvenio: abi.SettingText, cfgBeneficiary: abi.SettingText,
		cfgBeneficiaryD: abi.SettingText, cfgCity: abi.SettingText, cfgFine: abi.SettingText,
		cfgInterest: abi.SettingText, cfgMaxDays: abi.SettingNumber, cfgBusinessDays: abi.SettingBoolean,
		secretUser: abi.SettingSecret, secretPassword: abi.SettingSecret,
	} {
		if f, ok := declared[key]; !ok || f.Type != typ {
			t.Errorf("%s declared as %+v, want type %s", key, f, typ)
		}
	}
	if len(declared) != 15 {
		t.Errorf("%d fields declared, want 15", len(declared))
	}
	// With nothing configured, the keys the render reports as not set are
	// exactly the required configuration keys without a default.
	h.Config = map[string]string{}
	unset := map[string]bool{}
	for _, l := range h.Render().NoError().Logs {
		if k, ok := strings.CutSuffix(strings.TrimPrefix(l.Message, "configuration: "), " is not set"); ok {
			unset[k] = true
		}
	}
	for _, f := range r.Settings.Fields {
		if want := f.Required && f.Default == "" && f.Type != abi.SettingSecret; unset[f.Key] != want {
			t.Errorf("%s: reported not set %v, declared %+v", f.Key, unset[f.Key], f)
		}
	}
	if len(unset) == 0 {
		t.Error("an empty configuration reported nothing")
	}
}

func TestCard(t *testing.T) {
	h, _ := setup(t)
	r := h.Card().NoError()
	if got := r.Text(); !strings.Contains(got, "[warning] 2 parcelas vencidas: R$ 3.350,50") || !strings.Contains(got, "Próxima parcela: R$ 1.250,00, vence em 10/12/2026") {
		t.Errorf("card = %q", got)
	}
	h.User.Locale = "en"
	h.Card().NoError().Contains("Next installment: R$1,250.00, due Dec 10, 2026")
	h.User.Locale = "pt-BR"
	h.User.Document = erp.DemoAmbosCPF
	h.Card().NoError().Contains("Nenhuma parcela em aberto")
	h.User.Document = ""
	h.Card().ErrorContains("indisponível")
}

// Issuing right after the page or the simulation uses what they read
// (one request: the registration); later, it reads the contract list and
// the one installment list it issues from again, and still no other
// contract's installments.
func TestIssueUsesRecentContracts(t *testing.T) {
	h, srv := setup(t)
	h.Render().NoError()
	before := srv.Stats().Requests
	form := url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-07"}}
	h.Action("emitir", form).NoError().Contains("Segunda via emitida")
	if n := srv.Stats().Requests - before; n != 1 {
		t.Errorf("issue right after the page made %d ERP requests, want 1 (the registration)", n)
	}
	later := testNow.Add(snapshotTTL + time.Second)
	now = func() time.Time { return later }
	before = srv.Stats().Requests
	h.Action("emitir", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2026-12-08"}}).NoError().Contains("Segunda via emitida")
	if n := srv.Stats().Requests - before; n != 4 {
		t.Errorf("issue %s after the page made %d ERP requests, want 4 (customer, contracts, the contract's installments, the registration)", snapshotTTL, n)
	}
	// The snapshot is keyed by a hash, not the document.
	for k := range h.KV {
		if strings.Contains(k, erp.DemoClienteCPF) {
			t.Errorf("a KV key holds the CPF: %s", k)
		}
	}
}

// A window longer than a select should hold is a date field, and the
// action still checks the date.
func TestLongWindow(t *testing.T) {
	h, srv := setup(t)
	h.Config[cfgMaxDays] = "365"
	// 365 days ahead is a Saturday: the window ends on Monday.
	r := h.Render().NoError().Contains("Novo vencimento (até 06/12/2027)")
	due := r.Blocks(abi.BlockForm)[0].Fields[1]
	if due.Type != abi.FieldDate || due.Value != "2026-12-04" {
		t.Errorf("due field = %+v, want a date field starting today", due)
	}
	h.Submit(r, "simular", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2027-06-01"}}).NoError().Contains("01/06/2027")
	h.Action("simular", url.Values{fieldInstallment: {"5001:5"}, fieldDue: {"2027-12-07"}}).NoError().Contains("longe demais")
	if srv.Stats().Registrations != 0 {
		t.Error("registered")
	}
}

// validCPF returns the n-th of a series of valid CPFs (check digits
// computed as the Receita Federal does).
func validCPF(n int) string {
	d := []byte(fmt.Sprintf("%09d", 100000000+n*7919%800000000))
	for _, size := range []int{9, 10} {
		sum := 0
		for i := range size {
			sum += int(d[i]-'0') * (size + 1 - i)
		}
		d = append(d, byte('0'+sum*10%11%10))
	}
	return string(d)
}

// TestKVStaysBoundedAcrossCustomers: the snapshots of ever more customers
// share a fixed set of keys, so the plugin's store (abi.MaxKVKeys for all
// the tenant's customers, nothing expiring) never fills; and a customer
// reloading the page reads the ERP at most once per pageFreshness.
func TestKVStaysBoundedAcrossCustomers(t *testing.T) {
	h, srv := setup(t)
	// Ten times a thousand customers' pages in a second: past the fake
	// ERP's rate limit, which is not what this test is about.
	srv = erp.New(erp.Config{User: erp.DemoUser, Password: erp.DemoPassword, Now: func() time.Time { return testNow }, RatePerMinute: 1_000_000})
	h.ServeERP(erpOrigin, srv)
	before := srv.Stats().Requests
	h.Render().NoError()
	mid := srv.Stats().Requests
	h.Render().NoError()
	if srv.Stats().Requests != mid || mid == before {
		t.Errorf("ERP requests %d → %d → %d: a reload within %s read the ERP again", before, mid, srv.Stats().Requests, pageFreshness)
	}
	// A store an earlier version filled with a key per customer: each
	// customer's own old key makes room for the bucket key.
	for i := range abi.MaxKVKeys - 2 {
		h.KV["contracts:"+snapshotOwner(validCPF(i))] = []byte("{}")
	}
	customers := abi.MaxKVKeys + 1 // one key each would fill the store
	for i := range customers {
		h.User.Document = validCPF(i)
		if r := h.Render().NoError(); !strings.Contains(fmt.Sprint(r.View), "Não há contratos") {
			t.Fatalf("customer %d: %v", i, r.View)
		}
	}
	if len(h.KV) >= abi.MaxKVKeys/2 {
		t.Fatalf("%d keys after %d customers: the store (%d keys at most) fills as customers come", len(h.KV), customers+1, abi.MaxKVKeys)
	}
	// The first customer's snapshot may be gone (its bucket reused): the
	// page still shows their contracts, read again from the ERP.
	h.User.Document = erp.DemoClienteCPF
	h.Render().NoError().Contains("Residencial Jardim das Flores")
}
