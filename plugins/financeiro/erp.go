package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/sdk"
)

// ERP is what the plugin needs from an ERP. Sienge (sienge.go) is the one
// adapter; another ERP (UAU's RPC style, for instance) is a second type
// with these methods, chosen by configuration, and nothing else changes.
type ERP interface {
	// Contracts returns the contracts of the customer with a CPF or CNPJ
	// (digits only), without their installments (at most maxContracts);
	// none when the ERP does not know the document.
	Contracts(document string) ([]Contract, error)
	// Installments returns the installments of one of the contracts
	// Contracts returned, paid ones included. The plugin asks for them
	// contract by contract, as time allows (load.go), so a slow ERP
	// costs the customer some contracts, not the page.
	Installments(ct Contract) ([]Installment, error)
	// Register records a re-issued slip for an installment with the
	// breakdown's due date and amounts. key names the registration: the
	// same key returns the first registration instead of a second one.
	Register(ct Contract, in Installment, b charges.Breakdown, key string) (Registration, error)
}

// Contract is a unit's sale, paid in installments.
type Contract struct {
	ID           string // the ERP's identifier, opaque
	Number       string // as the customer knows it, "CT-2024/0187"
	Development  string // "Residencial Jardim das Flores"
	Unit         string // "Bloco A, apto 101"
	PixKey       string // the receiver's Pix key for this contract, or ""
	Installments []Installment
}

// Installment is one payment of a contract.
type Installment struct {
	ID      string    // the ERP's identifier within the contract, opaque
	Number  string    // "3/12"
	Due     time.Time // the original due date, midnight UTC
	Amount  int64     // the open balance, cents
	Open    bool      // not paid
	PaidOn  time.Time // zero when open
	Overdue bool      // open and due before today (set by the plugin)
}

// Registration is the ERP's record of a re-issued slip.
type Registration struct {
	ID        string
	Sequence  int64  // the nosso número's sequence within the convênio
	PixKey    string // "" when the contract takes no Pix
	DueDate   string // YYYY-MM-DD, as registered
	Amount    int64  // cents, as registered
	CreatedAt string
}

// Failures of an ERP, told apart so the customer and the gestor get the
// right words. Adapters wrap one of them.
var (
	// errUnavailable: the ERP did not answer usefully (timeout, 5xx, a
	// body that is not what the API documents, an over-size answer).
	errUnavailable = errors.New("erp unavailable")
	// errBusy: the ERP's rate limit (429).
	errBusy = errors.New("erp rate limit")
	// errCredentials: the ERP refused the API user (401, 403): the
	// password was rotated or the secrets are wrong.
	errCredentials = errors.New("erp refused the credentials")
	// errRefused: the ERP refused the request itself (4xx): the
	// installment was paid meanwhile, for instance.
	errRefused = errors.New("erp refused the request")
	// errNotAllowed: the host refused the URL (not an allowed host).
	errNotAllowed = errors.New("erp url not allowed")
	// errTooSlow: the plugin stopped asking before the call's deadline,
	// the ERP being too slow for what was left (clock.go).
	errTooSlow = errors.New("erp too slow for the call's time")
)

// erpError carries what went wrong, for the gestor's log, and the class.
type erpError struct {
	class  error
	detail string
	// retryAfter is the ERP's Retry-After, when it sent one.
	retryAfter time.Duration
	// message is the ERP's message for the user, when it refused a
	// request with one (errRefused); shown only if it is plain text.
	message string
}

func (e *erpError) Error() string { return fmt.Sprintf("%v: %s", e.class, e.detail) }
func (e *erpError) Unwrap() error { return e.class }

// newERP returns the adapter for the configuration. The plugin speaks only
// Sienge's API today.
func newERP(c *sdk.Context, s settings, clk *clock) (ERP, error) {
	user, err := c.Secret(secretUser)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", secretUser, err)
	}
	password, err := c.Secret(secretPassword)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", secretPassword, err)
	}
	return &sienge{c: c, base: s.erpURL, user: user, password: password, clock: clk}, nil
}
