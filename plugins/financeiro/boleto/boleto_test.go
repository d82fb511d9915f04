package boleto

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// published lists barcode ↔ linha digitável pairs published by others,
// before and after the 2025-02-22 rollover of the due-date factor, with
// the due date and amount each pair carries.
var published = []struct {
	source  string
	barcode string
	line    string
	due     time.Time
	factor  int
	amount  int64
}{
	// BoletoNet/BoletoNetCore, BoletoNetCore.Testes/Bancos/Brasil/Carteiras/
	// BancoBrasilCarteira17_019Tests.cs (commit 41e74401): Banco do Brasil,
	// convênio 1234567, carteira 17; the nine cases have general check
	// digits 1 to 9.
	{"BoletoNetCore BB 17/019 #1", "00191699100000400000000001234567000000000517", "00190.00009 01234.567004 00000.005173 1 69910000040000", date(2016, 11, 27), 6991, 40000},
	{"BoletoNetCore BB 17/019 #2", "00192699100000402000000001234567000000000517", "00190.00009 01234.567004 00000.005173 2 69910000040200", date(2016, 11, 27), 6991, 40200},
	{"BoletoNetCore BB 17/019 #3", "00193692900000200000000001234567000000000317", "00190.00009 01234.567004 00000.003178 3 69290000020000", date(2016, 9, 26), 6929, 20000},
	{"BoletoNetCore BB 17/019 #4", "00194688900001232780000001234567000000000117", "00190.00009 01234.567004 00000.001172 4 68890000123278", date(2016, 8, 17), 6889, 123278},
	{"BoletoNetCore BB 17/019 #5", "00195710300000800000000001234567000000000917", "00190.00009 01234.567004 00000.009175 5 71030000080000", date(2017, 3, 19), 7103, 80000},
	{"BoletoNetCore BB 17/019 #6", "00196695900000306520000001234567000000000417", "00190.00009 01234.567004 00000.004176 6 69590000030652", date(2016, 10, 26), 6959, 30652},
	{"BoletoNetCore BB 17/019 #7", "00197695900000300000000001234567000000000417", "00190.00009 01234.567004 00000.004176 7 69590000030000", date(2016, 10, 26), 6959, 30000},
	{"BoletoNetCore BB 17/019 #8", "00198705200000609000000001234567000000000717", "00190.00009 01234.567004 00000.007179 8 70520000060900", date(2017, 1, 27), 7052, 60900},
	{"BoletoNetCore BB 17/019 #9", "00199705200000600000000001234567000000000717", "00190.00009 01234.567004 00000.007179 9 70520000060000", date(2017, 1, 27), 7052, 60000},
	// kivanio/brcobranca, spec/brcobranca/boleto/banco_brasil_spec.rb
	// (commit 325e0eae), "convenio de 7 digitos e nosso numero de 10":
	// convênio 1238798, nosso número 7777700168, carteira 18.
	{"brcobranca BB convênio 7", "00193377100000135000000001238798777770016818", "00190.00009 01238.798779 77700.168188 3 37710000013500", date(2008, 2, 3), 3771, 13500},
	{"brcobranca BB convênio 7 (723,56)", "00194376900000723560000001238798777770016818", "00190.00009 01238.798779 77700.168188 4 37690000072356", date(2008, 2, 1), 3769, 72356},
	// mrmgomes/boleto-utils, test/test.js: a Caixa slip of 2022-05-10.
	{"boleto-utils Caixa", "10499898100000214032006561000100040099726390", "10492.00650 61000.100042 00997.263900 9 89810000021403", date(2022, 5, 10), 8981, 21403},
	// BoletoNetCore, Bancos/Daycoval/Carteiras/BancoDaycovalCarteira121Tests.cs:
	// a month before the rollover (factor 9963) …
	{"BoletoNetCore Daycoval 2025-01-16", "70792996300002711120001121193443600845801078", "70790.00118 21193.443609 08458.010785 2 99630000271112", date(2025, 1, 16), 9963, 271112},
	// … and after it: factor 1042 is 2025-04-05.
	{"BoletoNetCore Daycoval 2025-04-05", "70794104200000645390001121193443600845801086", "70790.00118 21193.443609 08458.010868 4 10420000064539", date(2025, 4, 5), 1042, 64539},
	// brcobranca, spec/brcobranca/boleto/safra_spec.rb: 2025-02-23, the
	// second day of the new cycle (factor 1001).
	{"brcobranca Safra 2025-02-23", "42296100100000180847004000002782472617300112", "42297.00408 00002.782472 26173.001129 6 10010000018084", date(2025, 2, 23), 1001, 18084},
	// brcobranca, spec/brcobranca/boleto/itau_spec.rb: Itaú, 2029-05-20
	// (factor 2548 of the new cycle).
	{"brcobranca Itaú 2029-05-20", "34194254800006757871090001015271248021246000", "34191.09008 01015.271248 80212.460002 4 25480000675787", date(2029, 5, 20), 2548, 675787},
}

