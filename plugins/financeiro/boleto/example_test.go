package boleto_test

import (
	"fmt"
	"time"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
)

// A Banco do Brasil slip for R$ 1.030,33 due on 2026-12-07 (factor 1653 of
// the cycle that began on 2025-02-22), from the convênio, the sequence the
// ERP keeps and the carteira. The expected digits were computed
// independently (a short Python script following docs/boleto.md).
func ExampleNew() {
	free, err := boleto.BBConvenio7{Convenio: "1234567", Sequence: 42, Carteira: "17"}.FreeField()
	if err != nil {
		panic(err)
	}
	s, err := boleto.New(boleto.BancoDoBrasil, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), 103033, free)
	if err != nil {
		panic(err)
	}
	bar, _ := s.Barcode()
	line, _ := s.Line()
	fmt.Println(bar)
	fmt.Println(boleto.FormatLine(line))
	// Output:
	// 00195165300001030330000001234567000000004217
	// 00190.00009 01234.567004 00000.042176 5 16530000103033
}

// Reading a linha digitável a customer typed.
func ExampleParseLine() {
	s, err := boleto.ParseLine("00190.00009 01234.567004 00000.005173 1 69910000040000")
	if err != nil {
		panic(err)
	}
	due, _, _ := s.DueDate(time.Date(2016, 11, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(s.Bank, s.Amount, due.Format(time.DateOnly))
	_, err = boleto.ParseLine("00190.00009 01234.567004 00000.005173 1 69910000040001")
	fmt.Println(err)
	// Output:
	// 001 40000 2016-11-27
	// boleto: wrong check digit: general check digit (position 5) is 1, want 9
}
