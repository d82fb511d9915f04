package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// actorOf names the staff member a movement is recorded under: "who did
// what" on the customer's page.
func actorOf(s *Session) string {
	name := strings.TrimSpace(launchkit.Str(s.User.Name))
	email := strings.TrimSpace(launchkit.Str(s.User.Email))
	out := "gestor"
	switch {
	case name != "" && email != "":
		out = name + " <" + email + ">"
	case name != "":
		out = name
	case email != "":
		out = email
	}
	if utf8.RuneCountInString(out) > points.MaxReason {
		out = string([]rune(out)[:points.MaxReason])
	}
	return out
}

// searchData is the staff home's.
type searchData struct {
	Query    string
	Searched bool
	Results  []store.Customer
}

// search is the staff home: a search box (name, e-mail, phone, CPF or card
// code) and, where the browser can, the QR scanner. A query that is
// exactly a card's code (a scan, or a typed code) opens that customer.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, s *Session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 || model.CheckText(q, false) != nil {
		q = ""
	}
	d := searchData{Query: q, Searched: q != ""}
	if q != "" {
		res, err := h.o.Store.SearchCustomers(r.Context(), q, store.MaxSearch)
		if err != nil {
			h.internal(w, r, s, err)
			return
		}
		code := store.NormalizeCode(q)
		for _, c := range res {
			if c.Code == code {
				redirect(w, r, s, "/clientes/"+c.ID)
				return
			}
		}
		d.Results = res
	}
	h.render(w, http.StatusOK, "staff_search.html", h.newPage(s, "staff.title", "customers", d))
}

// scanPage is the QR scanner on a page of its own, for a browser that
// reads QR codes but not inside the portal's frame (the portal grants the
// frame no camera): the search page opens it in a new window.
func (h *Handler) scanPage(w http.ResponseWriter, _ *http.Request, s *Session) {
	h.render(w, http.StatusOK, "scan.html", h.newPage(s, "scan.title", "customers", nil))
}

// earnForm and spendForm are the staff's forms, kept to show again with an
// error.
type earnForm struct {
	Mode, Amount, Points, Receipt, Reason, Shop string
	Once                                        string // see newOnce
	Err                                         string
}

type spendForm struct {
	Kind, Points, Reason, Shop string
	Once                       string // see newOnce
	Err                        string
}

// newOnce returns a form's one-time token: a hidden field of the earn and
// spend forms that becomes the movement's ledger source key ("web:" and
// the token). A double click, or a browser sending the form again after a
// dropped connection, posts the same token, and the ledger's unique source
// key applies the movement once: the second post finds it done
// (store.ErrDuplicate) and says so. A form shown again after an error keeps
// its token, since nothing was applied.
func newOnce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// onceKey checks a posted one-time token and returns the source key it
// gives; ok is false for a missing or malformed one.
func onceKey(v string) (key string, ok bool) {
	if len(v) != 32 || strings.Trim(v, "0123456789abcdef") != "" {
		return "", false
	}
	return "web:" + v, true
}

// detailData is the customer detail's.
type detailData struct {
	Customer *store.Customer
	Balance  int64
	Expiring int64
	FirstDue time.Time
	Settings points.Settings
	Shops    []store.Shop
	History  history
	Earn     earnForm
	Spend    spendForm
}

// loadDetail reads everything the customer detail shows; nil after it
// answered (not found, or an error).
func (h *Handler) loadDetail(w http.ResponseWriter, r *http.Request, s *Session) *detailData {
	ctx := r.Context()
	c, err := h.o.Store.Customer(ctx, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, s.Lang, http.StatusNotFound, "not_found", nil)
		return nil
	}
	d := &detailData{Customer: c, Earn: earnForm{Mode: "purchase", Once: newOnce()}, Spend: spendForm{Kind: store.KindRedeem, Once: newOnce()}}
	if err == nil {
		d.Balance, err = h.o.Store.Balance(ctx, c.ID)
	}
	if err == nil {
		d.Expiring, d.FirstDue, err = h.o.Store.Expiring(ctx, c.ID, h.o.Now().Add(ExpiringWindow))
	}
	if err == nil {
		d.Settings, err = h.o.Store.Settings(ctx)
	}
	if err == nil {
		d.Shops, err = h.activeShops(r)
	}
	if err == nil {
		d.History, err = h.loadHistory(ctx, r, s.Lang, c.ID, "/s/"+s.ID+"/clientes/"+c.ID)
	}
	if err != nil {
		h.internal(w, r, s, err)
		return nil
	}
	return d
}

