// Package portalsession creates and ends portal sessions: one-click,
// single-use entries into the portal that a company's site or app makes
// for a customer it has already authenticated (POST
// /api/v1/portal/sessions), in the shape of Stripe's, Chargebee's and
// Treli's customer-portal sessions. The HTTP edges (host/api for the API,
// host/portal for opening the auth_url) call it; it knows no HTTP.
package portalsession

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/auth"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/registry"
	"github.com/portico-dev/portico/internal/storage"
)

// InvoicesPlugin is the slug of the plugin that forward
// "customer_invoices" lands on: the tenant's finance plugin (the
// segunda via de boleto, plugins/financeiro).
const InvoicesPlugin = "financeiro"

// OpenPath starts every auth_url's path; the token follows.
const OpenPath = "/portal-session/"

// Errors Create returns besides a *model.ValidationError.
var (
	// ErrCustomerNotFound: no user of the tenant has the e-mail, and
	// create_customer was not given.
	ErrCustomerNotFound = errors.New("customer not found")
	// ErrNotACustomer: the user is inactive, has no portal role (cliente
	// or síndico), or is a gestor (storage.PortalSessionUser).
	ErrNotACustomer = errors.New("the user is not an active customer")
)

// Service creates portal sessions.
type Service struct {
	Store    *storage.Store
	Registry *registry.Registry
	// AllowInsecureLocal admits http://localhost return URLs (the demo).
	AllowInsecureLocal bool
}

// NewCustomer asks Create to create the cliente when the e-mail is unknown.
type NewCustomer struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// Input is the body of POST /api/v1/portal/sessions.
type Input struct {
	CustomerEmail  string       `json:"customer_email"`
	ReturnURL      string       `json:"return_url"`
	Forward        string       `json:"forward"`
	Locale         string       `json:"locale"`
	CreateCustomer *NewCustomer `json:"create_customer"`
	// Embed is not sent by integrators: the auth_url decides it when it
	// is opened (?embed=1 or a frame); see host/portal.
}

// Created is a new portal session and the token of its auth_url, shown
// once.
type Created struct {
	Session *model.PortalSession
	Token   string
	// CustomerCreated says create_customer made a new cliente.
	CustomerCreated bool
}

