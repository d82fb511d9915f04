// Package pix writes and reads the "Pix copia e cola" string of a static
// Pix charge: the EMV BR Code of the Banco Central's "Manual de Padrões para
// Iniciação do Pix", with the receiver's key, an amount, a transaction id
// (txid) and the CRC16-CCITT-FALSE checksum. The same string, drawn as a QR
// code, is what a payer's bank app scans.
//
// It uses the standard library only and builds for GOOS=wasip1, so the
// financeiro wasm plugin imports it. docs/boleto.md describes the layout and
// its sources.
//
// Usage:
//
//	code, err := pix.Payload{
//		Key:          "123e4567-e12b-12d1-a456-426655440000",
//		MerchantName: "Construtora Exemplo",
//		MerchantCity: "São Paulo", // written "Sao Paulo"
//		Amount:       123456,      // R$ 1.234,56
//		TxID:         "PARCELA0001",
//	}.Encode()
//
// Parse reads such a string back and checks every field and the CRC; it
// refuses anything else (dynamic codes included) with an error wrapping one
// of the Err* values.
package pix

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Field identifiers and fixed values of the BR Code (EMV QRCPS-MPM as the
// Banco Central profiles it).
const (
	idFormat      = "00" // payload format indicator, "01"
	idInitiation  = "01" // point of initiation: "11" static, "12" dynamic
	idAccount     = "26" // merchant account information (Pix)
	idMCC         = "52" // merchant category code
	idCurrency    = "53" // transaction currency, ISO 4217
	idAmount      = "54" // transaction amount
	idCountry     = "58" // country code
	idName        = "59" // merchant name
	idCity        = "60" // merchant city
	idPostalCode  = "61" // postal code (optional)
	idAdditional  = "62" // additional data field template
	idCRC         = "63" // CRC16
	subGUI        = "00" // inside 26: globally unique identifier
	subKey        = "01" // inside 26: the Pix key
	subInfo       = "02" // inside 26: additional information for the payer
	subURL        = "25" // inside 26: payload URL (dynamic codes only)
	subTxID       = "05" // inside 62: reference label, the txid
	GUI           = "br.gov.bcb.pix"
	CurrencyBRL   = "986"
	CountryBR     = "BR"
	NoTxID        = "***" // txid of a static charge that has none
	DefaultMCC    = "0000"
	crcPrefix     = idCRC + "04"
	formatVersion = "01"
)

// Limits of the fields, in bytes (all text is ASCII).
const (
	MaxName     = 25  // merchant name
	MaxCity     = 15  // merchant city
	MaxKey      = 77  // Pix key
	MaxTxID     = 25  // txid of a static charge
	MaxTemplate = 99  // value of a template such as 26 or 62
	MaxPayload  = 512 // bytes Parse reads (sdk/abi.MaxQRBytes)
	// MaxAmount is the largest amount, in cents, that fits the 13
	// characters of field 54 ("9999999999.99").
	MaxAmount int64 = 999_999_999_999
)

// Errors wrapped by Encode and Parse.
var (
	ErrFormat      = errors.New("pix: malformed BR Code")
	ErrCRC         = errors.New("pix: wrong CRC")
	ErrKey         = errors.New("pix: invalid key")
	ErrTxID        = errors.New("pix: invalid txid")
	ErrAmount      = errors.New("pix: invalid amount")
	ErrText        = errors.New("pix: invalid name, city or description")
	ErrUnsupported = errors.New("pix: unsupported BR Code")
)

// Payload is a static Pix charge.
type Payload struct {
	// Key is the receiver's Pix key: a CPF (11 digits), a CNPJ (14
	// digits), a phone number ("+5561912345678"), an e-mail address or a
	// random key (EVP, a lower-case UUID). NormalizeKey turns what people
	// type into this form.
	Key string
	// Description is optional text shown to the payer (field 26-02). Encode
	// folds it to ASCII and shortens it to what is left of the 99 bytes of
	// field 26 after the key.
	Description string
	// MerchantName is the receiver's name; Encode folds it to ASCII and
	// keeps at most MaxName characters.
	MerchantName string
	// MerchantCity is the receiver's city; Encode folds it to ASCII and
	// keeps at most MaxCity characters.
	MerchantCity string
	// Amount is in cents; 0 leaves the amount to the payer (field 54 is
	// omitted).
	Amount int64
	// TxID identifies the charge to the receiver: up to 25 letters and
	// digits. Empty is written as "***", which the manual prescribes for a
	// static charge without one; Parse returns "" for it.
	TxID string
	// MCC is the merchant category code, four digits; empty means "0000".
	MCC string
}

// Encode returns the BR Code, CRC included. It folds accents out of the
// name, city and description (the manual's character set is ASCII) and
// shortens them to their limits; an invalid key, txid, MCC or amount, an
// empty name or city, or a character with no ASCII form is an error.
func (p Payload) Encode() (string, error) {
	q, err := p.normalize()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(256)
	tlv(&b, idFormat, formatVersion)
	var acct strings.Builder
	tlv(&acct, subGUI, GUI)
	tlv(&acct, subKey, q.Key)
	if q.Description != "" {
		tlv(&acct, subInfo, q.Description)
	}
	tlv(&b, idAccount, acct.String())
	tlv(&b, idMCC, q.MCC)
	tlv(&b, idCurrency, CurrencyBRL)
	if q.Amount > 0 {
		tlv(&b, idAmount, formatAmount(q.Amount))
	}
	tlv(&b, idCountry, CountryBR)
	tlv(&b, idName, q.MerchantName)
	tlv(&b, idCity, q.MerchantCity)
	txid := q.TxID
	if txid == "" {
		txid = NoTxID
	}
	var add strings.Builder
	tlv(&add, subTxID, txid)
	tlv(&b, idAdditional, add.String())
	b.WriteString(crcPrefix)
	return b.String() + fmt.Sprintf("%04X", CRC16([]byte(b.String()))), nil
}

// normalize checks p and returns it as Encode writes it.
func (p Payload) normalize() (Payload, error) {
	if err := checkKey(p.Key); err != nil {
		return Payload{}, err
	}
	var err error
	if p.MerchantName, err = fold("merchant name", p.MerchantName, MaxName); err != nil {
		return Payload{}, err
	}
	if p.MerchantCity, err = fold("merchant city", p.MerchantCity, MaxCity); err != nil {
		return Payload{}, err
	}
	// Field 26 holds 0014br.gov.bcb.pix, 01nn<key> and 02nn<description>.
	room := MaxTemplate - (4 + len(GUI)) - (4 + len(p.Key)) - 4
	if p.Description != "" {
		d, err := fold("description", p.Description, max(room, 0))
		if err != nil && !errors.Is(err, errEmpty) {
			return Payload{}, err
		}
		p.Description = d
	}
	if p.MCC == "" {
		p.MCC = DefaultMCC
	}
	if len(p.MCC) != 4 || !isDigits(p.MCC) {
		return Payload{}, fmt.Errorf("%w: MCC %q, want four digits", ErrFormat, clip(p.MCC))
	}
	if p.Amount < 0 || p.Amount > MaxAmount {
		return Payload{}, fmt.Errorf("%w: %d cents, want 0 to %d", ErrAmount, p.Amount, MaxAmount)
	}
	if err := checkTxID(p.TxID); err != nil {
		return Payload{}, err
	}
	return p, nil
}

// CRC16 returns the CRC-16/CCITT-FALSE of data: polynomial 0x1021, initial
// value 0xFFFF, no reflection, no final XOR (its check value, for
// "123456789", is 0x29B1). A BR Code ends with it over everything before,
// "6304" included, as four upper-case hex digits.
func CRC16(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range data {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Parse reads a static Pix BR Code, checking its structure, its CRC and
// every field Encode writes; fields of other schemes (02–51), the language
// template (64) and unreserved templates (80–99) are skipped, any other
// field is refused. Text must be printable ASCII.
func Parse(s string) (Payload, error) {
	if len(s) > MaxPayload {
		return Payload{}, fmt.Errorf("%w: %d bytes, at most %d", ErrFormat, len(s), MaxPayload)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return Payload{}, fmt.Errorf("%w: byte %d is %q, want printable ASCII", ErrFormat, i+1, s[i])
		}
	}
	if len(s) < 8 || s[len(s)-8:len(s)-4] != crcPrefix {
		return Payload{}, fmt.Errorf("%w: does not end with the CRC field 6304XXXX", ErrFormat)
	}
	want := CRC16([]byte(s[:len(s)-4]))
	got, err := strconv.ParseUint(s[len(s)-4:], 16, 16)
	if err != nil {
		return Payload{}, fmt.Errorf("%w: CRC %q is not four hex digits", ErrFormat, s[len(s)-4:])
	}
	if uint16(got) != want {
		return Payload{}, fmt.Errorf("%w: %s, want %04X", ErrCRC, s[len(s)-4:], want)
	}
	fields, err := split(s[:len(s)-8])
	if err != nil {
		return Payload{}, err
	}
	if len(fields) == 0 || fields[0].id != idFormat || fields[0].value != formatVersion {
		return Payload{}, fmt.Errorf("%w: must start with payload format indicator 000201", ErrFormat)
	}
	var p Payload
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.id] {
			return Payload{}, fmt.Errorf("%w: field %s appears twice", ErrFormat, f.id)
		}
		seen[f.id] = true
		switch f.id {
		case idFormat:
		case idInitiation:
			if f.value == "12" {
				return Payload{}, fmt.Errorf("%w: dynamic BR Code (point of initiation 12)", ErrUnsupported)
			}
			if f.value != "11" {
				return Payload{}, fmt.Errorf("%w: point of initiation %q, want 11 or 12", ErrFormat, f.value)
			}
		case idAccount:
			if err := parseAccount(f.value, &p); err != nil {
				return Payload{}, err
			}
		case idMCC:
			if len(f.value) != 4 || !isDigits(f.value) {
				return Payload{}, fmt.Errorf("%w: MCC %q, want four digits", ErrFormat, f.value)
			}
			p.MCC = f.value
		case idCurrency:
			if f.value != CurrencyBRL {
				return Payload{}, fmt.Errorf("%w: currency %q, want %s (real)", ErrFormat, f.value, CurrencyBRL)
			}
		case idAmount:
			if p.Amount, err = parseAmount(f.value); err != nil {
				return Payload{}, err
			}
		case idCountry:
			if f.value != CountryBR {
				return Payload{}, fmt.Errorf("%w: country %q, want BR", ErrFormat, f.value)
			}
		case idName:
			if p.MerchantName, err = checkText("merchant name", f.value, MaxName); err != nil {
				return Payload{}, err
			}
		case idCity:
			if p.MerchantCity, err = checkText("merchant city", f.value, MaxCity); err != nil {
				return Payload{}, err
			}
		case idPostalCode:
		case idAdditional:
			if err := parseAdditional(f.value, &p); err != nil {
				return Payload{}, err
			}
		default:
			// Other schemes' account information (02–51), the language
			// template (64) and unreserved templates (80–99) do not change
			// the charge; anything else (a tip or convenience fee, 55–57,
			// or a reserved ID) is refused.
			if n, _ := strconv.Atoi(f.id); !(n >= 2 && n <= 51 || n == 64 || n >= 80) {
				return Payload{}, fmt.Errorf("%w: unexpected field %s", ErrFormat, f.id)
			}
		}
	}
	for _, id := range []string{idAccount, idMCC, idCurrency, idCountry, idName, idCity, idAdditional} {
		if !seen[id] {
			return Payload{}, fmt.Errorf("%w: field %s is missing", ErrFormat, id)
		}
	}
	return p, nil
}

