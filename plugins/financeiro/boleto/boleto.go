// Package boleto builds and checks the numbers of a Brazilian bank slip
// (boleto de cobrança) as FEBRABAN defines them: the 44-digit barcode, the
// 47-digit linha digitável typed by people, their check digits, the due-date
// factor (with the 2025-02-22 rollover), the amount in cents, the 25-digit
// campo livre of Banco do Brasil's 7-digit convênio, and the Interleaved 2
// of 5 (ITF) bars a scanner reads.
//
// It uses the standard library only and builds for GOOS=wasip1, so the
// financeiro wasm plugin imports it. docs/boleto.md describes the layouts,
// the rules and their sources.
//
// Usage:
//
//	free, _ := boleto.BBConvenio7{Convenio: "1234567", Sequence: 5, Carteira: "17"}.FreeField()
//	s, err := boleto.New("001", due, 40000, free) // R$ 400,00
//	if err != nil { ... }
//	bar, _ := s.Barcode() // 44 digits, for the ITF bars
//	line, _ := s.Line()   // 47 digits; FormatLine groups them for people
//
// Everything read from outside (ParseBarcode, ParseLine) is checked: length,
// digits only, the general check digit (mod 11), the three field check
// digits (mod 10), the currency, the factor and the bank code; an error
// wraps one of the Err* values below so callers can tell them apart with
// errors.Is.
package boleto

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lengths of the two representations.
const (
	BarcodeLen = 44 // digits of the barcode
	LineLen    = 47 // digits of the linha digitável, without separators
	FreeLen    = 25 // digits of the campo livre
)

// MaxInput bounds the text ParseBarcode and ParseLine look at, in bytes: a
// formatted linha digitável is 54 bytes, so anything longer than this is
// refused before it is scanned.
const MaxInput = 128

// MaxAmount is the largest amount a barcode holds: ten digits of cents,
// R$ 99.999.999,99.
const MaxAmount int64 = 9_999_999_999

// Currency is the only currency code accepted: 9, the real. (FEBRABAN's 0,
// "other currencies", is not issued by any bank today.)
const Currency = '9'

// Errors wrapped by the functions of this package.
var (
	ErrLength      = errors.New("boleto: wrong length")
	ErrCharacter   = errors.New("boleto: unexpected character")
	ErrCheckDigit  = errors.New("boleto: wrong check digit")
	ErrBank        = errors.New("boleto: invalid bank code")
	ErrCurrency    = errors.New("boleto: unsupported currency code")
	ErrFactor      = errors.New("boleto: invalid due-date factor")
	ErrDueDate     = errors.New("boleto: due date out of range")
	ErrAmount      = errors.New("boleto: invalid amount")
	ErrFreeField   = errors.New("boleto: invalid campo livre")
	ErrArrecadacao = errors.New("boleto: not a bank slip (arrecadação code starting with 8)")
)

// Slip holds what a boleto de cobrança's barcode carries besides its check
// digits. The zero value is not valid; use New or a Parse function.
type Slip struct {
	// Bank is the three-digit COMPE code of the issuing bank ("001" is
	// Banco do Brasil).
	Bank string
	// Factor is the due-date factor: 0 for a slip with no due date, or
	// 1000 to 9999 (see DueFactor and Slip.DueDate).
	Factor int
	// Amount is the amount in cents, 0 to MaxAmount. Zero means the amount
	// is filled in at payment (it is legal, but New refuses it: a segunda
	// via always has one).
	Amount int64
	// FreeField is the 25-digit campo livre, laid out by the bank.
	FreeField string
}

// New returns the slip of bank for a due date and an amount in cents, with
// free as its campo livre. A zero due gives factor 0 (no due date). The
// amount must be at least one cent.
func New(bank string, due time.Time, amount int64, free string) (Slip, error) {
	s := Slip{Bank: bank, Amount: amount, FreeField: free}
	if !due.IsZero() {
		f, err := DueFactor(due)
		if err != nil {
			return Slip{}, err
		}
		s.Factor = f
	}
	if amount <= 0 {
		return Slip{}, fmt.Errorf("%w: %d cents, want at least 1", ErrAmount, amount)
	}
	if err := s.Validate(); err != nil {
		return Slip{}, err
	}
	return s, nil
}

