package erp

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Customer is a person or company with contracts (cliente).
type Customer struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	PersonType string `json:"personType"` // "Física" or "Jurídica"
	CPF        string `json:"cpf,omitempty"`
	CNPJ       string `json:"cnpj,omitempty"`
	Email      string `json:"email,omitempty"`
}

// ReceivableBill is a contract's title in accounts receivable: the sale of
// a unit in a development, paid in installments.
type ReceivableBill struct {
	ID             int    `json:"receivableBillId"`
	CustomerID     int    `json:"customerId"`
	DocumentID     string `json:"documentId"` // document type, "CT" for a contract
	DocumentNumber string `json:"documentNumber"`
	EnterpriseID   int    `json:"enterpriseId"`
	EnterpriseName string `json:"enterpriseName"`
	UnitName       string `json:"unitName"`
	IssueDate      string `json:"issueDate"`
	// PixKey is the receiver's Pix key for this contract's payments, when
	// the company takes Pix for it (an extension of the model).
	PixKey string `json:"pixKey,omitempty"`
}

// Installment situations.
const (
	SituationOpen = "Aberto"
	SituationPaid = "Pago"
)

// Installment is one payment of a receivable bill.
type Installment struct {
	ID          int    `json:"installmentId"`
	Number      string `json:"installmentNumber"` // "3/12"
	DueDate     string `json:"dueDate"`
	Original    Amount `json:"originalValue"`
	Balance     Amount `json:"balanceValue"`
	Situation   string `json:"situation"`
	OurNumber   string `json:"ourNumber"`
	PaymentDate string `json:"paymentDate,omitempty"`
}

// Amount is money in cents written as a JSON number with two decimals
// (1250.00), as the ERP writes it.
type Amount int64

// Cents returns a as cents.
func (a Amount) Cents() int64 { return int64(a) }

// MarshalJSON writes a with two decimals.
func (a Amount) MarshalJSON() ([]byte, error) {
	sign := ""
	n := int64(a)
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Appendf(nil, "%s%d.%02d", sign, n/100, n%100), nil
}

// UnmarshalJSON reads a number with at most two decimals.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	whole, frac, _ := bytes.Cut([]byte(s), []byte("."))
	if len(frac) > 2 || len(whole) == 0 || len(whole) > 12 {
		return fmt.Errorf("amount %q: want a number with at most two decimals", s)
	}
	for len(frac) < 2 {
		frac = append(frac, '0')
	}
	n, err := strconv.ParseInt(string(whole)+string(frac), 10, 64)
	if err != nil {
		return fmt.Errorf("amount %q: %w", s, err)
	}
	*a = Amount(n)
	return nil
}

// Data is what the ERP holds.
type Data struct {
	Customers    []Customer
	Bills        []ReceivableBill
	Installments map[int][]Installment // by bill ID
	// OurNumberBase is added to the sequence of registered slips, so
	// their nossos números never collide with the installments' own.
	OurNumberBase int64
}

// The demo's people, as the portal's demo tenant knows them (by CPF).
const (
	DemoSubdomain = "exemplo"
	DemoUser      = "portico"
	// DemoPassword is the fake ERP's default API password; `make run`
	// passes the same to the demo tenant's finance plugin as a secret.
	DemoPassword = "erp-demo-senha"

	DemoClienteCPF = "52998224725" // Carla Cliente: paid, overdue and open installments
	DemoAmbosCPF   = "11144477735" // Antônio Ambos: a contract fully paid
	DemoPixKey     = "123e4567-e12b-12d1-a456-426655440000"
)

// Zone is the ERP's and the customers' time zone: Brasília time, UTC−3
// all year since 2019.
var Zone = time.FixedZone("BRT", -3*60*60)

