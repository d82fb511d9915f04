package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/plugins/financeiro/pix"
	"github.com/portico-dev/portico/sdk"
)

// issued is a segunda via as the customer receives it. It is kept in the
// plugin's KV store under its idempotency key, so asking again for the
// same installment, date and amount shows it without asking the ERP.
type issued struct {
	Key         string    `json:"key"`
	Contract    string    `json:"contract"`    // number, development and unit
	Installment string    `json:"installment"` // "3/12"
	OriginalDue time.Time `json:"original_due"`
	NewDue      time.Time `json:"new_due"`
	Principal   int64     `json:"principal"`
	Fine        int64     `json:"fine"`
	Interest    int64     `json:"interest"`
	Days        int       `json:"days"`
	Total       int64     `json:"total"`
	Barcode     string    `json:"barcode"` // 44 digits
	Line        string    `json:"line"`    // 47 digits
	NossoNumero string    `json:"nosso_numero"`
	Pix         string    `json:"pix,omitempty"` // copia e cola, when the contract takes Pix
	ERPSlipID   string    `json:"erp_slip_id"`
	Beneficiary string    `json:"beneficiary"`
	CNPJ        string    `json:"cnpj,omitempty"`
	Agency      string    `json:"agency"` // "agência / conta"
}

// slipKey is the idempotency key of a segunda via: the same contract,
// installment, new due date and amount always give the same key, so a
// double click, a retry or a second tab registers one slip in the ERP.
func slipKey(ct Contract, in Installment, b charges.Breakdown) string {
	h := sha256.Sum256(fmt.Appendf(nil, "segunda-via/v1\x00%s\x00%s\x00%s\x00%d", ct.ID, in.ID, b.NewDue.Format(time.DateOnly), b.Total))
	return "portico-" + hex.EncodeToString(h[:16])
}

// The plugin's KV store holds at most abi.MaxKVKeys keys for all the
// tenant's customers, and nothing in it expires: one key per customer or
// per slip would fill it after a thousand customers, and every write would
// then fail. So snapshots and issued slips each go to one of a fixed set
// of keys (a bucket of their hash), each value saying whose it is: a
// newer one of the same bucket replaces an older one, which is then
// simply read again from the ERP (whose own idempotency key still stops a
// second registration of the same slip).
const (
	slipBuckets     = 256
	snapshotBuckets = 128
)

// dropLegacy deletes the key an earlier version of the plugin kept the
// same entry under (one per customer or slip): on a store those filled,
// the bucket key written next needs its place. Deleting an absent key is
// no error; a failure only means the place stays taken.
func dropLegacy(c *sdk.Context, key string) {
	if err := c.KV().Delete(key); err != nil {
		c.Log().Warn("removing an old key failed", "error", err.Error())
	}
}

// bucketOf is a hex key's bucket among n.
func bucketOf(hexKey string, n int) int {
	v, _ := strconv.ParseUint(hexKey[len(hexKey)-8:], 16, 32)
	return int(v % uint64(n))
}

// kvKey is where an issued slip is kept.
func kvKey(key string) string { return "slip:" + strconv.Itoa(bucketOf(key, slipBuckets)) }

// loadIssued returns the slip kept under key, if any. A KV failure is
// logged and treated as absent: the ERP's idempotency still holds.
func loadIssued(c *sdk.Context, key string) (issued, bool) {
	raw, found, err := c.KV().Get(kvKey(key))
	if err != nil {
		c.Log().Warn("reading an issued slip failed", "error", err.Error())
		return issued{}, false
	}
	if !found {
		return issued{}, false
	}
	var is issued
	if err := json.Unmarshal(raw, &is); err != nil || is.Key != key {
		c.Log().Warn("an issued slip in the store is unreadable; asking the ERP again")
		return issued{}, false
	}
	return is, true
}

func saveIssued(c *sdk.Context, is issued) {
	dropLegacy(c, "slip:"+is.Key)
	b, err := json.Marshal(is)
	if err == nil {
		err = c.KV().Set(kvKey(is.Key), b)
	}
	if err != nil {
		c.Log().Warn("keeping an issued slip failed", "error", err.Error())
	}
}

// buildSlip draws the bank's digits of a registered slip: the barcode and
// linha digitável of Banco do Brasil's convênio of seven digits, and the
// Pix copia e cola when the ERP gave a key and the merchant is configured.
// The boleto is what the ERP registered and what the customer must get: a
// Pix key the plugin cannot use (say a phone typed "(11) 98765-4321")
// leaves the slip without Pix, and pixErr says why, for the gestor's log;
// err is for a slip that cannot be drawn at all.
func buildSlip(s settings, ct Contract, in Installment, b charges.Breakdown, reg Registration, key string) (is issued, pixErr, err error) {
	bb := boleto.BBConvenio7{Convenio: s.convenio, Sequence: reg.Sequence, Carteira: s.carteira}
	free, err := bb.FreeField()
	if err != nil {
		return issued{}, nil, fmt.Errorf("campo livre: %w", err)
	}
	nn, err := bb.NossoNumero()
	if err != nil {
		return issued{}, nil, fmt.Errorf("nosso número: %w", err)
	}
	sl, err := boleto.New(s.bank, b.NewDue, b.Total, free)
	if err != nil {
		return issued{}, nil, fmt.Errorf("slip: %w", err)
	}
	bar, err := sl.Barcode()
	if err != nil {
		return issued{}, nil, fmt.Errorf("barcode: %w", err)
	}
	line, err := sl.Line()
	if err != nil {
		return issued{}, nil, fmt.Errorf("linha digitável: %w", err)
	}
	is = issued{Key: key, Contract: contractName(ct), Installment: in.Number, OriginalDue: in.Due, NewDue: b.NewDue,
		Principal: b.Principal, Fine: b.Fine, Interest: b.Interest, Days: b.Days, Total: b.Total,
		Barcode: bar, Line: line, NossoNumero: nn, ERPSlipID: reg.ID, Beneficiary: s.beneficiary, CNPJ: s.cnpj,
		Agency: s.agency + " / " + s.account}
	if name, city, ok := s.pixMerchant(); ok && reg.PixKey != "" {
		k, _, err := pix.NormalizeKey(reg.PixKey)
		if err != nil {
			return is, fmt.Errorf("the ERP's pix key: %w", err), nil
		}
		// The txid ties the payment to the nosso número (letters and
		// digits only, at most 25).
		p := pix.Payload{Key: k, MerchantName: name, MerchantCity: city, Amount: b.Total,
			TxID: "SV" + nn, Description: "Parcela " + in.Number}
		code, err := p.Encode()
		if err != nil {
			return is, fmt.Errorf("pix: %w", err), nil
		}
		is.Pix = code
	}
	return is, nil, nil
}

// contractName is how a contract is called on screen and on the slip.
func contractName(ct Contract) string {
	parts := []string{}
	for _, p := range []string{ct.Development, ct.Unit} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	name := strings.Join(parts, " — ")
	if ct.Number != "" {
		if name == "" {
			return ct.Number
		}
		return name + " (" + ct.Number + ")"
	}
	return name
}
