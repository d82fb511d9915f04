package charges

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Rate is a proportion in millionths: Unit is 100 %, Percent is 1 %, so
// 2 % is 20000 and 0,0333 % is 333. Four decimals of a percentage are
// exact; no float is involved.
type Rate int64

// Rate units.
const (
	Unit    Rate = 1_000_000 // 100 %
	Percent Rate = 10_000    // 1 %
)

// ErrRate is wrapped by ParseRate.
var ErrRate = errors.New("charges: invalid rate")

// maxRateInput bounds what ParseRate reads, in bytes.
const maxRateInput = 32

// ParseRate reads a percentage as a gestor types it: "2", "2%", "2,5 %",
// "0.0333", "1,00%". Either a comma or a point is the decimal separator
// (no thousands separators: no lawful rate needs them); at most four
// decimals; not negative; at most 100 %. The result is in Rate units.
func ParseRate(s string) (Rate, error) {
	if len(s) > maxRateInput {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrRate, len(s), maxRateInput)
	}
	t := strings.TrimSpace(s)
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	whole, frac, sep := strings.Cut(strings.Replace(t, ",", ".", 1), ".")
	if whole == "" && frac == "" || !digitsOnly(whole) || !digitsOnly(frac) || (sep && frac == "") {
		return 0, fmt.Errorf("%w: %q, want a percentage such as 2 or 0,0333", ErrRate, s)
	}
	if len(frac) > 4 {
		return 0, fmt.Errorf("%w: %q has more than four decimals", ErrRate, s)
	}
	if len(whole) > 3 {
		return 0, fmt.Errorf("%w: %q is above 100 %%", ErrRate, s)
	}
	for len(frac) < 4 {
		frac += "0"
	}
	n, err := strconv.ParseInt("0"+whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %w", ErrRate, s, err)
	}
	r := Rate(n) // four decimals of a percentage are millionths
	if r > Unit {
		return 0, fmt.Errorf("%w: %q is above 100 %%", ErrRate, s)
	}
	return r, nil
}

// String writes the rate as a percentage with a point: "2%", "0.0333%".
func (r Rate) String() string { return r.format('.') }

// Format writes the rate as a percentage for a locale: a decimal comma
// for "pt-BR" and "es" ("2,5%"), a point for "en" ("2.5%"); trailing zero
// decimals are dropped.
func (r Rate) Format(locale string) string {
	if locale == "en" {
		return r.format('.')
	}
	return r.format(',')
}

func (r Rate) format(dec byte) string {
	sign := ""
	if r < 0 {
		sign, r = "-", -r
	}
	whole, frac := int64(r/Percent), int64(r%Percent)
	s := sign + strconv.FormatInt(whole, 10)
	if frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
		s += string(dec) + f
	}
	return s + "%"
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
