// Package points holds the loyalty programme's rules, with no storage and
// no HTTP: how many points a purchase earns, and the programme's settings
// and their limits. The app's store, its API and its pages all call these,
// so a rule lives in one place.
package points

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rounding says what happens to the fraction of a point a purchase earns.
type Rounding string

// Roundings.
const (
	RoundDown    Rounding = "down"    // the default: 1 ponto a cada R$ 10,00 gives 12 points for R$ 129,90
	RoundNearest Rounding = "nearest" // half up: R$ 125,00 gives 13
	RoundUp      Rounding = "up"      // any fraction earns a whole point
)

// Settings is the programme, as a gestor sets it.
type Settings struct {
	// CentsPerPoint is how much a purchase must spend for one point, in
	// centavos: 1000 is "1 ponto a cada R$ 10,00".
	CentsPerPoint int64
	Rounding      Rounding
	// MinPurchaseCents is the smallest purchase that earns points; 0 none.
	MinPurchaseCents int64
	// ExpiryDays is how long earned points stay valid; 0 means they never
	// expire. Redemptions consume the points that expire first.
	ExpiryDays int
}

// Defaults is the programme before a gestor changes it.
var Defaults = Settings{CentsPerPoint: 1000, Rounding: RoundDown}

// Limits of the settings and of one movement.
const (
	MaxCentsPerPoint = 100_000_00 // R$ 100.000,00 per point
	MaxExpiryDays    = 3650
	// MaxPoints bounds one movement of points.
	MaxPoints = 10_000_000
	// MaxAmountCents bounds one purchase: R$ 10.000.000,00.
	MaxAmountCents = 1_000_000_000
	// MaxReason bounds a movement's reason, receipt and store names, in
	// characters.
	MaxReason = 200
)

// FieldError names the setting or input that is wrong and why, as a code
// the pages and the API translate.
type FieldError struct {
	Field, Code string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Code }

// Validate checks the settings.
func (s Settings) Validate() error {
	switch {
	case s.CentsPerPoint < 1 || s.CentsPerPoint > MaxCentsPerPoint:
		return &FieldError{"cents_per_point", "out_of_range"}
	case s.Rounding != RoundDown && s.Rounding != RoundNearest && s.Rounding != RoundUp:
		return &FieldError{"rounding", "invalid_choice"}
	case s.MinPurchaseCents < 0 || s.MinPurchaseCents > MaxAmountCents:
		return &FieldError{"min_purchase_cents", "out_of_range"}
	case s.ExpiryDays < 0 || s.ExpiryDays > MaxExpiryDays:
		return &FieldError{"expiry_days", "out_of_range"}
	}
	return nil
}

// ExpiresAt is when points earned at now expire under s: ExpiryDays
// later, or nil when they never do. Every way of earning (the API, the
// staff page, a CSV import) dates its lots with it.
func (s Settings) ExpiresAt(now time.Time) *time.Time {
	if s.ExpiryDays <= 0 {
		return nil
	}
	t := now.AddDate(0, 0, s.ExpiryDays)
	return &t
}

// ErrBelowMinimum is a purchase smaller than the programme's minimum.
var ErrBelowMinimum = errors.New("purchase below the programme's minimum")

// ForPurchase returns the points a purchase of amountCents earns under s:
// amount / CentsPerPoint, rounded as s says, in integer arithmetic (no
// floating point ever touches money). A purchase below the minimum is
// ErrBelowMinimum; an amount out of range, or one that would earn more
// than MaxPoints (the bound of one movement, however it is given), a
// *FieldError.
func (s Settings) ForPurchase(amountCents int64) (int64, error) {
	if amountCents <= 0 || amountCents > MaxAmountCents {
		return 0, &FieldError{"amount_cents", "out_of_range"}
	}
	if amountCents < s.MinPurchaseCents {
		return 0, ErrBelowMinimum
	}
	q, r := amountCents/s.CentsPerPoint, amountCents%s.CentsPerPoint
	switch s.Rounding {
	case RoundUp:
		if r > 0 {
			q++
		}
	case RoundNearest:
		if 2*r >= s.CentsPerPoint {
			q++
		}
	}
	if q > MaxPoints {
		return 0, &FieldError{"amount_cents", "out_of_range"}
	}
	return q, nil
}

// ParseAmount reads a purchase amount as a person types it in Brazil:
// digits, a comma before the centavos, and dots only as thousands
// separators ("123,45", "1.234,56", "R$ 10"). "123.45" typed the English
// way is refused rather than read as R$ 12.345,00. It returns centavos.
// (The API takes amount_cents, an integer, instead.)
func ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "R$"))
	if s == "" {
		return 0, &FieldError{"amount", "required"}
	}
	whole, frac, hasFrac := strings.Cut(s, ",")
	if groups := strings.Split(whole, "."); len(groups) > 1 {
		for i, g := range groups {
			if i == 0 && (len(g) < 1 || len(g) > 3) || i > 0 && len(g) != 3 {
				return 0, &FieldError{"amount", "invalid_amount"}
			}
		}
	}
	whole = strings.ReplaceAll(whole, ".", "")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || len(whole) > 10 {
		return 0, &FieldError{"amount", "invalid_amount"}
	}
	if hasFrac && (len(frac) == 0 || len(frac) > 2 || strings.Trim(frac, "0123456789") != "") {
		return 0, &FieldError{"amount", "invalid_amount"}
	}
	var cents int64
	for _, r := range whole {
		cents = cents*10 + int64(r-'0')
	}
	cents *= 100
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		cents += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	if cents <= 0 || cents > MaxAmountCents {
		return 0, &FieldError{"amount", "out_of_range"}
	}
	return cents, nil
}

// FormatCents shows centavos as Brazilian reais: 12345 → "R$ 123,45".
func FormatCents(c int64) string {
	neg := c < 0
	if neg {
		c = -c
	}
	whole := fmt.Sprint(c / 100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	out := fmt.Sprintf("R$ %s,%02d", b.String(), c%100)
	if neg {
		out = "-" + out
	}
	return out
}
