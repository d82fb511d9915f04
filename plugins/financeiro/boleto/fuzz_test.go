package boleto

import (
	"errors"
	"testing"
)

// FuzzParseLine feeds arbitrary text to ParseLine. Whatever it accepts must
// round-trip: its barcode parses to the same slip, converts back to the
// same 47 digits, and the formatted line parses too.
func FuzzParseLine(f *testing.F) {
	for _, p := range published {
		f.Add(p.line)
	}
	f.Add(validLine)
	f.Add("")
	f.Add("858200000007572503282030560708202107539591904460")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseLine(in)
		if err != nil {
			if !knownError(err) {
				t.Fatalf("ParseLine(%q): error %v wraps none of the package's errors", in, err)
			}
			return
		}
		bar, err := s.Barcode()
		if err != nil {
			t.Fatalf("accepted %q but Barcode fails: %v", in, err)
		}
		back, err := ParseBarcode(bar)
		if err != nil || back != s {
			t.Fatalf("barcode %s parses to %+v, %v; want %+v", bar, back, err, s)
		}
		line, err := s.Line()
		if err != nil {
			t.Fatal(err)
		}
		if again, err := ParseLine(FormatLine(line)); err != nil || again != s {
			t.Fatalf("formatted line %s parses to %+v, %v", FormatLine(line), again, err)
		}
		if w, err := ITF(bar); err != nil {
			t.Fatal(err)
		} else if d, err := DecodeITF(w); err != nil || d != bar {
			t.Fatalf("ITF round trip of %s: %q, %v", bar, d, err)
		}
	})
}

// FuzzParseBarcode does the same from the barcode side.
func FuzzParseBarcode(f *testing.F) {
	for _, p := range published {
		f.Add(p.barcode)
	}
	f.Add("83860000005096000190000008017823000034306271")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseBarcode(in)
		if err != nil {
			if !knownError(err) {
				t.Fatalf("ParseBarcode(%q): error %v wraps none of the package's errors", in, err)
			}
			return
		}
		line, err := BarcodeToLine(in)
		if err != nil {
			t.Fatal(err)
		}
		bar, err := LineToBarcode(line)
		if err != nil {
			t.Fatal(err)
		}
		if back, _ := ParseBarcode(bar); back != s {
			t.Fatalf("round trip %q → %s → %s changed the slip", in, line, bar)
		}
	})
}

// FuzzSlip builds slips from arbitrary fields: whenever Barcode succeeds,
// both parsers give the slip back.
func FuzzSlip(f *testing.F) {
	f.Add("001", 6991, int64(40000), "0000001234567000000000517")
	f.Add("341", 0, int64(1), "0000000000000000000000000")
	f.Fuzz(func(t *testing.T, bank string, factor int, amount int64, free string) {
		s := Slip{Bank: bank, Factor: factor, Amount: amount, FreeField: free}
		bar, err := s.Barcode()
		if err != nil {
			if !knownError(err) {
				t.Fatalf("Barcode(%+v): error %v", s, err)
			}
			return
		}
		line, _ := s.Line()
		a, errA := ParseBarcode(bar)
		b, errB := ParseLine(line)
		if errA != nil || errB != nil || a != s || b != s {
			t.Fatalf("slip %+v: ParseBarcode %+v %v, ParseLine %+v %v", s, a, errA, b, errB)
		}
	})
}

func knownError(err error) bool {
	for _, e := range []error{ErrLength, ErrCharacter, ErrCheckDigit, ErrBank, ErrCurrency, ErrFactor, ErrDueDate, ErrAmount, ErrFreeField, ErrArrecadacao} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