func TestPublishedPairs(t *testing.T) {
	for _, tt := range published {
		t.Run(tt.source, func(t *testing.T) {
			plain := strings.NewReplacer(".", "", " ", "").Replace(tt.line)
			line, err := BarcodeToLine(tt.barcode)
			if err != nil || line != plain {
				t.Fatalf("BarcodeToLine = %q, %v; want %q", line, err, plain)
			}
			if got := FormatLine(line); got != tt.line {
				t.Errorf("FormatLine = %q, want %q", got, tt.line)
			}
			bar, err := LineToBarcode(tt.line)
			if err != nil || bar != tt.barcode {
				t.Fatalf("LineToBarcode = %q, %v; want %q", bar, err, tt.barcode)
			}
			s, err := ParseLine(plain)
			if err != nil {
				t.Fatal(err)
			}
			if s.Factor != tt.factor || s.Amount != tt.amount {
				t.Errorf("factor, amount = %d, %d; want %d, %d", s.Factor, s.Amount, tt.factor, tt.amount)
			}
			f, err := DueFactor(tt.due)
			if err != nil || f != tt.factor {
				t.Errorf("DueFactor(%s) = %d, %v; want %d", tt.due.Format(time.DateOnly), f, err, tt.factor)
			}
			// Read back on the day it was due, the factor names its date.
			due, ok, err := s.DueDate(tt.due)
			if err != nil || !ok || !due.Equal(tt.due) {
				t.Errorf("DueDate = %v, %v, %v; want %v", due, ok, err, tt.due)
			}
			// Built from its parts, the slip gives the same numbers.
			n, err := New(s.Bank, tt.due, tt.amount, s.FreeField)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := n.Barcode(); b != tt.barcode {
				t.Errorf("New(...).Barcode() = %q, want %q", b, tt.barcode)
			}
		})
	}
}

// The Banco do Brasil pairs above, rebuilt from convênio, sequence and
// carteira: the campo livre layout, not just the check digits.
func TestBBConvenio7Published(t *testing.T) {
	tests := []struct {
		bb      BBConvenio7
		due     time.Time
		amount  int64
		barcode string
		nosso   string
	}{
		{BBConvenio7{"1234567", 5, "17"}, date(2016, 11, 27), 40000, "00191699100000400000000001234567000000000517", "12345670000000005"},
		{BBConvenio7{"1234567", 1, "17"}, date(2016, 8, 17), 123278, "00194688900001232780000001234567000000000117", "12345670000000001"},
		{BBConvenio7{"1238798", 7777700168, "18"}, date(2008, 2, 3), 13500, "00193377100000135000000001238798777770016818", "12387987777700168"},
	}
	for _, tt := range tests {
		free, err := tt.bb.FreeField()
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(BancoDoBrasil, tt.due, tt.amount, free)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := s.Barcode(); b != tt.barcode {
			t.Errorf("%+v: barcode %q, want %q", tt.bb, b, tt.barcode)
		}
		if nn, _ := tt.bb.NossoNumero(); nn != tt.nosso {
			t.Errorf("%+v: nosso número %q, want %q", tt.bb, nn, tt.nosso)
		}
		back, err := ParseBBConvenio7(free)
		if err != nil || back != tt.bb {
			t.Errorf("ParseBBConvenio7(%q) = %+v, %v; want %+v", free, back, err, tt.bb)
		}
	}
}

