package pix

import "testing"

// BenchmarkEncode measures writing a Pix copia-e-cola with every field.
func BenchmarkEncode(b *testing.B) {
	p := Payload{Key: "123e4567-e12b-12d1-a456-426655440000", Description: "Parcela 12", MerchantName: "Construtora Exemplo",
		MerchantCity: "São Paulo", Amount: 103033, TxID: "P1234567890"}
	for b.Loop() {
		if _, err := p.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures reading one back.
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(bcbExample); err != nil {
			b.Fatal(err)
		}
	}
}