// DemoSeed returns the demo data with due dates around now: the demo
// cliente has a contract of twelve monthly installments of R$ 1.250,00,
// due on the 10th, starting five months before now's month (those due
// more than 40 days before now paid, the rest open, so one or two are
// overdue) with a Pix key, and a garage spot of four installments of
// R$ 2.100,50 every three months, the first paid, without Pix. Antônio
// Ambos has one contract, all paid. The síndico is not a customer.
func DemoSeed(now time.Time) *Data {
	now = now.In(Zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := time.Date(now.Year(), now.Month(), 10, 0, 0, 0, 0, time.UTC).AddDate(0, -5, 0)
	d := &Data{
		Customers: []Customer{
			{ID: 101, Name: "Carla Cliente", PersonType: "Física", CPF: DemoClienteCPF, Email: "cliente@demo.portico.test"},
			{ID: 102, Name: "Antônio Ambos", PersonType: "Física", CPF: DemoAmbosCPF, Email: "ambos@demo.portico.test"},
		},
		Bills: []ReceivableBill{
			{ID: 5001, CustomerID: 101, DocumentID: "CT", DocumentNumber: "CT-2024/0187", EnterpriseID: 12,
				EnterpriseName: "Residencial Jardim das Flores", UnitName: "Bloco A, apto 101",
				IssueDate: first.AddDate(0, -1, 0).Format(time.DateOnly), PixKey: DemoPixKey},
			{ID: 5002, CustomerID: 101, DocumentID: "CT", DocumentNumber: "CT-2024/0188", EnterpriseID: 12,
				EnterpriseName: "Residencial Jardim das Flores", UnitName: "Vaga de garagem 12",
				IssueDate: first.AddDate(0, -1, 0).Format(time.DateOnly)},
			{ID: 5003, CustomerID: 102, DocumentID: "CT", DocumentNumber: "CT-2023/0042", EnterpriseID: 7,
				EnterpriseName: "Edifício Mirante do Parque", UnitName: "Apto 804",
				IssueDate: first.AddDate(-1, 0, 0).Format(time.DateOnly)},
		},
		Installments:  map[int][]Installment{},
		OurNumberBase: 9_000_000,
	}
	seq := 1000
	add := func(bill, n, total int, due time.Time, cents int64, paid bool) {
		seq++
		in := Installment{ID: n, Number: fmt.Sprintf("%d/%d", n, total), DueDate: due.Format(time.DateOnly),
			Original: Amount(cents), Balance: Amount(cents), Situation: SituationOpen, OurNumber: strconv.Itoa(seq)}
		if paid {
			in.Situation, in.Balance, in.PaymentDate = SituationPaid, 0, due.Format(time.DateOnly)
		}
		d.Installments[bill] = append(d.Installments[bill], in)
	}
	for i := range 12 {
		due := first.AddDate(0, i, 0)
		add(5001, i+1, 12, due, 125_000, due.Before(today.AddDate(0, 0, -40)))
	}
	for i := range 4 {
		due := first.AddDate(0, 3*i, 5)
		add(5002, i+1, 4, due, 210_050, i == 0)
	}
	for i := range 6 {
		add(5003, i+1, 6, first.AddDate(0, i-8, 0), 98_000, true)
	}
	return d
}

// DemoConvenio is the demo company's Banco do Brasil convênio.
const DemoConvenio = "1234567"

// DemoPluginConfig is the finance plugin's configuration in the demo
// tenant (keys of plugins/financeiro's settings), for this ERP's API at
// apiURL (such as http://localhost:8091/exemplo/public/api/v1/): Banco do
// Brasil, carteira 17, a fine of 2 %, interest of 1 % a month, new due
// dates up to 30 days ahead on any day.
func DemoPluginConfig(apiURL string) map[string]string {
	return map[string]string{
		"erp_url": apiURL, "banco": "001", "agencia": "1234-5", "conta": "98765-4", "carteira": "17",
		"convenio": DemoConvenio, "beneficiario": "Construtora Exemplo Ltda", "cnpj": "12.345.678/0001-95",
		"cidade": "Sao Paulo", "multa": "2", "juros_mes": "1", "prazo_dias": "30", "dias_uteis": "true",
	}
}