func TestBBConvenio7Invalid(t *testing.T) {
	tests := []struct {
		name string
		bb   BBConvenio7
	}{
		{"short convênio", BBConvenio7{"123456", 1, "17"}},
		{"convênio with leading zero", BBConvenio7{"0123456", 1, "17"}},
		{"letters", BBConvenio7{"12a4567", 1, "17"}},
		{"negative sequence", BBConvenio7{"1234567", -1, "17"}},
		{"eleven-digit sequence", BBConvenio7{"1234567", 10_000_000_000, "17"}},
		{"one-digit carteira", BBConvenio7{"1234567", 1, "7"}},
		{"carteira 00", BBConvenio7{"1234567", 1, "00"}},
	}
	for _, tt := range tests {
		if _, err := tt.bb.FreeField(); !errors.Is(err, ErrFreeField) {
			t.Errorf("%s: FreeField error %v, want ErrFreeField", tt.name, err)
		}
	}
	for _, free := range []string{"1000001234567000000000517", "00000012345670000000005", "000000012345600000000051x"} {
		if _, err := ParseBBConvenio7(free); !errors.Is(err, ErrFreeField) {
			t.Errorf("ParseBBConvenio7(%q) error %v, want ErrFreeField", free, err)
		}
	}
}

func TestDueFactor(t *testing.T) {
	tests := []struct {
		due    time.Time
		factor int
	}{
		{date(2000, 7, 3), 1000}, // first day of the factor
		{date(2000, 7, 4), 1001},
		{date(2002, 5, 1), 1667},
		{date(2010, 11, 17), 4789},
		{date(2025, 2, 21), 9999}, // last day of the first cycle
		{date(2025, 2, 22), 1000}, // rollover
		{date(2025, 2, 23), 1001},
		{date(2026, 12, 21), 1667},
		{date(2049, 10, 13), 9999}, // last day of the second cycle
	}
	for _, tt := range tests {
		got, err := DueFactor(tt.due)
		if err != nil || got != tt.factor {
			t.Errorf("DueFactor(%s) = %d, %v; want %d", tt.due.Format(time.DateOnly), got, err, tt.factor)
		}
	}
	// Only the calendar date counts, in the time's own location.
	sp := time.FixedZone("BRT", -3*3600)
	if got, _ := DueFactor(time.Date(2025, 2, 22, 23, 30, 0, 0, sp)); got != 1000 {
		t.Errorf("DueFactor(2025-02-22 23:30 -03:00) = %d, want 1000", got)
	}
	for _, d := range []time.Time{date(2000, 7, 2), date(1997, 10, 7), date(2049, 10, 14), date(2100, 1, 1)} {
		if _, err := DueFactor(d); !errors.Is(err, ErrDueDate) {
			t.Errorf("DueFactor(%s) error %v, want ErrDueDate", d.Format(time.DateOnly), err)
		}
	}
}

func TestFactorDate(t *testing.T) {
	tests := []struct {
		factor int
		ref    time.Time
		want   time.Time
	}{
		// Factor 1000 names 2000-07-03 and 2025-02-22; today it is the second.
		{1000, date(2026, 12, 3), date(2025, 2, 22)},
		{1000, date(2005, 1, 1), date(2000, 7, 3)},
		// The Caixa slip of 2022-05-10 read in 2026: still the old cycle.
		{8981, date(2026, 12, 3), date(2022, 5, 10)},
		// Read in 2045, factor 8981 is 2046-12-30 (2025-02-22 + 7981 days).
		{8981, date(2045, 1, 1), date(2046, 12, 30)},
		{9999, date(2025, 2, 21), date(2025, 2, 21)},
		// Window edges: 3000 days before and 5500 after the reference.
		{1000, date(2025, 2, 22).AddDate(0, 0, 3000), date(2025, 2, 22)},
		{1000, date(2025, 2, 22).AddDate(0, 0, -5500), date(2025, 2, 22)},
	}
	for _, tt := range tests {
		got, err := FactorDate(tt.factor, tt.ref)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("FactorDate(%d, %s) = %v, %v; want %s", tt.factor, tt.ref.Format(time.DateOnly), got, err, tt.want.Format(time.DateOnly))
		}
	}
	// One day past either edge, no cycle fits.
	if _, err := FactorDate(1000, date(2025, 2, 22).AddDate(0, 0, 3001)); !errors.Is(err, ErrDueDate) {
		t.Errorf("3001 days after: error %v, want ErrDueDate", err)
	}
	for _, f := range []int{0, 1, 999, 10000, -5} {
		if _, err := FactorDate(f, date(2026, 1, 1)); !errors.Is(err, ErrFactor) {
			t.Errorf("FactorDate(%d) error %v, want ErrFactor", f, err)
		}
	}
}

