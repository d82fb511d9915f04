package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// launch is where the portal sends the user: verify the token offline,
// exchange it (once) for the user, find the customer, start a session and
// redirect (303) into it, so a reload of the frame never re-posts the
// token. A gestor gets the staff pages; a cliente or síndico their points.
func (h *Handler) launch(w http.ResponseWriter, r *http.Request) {
	token := r.FormValue("portico_token") // the POST body, or the query of a GET launch
	lang := langOf(r)
	if token == "" {
		if r.Method == http.MethodGet {
			h.about(w, r)
			return
		}
		h.fail(w, r, lang, http.StatusBadRequest, "token_missing", nil)
		return
	}
	claims, user, err := h.o.Launch.Launch(r.Context(), token)
	var te *launchkit.TokenError
	switch {
	case errors.Is(err, launchkit.ErrNotConfigured):
		h.fail(w, r, lang, http.StatusBadGateway, "not_configured", err)
		return
	case errors.As(err, &te) && te.Code == "invalid_client":
		h.fail(w, r, lang, http.StatusBadGateway, te.Code, err) // our credentials: not the user's fault
		return
	case errors.As(err, &te):
		h.fail(w, r, lang, http.StatusUnauthorized, te.Code, err)
		return
	case err != nil:
		h.fail(w, r, lang, http.StatusBadGateway, "portal_unreachable", err)
		return
	}
	s := &Session{User: *user, Lang: pickLang(user.Locale), Staff: user.Role == "gestor"}
	if !s.Staff {
		c, err := h.customerFor(r.Context(), user)
		if errors.Is(err, store.ErrConflict) {
			h.fail(w, r, s.Lang, http.StatusConflict, "conflict", err)
			return
		}
		if err != nil {
			h.internal(w, r, s, err)
			return
		}
		s.CustomerID = c.ID
	}
	s = h.sessions.Create(s)
	h.o.Log.Info("launch", "tenant", user.Tenant, "user", user.ID, "role", user.Role, "jti", claims.JTI, "customer", s.CustomerID)
	http.Redirect(w, r, "/s/"+s.ID+"/", http.StatusSeeOther)
}

// customerFor finds the launching user's customer record: by the portal
// subject; else by e-mail or document, a customer the point-of-sale API or
// a CSV import created, whose record then gets the subject; else a new
// one. A record found by e-mail or document that already belongs to
// another portal user is not taken over (ErrConflict), nor is one found by
// e-mail whose CPF/CNPJ differs from the portal's; and linking never
// replaces a record's document.
func (h *Handler) customerFor(ctx context.Context, u *launchkit.User) (*store.Customer, error) {
	st := h.o.Store
	name := strings.TrimSpace(launchkit.Str(u.Name))
	email := strings.ToLower(strings.TrimSpace(launchkit.Str(u.Email)))
	doc, err := model.NormalizeDocument(launchkit.Str(u.Document))
	if err != nil {
		doc = "" // none, or not a CPF or CNPJ: the record goes without
	}
	phone := digits(launchkit.Str(u.Phone))
	if model.CheckText(name, false) != nil {
		name = ""
	}
	if model.CheckText(email, false) != nil {
		email = ""
	}

	c, err := st.CustomerBy(ctx, "subject", u.ID)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	for _, by := range []struct{ column, value string }{{"email", email}, {"document", doc}} {
		if by.value == "" {
			continue
		}
		c, err := st.CustomerBy(ctx, by.column, by.value)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Subject != nil && *c.Subject != u.ID {
			return nil, store.ErrConflict
		}
		// An e-mail typed at a counter can be someone else's: a record
		// found by e-mail whose CPF is not the portal's is another
		// person's (the CSV import's document_mismatch), not to be taken.
		if by.column == "email" && c.Document != "" && doc != "" && c.Document != doc {
			return nil, fmt.Errorf("the customer found by e-mail has another document: %w", store.ErrConflict)
		}
		// Copy onto the record what the portal knows, but never an e-mail
		// or document that another customer holds.
		linkEmail, linkDoc := email, doc
		if linkEmail != "" && linkEmail != c.Email {
			if _, err := st.CustomerByOther(ctx, "email", linkEmail, c.ID); !errors.Is(err, store.ErrNotFound) {
				linkEmail = ""
			}
		}
		if linkDoc != "" && linkDoc != c.Document {
			if _, err := st.CustomerByOther(ctx, "document", linkDoc, c.ID); !errors.Is(err, store.ErrNotFound) {
				linkDoc = ""
			}
		}
		if err := st.LinkSubject(ctx, c.ID, u.ID, name, linkEmail, linkDoc); err != nil {
			return nil, err
		}
		return st.Customer(ctx, c.ID)
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if name == "" {
		name = "Cliente"
	}
	sub := u.ID
	c = &store.Customer{Subject: &sub, Name: name, Email: email, Document: doc, Phone: phone}
	err = st.CreateCustomer(ctx, c)
	if errors.Is(err, store.ErrConflict) {
		// Two launches of a new customer at once: the other one created it.
		if again, err2 := st.CustomerBy(ctx, "subject", u.ID); err2 == nil {
			return again, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// digits keeps the digits of s (a CPF typed with its punctuation, a phone).
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