func parseAccount(v string, p *Payload) error {
	subs, err := split(v)
	if err != nil {
		return fmt.Errorf("field 26: %w", err)
	}
	var gui bool
	for _, f := range subs {
		switch f.id {
		case subGUI:
			gui = strings.EqualFold(f.value, GUI)
		case subKey:
			if err := checkKey(f.value); err != nil {
				return err
			}
			p.Key = f.value
		case subInfo:
			d, err := checkText("description", f.value, MaxTemplate)
			if err != nil {
				return err
			}
			p.Description = d
		case subURL:
			return fmt.Errorf("%w: dynamic BR Code (payload URL)", ErrUnsupported)
		default:
			return fmt.Errorf("%w: unexpected field 26-%s", ErrFormat, f.id)
		}
	}
	if !gui {
		return fmt.Errorf("%w: field 26 is not a Pix account (GUI %s)", ErrFormat, GUI)
	}
	if p.Key == "" {
		return fmt.Errorf("%w: field 26 has no key", ErrKey)
	}
	return nil
}

func parseAdditional(v string, p *Payload) error {
	subs, err := split(v)
	if err != nil {
		return fmt.Errorf("field 62: %w", err)
	}
	found := false
	for _, f := range subs {
		if f.id != subTxID {
			continue // other additional data (bill number, terminal…) is not ours
		}
		found = true
		if f.value == NoTxID {
			continue
		}
		if err := checkTxID(f.value); err != nil {
			return err
		}
		p.TxID = f.value
	}
	if !found {
		return fmt.Errorf("%w: field 62 has no txid (62-05)", ErrTxID)
	}
	return nil
}

