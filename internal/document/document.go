// Package document checks and formats the Brazilian tax ids Portico
// stores: the CPF of a person and the CNPJ of a company, the numeric one
// and the alphanumeric one the Receita Federal issues from July 2026. It
// depends on the standard library only, so the finance plugin's wasm
// guest uses the same rules as the host.
package document

import (
	"errors"
	"strings"
)

// Normalize strips punctuation from a CPF or CNPJ, upper-cases
// it and verifies its check digits. It returns the 11 digits of a CPF or
// the 14 characters of a CNPJ: digits, or, for the alphanumeric CNPJ the
// Receita Federal issues from July 2026 (IN RFB nº 2.229/2024), twelve
// letters or digits followed by two check digits.
func Normalize(s string) (string, error) {
	var b strings.Builder
	letters := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
			b.WriteRune(r &^ 0x20) // upper case
			letters = true
		case r == '.' || r == '-' || r == '/' || r == ' ':
		default:
			return "", errors.New("document has characters other than letters, digits, '.', '-' and '/'")
		}
		if b.Len() > 14 {
			return "", errors.New("document too long")
		}
	}
	d := b.String()
	switch {
	case len(d) == 11 && !letters:
		if !validCPF(d) {
			return "", errors.New("invalid CPF check digits")
		}
	case len(d) == 11:
		return "", errors.New("a CPF has digits only")
	case len(d) == 14:
		if !isDigit(d[12]) || !isDigit(d[13]) {
			return "", errors.New("a CNPJ ends in two check digits")
		}
		if !validCNPJ(d) {
			return "", errors.New("invalid CNPJ check digits")
		}
	default:
		return "", errors.New("document must have 11 (CPF) or 14 (CNPJ) characters")
	}
	return d, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allSame(d string) bool { return strings.Count(d, d[:1]) == len(d) }

func validCPF(d string) bool {
	if allSame(d) {
		return false
	}
	for _, n := range []int{9, 10} {
		sum := 0
		for i := 0; i < n; i++ {
			sum += int(d[i]-'0') * (n + 1 - i)
		}
		check := sum * 10 % 11 % 10
		if check != int(d[n]-'0') {
			return false
		}
	}
	return true
}

// validCNPJ checks a CNPJ's two check digits (mod 11). Each character
// counts as its code minus 48, so a digit counts as itself and a letter of
// an alphanumeric CNPJ as 17 ('A') to 42 ('Z'): one rule for both.
func validCNPJ(d string) bool {
	if allSame(d) {
		return false
	}
	weights := []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	for _, n := range []int{12, 13} {
		sum := 0
		w := weights[13-n:]
		for i := 0; i < n; i++ {
			sum += int(d[i]-'0') * w[i]
		}
		check := 0
		if r := sum % 11; r >= 2 {
			check = 11 - r
		}
		if check != int(d[n]-'0') {
			return false
		}
	}
	return true
}

// Format shows a CPF as 000.000.000-00 and a CNPJ as
// 00.000.000/0000-00; anything else as it is.
func Format(d string) string {
	switch len(d) {
	case 11:
		return d[:3] + "." + d[3:6] + "." + d[6:9] + "-" + d[9:]
	case 14:
		return d[:2] + "." + d[2:5] + "." + d[5:8] + "/" + d[8:12] + "-" + d[12:]
	}
	return d
}