// Validate reports whether the slip's fields can be written as a barcode.
func (s Slip) Validate() error {
	if len(s.Bank) != 3 || !digits(s.Bank) {
		return fmt.Errorf("%w: %q, want three digits", ErrBank, clip(s.Bank))
	}
	if s.Bank == "000" {
		return fmt.Errorf("%w: 000 is no bank", ErrBank)
	}
	if s.Bank[0] == '8' {
		// A barcode starting with 8 is an arrecadação (utility) code.
		return fmt.Errorf("%w: %s starts with 8, which marks arrecadação codes", ErrBank, s.Bank)
	}
	if err := checkFactor(s.Factor); err != nil {
		return err
	}
	if s.Amount < 0 || s.Amount > MaxAmount {
		return fmt.Errorf("%w: %d cents, want 0 to %d", ErrAmount, s.Amount, MaxAmount)
	}
	if len(s.FreeField) != FreeLen || !digits(s.FreeField) {
		return fmt.Errorf("%w: %q, want %d digits", ErrFreeField, clip(s.FreeField), FreeLen)
	}
	return nil
}

// Barcode returns the 44 digits of the slip's barcode:
//
//	positions  1-3   bank code
//	           4     currency (9)
//	           5     general check digit (mod 11, see GeneralDigit)
//	           6-9   due-date factor
//	          10-19  amount in cents
//	          20-44  campo livre
func (s Slip) Barcode() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	body := fmt.Sprintf("%s%c%04d%010d%s", s.Bank, Currency, s.Factor, s.Amount, s.FreeField)
	dv := GeneralDigit(body)
	return body[:4] + string(rune('0'+dv)) + body[4:], nil
}

// Line returns the 47 digits of the slip's linha digitável (FormatLine
// groups them for display).
func (s Slip) Line() (string, error) {
	bar, err := s.Barcode()
	if err != nil {
		return "", err
	}
	return lineOf(bar), nil
}

// lineOf rearranges a valid barcode into the linha digitável:
//
//	field 1 (10): bank, currency, campo livre 1-5, mod-10 digit
//	field 2 (11): campo livre 6-15, mod-10 digit
//	field 3 (11): campo livre 16-25, mod-10 digit
//	field 4 (1):  the barcode's general check digit
//	field 5 (14): due-date factor and amount
func lineOf(bar string) string {
	f1 := bar[0:4] + bar[19:24]
	f2 := bar[24:34]
	f3 := bar[34:44]
	var b strings.Builder
	b.Grow(LineLen)
	for _, f := range []string{f1, f2, f3} {
		b.WriteString(f)
		b.WriteByte(byte('0' + FieldDigit(f)))
	}
	b.WriteByte(bar[4])
	b.WriteString(bar[5:19])
	return b.String()
}

// DueDate returns the slip's due date, resolving its factor (which repeats
// every 9000 days) with the payable window around ref (see FactorDate).
// ok is false for factor 0, a slip with no due date.
func (s Slip) DueDate(ref time.Time) (due time.Time, ok bool, err error) {
	if s.Factor == 0 {
		return time.Time{}, false, nil
	}
	d, err := FactorDate(s.Factor, ref)
	if err != nil {
		return time.Time{}, false, err
	}
	return d, true, nil
}

// ParseBarcode checks a 44-digit barcode (surrounding spaces are ignored)
// and returns what it carries.
func ParseBarcode(s string) (Slip, error) {
	if len(s) > MaxInput {
		return Slip{}, fmt.Errorf("%w: %d bytes, want %d digits", ErrLength, len(s), BarcodeLen)
	}
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return Slip{}, fmt.Errorf("%w: %q at byte %d of the barcode, want digits only", ErrCharacter, s[i], i+1)
		}
	}
	if len(s) != BarcodeLen {
		return Slip{}, fmt.Errorf("%w: %d digits, want %d for a barcode", ErrLength, len(s), BarcodeLen)
	}
	return parseDigits(s)
}

