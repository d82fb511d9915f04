package abi

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestAddDecimal(t *testing.T) {
	for _, tc := range []struct {
		old   string
		found bool
		delta int64
		want  string
		err   bool
	}{
		{"", false, 1, "1", false},
		{"41", true, 1, "42", false},
		{"-5", true, 3, "-2", false},
		{"0", true, -1, "-1", false},
		{"", true, 1, "", true},
		{"007", true, 1, "", true},
		{"+1", true, 1, "", true},
		{" 1", true, 1, "", true},
		{"1.5", true, 1, "", true},
		{strconv.FormatInt(math.MaxInt64, 10), true, 1, "", true},
		{strconv.FormatInt(math.MinInt64, 10), true, -1, "", true},
		{strconv.FormatInt(math.MaxInt64-1, 10), true, 1, strconv.FormatInt(math.MaxInt64, 10), false},
	} {
		b, n, err := AddDecimal([]byte(tc.old), tc.found, tc.delta)
		if tc.err {
			if !errors.Is(err, ErrNotInteger) {
				t.Errorf("AddDecimal(%q, %v, %d) = %q, %v; want ErrNotInteger", tc.old, tc.found, tc.delta, b, err)
			}
			continue
		}
		if err != nil || string(b) != tc.want || strconv.FormatInt(n, 10) != tc.want {
			t.Errorf("AddDecimal(%q, %v, %d) = %q, %d, %v; want %s", tc.old, tc.found, tc.delta, b, n, err, tc.want)
		}
	}
}

// FuzzAddDecimal: a value accepted reads back as the number returned, and
// adding the opposite delta gives the old value again.
func FuzzAddDecimal(f *testing.F) {
	f.Add("41", int64(1))
	f.Add("-9223372036854775808", int64(-1))
	f.Fuzz(func(t *testing.T, old string, delta int64) {
		b, n, err := AddDecimal([]byte(old), true, delta)
		if err != nil {
			return
		}
		if got, _ := strconv.ParseInt(string(b), 10, 64); got != n {
			t.Fatalf("stored %q, returned %d", b, n)
		}
		if delta != math.MinInt64 {
			back, _, err := AddDecimal(b, true, -delta)
			if err != nil || string(back) != old {
				t.Fatalf("%q + %d - %d = %q, %v", old, delta, delta, back, err)
			}
		}
	})
}
