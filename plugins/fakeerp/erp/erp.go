// Package erp is a fake ERP for the finance plugin's tests and demo: a real
// HTTP server whose public API is modelled on Sienge's (the ERP many
// Brazilian incorporadoras use; docs/financeiro.md maps its fields), seeded
// with the demo tenant's customers, and able to misbehave on demand.
//
// The API lives under /{subdomain}/public/api/v1/, answers HTTP Basic with
// one API user, pages lists with offset and limit (at most MaxLimit)
// answering {"resultSetMetadata":{"count","offset","limit"},"results":[…]},
// and limits each credential to a number of requests per minute (429 with
// Retry-After past it). Amounts are JSON numbers with two decimals, dates
// are YYYY-MM-DD, as Sienge writes them.
//
//	GET  customers?cpf=…|cnpj=…
//	GET  accounts-receivable/receivable-bills?customerId=…
//	GET  accounts-receivable/receivable-bills/{billId}/installments
//	GET  current-debit-balance?customerId=…
//	POST accounts-receivable/receivable-bills/{billId}/installments/{installmentId}/payment-slips
//
// The last registers a re-issued slip (segunda via) and is idempotent: the
// Idempotency-Key header names the registration, and a repeated key returns
// the first registration (200) instead of a new one (201).
//
// Outside the API, /_control/ sets faults (see Fault) and reads counters;
// it has no authentication, so the server only listens on loopback.
package erp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits and defaults of the API.
const (
	DefaultLimit         = 100 // items per page when limit is absent
	MaxLimit             = 200 // items per page at most
	DefaultRatePerMinute = 600 // requests per credential and minute
	MaxBody              = 16 << 10
	// HugeBodyBytes is the size of the body the "huge" fault sends: more
	// than any plugin may read (1 MiB).
	HugeBodyBytes = 3 << 20
	// MaxHang bounds the "hang" fault when the client never gives up.
	MaxHang = time.Minute
)

// Config configures a Server.
type Config struct {
	Subdomain     string // first path segment, such as "exemplo"
	User          string // the API user
	Password      string // its password
	RatePerMinute int    // 0 means DefaultRatePerMinute
	// Now is the clock the seed and the rate limit read (time.Now when
	// nil). The seed's due dates are relative to the day it returns.
	Now func() time.Time
	// Seed is the data the server starts with; nil means DemoSeed.
	Seed *Data
}

// Fault modes (Fault.Mode).
const (
	FaultNone         = ""
	FaultSlow         = "slow"         // answer normally after Delay
	FaultError        = "error"        // 500 with an HTML error page
	FaultHang         = "hang"         // never answer (until the client gives up, or MaxHang)
	FaultMalformed    = "malformed"    // 200 with a body that is not JSON
	FaultHuge         = "huge"         // 200 with HugeBodyBytes of JSON
	FaultRateLimit    = "ratelimit"    // 429 with Retry-After
	FaultUnauthorized = "unauthorized" // the credential was rotated: 401 for the configured one
)

// Faults lists the fault modes, for validation and help.
var Faults = []string{FaultNone, FaultSlow, FaultError, FaultHang, FaultMalformed, FaultHuge, FaultRateLimit, FaultUnauthorized}

// Fault makes the API misbehave. It applies to every API request (not to
// /_control/), or to those of one Endpoint, until replaced.
type Fault struct {
	Mode       string `json:"mode"`
	DelayMS    int    `json:"delay_ms,omitempty"`    // FaultSlow
	RetryAfter int    `json:"retry_after,omitempty"` // FaultRateLimit, seconds (default 30)
	// Endpoint, when set, limits the fault to one of Endpoints: a slow
	// installments list behind a quick customer lookup, say.
	Endpoint string `json:"endpoint,omitempty"`
}

// Endpoint names, for Fault.Endpoint.
const (
	EndpointCustomers    = "customers"
	EndpointBills        = "receivable-bills"
	EndpointInstallments = "installments"
	EndpointDebitBalance = "current-debit-balance"
	EndpointPaymentSlips = "payment-slips"
)

// Endpoints lists the endpoint names a fault may be limited to.
var Endpoints = []string{EndpointCustomers, EndpointBills, EndpointInstallments, EndpointDebitBalance, EndpointPaymentSlips}

