// Package charges computes what a late installment costs when the customer
// asks for a segunda via with a new due date: the fine (multa) and the
// interest (juros de mora) on top of the original amount, and checks the
// new due date against the window the gestor configured.
//
// The rules, with their sources, are in docs/boleto.md:
//
//   - Amounts are integer cents; rates are Rate values (millionths), never
//     floats.
//   - The fine is a configurable percentage of the original amount, applied
//     once, never above 2 % (Código de Defesa do Consumidor, art. 52 §1).
//   - The interest is simple, at a configurable monthly rate, pro rata die:
//     rate ÷ 30 per calendar day, counted from the original due date to the
//     new one, on the original amount. The rate is a setting, not a
//     constant: 1 % a month is the usual contracted rate, and since Lei
//     14.905/2024 the legal rate without a contract is Selic minus IPCA,
//     which changes every month.
//   - No charge is due when the new date is on or before the original due
//     date moved to the next business day (a slip due on a weekend or
//     holiday is paid on time on the next business day).
//   - Each of fine and interest is rounded half-up to the cent on its own;
//     the total is their sum with the original amount.
//
// It uses the standard library only and builds for GOOS=wasip1.
package charges

import (
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/calendar"
)

// Limits of the settings.
const (
	// MaxFine is the cap of CDC art. 52 §1: 2 % of the installment.
	MaxFine = 2 * Percent
	// MaxMonthlyInterest bounds the interest setting as a guard against
	// typing mistakes (10 where 1.0 was meant), not as a legal limit: 10 %
	// a month is far above any lawful rate for these contracts.
	MaxMonthlyInterest = 10 * Percent
	// MaxLateDays bounds the days between the original and the new due
	// date (a century), which keeps the arithmetic exact.
	MaxLateDays = 36_525
)

// Errors wrapped by this package.
var (
	ErrSettings = errors.New("charges: invalid settings")
	ErrAmount   = errors.New("charges: invalid amount")
)

// Settings are a tenant's rates for late payment.
type Settings struct {
	// Fine is the multa, a percentage of the original amount charged once
	// when the payment is late; at most MaxFine.
	Fine Rate
	// MonthlyInterest is the juros de mora per month, simple, charged pro
	// rata die; at most MaxMonthlyInterest.
	MonthlyInterest Rate
}

// Validate checks the settings against their limits.
func (s Settings) Validate() error {
	if s.Fine < 0 || s.Fine > MaxFine {
		return fmt.Errorf("%w: fine %s, want 0 to %s (CDC art. 52 §1)", ErrSettings, s.Fine, MaxFine)
	}
	if s.MonthlyInterest < 0 || s.MonthlyInterest > MaxMonthlyInterest {
		return fmt.Errorf("%w: monthly interest %s, want 0 to %s", ErrSettings, s.MonthlyInterest, MaxMonthlyInterest)
	}
	return nil
}

// Breakdown is what a segunda via charges and why.
type Breakdown struct {
	Principal   int64     // original amount, cents
	OriginalDue time.Time // original due date, midnight UTC
	NewDue      time.Time // the new due date, midnight UTC
	// Late reports whether charges apply: the new date is after the
	// original due date moved to the next business day (GraceUntil).
	Late       bool
	GraceUntil time.Time // last date payable without charges
	Days       int       // calendar days of interest (0 when not late)
	Fine       int64     // cents
	Interest   int64     // cents
	Total      int64     // Principal + Fine + Interest, cents
}

// Compute returns the breakdown for an installment of principal cents due
// on originalDue, re-issued for newDue. Only calendar dates count. The
// total must fit a boleto (boleto.MaxAmount).
//
// Worked example (the table test's first case): R$ 1.000,00 due on Friday
// 2026-11-06, new due date 2026-12-07, fine 2 %, interest 1 % a month. The
// original date is a business day, so the payment is late; days =
// 2026-11-06 → 2026-12-07 = 31; fine = 100000 × 2 % = 2000 (R$ 20,00);
// interest = 100000 × 1 % × 31 ÷ 30 = 1033.33… → 1033 (R$ 10,33);
// total = 103033 (R$ 1.030,33).
func Compute(principal int64, originalDue, newDue time.Time, s Settings) (Breakdown, error) {
	if err := s.Validate(); err != nil {
		return Breakdown{}, err
	}
	if principal <= 0 || principal > boleto.MaxAmount {
		return Breakdown{}, fmt.Errorf("%w: %d cents, want 1 to %d", ErrAmount, principal, boleto.MaxAmount)
	}
	b := Breakdown{
		Principal:   principal,
		OriginalDue: calendar.Date(originalDue),
		NewDue:      calendar.Date(newDue),
		GraceUntil:  calendar.NextBusinessDay(originalDue),
	}
	b.Total = principal
	if !b.NewDue.After(b.GraceUntil) {
		return b, nil
	}
	b.Late = true
	b.Days = calendar.DaysBetween(b.OriginalDue, b.NewDue)
	if b.Days > MaxLateDays {
		return Breakdown{}, fmt.Errorf("%w: %d days late, at most %d", ErrAmount, b.Days, MaxLateDays)
	}
	b.Fine = mulDivHalfUp(uint64(principal), uint64(s.Fine), uint64(Unit))
	b.Interest = mulDivHalfUp(uint64(principal)*uint64(b.Days), uint64(s.MonthlyInterest), 30*uint64(Unit))
	b.Total = principal + b.Fine + b.Interest
	if b.Total > boleto.MaxAmount {
		return Breakdown{}, fmt.Errorf("%w: total %d cents exceeds what a boleto holds (%d)", ErrAmount, b.Total, boleto.MaxAmount)
	}
	return b, nil
}

// mulDivHalfUp returns a × b ÷ c rounded half-up, with a 128-bit product so
// nothing overflows for the amounts and rates allowed here. The result
// must fit an int64 (Compute's limits keep it far below).
func mulDivHalfUp(a, b, c uint64) int64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		panic("charges: quotient overflow") // unreachable within Compute's limits
	}
	q, r := bits.Div64(hi, lo, c)
	if r >= c-r { // r ≥ c/2, without overflow: round half up
		q++
	}
	return int64(q)
}