// Create checks in against tenant t and stores a portal session for the
// customer, created by key k; a is the key as an audit actor (with the
// client's address). The customer is created first when the e-mail is
// unknown and in.CreateCustomer asks for it.
func (s *Service) Create(ctx context.Context, t *model.Tenant, k *model.APIKey, in Input, a model.Actor) (*Created, error) {
	v := &model.ValidationError{}
	email, err := model.NormalizeEmail(in.CustomerEmail)
	if err != nil {
		if strings.TrimSpace(in.CustomerEmail) == "" {
			v.Add("customer_email", "required")
		} else {
			v.Add("customer_email", "invalid_email")
		}
	}
	returnURL := ""
	if strings.TrimSpace(in.ReturnURL) != "" {
		u, err := model.CheckReturnURL(strings.TrimSpace(in.ReturnURL), t.AllowedOrigins, s.AllowInsecureLocal)
		switch {
		case errors.Is(err, model.ErrReturnURLOrigin):
			v.Add("return_url", "return_url_origin")
		case err != nil:
			v.Add("return_url", "return_url_syntax")
		}
		returnURL = u
	}
	forward, slug, err := model.ParseForward(in.Forward)
	if err != nil {
		v.Add("forward", "forward_values")
	}
	locale := strings.TrimSpace(in.Locale)
	if locale != "" && !model.ValidLocale(locale) {
		v.Add("locale", "invalid_choice")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u, created, err := s.customer(ctx, t, email, in.CreateCustomer, a)
	if err != nil {
		return nil, err
	}
	if forward == model.ForwardInvoices {
		slug = InvoicesPlugin
	}
	if slug != "" {
		_, err := s.Registry.Plugin(ctx, t.ID, slug, u)
		if errors.Is(err, model.ErrNotFound) || errors.Is(err, registry.ErrHidden) {
			v.Add("forward", "forward_values")
			return nil, v
		}
		if err != nil {
			return nil, err
		}
	}
	token := auth.NewToken()
	minutes := t.PortalLinkMinutes
	if minutes < model.MinPortalLinkMinutes || minutes > model.MaxPortalLinkMinutes {
		minutes = model.DefaultPortalLinkMinutes
	}
	ps := &model.PortalSession{
		ID: NewID(), APIKeyID: k.ID, UserID: u.ID, TokenHash: auth.HashToken(token),
		ReturnURL: returnURL, Forward: forward, Locale: locale,
		ExpiresAt: s.Store.Now().Add(time.Duration(minutes) * time.Minute),
	}
	if err := s.Store.CreatePortalSession(ctx, t.ID, ps, a); err != nil {
		return nil, err
	}
	return &Created{Session: ps, Token: token, CustomerCreated: created}, nil
}

// customer finds the portal user with email, or creates a cliente when nc
// asks for it.
func (s *Service) customer(ctx context.Context, t *model.Tenant, email string, nc *NewCustomer, a model.Actor) (*model.User, bool, error) {
	u, err := s.Store.UserByEmail(ctx, t.ID, email)
	switch {
	case err == nil:
		if !storage.PortalSessionUser(u) {
			return nil, false, ErrNotACustomer
		}
		return u, false, nil
	case !errors.Is(err, model.ErrNotFound):
		return nil, false, err
	case nc == nil:
		return nil, false, ErrCustomerNotFound
	}
	u = &model.User{Email: email, Name: nc.Name, Document: nc.Document, Roles: model.Roles{model.RoleCliente}, Active: true}
	if err := u.Validate(); err != nil {
		return nil, false, prefixFields(err, "create_customer.")
	}
	// A CPF or CNPJ another user holds is refused by the store
	// (document_taken), reported here on create_customer.document.
	if err := s.Store.CreateUserAudited(ctx, t.ID, u, a); err != nil {
		if _, taken := model.AsValidation(err); taken || errors.Is(err, model.ErrConflict) {
			// Created by a concurrent request? Its row holds both the
			// e-mail and the document, and the database may name either
			// index when it refuses this one.
			if u, _, cerr := s.customer(ctx, t, email, nil, a); !errors.Is(cerr, ErrCustomerNotFound) {
				return u, false, cerr
			}
		}
		return nil, false, prefixFields(err, "create_customer.")
	}
	return u, true, nil
}

// prefixFields renames the fields of a validation error.
func prefixFields(err error, prefix string) error {
	v, ok := model.AsValidation(err)
	if !ok {
		return err
	}
	out := &model.ValidationError{}
	for _, f := range v.Fields {
		out.Add(prefix+f.Field, f.Code)
	}
	return out
}

// NewID returns a portal session's public identifier: "ps_" and 26
// base32 characters (128 random bits).
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return "ps_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ValidID reports whether s has the shape of NewID's result, so a lookup
// of anything else is refused before the database.
func ValidID(s string) bool {
	rest, ok := strings.CutPrefix(s, "ps_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// Status returns portal session id of tenantID and its status now.
func (s *Service) Status(ctx context.Context, tenantID, id string) (*model.PortalSession, string, error) {
	if !ValidID(id) {
		return nil, "", fmt.Errorf("portal session: %w", model.ErrNotFound)
	}
	p, live, err := s.Store.PortalSession(ctx, tenantID, id)
	if err != nil {
		return nil, "", err
	}
	return p, p.Status(s.Store.Now(), live), nil
}

// End ends portal session id of tenantID (POST …/logout): its login ends
// at once and its auth_url can no longer be opened.
func (s *Service) End(ctx context.Context, tenantID, id string, a model.Actor) error {
	if !ValidID(id) {
		return fmt.Errorf("portal session: %w", model.ErrNotFound)
	}
	_, err := s.Store.EndPortalSession(ctx, tenantID, id, a)
	return err
}
