package charges

import "testing"

// BenchmarkCompute measures a breakdown and the window check of a new date.
func BenchmarkCompute(b *testing.B) {
	w := Window{MaxDays: 30, BusinessDaysOnly: true}
	for b.Loop() {
		if err := w.Check(day(2026, 12, 3), day(2026, 12, 7)); err != nil {
			b.Fatal(err)
		}
		if _, err := Compute(100000, day(2026, 11, 6), day(2026, 12, 7), usual); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWindowDates measures listing the dates of a 30-day window.
func BenchmarkWindowDates(b *testing.B) {
	w := Window{MaxDays: 30, BusinessDaysOnly: true}
	for b.Loop() {
		_ = w.Dates(day(2026, 12, 3))
	}
}
