package charges_test

import (
	"fmt"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/charges"
)

// The breakdown of an installment of R$ 1.000,00 due on 2026-11-06,
// re-issued for 2026-12-07 with the usual 2 % fine and 1 % a month.
func ExampleCompute() {
	fine, _ := charges.ParseRate("2%")
	interest, _ := charges.ParseRate("1")
	b, err := charges.Compute(100000,
		time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		charges.Settings{Fine: fine, MonthlyInterest: interest})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Days, "days")
	fmt.Println("multa", fine.Format("pt-BR"), charges.FormatBRL(b.Fine, "pt-BR"))
	fmt.Println("juros", charges.FormatBRL(b.Interest, "pt-BR"))
	fmt.Println("total", charges.FormatBRL(b.Total, "pt-BR"))
	// Output:
	// 31 days
	// multa 2% R$ 20,00
	// juros R$ 10,33
	// total R$ 1.030,33
}

// A new due date outside the window, refused in the customer's language.
func ExampleWindow_Check() {
	w := charges.Window{MaxDays: 30, BusinessDaysOnly: true}
	today := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	err := w.Check(today, time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC))
	if de, ok := err.(*charges.DueDateError); ok {
		fmt.Println(de.Message("pt-BR"))
		fmt.Println(de.Message("en"))
	}
	// Output:
	// 25/12/2026 é feriado bancário (Natal); escolha um dia útil.
	// Dec 25, 2026 is a bank holiday (Natal); choose a business day.
}