// field is one ID-length-value element.
type field struct{ id, value string }

// split cuts s into its ID-length-value elements.
func split(s string) ([]field, error) {
	var out []field
	for len(s) > 0 {
		if len(s) < 4 || !isDigits(s[:4]) {
			return nil, fmt.Errorf("%w: %q is not an ID and a length", ErrFormat, clip(s))
		}
		n, _ := strconv.Atoi(s[2:4])
		if len(s) < 4+n {
			return nil, fmt.Errorf("%w: field %s says %d bytes, %d left", ErrFormat, s[:2], n, len(s)-4)
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: field %s is empty", ErrFormat, s[:2])
		}
		out = append(out, field{s[:2], s[4 : 4+n]})
		s = s[4+n:]
	}
	return out, nil
}

// tlv writes one element; callers keep values under 100 bytes.
func tlv(b *strings.Builder, id, v string) {
	fmt.Fprintf(b, "%s%02d%s", id, len(v), v)
}

// formatAmount writes cents as field 54 does: "1234.56".
func formatAmount(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// parseAmount reads field 54: digits, a point and at most two decimals
// ("10", "10.5" and "10.50" are all R$ 10,50 or R$ 10,00 as written).
func parseAmount(v string) (int64, error) {
	whole, frac, dot := strings.Cut(v, ".")
	if whole == "" || !isDigits(whole) || !isDigits(frac) || len(frac) > 2 || (dot && frac == "") || len(v) > 13 {
		return 0, fmt.Errorf("%w: %q, want digits with up to two decimals after a point", ErrAmount, v)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n <= 0 || n > MaxAmount {
		return 0, fmt.Errorf("%w: %q, want more than zero and at most %s", ErrAmount, v, formatAmount(MaxAmount))
	}
	return n, nil
}

// checkTxID accepts "" (none) or 1 to 25 ASCII letters and digits.
func checkTxID(t string) error {
	if t == "" {
		return nil
	}
	if len(t) > MaxTxID {
		return fmt.Errorf("%w: %d characters, at most %d", ErrTxID, len(t), MaxTxID)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("%w: %q has %q, want letters and digits only", ErrTxID, clip(t), c)
		}
	}
	return nil
}

// checkText reads a text field of a BR Code: 1 to limit bytes (Parse has
// already checked they are printable ASCII), with its spaces tidied as
// Encode writes them, so that a parsed payload encodes to itself.
func checkText(what, s string, limit int) (string, error) {
	if s == "" || len(s) > limit {
		return "", fmt.Errorf("%w: %s has %d characters, want 1 to %d", ErrText, what, len(s), limit)
	}
	return fold(what, s, limit)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
