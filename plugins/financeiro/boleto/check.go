package boleto

// GeneralDigit returns the barcode's general check digit (dígito de
// autoconferência, position 5) of the other 43 digits: each digit, from the
// right, is multiplied by 2, 3, …, 9, 2, 3, … and the products are summed;
// the digit is 11 minus the sum modulo 11, except that results 0, 10 and 11
// become 1 (so the digit is never 0). s must be ASCII digits.
//
// Worked example (a Banco do Brasil slip from BoletoNetCore's tests): the
// 43 digits 0019 6991 0000040000 0000001234567000000000517 give a sum of
// 494; 494 mod 11 = 10; 11 − 10 = 1, the digit in "00191699…".
func GeneralDigit(s string) int {
	sum, w := 0, 2
	for i := len(s) - 1; i >= 0; i-- {
		sum += int(s[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	d := 11 - sum%11
	if d == 0 || d == 10 || d == 11 {
		return 1
	}
	return d
}

// FieldDigit returns the mod-10 check digit of a field of the linha
// digitável: each digit, from the right, is multiplied by 2, 1, 2, 1, …;
// the digits of each product are summed (14 counts as 1 + 4); the check
// digit is 10 minus the sum modulo 10, or 0 when that is 10. s must be
// ASCII digits.
//
// Worked example: field 1 "001900000" gives, from the right,
// 0·2 0·1 0·2 0·1 0·2 9·1 1·2 0·1 0·2 = 9 + 2 = 11; 10 − 1 = 9: "00190.00009".
func FieldDigit(s string) int {
	sum, w := 0, 2
	for i := len(s) - 1; i >= 0; i-- {
		p := int(s[i]-'0') * w
		sum += p/10 + p%10
		w = 3 - w
	}
	return (10 - sum%10) % 10
}
