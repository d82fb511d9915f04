package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// maxText bounds a customer's name, a search and a movement's receipt and
// reason, in characters.
const maxText = points.MaxReason

// Pagination of a customer's history.
const (
	DefaultHistory = 20
	DefaultSearch  = 20
)

// customerJSON is a customer as the API shows it.
type customerJSON struct {
	Object string `json:"object"`
	ID     string `json:"id"`
	// Code is the loyalty code the customer's QR encodes.
	Code      string  `json:"code"`
	Name      string  `json:"name"`
	Email     *string `json:"email"`
	Phone     *string `json:"phone"`
	Document  *string `json:"document"`
	CreatedAt string  `json:"created_at"`
}

func customerOut(c *store.Customer) customerJSON {
	return customerJSON{Object: "customer", ID: c.ID, Code: c.Code, Name: c.Name, Email: orNull(c.Email),
		Phone: orNull(c.Phone), Document: orNull(c.Document), CreatedAt: timeOut(c.CreatedAt)}
}

// movementJSON is a ledger entry as the API shows it.
type movementJSON struct {
	Object      string  `json:"object"`
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
	CreatedAt   string  `json:"created_at"`
}

func movementOut(e *store.Entry) movementJSON {
	m := movementJSON{Object: "movement", ID: e.ID, CustomerID: e.CustomerID, Kind: e.Kind, Points: e.Points,
		Receipt: orNull(e.Receipt), Reason: orNull(e.Reason), Store: orNull(e.Store), Actor: e.Actor, CreatedAt: timeOut(e.CreatedAt)}
	if e.AmountCents != 0 {
		a := e.AmountCents
		m.AmountCents = &a
	}
	if e.ExpiresAt != nil {
		t := timeOut(*e.ExpiresAt)
		m.ExpiresAt = &t
	}
	return m
}

// movementResult answers an earn or a redemption.
type movementResult struct {
	Movement movementJSON `json:"movement"`
	Balance  int64        `json:"balance"`
}

type listJSON[T any] struct {
	Object string `json:"object"`
	Data   []T    `json:"data"`
}

// accountJSON answers GET /customers/{id}.
type accountJSON struct {
	Customer customerJSON `json:"customer"`
	Balance  int64        `json:"balance"`
	Expiring expiringJSON `json:"expiring"`
	History  historyJSON  `json:"history"`
}

type expiringJSON struct {
	Points  int64   `json:"points"`
	FirstAt *string `json:"first_at"`
	Until   string  `json:"until"`
}

type historyJSON struct {
	Object     string         `json:"object"`
	Data       []movementJSON `json:"data"`
	HasMore    bool           `json:"has_more"`
	NextBefore *string        `json:"next_before"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timeOut(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// createCustomer: POST /api/v1/customers.
func (s *server) createCustomer(r *http.Request, body []byte) (run, *apiError) {
	var in struct {
		Name     *string `json:"name"`
		Email    *string `json:"email"`
		Phone    *string `json:"phone"`
		Document *string `json:"document"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	var v model.ValidationError
	c := &store.Customer{Name: model.CheckField(&v, "name", str(in.Name), maxText, true, false)}
	if e := strings.TrimSpace(str(in.Email)); e != "" {
		if n, err := model.NormalizeEmail(e); err != nil {
			v.Add("email", "invalid_email")
		} else {
			c.Email = n
		}
	}
	if p := strings.TrimSpace(str(in.Phone)); p != "" {
		if n, err := model.NormalizePhone(p); err != nil {
			v.Add("phone", "invalid_phone")
		} else {
			c.Phone = strings.TrimPrefix(n, "+") // digits, as the store searches them
		}
	}
	if d := strings.TrimSpace(str(in.Document)); d != "" {
		if n, err := model.NormalizeDocument(d); err != nil {
			v.Add("document", "invalid_document")
		} else {
			c.Document = n
		}
	}
	if e := validation(&v); e != nil {
		return nil, e
	}
	return func(ctx context.Context, _ *store.Shop, sourceKey string) answer {
		if sourceKey != "" {
			c.SourceKey = &sourceKey
		}
		err := s.st.CreateCustomer(ctx, c)
		switch {
		case sourceKey != "" && errors.Is(err, store.ErrDuplicate):
			// This request ran before and created the customer (its answer
			// was not recorded): the same customer, not a second one.
			made, err := s.st.CustomerBySourceKey(ctx, sourceKey)
			if err != nil {
				return s.internal(r, "customer by source key", err)
			}
			return answer{http.StatusCreated, customerOut(made)}
		case errors.Is(err, store.ErrConflict):
			return errAnswer(&apiError{status: http.StatusConflict, code: "customer_exists"})
		case err != nil:
			return s.internal(r, "create customer", err)
		}
		return answer{http.StatusCreated, customerOut(c)}
	}, nil
}

