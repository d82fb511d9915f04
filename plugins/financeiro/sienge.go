package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

// Limits of what the plugin asks the ERP for in one call.
const (
	pageLimit = 200 // Sienge's largest page
	// maxPages bounds the pages of one list; with maxContracts, it keeps
	// a call far below the host's 200 host calls.
	maxPages     = 5
	maxContracts = 20
)

// sienge is the adapter for Sienge's public REST API (v1): HTTP Basic,
// offset/limit pages of {"resultSetMetadata", "results"}, amounts as JSON
// numbers. docs/financeiro.md maps the fields used.
type sienge struct {
	c              *sdk.Context
	base           string // ends in /public/api/v1
	user, password string
	clock          *clock
}

type siengeMeta struct {
	Count  int `json:"count"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

type siengeCustomer struct {
	ID   json.Number `json:"id"`
	CPF  string      `json:"cpf"`
	CNPJ string      `json:"cnpj"`
}

type siengeBill struct {
	ID             json.Number `json:"receivableBillId"`
	DocumentNumber string      `json:"documentNumber"`
	EnterpriseName string      `json:"enterpriseName"`
	UnitName       string      `json:"unitName"`
	PixKey         string      `json:"pixKey"`
}

type siengeInstallment struct {
	ID          json.Number `json:"installmentId"`
	Number      string      `json:"installmentNumber"`
	DueDate     string      `json:"dueDate"`
	Balance     json.Number `json:"balanceValue"`
	Situation   string      `json:"situation"`
	PaymentDate string      `json:"paymentDate"`
}

type siengeSlip struct {
	ID        json.Number `json:"paymentSlipId"`
	DueDate   string      `json:"dueDate"`
	Amount    json.Number `json:"amount"`
	OurNumber json.Number `json:"ourNumber"`
	PixKey    string      `json:"pixKey"`
	CreatedAt string      `json:"createdAt"`
}

// siengeError is Sienge's error body.
type siengeError struct {
	ClientMessage string `json:"clientMessage"`
}

func (s *sienge) fail(class error, format string, args ...any) error {
	return &erpError{class: class, detail: fmt.Sprintf(format, args...)}
}

// do sends one request and decodes a 2xx answer into v. timeout is the
// request's own bound; 0 leaves it to the host, which ends it before the
// call's deadline (clock.go).
func (s *sienge) do(method, path string, query url.Values, header map[string]string, body []byte, timeout time.Duration, v any) error {
	u := s.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	h := map[string]string{
		"Accept":        "application/json",
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(s.user+":"+s.password)),
	}
	for k, val := range header {
		h[k] = val
	}
	start := s.clock.elapsed()
	r, err := s.c.Do(sdk.Request{Method: method, URL: u, Header: h, Body: body, Timeout: timeout})
	s.clock.observe(start, timeout, err)
	switch {
	case err != nil && sdk.Code(err) == abi.ErrNotAllowed:
		return s.fail(errNotAllowed, "%s %s: %v", method, path, err)
	case err != nil && sdk.Code(err) == abi.ErrLimit:
		return s.fail(errUnavailable, "%s %s: the answer is larger than the plugin may read (%v)", method, path, err)
	case err != nil:
		return s.fail(errUnavailable, "%s %s: %v", method, path, err)
	}
	switch {
	case r.Status == 401 || r.Status == 403:
		return s.fail(errCredentials, "%s %s: status %d", method, path, r.Status)
	case r.Status == 429:
		e := &erpError{class: errBusy, detail: fmt.Sprintf("%s %s: status 429 (rate limit)", method, path)}
		if n, err := strconv.Atoi(r.Header["Retry-After"]); err == nil && n > 0 && n <= 86400 {
			e.retryAfter = time.Duration(n) * time.Second
		}
		return e
	case r.Status >= 400 && r.Status < 500:
		e := &erpError{class: errRefused, detail: fmt.Sprintf("%s %s: status %d", method, path, r.Status)}
		var se siengeError
		if json.Unmarshal(r.Body, &se) == nil {
			e.message = se.ClientMessage
		}
		return e
	case !r.OK():
		return s.fail(errUnavailable, "%s %s: status %d", method, path, r.Status)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return s.fail(errUnavailable, "%s %s: the answer is not the JSON the API documents: %v", method, path, err)
	}
	return nil
}

// list reads every page of a list (at most maxPages) into out; bounded
// gives each request the clock's listTimeout, otherwise none.
func list[T any](s *sienge, path string, query url.Values, bounded bool) ([]T, error) {
	var out []T
	for p := 0; p < maxPages; p++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("offset", strconv.Itoa(len(out)))
		q.Set("limit", strconv.Itoa(pageLimit))
		var page struct {
			Meta    *siengeMeta `json:"resultSetMetadata"`
			Results []T         `json:"results"`
		}
		var timeout time.Duration
		if bounded {
			timeout = s.clock.listTimeout()
		}
		if err := s.do("GET", path, q, nil, nil, timeout, &page); err != nil {
			return nil, err
		}
		if page.Meta == nil || page.Results == nil {
			return nil, s.fail(errUnavailable, "GET %s: the answer lacks resultSetMetadata or results", path)
		}
		out = append(out, page.Results...)
		if len(page.Results) == 0 || len(out) >= page.Meta.Count {
			return out, nil
		}
	}
	return nil, s.fail(errUnavailable, "GET %s: more than %d pages", path, maxPages)
}

func (s *sienge) Contracts(document string) ([]Contract, error) {
	q := url.Values{}
	if len(document) == 14 {
		q.Set("cnpj", document)
	} else {
		q.Set("cpf", document)
	}
	customers, err := list[siengeCustomer](s, "/customers", q, true)
	if err != nil {
		return nil, err
	}
	var out []Contract
	for _, cu := range customers {
		// The ERP filtered by document; a customer of another document is
		// the ERP's mistake, and never shown.
		if cu.CPF != document && cu.CNPJ != document {
			continue
		}
		if !opaqueID(cu.ID.String()) {
			return nil, s.fail(errUnavailable, "GET /customers: invalid customer id")
		}
		bills, err := list[siengeBill](s, "/accounts-receivable/receivable-bills", url.Values{"customerId": {cu.ID.String()}}, true)
		if err != nil {
			return nil, err
		}
		for _, b := range bills {
			if len(out) == maxContracts {
				s.c.Log().Warn("more contracts than shown", "limit", strconv.Itoa(maxContracts))
				return out, nil
			}
			if !opaqueID(b.ID.String()) {
				return nil, s.fail(errUnavailable, "GET receivable-bills: invalid receivableBillId")
			}
			out = append(out, Contract{ID: b.ID.String(), Number: plain(b.DocumentNumber, 40), Development: plain(b.EnterpriseName, 100),
				Unit: plain(b.UnitName, 80), PixKey: strings.TrimSpace(b.PixKey)})
		}
	}
	return out, nil
}

func (s *sienge) Installments(ct Contract) ([]Installment, error) {
	if !opaqueID(ct.ID) {
		return nil, s.fail(errUnavailable, "contract id %q is not the ERP's", ct.ID)
	}
	// Without a timeout of its own: the host ends it before the call's
	// deadline, and load.go starts it only if it fits (clock.go).
	ins, err := list[siengeInstallment](s, "/accounts-receivable/receivable-bills/"+ct.ID+"/installments", nil, false)
	if err != nil {
		return nil, err
	}
	out := make([]Installment, 0, len(ins))
	for _, si := range ins {
		in, err := si.installment()
		if err != nil {
			return nil, s.fail(errUnavailable, "GET installments of bill %s: %v", ct.ID, err)
		}
		out = append(out, in)
	}
	return out, nil
}

func (si siengeInstallment) installment() (Installment, error) {
	if !opaqueID(si.ID.String()) {
		return Installment{}, errors.New("invalid installmentId")
	}
	due, err := time.Parse(time.DateOnly, si.DueDate)
	if err != nil {
		return Installment{}, fmt.Errorf("installment %s: dueDate %q is not YYYY-MM-DD", si.ID, si.DueDate)
	}
	amount, err := parseCents(si.Balance)
	if err != nil {
		return Installment{}, fmt.Errorf("installment %s: balanceValue: %w", si.ID, err)
	}
	in := Installment{ID: si.ID.String(), Number: plain(si.Number, 20), Due: due, Amount: amount}
	switch si.Situation {
	case "Aberto", "Open", "Vencido":
		in.Open = amount > 0
	case "Pago", "Paid", "Quitado":
		if paid, err := time.Parse(time.DateOnly, si.PaymentDate); err == nil {
			in.PaidOn = paid
		}
	default:
		return Installment{}, fmt.Errorf("installment %s: unknown situation %q", si.ID, si.Situation)
	}
	return in, nil
}

func (s *sienge) Register(ct Contract, in Installment, b charges.Breakdown, key string) (Registration, error) {
	body, err := json.Marshal(map[string]json.Number{
		"amount": formatCents(b.Total), "fineAmount": formatCents(b.Fine), "interestAmount": formatCents(b.Interest),
	})
	if err != nil {
		return Registration{}, err
	}
	// dueDate is a string; add it to the numbers' object by hand.
	body = append([]byte(`{"dueDate":"`+b.NewDue.Format(time.DateOnly)+`",`), body[1:]...)
	var slip siengeSlip
	path := "/accounts-receivable/receivable-bills/" + ct.ID + "/installments/" + in.ID + "/payment-slips"
	// Bounded like the lists while that is safe; later, by the host.
	if err := s.do("POST", path, nil, map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}, body, s.clock.listTimeout(), &slip); err != nil {
		return Registration{}, err
	}
	amount, err := parseCents(slip.Amount)
	if err != nil {
		return Registration{}, s.fail(errUnavailable, "POST payment-slips: amount: %v", err)
	}
	seq, err := slip.OurNumber.Int64()
	if err != nil || seq < 0 {
		return Registration{}, s.fail(errUnavailable, "POST payment-slips: ourNumber %q is not a sequence", slip.OurNumber)
	}
	if amount != b.Total || slip.DueDate != b.NewDue.Format(time.DateOnly) {
		return Registration{}, s.fail(errUnavailable, "POST payment-slips: the ERP registered %s for %s, not what was asked", slip.Amount, slip.DueDate)
	}
	return Registration{ID: slip.ID.String(), Sequence: seq, PixKey: slip.PixKey, DueDate: slip.DueDate, Amount: amount, CreatedAt: slip.CreatedAt}, nil
}

// opaqueID reports whether an ERP identifier is safe to put in a path and
// a form: 1 to 40 letters, digits, '-' or '_'.
func opaqueID(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// parseCents reads a JSON number of reais with at most two decimals
// (1250, 1250.5, 1250.00) as cents, exactly: no float is involved.
func parseCents(n json.Number) (int64, error) {
	s := string(n)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 13 || len(frac) > 2 || strings.ContainsAny(s, "eE+-") {
		return 0, fmt.Errorf("%q is not an amount with at most two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	c, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount: %w", s, err)
	}
	return c, nil
}

// formatCents writes cents as a JSON number of reais with two decimals.
func formatCents(c int64) json.Number {
	return json.Number(fmt.Sprintf("%d.%02d", c/100, c%100))
}
