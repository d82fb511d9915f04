// Package calendar knows Brazil's national bank holidays and business
// days, for due dates: a boleto due on a day without banking can be paid on
// the next business day without charges, and a gestor may allow new due
// dates on business days only.
//
// The holidays are the national ones (Lei 662/1949 and its amendments:
// Lei 6.802/1980 for 12 October, Lei 14.759/2023 for 20 November, national
// from 2024) plus the days FEBRABAN's calendar closes the banks nationwide:
// Carnival Monday and Tuesday, Good Friday, Corpus Christi and 31 December
// (no banking to the public). State and municipal holidays are not known
// here. Ash Wednesday is a business day (banks open at noon).
//
// It uses the standard library only and builds for GOOS=wasip1. Only the
// calendar date of a time.Time (in its own location) counts.
package calendar

import (
	"slices"
	"time"
)

// Holiday is a day without banking.
type Holiday struct {
	Date time.Time // midnight UTC
	Name string    // Portuguese name, as Brazilian calendars print it
}

// Easter returns Easter Sunday of a Gregorian year (the anonymous
// algorithm of Meeus, Jones and Butcher), midnight UTC.
func Easter(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// Holidays returns the days of year without banking nationwide, in date
// order.
func Holidays(year int) []Holiday {
	h := holidays(year)
	slices.SortFunc(h, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return h
}

// holidays returns the holidays of year in no particular order.
func holidays(year int) []Holiday {
	var h []Holiday
	for _, f := range fixedHolidays {
		if year >= f.since {
			h = append(h, Holiday{time.Date(year, f.month, f.day, 0, 0, 0, 0, time.UTC), f.name})
		}
	}
	e := Easter(year)
	for _, m := range easterHolidays {
		h = append(h, Holiday{e.AddDate(0, 0, m.offset), m.name})
	}
	return h
}

// HolidayName returns the name of the holiday on t's date, or "". It
// allocates nothing: business-day checks run for every date of a window.
func HolidayName(t time.Time) string {
	d := Date(t)
	for _, h := range fixedHolidays {
		if d.Month() == h.month && d.Day() == h.day && d.Year() >= h.since {
			return h.name
		}
	}
	offset := int(d.Sub(Easter(d.Year())).Hours() / 24)
	for _, h := range easterHolidays {
		if offset == h.offset {
			return h.name
		}
	}
	return ""
}

// fixedHolidays are the holidays on the same date every year (from the
// year since).
var fixedHolidays = []struct {
	month time.Month
	day   int
	since int
	name  string
}{
	{time.January, 1, 0, "Confraternização Universal"},
	{time.April, 21, 0, "Tiradentes"},
	{time.May, 1, 0, "Dia do Trabalho"},
	{time.September, 7, 0, "Independência do Brasil"},
	{time.October, 12, 0, "Nossa Senhora Aparecida"},
	{time.November, 2, 0, "Finados"},
	{time.November, 15, 0, "Proclamação da República"},
	{time.November, 20, 2024, "Dia Nacional de Zumbi e da Consciência Negra"},
	{time.December, 25, 0, "Natal"},
	{time.December, 31, 0, "Último dia do ano (sem expediente bancário)"},
}

// easterHolidays are the holidays a number of days from Easter Sunday.
var easterHolidays = []struct {
	offset int
	name   string
}{
	{-48, "Carnaval (segunda-feira)"},
	{-47, "Carnaval (terça-feira)"},
	{-2, "Sexta-feira da Paixão"},
	{60, "Corpus Christi"},
}

// IsBusinessDay reports whether banks work on t's date: Monday to Friday
// and not a holiday.
func IsBusinessDay(t time.Time) bool {
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return HolidayName(t) == ""
}

// NextBusinessDay returns t's date if it is a business day, or else the
// first business day after it (midnight UTC).
func NextBusinessDay(t time.Time) time.Time {
	d := Date(t)
	for !IsBusinessDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// Date returns t's calendar date, in t's own location, as midnight UTC.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DaysBetween returns the calendar days from a's date to b's date
// (negative when b is earlier).
func DaysBetween(a, b time.Time) int {
	return int(Date(b).Sub(Date(a)).Hours() / 24)
}