// parseDigits checks 44 digits and splits them into a Slip.
func parseDigits(bar string) (Slip, error) {
	if bar[0] == '8' {
		return Slip{}, ErrArrecadacao
	}
	if bar[3] != Currency {
		return Slip{}, fmt.Errorf("%w: %c, want %c (real)", ErrCurrency, bar[3], Currency)
	}
	if want := GeneralDigit(bar[:4] + bar[5:]); int(bar[4]-'0') != want {
		return Slip{}, fmt.Errorf("%w: general check digit (position 5) is %c, want %d", ErrCheckDigit, bar[4], want)
	}
	s := Slip{
		Bank:      bar[0:3],
		Factor:    atoi(bar[5:9]),
		Amount:    int64(atoi(bar[9:19])),
		FreeField: bar[19:44],
	}
	if err := s.Validate(); err != nil {
		return Slip{}, err
	}
	return s, nil
}

// ParseLine checks a linha digitável, with or without the dots and spaces
// of its usual formatting, and returns what it carries. It verifies the
// three field check digits and then the general one.
func ParseLine(s string) (Slip, error) {
	if len(s) > MaxInput {
		return Slip{}, fmt.Errorf("%w: %d bytes, want %d digits", ErrLength, len(s), LineLen)
	}
	d := make([]byte, 0, LineLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case c == ' ' || c == '.':
		default:
			return Slip{}, fmt.Errorf("%w: %q at byte %d of the linha digitável, want digits, dots and spaces", ErrCharacter, c, i+1)
		}
	}
	if len(d) == 48 && d[0] == '8' {
		return Slip{}, ErrArrecadacao
	}
	if len(d) != LineLen {
		return Slip{}, fmt.Errorf("%w: %d digits, want %d for a linha digitável", ErrLength, len(d), LineLen)
	}
	line := string(d)
	fields := [3][2]int{{0, 9}, {10, 20}, {21, 31}}
	for i, f := range fields {
		want := FieldDigit(line[f[0]:f[1]])
		if got := int(line[f[1]] - '0'); got != want {
			return Slip{}, fmt.Errorf("%w: field %d check digit (position %d) is %d, want %d", ErrCheckDigit, i+1, f[1]+1, got, want)
		}
	}
	return parseDigits(barOf(line))
}

// barOf rearranges 47 line digits into the 44 barcode digits (the inverse
// of lineOf; check digits are not verified here).
func barOf(line string) string {
	return line[0:4] + line[32:33] + line[33:47] + line[4:9] + line[10:20] + line[21:31]
}

// BarcodeToLine converts a barcode into its linha digitável (47 digits),
// checking the barcode first.
func BarcodeToLine(bar string) (string, error) {
	s, err := ParseBarcode(bar)
	if err != nil {
		return "", err
	}
	return s.Line()
}

// LineToBarcode converts a linha digitável (formatted or not) into its
// 44-digit barcode, checking every check digit first.
func LineToBarcode(line string) (string, error) {
	s, err := ParseLine(line)
	if err != nil {
		return "", err
	}
	return s.Barcode()
}

// FormatLine groups the 47 digits of a linha digitável the way slips print
// them: "00190.00009 01234.567004 00000.005173 1 69910000040000". Any other
// input is returned unchanged.
func FormatLine(line string) string {
	if len(line) != LineLen || !digits(line) {
		return line
	}
	return line[0:5] + "." + line[5:10] + " " +
		line[10:15] + "." + line[15:21] + " " +
		line[21:26] + "." + line[26:32] + " " +
		line[32:33] + " " + line[33:47]
}

// digits reports whether s is made of ASCII digits only (true for "").
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a short run of ASCII digits; callers check them first.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