// activeShops are the stores a movement may name (not revoked).
func (h *Handler) activeShops(r *http.Request) ([]store.Shop, error) {
	all, err := h.o.Store.Shops(r.Context())
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sh := range all {
		if sh.RevokedAt == nil {
			out = append(out, sh)
		}
	}
	return out, nil
}

func (h *Handler) customerDetail(w http.ResponseWriter, r *http.Request, s *Session) {
	if d := h.loadDetail(w, r, s); d != nil {
		h.render(w, http.StatusOK, "staff_customer.html", h.newPage(s, "staff.title", "customers", d))
	}
}

// text reads an optional text field: trimmed, at most points.MaxReason
// characters, and acceptable text (Portico's rule: no control or bidi
// characters). It returns the error message key, or "".
func text(v string) (string, string) {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > points.MaxReason {
		return v, "err.text.long"
	}
	if model.CheckText(v, false) != nil {
		return v, "err.text.invalid"
	}
	return v, ""
}

// pointsField reads a whole number of points, 1 to points.MaxPoints.
func pointsField(v string) (int64, bool) {
	v = strings.ReplaceAll(strings.TrimSpace(v), ".", "")
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 1 && n <= points.MaxPoints
}

// shopName maps the chosen shop id onto its name ("" for none).
func shopName(shops []store.Shop, id string) (string, bool) {
	if id == "" {
		return "", true
	}
	for _, sh := range shops {
		if sh.ID == id {
			return sh.Name, true
		}
	}
	return "", false
}

// parseAmount reads an amount typed in a page (points.ParseAmount).
func parseAmount(v string) (int64, error) {
	return points.ParseAmount(strings.TrimSpace(v))
}

// amountError maps points.ParseAmount's errors onto messages.
func amountError(err error) string {
	var fe *points.FieldError
	if errors.As(err, &fe) {
		switch fe.Code {
		case "required":
			return "err.amount.required"
		case "out_of_range":
			return "err.amount.range"
		}
	}
	return "err.amount.invalid"
}