// validation turns the failures in v into a 422.
func validation(v *model.ValidationError) *apiError {
	if len(v.Fields) == 0 {
		return nil
	}
	fields := make([]fieldError, len(v.Fields))
	for i, f := range v.Fields {
		fields[i] = fieldError{name: f.Field, reason: f.Code}
	}
	return invalid(http.StatusUnprocessableEntity, fields)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// searchCustomers: GET /api/v1/customers?q=&limit=.
func (s *server) searchCustomers(r *http.Request, _ *store.Shop) answer {
	qs := r.URL.Query()
	var bad []fieldError
	q := strings.TrimSpace(qs.Get("q"))
	switch {
	case q == "":
		bad = append(bad, fieldError{name: "q", reason: "required"})
	case !model.ValidText(q, false):
		bad = append(bad, fieldError{name: "q", reason: "invalid_text"})
	case len([]rune(q)) > maxText:
		bad = append(bad, fieldError{name: "q", reason: "too_long"})
	}
	limit, ok := intParam(qs, "limit", DefaultSearch, store.MaxSearch)
	if !ok {
		bad = append(bad, fieldError{name: "limit", reason: "limit_out_of_range", args: []any{store.MaxSearch}})
	}
	if len(bad) > 0 {
		return errAnswer(invalid(http.StatusBadRequest, bad))
	}
	found, err := s.st.SearchCustomers(r.Context(), q, limit)
	if err != nil {
		return s.internal(r, "search customers", err)
	}
	out := listJSON[customerJSON]{Object: "list", Data: make([]customerJSON, 0, len(found))}
	for i := range found {
		out.Data = append(out.Data, customerOut(&found[i]))
	}
	return answer{http.StatusOK, out}
}

// intParam reads an optional integer parameter of 1–max (def when absent).
func intParam(qs url.Values, name string, def, max int) (int, bool) {
	vals, ok := qs[name]
	if !ok {
		return def, true
	}
	if len(vals) != 1 || len(vals[0]) > 4 {
		return 0, false
	}
	n, err := strconv.Atoi(vals[0])
	if err != nil || n < 1 || n > max {
		return 0, false
	}
	return n, true
}

// showCustomer: GET /api/v1/customers/{id}?before=&limit=.
func (s *server) showCustomer(r *http.Request, _ *store.Shop) answer {
	ref, aerr := parseRef(r)
	if aerr != nil {
		return errAnswer(aerr)
	}
	qs := r.URL.Query()
	var bad []fieldError
	before := ""
	if vals, ok := qs["before"]; ok {
		if len(vals) != 1 || !validID(vals[0]) {
			bad = append(bad, fieldError{name: "before", reason: "invalid_cursor"})
		} else {
			before = vals[0]
		}
	}
	limit, ok := intParam(qs, "limit", DefaultHistory, store.MaxHistory)
	if !ok {
		bad = append(bad, fieldError{name: "limit", reason: "limit_out_of_range", args: []any{store.MaxHistory}})
	}
	if len(bad) > 0 {
		return errAnswer(invalid(http.StatusBadRequest, bad))
	}
	ctx := r.Context()
	var c *store.Customer
	var err error
	if ref.id != "" {
		c, err = s.st.Customer(ctx, ref.id)
	} else {
		c, err = s.st.CustomerBy(ctx, "code", ref.code)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errAnswer(errCustomerNotFound)
	case err != nil:
		return s.internal(r, "customer", err)
	}
	out := accountJSON{Customer: customerOut(c)}
	if out.Balance, err = s.st.Balance(ctx, c.ID); err != nil {
		return s.internal(r, "balance", err)
	}
	until := s.st.Now().Add(ExpiringWindow)
	n, first, err := s.st.Expiring(ctx, c.ID, until)
	if err != nil {
		return s.internal(r, "expiring points", err)
	}
	out.Expiring = expiringJSON{Points: n, Until: timeOut(until)}
	if !first.IsZero() {
		t := timeOut(first)
		out.Expiring.FirstAt = &t
	}
	entries, more, err := s.st.HistoryPage(ctx, c.ID, before, limit)
	if err != nil {
		return s.internal(r, "history", err)
	}
	out.History = historyJSON{Object: "list", Data: make([]movementJSON, 0, len(entries)), HasMore: more}
	for i := range entries {
		out.History.Data = append(out.History.Data, movementOut(&entries[i]))
	}
	if more {
		out.History.NextBefore = &entries[len(entries)-1].ID
	}
	return answer{http.StatusOK, out}
}

// earnIn is the body of an earn.
type earnIn struct {
	Points      *int64  `json:"points"`
	AmountCents *int64  `json:"amount_cents"`
	Receipt     *string `json:"receipt"`
	Reason      *string `json:"reason"`
}

// earn: POST /api/v1/customers/{id}/points, {"points": n} or
// {"amount_cents": n}, with an optional receipt and reason.
func (s *server) earn(r *http.Request, body []byte) (run, *apiError) {
	ref, aerr := parseRef(r)
	if aerr != nil {
		return nil, aerr
	}
	var in earnIn
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	var v model.ValidationError
	switch {
	case (in.Points == nil) == (in.AmountCents == nil):
		v.Add("points", "points_or_amount")
	case in.Points != nil && (*in.Points < 1 || *in.Points > points.MaxPoints):
		v.Add("points", "points_out_of_range")
	case in.AmountCents != nil && (*in.AmountCents < 1 || *in.AmountCents > points.MaxAmountCents):
		v.Add("amount_cents", "amount_out_of_range")
	}
	receipt := model.CheckField(&v, "receipt", str(in.Receipt), maxText, false, false)
	reason := model.CheckField(&v, "reason", str(in.Reason), maxText, false, false)
	if e := validation(&v); e != nil {
		return nil, e
	}
	return func(ctx context.Context, shop *store.Shop, sourceKey string) answer {
		id, err := s.resolve(ctx, ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errAnswer(errCustomerNotFound)
		case err != nil:
			return s.internal(r, "customer by code", err)
		}
		set, err := s.st.Settings(ctx)
		if err != nil {
			return s.internal(r, "settings", err)
		}
		m := movement(shop, id, receipt, reason, sourceKey)
		if in.AmountCents != nil {
			n, err := set.ForPurchase(*in.AmountCents)
			switch {
			case errors.Is(err, points.ErrBelowMinimum):
				return errAnswer(&apiError{status: http.StatusUnprocessableEntity, code: "below_minimum_purchase",
					args: []any{points.FormatCents(set.MinPurchaseCents)}})
			case err != nil:
				return errAnswer(invalid(http.StatusUnprocessableEntity, []fieldError{{name: "amount_cents", reason: "amount_out_of_range"}}))
			case n == 0:
				return errAnswer(&apiError{status: http.StatusUnprocessableEntity, code: "no_points_earned",
					args: []any{points.FormatCents(set.CentsPerPoint)}})
			}
			m.Points, m.AmountCents = n, *in.AmountCents
		} else {
			m.Points = *in.Points
		}
		m.ExpiresAt = set.ExpiresAt(s.st.Now())
		res, err := s.st.Earn(ctx, store.KindEarn, m)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errAnswer(errCustomerNotFound)
		case sourceKey != "" && errors.Is(err, store.ErrDuplicate):
			// The ledger's unique source key: this request's movement
			// exists already.
			return s.alreadyApplied(ctx, r, sourceKey)
		case err != nil:
			return s.internal(r, "earn", err)
		}
		return answer{http.StatusCreated, movementResult{Movement: movementOut(&res.Entry), Balance: res.Balance}}
	}, nil
}