func TestNoDueDate(t *testing.T) {
	free, _ := BBConvenio7{"1234567", 5, "17"}.FreeField()
	s, err := New(BancoDoBrasil, time.Time{}, 40000, free)
	if err != nil {
		t.Fatal(err)
	}
	bar, _ := s.Barcode()
	if bar[5:9] != "0000" {
		t.Fatalf("barcode %s: factor %s, want 0000", bar, bar[5:9])
	}
	back, err := ParseBarcode(bar)
	if err != nil || back != s {
		t.Fatalf("ParseBarcode = %+v, %v; want %+v", back, err, s)
	}
	if _, ok, err := back.DueDate(date(2026, 1, 1)); ok || err != nil {
		t.Errorf("DueDate of factor 0 = ok %v, %v; want no date, no error", ok, err)
	}
}

// valid is the first published pair, altered by the cases below.
const (
	validBar  = "00191699100000400000000001234567000000000517"
	validLine = "00190000090123456700400000005173169910000040000"
)

func TestParseBarcodeRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrLength},
		{"43 digits", validBar[:43], ErrLength},
		{"45 digits", validBar + "0", ErrLength},
		{"huge", strings.Repeat("1", 10_000), ErrLength},
		{"letter", validBar[:10] + "x" + validBar[11:], ErrCharacter},
		{"inner space", validBar[:10] + " " + validBar[11:], ErrCharacter},
		{"non-ASCII digit", "٠" + validBar[2:], ErrCharacter},
		{"wrong general digit", validBar[:4] + "2" + validBar[5:], ErrCheckDigit},
		{"swapped digits", validBar[:13] + validBar[14:15] + validBar[13:14] + validBar[15:], ErrCheckDigit},
		{"amount changed", validBar[:18] + "1" + validBar[19:], ErrCheckDigit},
		{"currency 0", withDV("0010" + validBar[5:]), ErrCurrency},
		{"bank 000", withDV("0009" + validBar[5:]), ErrBank},
		{"factor 0500", withDV("0019" + "0500" + validBar[9:]), ErrFactor},
		{"factor 0001", withDV("0019" + "0001" + validBar[9:]), ErrFactor},
		{"arrecadação", "83860000005096000190000008017823000034306271", ErrArrecadacao},
	}
	for _, tt := range tests {
		if _, err := ParseBarcode(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: ParseBarcode error %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := ParseBarcode("  " + validBar + "\n"); err != nil {
		t.Errorf("surrounding spaces: %v", err)
	}
}

// withDV inserts the general check digit into 43 digits, so a case can
// test the rule after it.
func withDV(d43 string) string {
	return d43[:4] + string(rune('0'+GeneralDigit(d43))) + d43[4:]
}

func TestParseLineRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrLength},
		{"46 digits", validLine[:46], ErrLength},
		{"48 digits", validLine + "0", ErrLength},
		{"huge", strings.Repeat("1", MaxInput+1), ErrLength},
		{"hyphen", validLine[:5] + "-" + validLine[5:], ErrCharacter},
		{"letter", "O" + validLine[1:], ErrCharacter},
		{"field 1 digit", validLine[:9] + "8" + validLine[10:], ErrCheckDigit},
		{"field 2 digit", validLine[:20] + "5" + validLine[21:], ErrCheckDigit},
		{"field 3 digit", validLine[:31] + "4" + validLine[32:], ErrCheckDigit},
		{"general digit", validLine[:32] + "2" + validLine[33:], ErrCheckDigit},
		{"amount typed wrong", validLine[:46] + "1", ErrCheckDigit},
		{"factor typed wrong", validLine[:33] + "6992" + validLine[37:], ErrCheckDigit},
		{"arrecadação", "858200000007572503282030560708202107539591904460", ErrArrecadacao},
	}
	for _, tt := range tests {
		if _, err := ParseLine(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: ParseLine error %v, want %v", tt.name, err, tt.want)
		}
	}
	// A line whose factor is inconsistent (0500) but whose every check
	// digit is right is refused for the factor.
	bad := Slip{Bank: "001", Factor: 0, Amount: 40000, FreeField: validBar[19:]}
	bar, _ := bad.Barcode()
	bar = withDV(bar[:4] + "0500" + bar[9:])
	if _, err := ParseLine(lineOf(bar)); !errors.Is(err, ErrFactor) {
		t.Errorf("factor 0500 with right check digits: error %v, want ErrFactor", err)
	}
}

