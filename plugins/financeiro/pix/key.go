package pix

import (
	"fmt"
	"strings"
)

// KeyType is the kind of a Pix key.
type KeyType string

// The five kinds of Pix key (DICT).
const (
	KeyCPF   KeyType = "cpf"   // 11 digits
	KeyCNPJ  KeyType = "cnpj"  // 14 digits
	KeyPhone KeyType = "phone" // "+" and the E.164 number, "+5561912345678"
	KeyEmail KeyType = "email" // an address, at most 77 characters
	KeyEVP   KeyType = "evp"   // random key: a lower-case UUID
)

// TypeOf returns the kind of a key in the form Encode writes, or an error
// wrapping ErrKey. A CPF or CNPJ key is checked for its length only: its
// check digits are verified where the document is entered (the ERP, or
// internal/model.NormalizeDocument for Portico's own users), and a key that
// does not exist is refused by the payer's bank when it looks the key up.
func TypeOf(k string) (KeyType, error) {
	if k == "" || len(k) > MaxKey {
		return "", fmt.Errorf("%w: %d characters, want 1 to %d", ErrKey, len(k), MaxKey)
	}
	switch {
	case isUUID(k):
		return KeyEVP, nil
	case isDigits(k) && len(k) == 11:
		return KeyCPF, nil
	case isDigits(k) && len(k) == 14:
		return KeyCNPJ, nil
	case k[0] == '+':
		if n := k[1:]; len(n) >= 2 && len(n) <= 15 && isDigits(n) && n[0] != '0' {
			return KeyPhone, nil
		}
		return "", fmt.Errorf("%w: phone %q, want + and 2 to 15 digits (E.164)", ErrKey, clip(k))
	case strings.Contains(k, "@"):
		local, domain, _ := strings.Cut(k, "@")
		if local == "" || domain == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") {
			return "", fmt.Errorf("%w: e-mail %q is not an address", ErrKey, clip(k))
		}
		for i := 0; i < len(k); i++ {
			if k[i] <= ' ' || k[i] > '~' {
				return "", fmt.Errorf("%w: e-mail %q has %q", ErrKey, clip(k), k[i])
			}
		}
		return KeyEmail, nil
	}
	return "", fmt.Errorf("%w: %q is no CPF, CNPJ, phone, e-mail or random key", ErrKey, clip(k))
}

func checkKey(k string) error {
	_, err := TypeOf(k)
	return err
}

// NormalizeKey turns a key as people write it into the form Encode needs:
// spaces trimmed; a CPF or CNPJ without its dots, slash and hyphen
// ("123.456.789-09" → "12345678909"); a phone without spaces, parentheses
// and hyphens ("+55 (61) 91234-5678" → "+5561912345678"); an e-mail and a
// random key in lower case.
func NormalizeKey(s string) (string, KeyType, error) {
	if len(s) > 4*MaxKey {
		return "", "", fmt.Errorf("%w: %d bytes", ErrKey, len(s))
	}
	s = strings.TrimSpace(s)
	switch {
	case strings.Contains(s, "@"), len(s) == 36 && isUUID(strings.ToLower(s)):
		s = strings.ToLower(s)
	case strings.HasPrefix(s, "+"):
		s = "+" + strip(s[1:], " ()-.")
	default:
		if d := strip(s, ".-/ "); isDigits(d) {
			s = d
		}
	}
	t, err := TypeOf(s)
	if err != nil {
		return "", "", err
	}
	return s, t, nil
}

// strip removes the bytes of cut from s.
func strip(s, cut string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(cut, r) {
			return -1
		}
		return r
	}, s)
}

// isUUID reports whether s is a lower-case UUID, 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
