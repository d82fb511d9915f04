package charges

import (
	"fmt"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/calendar"
)

// MaxWindowDays bounds the due-date window a gestor may configure: a
// segunda via is for paying soon, and a year is far beyond any contract's
// tolerance.
const MaxWindowDays = 365

// Window is the range of new due dates a customer may pick: from today to
// MaxDays calendar days after it, and, when BusinessDaysOnly is set, only
// on business days (national bank holidays and weekends excluded). A
// business-days window whose last day is not a business day ends on the
// next one instead, so it always offers a date: a two-day window opened on
// a Saturday, or on the Saturday of Carnival, would otherwise have none.
type Window struct {
	MaxDays          int
	BusinessDaysOnly bool
}

// Validate checks the window's settings.
func (w Window) Validate() error {
	if w.MaxDays < 0 || w.MaxDays > MaxWindowDays {
		return fmt.Errorf("%w: window of %d days, want 0 to %d", ErrSettings, w.MaxDays, MaxWindowDays)
	}
	return nil
}

// Reasons a due date is refused (DueDateError.Reason).
const (
	ReasonPast    = "past"    // before today
	ReasonTooFar  = "too_far" // after the last date of the window
	ReasonWeekend = "weekend" // a Saturday or Sunday, business days only
	ReasonHoliday = "holiday" // a bank holiday, business days only
)

// DueDateError says why a new due date is refused; Message writes it in
// the customer's language.
type DueDateError struct {
	Reason  string    // one of the Reason constants
	Date    time.Time // the refused date
	First   time.Time // first date of the window (today)
	Last    time.Time // last date of the window
	Holiday string    // the holiday's name, for ReasonHoliday
}

// Error writes the refusal in English, for logs.
func (e *DueDateError) Error() string { return "charges: " + e.Message("en") }

// Message writes the refusal for the customer in locale ("pt-BR", "es",
// "en"; anything else gets Portuguese), dates formatted for that locale.
func (e *DueDateError) Message(locale string) string {
	d, first, last := FormatDate(e.Date, locale), FormatDate(e.First, locale), FormatDate(e.Last, locale)
	switch locale {
	case "en":
		switch e.Reason {
		case ReasonPast:
			return fmt.Sprintf("The new due date %s is in the past; choose a date from %s to %s.", d, first, last)
		case ReasonTooFar:
			return fmt.Sprintf("The new due date %s is too far away; choose a date up to %s.", d, last)
		case ReasonWeekend:
			return fmt.Sprintf("%s is a weekend day; choose a business day.", d)
		default:
			return fmt.Sprintf("%s is a bank holiday (%s); choose a business day.", d, e.Holiday)
		}
	case "es":
		switch e.Reason {
		case ReasonPast:
			return fmt.Sprintf("La nueva fecha de vencimiento %s ya pasó; elija una fecha entre %s y %s.", d, first, last)
		case ReasonTooFar:
			return fmt.Sprintf("La nueva fecha de vencimiento %s está demasiado lejos; elija una fecha hasta el %s.", d, last)
		case ReasonWeekend:
			return fmt.Sprintf("El %s es fin de semana; elija un día hábil.", d)
		default:
			return fmt.Sprintf("El %s es feriado bancario (%s); elija un día hábil.", d, e.Holiday)
		}
	default:
		switch e.Reason {
		case ReasonPast:
			return fmt.Sprintf("O novo vencimento %s já passou; escolha uma data de %s a %s.", d, first, last)
		case ReasonTooFar:
			return fmt.Sprintf("O novo vencimento %s está longe demais; escolha uma data até %s.", d, last)
		case ReasonWeekend:
			return fmt.Sprintf("%s cai em fim de semana; escolha um dia útil.", d)
		default:
			return fmt.Sprintf("%s é feriado bancário (%s); escolha um dia útil.", d, e.Holiday)
		}
	}
}

// Check reports whether due may be the new due date when today is today
// (only calendar dates count; pass today in the tenant's time zone). The
// error is a *DueDateError.
func (w Window) Check(today, due time.Time) error {
	t, d := calendar.Date(today), calendar.Date(due)
	e := &DueDateError{Date: d, First: t, Last: w.last(t)}
	switch {
	case d.Before(e.First):
		e.Reason = ReasonPast
	case d.After(e.Last):
		e.Reason = ReasonTooFar
	case w.BusinessDaysOnly && (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday):
		e.Reason = ReasonWeekend
	case w.BusinessDaysOnly && calendar.HolidayName(d) != "":
		e.Reason, e.Holiday = ReasonHoliday, calendar.HolidayName(d)
	default:
		return nil
	}
	return e
}

// last is the window's last date when today is t (a calendar.Date).
func (w Window) last(t time.Time) time.Time {
	end := t.AddDate(0, 0, w.MaxDays)
	if w.BusinessDaysOnly {
		end = calendar.NextBusinessDay(end)
	}
	return end
}

// Dates lists the dates Check accepts, in order, for a date picker or a
// select field: at least one (see Window), and nil only for settings
// Validate refuses.
func (w Window) Dates(today time.Time) []time.Time {
	if w.Validate() != nil {
		return nil
	}
	t := calendar.Date(today)
	last := w.last(t)
	out := make([]time.Time, 0, w.MaxDays+1)
	for d := t; !d.After(last); d = d.AddDate(0, 0, 1) {
		if !w.BusinessDaysOnly || calendar.IsBusinessDay(d) {
			out = append(out, d)
		}
	}
	return out
}

// FormatDate writes a date as the locale does: 07/12/2026 for pt-BR and
// es, Dec 7, 2026 for en. English readers of a Brazilian portal may read
// numeric dates either way round (12/07 is 7 December in the US and 12
// July here), so English names the month.
func FormatDate(t time.Time, locale string) string {
	if locale == "en" {
		return t.Format("Jan 2, 2006")
	}
	return t.Format("02/01/2006")
}