func TestNewRejects(t *testing.T) {
	free := validBar[19:]
	tests := []struct {
		name   string
		bank   string
		due    time.Time
		amount int64
		free   string
		want   error
	}{
		{"no amount", "001", date(2026, 1, 1), 0, free, ErrAmount},
		{"negative", "001", date(2026, 1, 1), -1, free, ErrAmount},
		{"too much", "001", date(2026, 1, 1), MaxAmount + 1, free, ErrAmount},
		{"bank letters", "0a1", date(2026, 1, 1), 1, free, ErrBank},
		{"bank 4 digits", "0001", date(2026, 1, 1), 1, free, ErrBank},
		{"bank 800", "800", date(2026, 1, 1), 1, free, ErrBank}, // found by FuzzSlip
		{"short free", "001", date(2026, 1, 1), 1, free[1:], ErrFreeField},
		{"free letters", "001", date(2026, 1, 1), 1, "x" + free[1:], ErrFreeField},
		{"due too late", "001", date(2050, 1, 1), 1, free, ErrDueDate},
		{"due too early", "001", date(1999, 1, 1), 1, free, ErrDueDate},
	}
	for _, tt := range tests {
		if _, err := New(tt.bank, tt.due, tt.amount, tt.free); !errors.Is(err, tt.want) {
			t.Errorf("%s: New error %v, want %v", tt.name, err, tt.want)
		}
	}
	if s, err := New("001", date(2026, 1, 1), MaxAmount, free); err != nil {
		t.Errorf("MaxAmount: %v", err)
	} else if bar, _ := s.Barcode(); bar[9:19] != "9999999999" {
		t.Errorf("MaxAmount barcode %s", bar)
	}
}

func TestCheckDigits(t *testing.T) {
	// Worked examples: the first BoletoNetCore pair.
	if got := GeneralDigit("0019" + validBar[5:]); got != 1 {
		t.Errorf("GeneralDigit = %d, want 1", got)
	}
	fields := []struct {
		in   string
		want int
	}{
		{"001900000", 9}, {"0123456700", 4}, {"0000000517", 3},
		{"0000000000", 0}, // sum 0 gives 0, not 10
	}
	for _, f := range fields {
		if got := FieldDigit(f.in); got != f.want {
			t.Errorf("FieldDigit(%s) = %d, want %d", f.in, got, f.want)
		}
	}
	// Results 0, 10 and 11 of the mod-11 rule all become 1; find a case
	// of each among short inputs and check the digit is never 0.
	seen := map[int]bool{}
	for n := 0; n < 2000; n++ {
		s := strings.Repeat("0", 40) + itoa3(n)
		sum, w := 0, 2
		for i := len(s) - 1; i >= 0; i-- {
			sum += int(s[i]-'0') * w
			if w++; w > 9 {
				w = 2
			}
		}
		r := 11 - sum%11
		d := GeneralDigit(s)
		if d < 1 || d > 9 {
			t.Fatalf("GeneralDigit(%s) = %d, want 1-9", s, d)
		}
		if r == 0 || r == 10 || r == 11 {
			seen[r] = true
			if d != 1 {
				t.Fatalf("GeneralDigit(%s) = %d for result %d, want 1", s, d, r)
			}
		}
	}
	if !seen[10] || !seen[11] {
		t.Errorf("results 10 and 11 not both exercised: %v", seen)
	}
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestFormatLine(t *testing.T) {
	if got := FormatLine(validLine); got != "00190.00009 01234.567004 00000.005173 1 69910000040000" {
		t.Errorf("FormatLine = %q", got)
	}
	for _, in := range []string{"", "123", validLine + "1", "x" + validLine[1:]} {
		if got := FormatLine(in); got != in {
			t.Errorf("FormatLine(%q) = %q, want it unchanged", in, got)
		}
	}
}