// earn gives points: from a purchase amount typed in reais (the
// programme's ratio and rounding give the points), or a number of points
// directly. Earned points expire after the programme's validity, if any.
func (h *Handler) earn(w http.ResponseWriter, r *http.Request, s *Session) {
	d := h.loadDetail(w, r, s)
	if d == nil {
		return
	}
	lang := s.Lang
	f := earnForm{Mode: r.PostFormValue("mode"), Amount: r.PostFormValue("amount"), Points: r.PostFormValue("points"),
		Receipt: r.PostFormValue("receipt"), Reason: r.PostFormValue("reason"), Shop: r.PostFormValue("shop"), Once: r.PostFormValue("once")}
	if f.Mode != "points" {
		f.Mode = "purchase"
	}
	m := store.Movement{CustomerID: d.Customer.ID, Actor: actorOf(s)}
	var bad string
	var ok bool
	if m.SourceKey, ok = onceKey(f.Once); !ok {
		f.Once, bad = newOnce(), "err.form_again"
	}
	if bad == "" {
		m.Receipt, bad = text(f.Receipt)
	}
	if bad == "" {
		m.Reason, bad = text(f.Reason)
	}
	if bad == "" {
		if m.Store, ok = shopName(d.Shops, f.Shop); !ok {
			bad = "err.shop"
		}
	}
	var msg string
	if bad == "" && f.Mode == "purchase" {
		cents, err := parseAmount(f.Amount)
		if err != nil {
			bad = amountError(err)
		} else {
			n, err := d.Settings.ForPurchase(cents)
			switch {
			case errors.Is(err, points.ErrBelowMinimum):
				msg = translate(lang, "err.below_minimum", points.FormatCents(d.Settings.MinPurchaseCents))
			case err != nil:
				bad = amountError(err)
			case n == 0:
				msg = translate(lang, "err.zero_points", points.FormatCents(d.Settings.CentsPerPoint))
			}
			m.Points, m.AmountCents = n, cents
		}
	} else if bad == "" {
		if m.Points, ok = pointsField(f.Points); !ok {
			bad = "err.points"
		}
	}
	if bad != "" {
		msg = translate(lang, bad)
	}
	if msg != "" {
		f.Err = msg
		d.Earn = f
		h.render(w, http.StatusUnprocessableEntity, "staff_customer.html", h.newPage(s, "staff.title", "customers", d))
		return
	}
	m.ExpiresAt = d.Settings.ExpiresAt(h.o.Store.Now())
	res, err := h.o.Store.Earn(r.Context(), store.KindEarn, m)
	if errors.Is(err, store.ErrDuplicate) {
		s.SetFlash(translate(lang, "move.already"))
		redirect(w, r, s, "/clientes/"+d.Customer.ID)
		return
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	if m.AmountCents > 0 {
		s.SetFlash(translate(lang, "earn.done_buy", points.FormatCents(m.AmountCents), pts(lang, m.Points), pts(lang, res.Balance)))
	} else {
		s.SetFlash(translate(lang, "earn.done", pts(lang, m.Points), pts(lang, res.Balance)))
	}
	redirect(w, r, s, "/clientes/"+d.Customer.ID)
}

// spend redeems points (a reward) or deducts them (an adjustment, with a
// reason). The database refuses to overdraw: "saldo insuficiente".
func (h *Handler) spend(w http.ResponseWriter, r *http.Request, s *Session) {
	d := h.loadDetail(w, r, s)
	if d == nil {
		return
	}
	lang := s.Lang
	f := spendForm{Kind: r.PostFormValue("kind"), Points: r.PostFormValue("points"), Reason: r.PostFormValue("reason"), Shop: r.PostFormValue("shop"), Once: r.PostFormValue("once")}
	if f.Kind != store.KindAdjust {
		f.Kind = store.KindRedeem
	}
	m := store.Movement{CustomerID: d.Customer.ID, Actor: actorOf(s)}
	var bad string
	var ok bool
	if m.SourceKey, ok = onceKey(f.Once); !ok {
		f.Once, bad = newOnce(), "err.form_again"
	} else if m.Points, ok = pointsField(f.Points); !ok {
		bad = "err.points"
	}
	if bad == "" {
		m.Reason, bad = text(f.Reason)
	}
	if bad == "" && f.Kind == store.KindAdjust && m.Reason == "" {
		bad = "err.reason.required"
	}
	if bad == "" {
		if m.Store, ok = shopName(d.Shops, f.Shop); !ok {
			bad = "err.shop"
		}
	}
	var msg string
	if bad != "" {
		msg = translate(lang, bad)
	}
	var res *store.Result
	var err error
	if msg == "" {
		res, err = h.o.Store.Spend(r.Context(), f.Kind, m)
		switch {
		case errors.Is(err, store.ErrDuplicate):
			s.SetFlash(translate(lang, "move.already"))
			redirect(w, r, s, "/clientes/"+d.Customer.ID)
			return
		case errors.Is(err, store.ErrInsufficient):
			bal, berr := h.o.Store.Balance(r.Context(), d.Customer.ID)
			if berr == nil {
				d.Balance = bal
			}
			msg = translate(lang, "err.insufficient", pts(lang, d.Balance))
		case err != nil:
			h.internal(w, r, s, err)
			return
		}
	}
	if msg != "" {
		f.Err = msg
		d.Spend = f
		h.render(w, http.StatusUnprocessableEntity, "staff_customer.html", h.newPage(s, "staff.title", "customers", d))
		return
	}
	s.SetFlash(translate(lang, "spend.done", pts(lang, m.Points), pts(lang, res.Balance)))
	redirect(w, r, s, "/clientes/"+d.Customer.ID)
}