// endpointOf names the endpoint of an API path below the base path ("" for
// none of them).
func endpointOf(rest string) string {
	switch {
	case rest == "customers":
		return EndpointCustomers
	case rest == "accounts-receivable/receivable-bills":
		return EndpointBills
	case rest == "current-debit-balance":
		return EndpointDebitBalance
	case strings.HasSuffix(rest, "/payment-slips"):
		return EndpointPaymentSlips
	case strings.HasSuffix(rest, "/installments"):
		return EndpointInstallments
	}
	return ""
}

// Stats counts what the server did.
type Stats struct {
	Requests      int `json:"requests"`
	Registrations int `json:"registrations"` // payment slips registered (not replays)
	Replays       int `json:"replays"`       // registrations answered from an Idempotency-Key
	Hanging       int `json:"hanging"`       // requests held by the "hang" fault right now
}

// Server is the fake ERP. It is safe for concurrent use.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu          sync.Mutex
	data        *Data
	fault       Fault
	password    string
	stats       Stats
	window      time.Time // start of the current rate-limit minute
	windowCount int
	slips       map[string]*PaymentSlip // by Idempotency-Key
	nextSlipID  int
	nextOurNum  int64
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = DefaultRatePerMinute
	}
	if cfg.Subdomain == "" {
		cfg.Subdomain = DemoSubdomain
	}
	data := cfg.Seed
	if data == nil {
		data = DemoSeed(cfg.Now())
	}
	s := &Server{cfg: cfg, data: data, password: cfg.Password, slips: map[string]*PaymentSlip{},
		nextSlipID: 1, nextOurNum: 1}
	mux := http.NewServeMux()
	base := "/" + cfg.Subdomain + "/public/api/v1/"
	mux.HandleFunc("GET "+base+"customers", s.customers)
	mux.HandleFunc("GET "+base+"accounts-receivable/receivable-bills", s.bills)
	mux.HandleFunc("GET "+base+"accounts-receivable/receivable-bills/{bill}/installments", s.installments)
	mux.HandleFunc("GET "+base+"current-debit-balance", s.debitBalance)
	mux.HandleFunc("POST "+base+"accounts-receivable/receivable-bills/{bill}/installments/{inst}/payment-slips", s.registerSlip)
	s.mux = mux
	return s
}

// BasePath is the API's path prefix, such as "/exemplo/public/api/v1/".
func (s *Server) BasePath() string { return "/" + s.cfg.Subdomain + "/public/api/v1/" }

