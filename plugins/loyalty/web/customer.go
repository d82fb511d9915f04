package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// historyPage is how many movements one page of history shows.
const historyPage = 20

// ExpiringWindow is how far ahead the customer page looks for points about
// to expire.
const ExpiringWindow = 30 * 24 * time.Hour

// row is one movement as the pages show it.
type row struct {
	When     time.Time
	Kind     string // earn, redeem, expire, adjust
	Points   int64
	Details  []string
	Actor    string
	Positive bool
}

// history is a page of a customer's movements.
type history struct {
	Rows []row
	// Older is the id to ask for the next (older) page; "" at the end.
	Older string
	// Paged is true past the first page (a link back to the newest).
	Paged bool
	// Link is the page's path, which the paging links add ?antes= to.
	Link string
}

// loadHistory reads the page of customer id's history before the entry
// named by the request's "antes" parameter.
func (h *Handler) loadHistory(ctx context.Context, r *http.Request, lang, id, link string) (history, error) {
	before := r.URL.Query().Get("antes")
	if !validID(before) {
		before = ""
	}
	entries, err := h.o.Store.History(ctx, id, before, historyPage+1)
	if err != nil {
		return history{}, err
	}
	out := history{Paged: before != "", Link: link}
	if len(entries) > historyPage {
		entries = entries[:historyPage]
		out.Older = entries[len(entries)-1].ID
	}
	for _, e := range entries {
		out.Rows = append(out.Rows, h.rowOf(lang, e))
	}
	return out, nil
}

// validID accepts the ids the store makes (UUIDs) as a page cursor.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return strings.Trim(strings.ToLower(s), "0123456789abcdef-") == ""
}

func (h *Handler) rowOf(lang string, e store.Entry) row {
	r := row{When: e.CreatedAt, Kind: e.Kind, Points: e.Points, Positive: e.Points > 0, Actor: e.Actor}
	if e.AmountCents > 0 {
		r.Details = append(r.Details, translate(lang, "d.purchase", points.FormatCents(e.AmountCents)))
	}
	if e.Receipt != "" {
		r.Details = append(r.Details, translate(lang, "d.receipt", e.Receipt))
	}
	if e.Store != "" {
		r.Details = append(r.Details, translate(lang, "d.store", e.Store))
	}
	switch {
	case e.Kind == store.KindExpire && e.Reason == "expired":
		r.Details = append(r.Details, translate(lang, "d.expired"))
	case e.Reason != "":
		r.Details = append(r.Details, translate(lang, "d.reason", e.Reason))
	}
	if e.ExpiresAt != nil && e.Points > 0 {
		r.Details = append(r.Details, translate(lang, "d.expires", date(lang, h.o.Location, *e.ExpiresAt)))
	}
	switch {
	case e.Actor == "system":
		r.Actor = translate(lang, "d.system")
	case strings.HasPrefix(e.Actor, "import:"):
		r.Actor = translate(lang, "d.import", strings.TrimPrefix(e.Actor, "import:"))
	case strings.HasPrefix(e.Actor, "api:"):
		r.Actor = translate(lang, "d.api", strings.TrimPrefix(e.Actor, "api:"))
	}
	return r
}

// customerData is the customer page's.
type customerData struct {
	Customer *store.Customer
	Name     string
	Balance  int64
	Expiring int64
	FirstDue time.Time
	QR       template.HTML
	Settings points.Settings
	History  history
}

// customerHome is the "Pontos" page of a cliente or síndico.
func (h *Handler) customerHome(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	c, err := h.o.Store.Customer(ctx, s.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, s.Lang, http.StatusUnauthorized, "session_ended", err)
		return
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	d := customerData{Customer: c, Name: c.Name}
	if d.Balance, err = h.o.Store.Balance(ctx, c.ID); err == nil {
		d.Expiring, d.FirstDue, err = h.o.Store.Expiring(ctx, c.ID, h.o.Now().Add(ExpiringWindow))
	}
	if err == nil {
		d.Settings, err = h.o.Store.Settings(ctx)
	}
	if err == nil {
		d.History, err = h.loadHistory(ctx, r, s.Lang, c.ID, "/s/"+s.ID+"/")
	}
	if err == nil {
		d.QR, err = qrSVG(c.Code, translate(s.Lang, "me.qr", c.Code))
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.render(w, http.StatusOK, "customer.html", h.newPage(s, "me.title", "", d))
}
