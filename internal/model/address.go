package model

import (
	"slices"
	"strings"

	"github.com/portico-dev/portico/internal/document"
)

// Address is a customer's postal address in Brazil, as the profile pages
// edit it. All fields empty is "no address"; otherwise CEP, street, number,
// city and state are required.
type Address struct {
	CEP        string // 8 digits; FormatCEP shows it as 00000-000
	Street     string // logradouro
	Number     string
	Complement string
	District   string // bairro
	City       string
	State      string // a UF: one of States
}

// States lists the 27 Brazilian federative units (UF), in order.
var States = []string{"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA", "PB", "PR",
	"PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"}

// Address field bounds, in characters.
const (
	MaxStreetLength     = 120
	MaxAddressNumber    = 20
	MaxComplementLength = 80
	MaxDistrictLength   = 80
	MaxCityLength       = 80
)

// Empty reports whether no field is set.
func (a *Address) Empty() bool { return *a == Address{} }

// NormalizeCEP returns a CEP's 8 digits from "01310-100", "01310100" or
// "01.310-100"; ok is false for anything else.
func NormalizeCEP(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '.' || r == ' ':
		default:
			return "", false
		}
	}
	d := b.String()
	if len(d) != 8 || d == "00000000" {
		return "", false
	}
	return d, true
}

// FormatCEP shows 8 CEP digits as 00000-000; anything else as it is.
func FormatCEP(d string) string {
	if len(d) != 8 {
		return d
	}
	return d[:5] + "-" + d[5:]
}

// Validate normalises and checks the address. It returns a
// *ValidationError whose fields are "cep", "street", "number",
// "complement", "district", "city" and "state".
func (a *Address) Validate() error {
	v := &ValidationError{}
	a.Street = CheckField(v, "street", a.Street, MaxStreetLength, false, false)
	a.Number = CheckField(v, "number", a.Number, MaxAddressNumber, false, false)
	a.Complement = CheckField(v, "complement", a.Complement, MaxComplementLength, false, false)
	a.District = CheckField(v, "district", a.District, MaxDistrictLength, false, false)
	a.City = CheckField(v, "city", a.City, MaxCityLength, false, false)
	a.State = strings.ToUpper(strings.TrimSpace(a.State))
	a.CEP = strings.TrimSpace(a.CEP)
	if a.Empty() {
		return v.Err()
	}
	if a.CEP == "" {
		v.Add("cep", "required")
	} else if d, ok := NormalizeCEP(a.CEP); ok {
		a.CEP = d
	} else {
		v.Add("cep", "invalid_cep")
	}
	for _, f := range []struct{ name, val string }{{"street", a.Street}, {"number", a.Number}, {"city", a.City}} {
		if f.val == "" && !v.Has(f.name) {
			v.Add(f.name, "required")
		}
	}
	if a.State == "" {
		v.Add("state", "required")
	} else if !slices.Contains(States, a.State) {
		v.Add("state", "invalid_choice")
	}
	return v.Err()
}

// FormatDocument shows a CPF as 000.000.000-00 and a CNPJ as
// 00.000.000/0000-00 (document.Format).
func FormatDocument(d string) string { return document.Format(d) }