// redeem: POST /api/v1/customers/{id}/redemptions, {"points": n} with an
// optional receipt and reason.
func (s *server) redeem(r *http.Request, body []byte) (run, *apiError) {
	ref, aerr := parseRef(r)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		Points  *int64  `json:"points"`
		Receipt *string `json:"receipt"`
		Reason  *string `json:"reason"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	var v model.ValidationError
	switch {
	case in.Points == nil:
		v.Add("points", "required")
	case *in.Points < 1 || *in.Points > points.MaxPoints:
		v.Add("points", "points_out_of_range")
	}
	receipt := model.CheckField(&v, "receipt", str(in.Receipt), maxText, false, false)
	reason := model.CheckField(&v, "reason", str(in.Reason), maxText, false, false)
	if e := validation(&v); e != nil {
		return nil, e
	}
	return func(ctx context.Context, shop *store.Shop, sourceKey string) answer {
		id, err := s.resolve(ctx, ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errAnswer(errCustomerNotFound)
		case err != nil:
			return s.internal(r, "customer by code", err)
		}
		m := movement(shop, id, receipt, reason, sourceKey)
		m.Points = *in.Points
		res, err := s.st.Spend(ctx, store.KindRedeem, m)
		switch {
		case errors.Is(err, store.ErrInsufficient):
			return errAnswer(&apiError{status: http.StatusUnprocessableEntity, code: "insufficient_balance"})
		case errors.Is(err, store.ErrNotFound):
			return errAnswer(errCustomerNotFound)
		case sourceKey != "" && errors.Is(err, store.ErrDuplicate):
			return s.alreadyApplied(ctx, r, sourceKey)
		case err != nil:
			return s.internal(r, "redeem", err)
		}
		return answer{http.StatusCreated, movementResult{Movement: movementOut(&res.Entry), Balance: res.Balance}}
	}, nil
}

func movement(shop *store.Shop, customerID, receipt, reason, sourceKey string) store.Movement {
	return store.Movement{CustomerID: customerID, Receipt: receipt, Reason: reason, Store: shop.Name,
		Actor: "api:" + shop.Name, SourceKey: sourceKey}
}

// alreadyApplied answers a request whose movement the ledger already
// holds under its source key (its first attempt moved the points but
// failed before its answer was recorded, and released its key): the
// movement, with the balance as it is now.
func (s *server) alreadyApplied(ctx context.Context, r *http.Request, sourceKey string) answer {
	e, err := s.st.EntryBySourceKey(ctx, sourceKey)
	if err != nil {
		return s.internal(r, "movement by source key", err)
	}
	bal, err := s.st.Balance(ctx, e.CustomerID)
	if err != nil {
		return s.internal(r, "balance", err)
	}
	return answer{http.StatusCreated, movementResult{Movement: movementOut(e), Balance: bal}}
}
