package pix_test

import (
	"fmt"

	"github.com/portico-dev/portico/plugins/financeiro/pix"
)

// The Banco Central manual's example, with an amount and a txid added (its
// CRC, F080, computed independently with Python's binascii.crc_hqx).
func ExamplePayload_Encode() {
	code, err := pix.Payload{
		Key:          "123e4567-e12b-12d1-a456-426655440000",
		MerchantName: "Fulano de Tal",
		MerchantCity: "Brasília",
		Amount:       12345, // R$ 123,45
		TxID:         "PARCELA12",
	}.Encode()
	if err != nil {
		panic(err)
	}
	fmt.Println(code)
	p, _ := pix.Parse(code)
	fmt.Println(p.MerchantCity, p.Amount, p.TxID)
	// Output:
	// 00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865406123.455802BR5913Fulano de Tal6008Brasilia62130509PARCELA126304F080
	// Brasilia 12345 PARCELA12
}
