package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/openapicheck"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/api"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// clock is a movable clock: the store's, for key expiry and expiring
// points.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// env is a real API server on 127.0.0.1 over a fresh database, with one
// store token.
type env struct {
	driver string
	st     *store.Store
	clk    *clock
	srv    *httptest.Server
	client *http.Client
	token  string
	shop   *store.Shop
}

func start(t testing.TB, driver string) *env {
	t.Helper()
	e := &env{driver: driver, clk: &clock{}}
	st, err := store.Open(context.Background(), testdb.URL(t, driver), store.Options{Logger: testdb.Logger(t), Now: e.clk.now})
	if err != nil {
		t.Fatalf("open the %s store: %v", driver, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	e.srv = httptest.NewServer(newMux(api.New(api.Options{Store: st, Log: testdb.Logger(t)})))
	t.Cleanup(e.srv.Close)
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	e.client = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	e.token, e.shop = e.newShop(t, "Loja Centro")
	return e
}

// newMux mounts the API as the app does.
func newMux(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	return mux
}

// newShop creates a store token as the staff pages do.
func (e *env) newShop(t testing.TB, name string) (string, *store.Shop) {
	t.Helper()
	tok, hash := store.NewShopToken()
	shop, err := e.st.CreateShop(context.Background(), name, hash, "gestor@demo.portico.test")
	testdb.Must(t, err, "create shop")
	return tok, shop
}

// forEachDriver runs f on SQLite and on PostgreSQL, one after the other
// (each PostgreSQL store may open 32 connections).
func forEachDriver(t *testing.T, f func(t *testing.T, e *env)) {
	for _, d := range testdb.Drivers {
		t.Run(d, func(t *testing.T) { f(t, start(t, d)) })
	}
}

// exchange is one real request and its answer, as openapicheck holds it
// to the document.
type exchange struct{ openapicheck.Exchange }

func (x *exchange) errorCode() string { return x.ErrorCode() }

func (x *exchange) errorMessage() string {
	var b struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(x.ResBody, &b)
	return b.Error.Message
}

func (x *exchange) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(x.ResBody, v); err != nil {
		t.Fatalf("%s: decode: %v", x, err)
	}
}

// with returns a copy of x whose JSON body edit changed, for the checks
// that a wrong answer is caught.
func (x *exchange) with(t *testing.T, edit func(body map[string]any)) *exchange {
	t.Helper()
	var body map[string]any
	x.decode(t, &body)
	edit(body)
	out := *x
	out.ResHeader = x.ResHeader.Clone()
	var err error
	out.ResBody, err = json.Marshal(body)
	testdb.Must(t, err, "marshal")
	return &out
}

// send sends a real request with the env's token. body is nil, a string
// (sent as is) or a value sent as JSON; a body gets Content-Type
// application/json. header is name/value pairs that replace the
// defaults; an empty value removes the header.
func (e *env) send(t testing.TB, method, path string, body any, header ...string) *exchange {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		testdb.Must(t, err, "marshal body")
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(raw))
	testdb.Must(t, err, "new request")
	if raw == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	sent := req.Header.Clone()
	res, err := e.client.Do(req)
	testdb.Must(t, err, "%s %s", method, path)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	testdb.Must(t, err, "read the answer")
	return &exchange{openapicheck.Exchange{Method: method, Path: path, Header: sent, Body: raw, Status: res.StatusCode, ResHeader: res.Header, ResBody: b}}
}

// expect sends a request, checks the status and error code ("" for a
// success) and validates the exchange against the OpenAPI document: the
// request too when validRequest.
func (e *env) expect(t testing.TB, status int, code string, validRequest bool, method, path string, body any, header ...string) *exchange {
	t.Helper()
	x := e.send(t, method, path, body, header...)
	if x.Status != status || x.errorCode() != code {
		t.Fatalf("%s: want %d %q", x, status, code)
	}
	if err := loadSpec(t, e).check(x, validRequest); err != nil {
		t.Errorf("%s: %v", x, err)
	}
	return x
}