// SetFault replaces the current fault; Fault{} ends it.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// SetPassword rotates the API user's password.
func (s *Server) SetPassword(p string) {
	s.mu.Lock()
	s.password = p
	s.mu.Unlock()
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ServeHTTP serves the API and the control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_control/") {
		s.control(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, s.BasePath()) {
		apiError(w, http.StatusNotFound, "not found", "Recurso não encontrado.")
		return
	}
	s.mu.Lock()
	s.stats.Requests++
	f := s.fault
	password := s.password
	limited, retry := s.rateLimited()
	s.mu.Unlock()
	if f.Endpoint != "" && f.Endpoint != endpointOf(strings.TrimPrefix(r.URL.Path, s.BasePath())) {
		f = Fault{}
	}
	if !s.authorized(r, password, f.Mode == FaultUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
		apiError(w, http.StatusUnauthorized, "invalid credentials", "Usuário ou senha da API inválidos.")
		return
	}
	if limited {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		apiError(w, http.StatusTooManyRequests, "rate limit exceeded", "Limite de requisições por minuto excedido.")
		return
	}
	switch f.Mode {
	case FaultSlow:
		select {
		case <-time.After(time.Duration(f.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	case FaultError:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "<html><body><h1>500 Internal Server Error</h1><pre>java.lang.NullPointerException\n\tat br.com.erp.Receivable.find(Receivable.java:42)</pre></body></html>")
		return
	case FaultHang:
		// Read the body first: the server notices a client that gives up
		// (and cancels r.Context) only once the body is consumed.
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, MaxBody))
		ctx, cancel := context.WithTimeout(r.Context(), MaxHang)
		defer cancel()
		s.mu.Lock()
		s.stats.Hanging++
		s.mu.Unlock()
		<-ctx.Done()
		s.mu.Lock()
		s.stats.Hanging--
		s.mu.Unlock()
		return
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"resultSetMetadata":{"count":1,"offset":0,"limit":100},"results":[{"id":1,"name":"Carla`)
		return
	case FaultHuge:
		w.Header().Set("Content-Type", "application/json")
		pad := strings.Repeat("x", 1<<16)
		fmt.Fprint(w, `{"results":[`)
		for n := 0; n < HugeBodyBytes/len(pad); n++ {
			if n > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, "%q", pad)
		}
		fmt.Fprint(w, `]}`)
		return
	case FaultRateLimit:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 30
		}
		w.Header().Set("Retry-After", strconv.Itoa(ra))
		apiError(w, http.StatusTooManyRequests, "rate limit exceeded", "Limite de requisições por minuto excedido.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized checks HTTP Basic in constant time. With rotated set, the
// configured password no longer works (as after a rotation nobody told the
// plugin about).
func (s *Server) authorized(r *http.Request, password string, rotated bool) bool {
	u, p, ok := r.BasicAuth()
	if !ok || rotated {
		return false
	}
	okUser := subtle.ConstantTimeCompare([]byte(u), []byte(s.cfg.User))
	okPass := subtle.ConstantTimeCompare([]byte(p), []byte(password))
	return okUser&okPass == 1
}

// rateLimited counts the request in the current minute; s.mu is held.
func (s *Server) rateLimited() (bool, int) {
	now := s.cfg.Now()
	minute := now.Truncate(time.Minute)
	if !minute.Equal(s.window) {
		s.window, s.windowCount = minute, 0
	}
	s.windowCount++
	if s.windowCount > s.cfg.RatePerMinute {
		return true, int((minute.Add(time.Minute).Sub(now) + time.Second - 1) / time.Second)
	}
	return false, 0
}

// apiError writes an error the way Sienge does: status, a message for the
// developer and one for the user.
func apiError(w http.ResponseWriter, status int, dev, client string) {
	writeJSON(w, status, map[string]any{"status": status, "developerMessage": dev, "clientMessage": client})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Page is a page of a list.
type Page[T any] struct {
	Meta    Meta `json:"resultSetMetadata"`
	Results []T  `json:"results"`
}

// Meta is a page's position in the whole list.
type Meta struct {
	Count  int `json:"count"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// page cuts items by the request's offset and limit, or writes a 400.
func page[T any](w http.ResponseWriter, r *http.Request, items []T) (Page[T], bool) {
	q := r.URL.Query()
	offset, limit := 0, DefaultLimit
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "offset must be a non-negative integer", "Parâmetro offset inválido.")
			return Page[T]{}, false
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("limit must be between 1 and %d", MaxLimit), "Parâmetro limit inválido.")
			return Page[T]{}, false
		}
		limit = n
	}
	p := Page[T]{Meta: Meta{Count: len(items), Offset: offset, Limit: limit}, Results: []T{}}
	if offset < len(items) {
		p.Results = items[offset:min(len(items), offset+limit)]
	}
	return p, true
}

// taxID is a CPF (11 digits) or a CNPJ (14 characters: the alphanumeric
// CNPJ of IN RFB 2.229/2024 has letters in its first twelve).
var taxID = regexp.MustCompile(`^[0-9]{11}$|^[0-9A-Z]{12}[0-9]{2}$`)

func (s *Server) customers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	doc := q.Get("cpf")
	if doc == "" {
		doc = q.Get("cnpj")
	}
	doc = strings.ToUpper(strings.NewReplacer(".", "", "-", "", "/", "").Replace(doc))
	if doc != "" && !taxID.MatchString(doc) {
		apiError(w, http.StatusBadRequest, "cpf must have 11 digits and cnpj 14 characters", "CPF ou CNPJ inválido.")
		return
	}
	s.mu.Lock()
	var out []Customer
	for _, c := range s.data.Customers {
		if doc == "" || c.CPF == doc || c.CNPJ == doc {
			out = append(out, c)
		}
	}
	s.mu.Unlock()
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func intParam(w http.ResponseWriter, v, name string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		apiError(w, http.StatusBadRequest, name+" must be a positive integer", "Parâmetro "+name+" inválido.")
		return 0, false
	}
	return n, true
}

func (s *Server) bills(w http.ResponseWriter, r *http.Request) {
	cid, ok := intParam(w, r.URL.Query().Get("customerId"), "customerId")
	if !ok {
		return
	}
	s.mu.Lock()
	var out []ReceivableBill
	for _, b := range s.data.Bills {
		if b.CustomerID == cid {
			out = append(out, b)
		}
	}
	s.mu.Unlock()
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (s *Server) bill(w http.ResponseWriter, id string) (ReceivableBill, bool) {
	n, ok := intParam(w, id, "receivableBillId")
	if !ok {
		return ReceivableBill{}, false
	}
	for _, b := range s.data.Bills {
		if b.ID == n {
			return b, true
		}
	}
	apiError(w, http.StatusNotFound, "receivable bill not found", "Título não encontrado.")
	return ReceivableBill{}, false
}

func (s *Server) installments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.bill(w, r.PathValue("bill"))
	var out []Installment
	if ok {
		out = append(out, s.data.Installments[b.ID]...)
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	if p, ok := page(w, r, out); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

// DebitBalance is a customer's current debit balance (saldo devedor
// presente): what is open, and how much of it is overdue.
type DebitBalance struct {
	CustomerID          int    `json:"customerId"`
	OpenInstallments    int    `json:"openInstallmentsNumber"`
	OpenBalance         Amount `json:"balanceDue"`
	OverdueBalance      Amount `json:"overdueBalance"`
	OverdueInstallments int    `json:"overdueInstallmentsNumber"`
}

func (s *Server) debitBalance(w http.ResponseWriter, r *http.Request) {
	cid, ok := intParam(w, r.URL.Query().Get("customerId"), "customerId")
	if !ok {
		return
	}
	today := s.cfg.Now().In(Zone).Format(time.DateOnly) // the customers' calendar day
	d := DebitBalance{CustomerID: cid}
	s.mu.Lock()
	for _, b := range s.data.Bills {
		if b.CustomerID != cid {
			continue
		}
		for _, in := range s.data.Installments[b.ID] {
			if in.Situation != SituationOpen {
				continue
			}
			d.OpenInstallments++
			d.OpenBalance += in.Balance
			if in.DueDate < today {
				d.OverdueInstallments++
				d.OverdueBalance += in.Balance
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, Page[DebitBalance]{Meta: Meta{Count: 1, Limit: DefaultLimit}, Results: []DebitBalance{d}})
}

// SlipRequest is the body of a payment-slip registration.
type SlipRequest struct {
	DueDate        string `json:"dueDate"`
	Amount         Amount `json:"amount"`
	FineAmount     Amount `json:"fineAmount"`
	InterestAmount Amount `json:"interestAmount"`
}

// PaymentSlip is a registered re-issued slip.
type PaymentSlip struct {
	ID             int    `json:"paymentSlipId"`
	BillID         int    `json:"receivableBillId"`
	InstallmentID  int    `json:"installmentId"`
	DueDate        string `json:"dueDate"`
	Amount         Amount `json:"amount"`
	FineAmount     Amount `json:"fineAmount"`
	InterestAmount Amount `json:"interestAmount"`
	// OurNumber is the sequence the bank knows the slip by (the nosso
	// número without the convênio); the plugin composes the barcode.
	OurNumber int64  `json:"ourNumber"`
	PixKey    string `json:"pixKey,omitempty"`
	URLReport string `json:"urlReport"`
	CreatedAt string `json:"createdAt"`
}

var keyRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

func (s *Server) registerSlip(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if !keyRe.MatchString(key) {
		apiError(w, http.StatusBadRequest, "Idempotency-Key header of 8 to 128 letters, digits or ._:- is required", "Chave de idempotência ausente.")
		return
	}
	var req SlipRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid body: "+err.Error(), "Requisição inválida.")
		return
	}
	due, err := time.Parse(time.DateOnly, req.DueDate)
	if err != nil {
		apiError(w, http.StatusBadRequest, "dueDate must be YYYY-MM-DD", "Data de vencimento inválida.")
		return
	}
	if req.Amount.Cents() <= 0 || req.FineAmount.Cents() < 0 || req.InterestAmount.Cents() < 0 {
		apiError(w, http.StatusBadRequest, "amounts must be positive", "Valor inválido.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bill(w, r.PathValue("bill"))
	if !ok {
		return
	}
	iid, ok := intParam(w, r.PathValue("inst"), "installmentId")
	if !ok {
		return
	}
	var in *Installment
	for i := range s.data.Installments[b.ID] {
		if s.data.Installments[b.ID][i].ID == iid {
			in = &s.data.Installments[b.ID][i]
		}
	}
	if in == nil {
		apiError(w, http.StatusNotFound, "installment not found", "Parcela não encontrada.")
		return
	}
	if prev, ok := s.slips[key]; ok {
		if prev.BillID != b.ID || prev.InstallmentID != iid || prev.DueDate != req.DueDate || prev.Amount != req.Amount {
			apiError(w, http.StatusConflict, "Idempotency-Key reused for another request", "Requisição repetida com outros dados.")
			return
		}
		s.stats.Replays++
		writeJSON(w, http.StatusOK, prev)
		return
	}
	if in.Situation != SituationOpen {
		apiError(w, http.StatusUnprocessableEntity, "installment is not open", "Esta parcela já foi paga.")
		return
	}
	if due.Before(dateOf(s.cfg.Now().In(Zone))) {
		apiError(w, http.StatusUnprocessableEntity, "dueDate is in the past", "A data de vencimento já passou.")
		return
	}
	p := &PaymentSlip{ID: s.nextSlipID, BillID: b.ID, InstallmentID: iid, DueDate: req.DueDate, Amount: req.Amount,
		FineAmount: req.FineAmount, InterestAmount: req.InterestAmount, OurNumber: s.data.OurNumberBase + s.nextOurNum,
		PixKey: b.PixKey, CreatedAt: s.cfg.Now().UTC().Format(time.RFC3339)}
	p.URLReport = fmt.Sprintf("%spayment-slips/%d/report.pdf", s.BasePath(), p.ID)
	s.nextSlipID++
	s.nextOurNum++
	s.slips[key] = p
	s.stats.Registrations++
	writeJSON(w, http.StatusCreated, p)
}

// control serves /_control/: GET stats, POST fault (a Fault as JSON), POST
// password ({"password": …}).
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_control/stats":
		writeJSON(w, http.StatusOK, s.Stats())
	case r.Method == http.MethodPost && r.URL.Path == "/_control/fault":
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil || !validFault(f) {
			apiError(w, http.StatusBadRequest, "body must be {\"mode\": one of "+strings.Join(Faults[1:], ", ")+" or \"\", \"delay_ms\": 0-600000, \"retry_after\": 0-3600, "+
				"\"endpoint\": one of "+strings.Join(Endpoints, ", ")+" or absent for all}", "Falha desconhecida.")
			return
		}
		s.SetFault(f)
		writeJSON(w, http.StatusOK, f)
	case r.Method == http.MethodPost && r.URL.Path == "/_control/password":
		var body struct {
			Password string `json:"password"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody)).Decode(&body); err != nil || body.Password == "" {
			apiError(w, http.StatusBadRequest, `body must be {"password": "…"}`, "Senha inválida.")
			return
		}
		s.SetPassword(body.Password)
		w.WriteHeader(http.StatusNoContent)
	default:
		apiError(w, http.StatusNotFound, "GET /_control/stats, POST /_control/fault, POST /_control/password", "Recurso não encontrado.")
	}
}

func validFault(f Fault) bool {
	known := false
	for _, m := range Faults {
		known = known || m == f.Mode
	}
	endpoint := f.Endpoint == ""
	for _, e := range Endpoints {
		endpoint = endpoint || e == f.Endpoint
	}
	return known && endpoint && f.DelayMS >= 0 && f.DelayMS <= 600_000 && f.RetryAfter >= 0 && f.RetryAfter <= 3600
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
