package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// settingsForm is the programme's rules as typed.
type settingsForm struct {
	Ratio, Rounding, Min, Expiry string
	// Errs maps a field (ratio, rounding, min, expiry) to its message.
	Errs map[string]string
}

type settingsData struct {
	Current points.Settings
	Form    settingsForm
}

func formOf(p points.Settings) settingsForm {
	f := settingsForm{Ratio: centsInput(p.CentsPerPoint), Rounding: string(p.Rounding), Min: "0,00", Expiry: strconv.Itoa(p.ExpiryDays)}
	if p.MinPurchaseCents > 0 {
		f.Min = centsInput(p.MinPurchaseCents)
	}
	return f
}

func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, s *Session) {
	cur, err := h.o.Store.Settings(r.Context())
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.render(w, http.StatusOK, "settings.html", h.newPage(s, "set.title", "settings", settingsData{Current: cur, Form: formOf(cur)}))
}

// zeroAmount is an amount field left empty or typed as zero.
func zeroAmount(v string) bool {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "R$"))
	return strings.Trim(v, "0,. ") == ""
}

func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request, s *Session) {
	cur, err := h.o.Store.Settings(r.Context())
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	f := settingsForm{Ratio: r.PostFormValue("ratio"), Rounding: r.PostFormValue("rounding"), Min: r.PostFormValue("min"),
		Expiry: r.PostFormValue("expiry"), Errs: map[string]string{}}
	var p points.Settings
	lang := s.Lang
	if c, err := parseAmount(f.Ratio); err != nil || c > points.MaxCentsPerPoint {
		f.Errs["ratio"] = translate(lang, "err.ratio")
	} else {
		p.CentsPerPoint = c
	}
	p.Rounding = points.Rounding(f.Rounding)
	if p.Rounding != points.RoundDown && p.Rounding != points.RoundNearest && p.Rounding != points.RoundUp {
		f.Errs["rounding"] = translate(lang, "err.rounding")
	}
	if !zeroAmount(f.Min) {
		if c, err := parseAmount(f.Min); err != nil {
			f.Errs["min"] = translate(lang, "err.min")
		} else {
			p.MinPurchaseCents = c
		}
	}
	exp := strings.TrimSpace(f.Expiry)
	if exp == "" {
		exp = "0"
	}
	if n, err := strconv.Atoi(exp); err != nil || n < 0 || n > points.MaxExpiryDays {
		f.Errs["expiry"] = translate(lang, "err.expiry")
	} else {
		p.ExpiryDays = n
	}
	if len(f.Errs) == 0 {
		err = h.o.Store.SaveSettings(r.Context(), p, actorOf(s))
		var fe *points.FieldError
		switch {
		case errors.As(err, &fe):
			field := map[string]string{"cents_per_point": "ratio", "rounding": "rounding", "min_purchase_cents": "min", "expiry_days": "expiry"}[fe.Field]
			if field == "" {
				field = "ratio"
			}
			f.Errs[field] = translate(lang, "err."+field)
		case err != nil:
			h.internal(w, r, s, err)
			return
		}
	}
	if len(f.Errs) > 0 {
		h.render(w, http.StatusUnprocessableEntity, "settings.html", h.newPage(s, "set.title", "settings", settingsData{Current: cur, Form: f}))
		return
	}
	s.SetFlash(translate(lang, "set.saved"))
	redirect(w, r, s, "/regras")
}

// shopsData is the stores page's.
type shopsData struct {
	Shops []store.Shop
	// Created and Token are a store just created and its token, shown
	// this once.
	Created, Token string
	Name, Err      string
}

func (h *Handler) renderShops(w http.ResponseWriter, r *http.Request, s *Session, status int, d shopsData) {
	var err error
	if d.Shops, err = h.o.Store.Shops(r.Context()); err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.render(w, status, "shops.html", h.newPage(s, "shops.title", "shops", d))
}

func (h *Handler) shopsPage(w http.ResponseWriter, r *http.Request, s *Session) {
	h.renderShops(w, r, s, http.StatusOK, shopsData{})
}

// createShop makes a store's point-of-sale token and shows it once (only
// its hash is kept).
func (h *Handler) createShop(w http.ResponseWriter, r *http.Request, s *Session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || utf8.RuneCountInString(name) > points.MaxReason || model.CheckText(name, false) != nil {
		h.renderShops(w, r, s, http.StatusUnprocessableEntity, shopsData{Name: name, Err: translate(s.Lang, "err.shop.name")})
		return
	}
	token, hash := store.NewShopToken()
	if _, err := h.o.Store.CreateShop(r.Context(), name, hash, actorOf(s)); err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.renderShops(w, r, s, http.StatusCreated, shopsData{Created: name, Token: token})
}

func (h *Handler) revokeShop(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	shops, err := h.o.Store.Shops(r.Context())
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	name := ""
	for _, sh := range shops {
		if sh.ID == id {
			name = sh.Name
		}
	}
	err = h.o.Store.RevokeShop(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Unknown, or revoked already (a second click): nothing to do.
	case err != nil:
		h.internal(w, r, s, err)
		return
	default:
		s.SetFlash(translate(s.Lang, "shops.done", name))
	}
	redirect(w, r, s, "/lojas")
}