// spec is the OpenAPI document the server serves, validated
// (openapicheck).
type spec struct{ *openapicheck.Spec }

var (
	specOnce sync.Once
	theSpec  *spec
	specErr  error
)

// loadSpec fetches the document from a server (once per test binary: it
// is embedded, so every server serves the same) and validates it.
func loadSpec(t testing.TB, e *env) *spec {
	t.Helper()
	specOnce.Do(func() {
		res, err := http.Get(e.srv.URL + "/api/v1/openapi.json")
		if err != nil {
			specErr = err
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			specErr = err
			return
		}
		sp, err := openapicheck.Load(b)
		if err != nil {
			specErr = err
			return
		}
		theSpec = &spec{sp}
	})
	if specErr != nil {
		t.Fatalf("the OpenAPI document: %v", specErr)
	}
	return theSpec
}

// check holds exchange x to the document (openapicheck.Spec.Check). The
// mux's own 404 not_found and 405 (no operation) are checked for their
// shape only.
func (s *spec) check(x *exchange, validRequest bool) error {
	err := s.Check(&x.Exchange, validRequest)
	if errors.Is(err, openapicheck.ErrNoOperation) {
		if c := x.errorCode(); (c == "not_found" || c == "method_not_allowed") && x.ResHeader.Get("Cache-Control") == "no-store" {
			return nil
		}
	}
	return err
}

// customerOut is a customer as the API answers it.
type customerOut struct {
	Object, ID, Code, Name string
	Email, Phone, Document *string
	CreatedAt              string `json:"created_at"`
}

type movementOut struct {
	ID          string  `json:"id"`
	CustomerID  string  `json:"customer_id"`
	Kind        string  `json:"kind"`
	Points      int64   `json:"points"`
	AmountCents *int64  `json:"amount_cents"`
	Receipt     *string `json:"receipt"`
	Reason      *string `json:"reason"`
	Store       *string `json:"store"`
	Actor       string  `json:"actor"`
	ExpiresAt   *string `json:"expires_at"`
}

type resultOut struct {
	Movement movementOut `json:"movement"`
	Balance  int64       `json:"balance"`
}

type accountOut struct {
	Customer customerOut `json:"customer"`
	Balance  int64       `json:"balance"`
	Expiring struct {
		Points  int64   `json:"points"`
		FirstAt *string `json:"first_at"`
		Until   string  `json:"until"`
	} `json:"expiring"`
	History struct {
		Data       []movementOut `json:"data"`
		HasMore    bool          `json:"has_more"`
		NextBefore *string       `json:"next_before"`
	} `json:"history"`
}

// createCustomer creates a customer through the API.
func (e *env) createCustomer(t testing.TB, body map[string]any) customerOut {
	t.Helper()
	x := e.expect(t, http.StatusCreated, "", true, "POST", "/api/v1/customers", body)
	var c customerOut
	x.decode(t, &c)
	return c
}

// balanceAndLedger returns a customer's balance and ledger sum.
func (e *env) balanceAndLedger(t testing.TB, id string) (int64, int64) {
	t.Helper()
	bal, err := e.st.Balance(context.Background(), id)
	testdb.Must(t, err, "balance")
	sum, err := e.st.LedgerSum(context.Background(), id)
	testdb.Must(t, err, "ledger sum")
	return bal, sum
}

// ledgerCount counts a customer's ledger entries.
func (e *env) ledgerCount(t testing.TB, id string) int {
	t.Helper()
	h, err := e.st.History(context.Background(), id, "", store.MaxHistory)
	testdb.Must(t, err, "history")
	return len(h)
}

func key(prefix string, i int) string {
	return fmt.Sprintf("%s-%d-%d", prefix, i, time.Now().UnixNano())
}

func pointsPath(id string) string      { return "/api/v1/customers/" + id + "/points" }
func redemptionsPath(id string) string { return "/api/v1/customers/" + id + "/redemptions" }

func contains(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }
