package charges

import "strconv"

// FormatBRL writes an amount of cents in reais for a locale: "R$ 1.234,56"
// for "pt-BR" (and any other locale) and "es" (the Brazilian and the
// South American Spanish way), "R$1,234.56" for "en". A negative amount
// starts with a minus sign: "-R$ 1,00".
func FormatBRL(cents int64, locale string) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign, u = "-", uint64(-(cents+1))+1 // safe for math.MinInt64
	}
	group, dec, symbol := byte('.'), byte(','), "R$ "
	if locale == "en" {
		group, dec, symbol = ',', '.', "R$"
	}
	whole := strconv.FormatUint(u/100, 10)
	b := make([]byte, 0, len(whole)+len(whole)/3+8)
	for i := 0; i < len(whole); i++ {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b = append(b, group)
		}
		b = append(b, whole[i])
	}
	c := u % 100
	b = append(b, dec, byte('0'+c/10), byte('0'+c%10))
	return sign + symbol + string(b)
}
