package boleto

import (
	"fmt"
	"time"
)

// The due-date factor (fator de vencimento, Banco Central Carta-Circular
// 2.926 of 2000-07-25) is the number of days from a base date to the due
// date, in four digits, at positions 6–9 of the barcode:
//
//   - first cycle: base 1997-10-07, so factor 1000 is 2000-07-03 (when the
//     factor came into use) and 9999 is 2025-02-21;
//   - FEBRABAN's rollover: on 2025-02-22 the factor starts again at 1000 and
//     grows one a day, so it is the number of days since 2022-05-29; this
//     cycle ends on 2049-10-13 at 9999;
//   - factor 0000 means the slip has no due date.
//
// Each cycle is 9000 days long, so a factor alone names two dates 9000 days
// (about 24.6 years) apart. FEBRABAN resolves it with the payable window:
// only slips whose due date is at most 3000 days before and 5500 days after
// the day of processing are valid (FactorDate).
var (
	factorBase   = civil(1997, time.October, 7) // day 0 of the first cycle
	firstCycle   = civil(2000, time.July, 3)    // factor 1000, first cycle
	rollover     = civil(2025, time.February, 22)
	lastFactored = civil(2049, time.October, 13) // factor 9999, second cycle
)

// Cycle length and the payable window, in days.
const (
	cycleDays   = 9000
	windowPast  = 3000
	windowAhead = 5500
)

// FactorRange returns the first and last due dates a factor can express
// (2000-07-03 and 2049-10-13).
func FactorRange() (first, last time.Time) { return firstCycle, lastFactored }

// DueFactor returns the due-date factor of due (only its calendar date, in
// due's own location, counts). Dates before 2000-07-03 or after 2049-10-13,
// the end of the current cycle, are refused: FEBRABAN has not said what
// follows it.
func DueFactor(due time.Time) (int, error) {
	d := dateOf(due)
	switch {
	case d.Before(firstCycle) || d.After(lastFactored):
		return 0, fmt.Errorf("%w: %s, want %s to %s", ErrDueDate, d.Format(time.DateOnly),
			firstCycle.Format(time.DateOnly), lastFactored.Format(time.DateOnly))
	case d.Before(rollover):
		return days(factorBase, d), nil
	default:
		return 1000 + days(rollover, d), nil
	}
}

// FactorDate returns the due date a factor names, taking the one of its
// two cycles that falls within the payable window around ref: from 3000
// days before to 5500 days after ref's calendar date. A factor outside
// 1000–9999, or whose date falls outside the window in both cycles, is an
// error (the bank network refuses such a slip).
func FactorDate(factor int, ref time.Time) (time.Time, error) {
	if factor < 1000 || factor > 9999 {
		return time.Time{}, fmt.Errorf("%w: %04d, want 1000 to 9999", ErrFactor, factor)
	}
	r := dateOf(ref)
	lo, hi := r.AddDate(0, 0, -windowPast), r.AddDate(0, 0, windowAhead)
	for c := 0; c < 2; c++ {
		d := firstCycle.AddDate(0, 0, c*cycleDays+factor-1000)
		if !d.Before(lo) && !d.After(hi) {
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: factor %04d names no date from %s to %s (3000 days before to 5500 after %s)",
		ErrDueDate, factor, lo.Format(time.DateOnly), hi.Format(time.DateOnly), r.Format(time.DateOnly))
}

// checkFactor accepts 0 (no due date) and 1000–9999.
func checkFactor(f int) error {
	if f != 0 && (f < 1000 || f > 9999) {
		return fmt.Errorf("%w: %04d, want 0000 or 1000 to 9999", ErrFactor, f)
	}
	return nil
}

// civil returns midnight UTC of a calendar date.
func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// dateOf returns t's calendar date, in t's location, as midnight UTC.
func dateOf(t time.Time) time.Time { return civil(t.Date()) }

// days returns the whole days from a to b, both midnight UTC.
func days(a, b time.Time) int { return int(b.Sub(a).Hours()) / 24 }
