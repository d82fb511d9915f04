package pix

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary text to Parse. Whatever it accepts, written
// again by Encode, must parse to the same payload (Encode writes exactly
// what Parse reads).
func FuzzParse(f *testing.F) {
	f.Add(bcbExample)
	f.Add("00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865406123.455802BR5913Fulano de Tal6008BRASILIA62070503***6304A5A2")
	f.Add("")
	f.Add("6304FFFF")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse(in)
		if err != nil {
			if !known(err) {
				t.Fatalf("Parse(%q): error %v wraps none of the package's errors", in, err)
			}
			return
		}
		out, err := p.Encode()
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, which Encode refuses: %v", in, p, err)
		}
		again, err := Parse(out)
		if err != nil || again != p {
			t.Fatalf("re-encoded %q parses to %+v, %v; want %+v", out, again, err, p)
		}
	})
}

// FuzzEncode builds payloads from arbitrary fields: whatever Encode writes
// parses back, with the key, amount and txid unchanged and the texts as
// Encode folded them.
func FuzzEncode(f *testing.F) {
	f.Add("123e4567-e12b-12d1-a456-426655440000", "Fulano de Tal", "BRASILIA", "", int64(0), "")
	f.Add("+5561912345678", "José Ávila", "São Paulo", "Parcela 3", int64(123456), "ABC123")
	f.Fuzz(func(t *testing.T, key, name, city, desc string, amount int64, txid string) {
		p := Payload{Key: key, MerchantName: name, MerchantCity: city, Description: desc, Amount: amount, TxID: txid}
		out, err := p.Encode()
		if err != nil {
			if !known(err) {
				t.Fatalf("Encode(%+v): %v", p, err)
			}
			return
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Encode(%+v) = %q, which Parse refuses: %v", p, out, err)
		}
		if back.Key != key || back.Amount != amount || back.TxID != txid {
			t.Fatalf("Encode(%+v) parses to %+v", p, back)
		}
	})
}

func known(err error) bool {
	for _, e := range []error{ErrFormat, ErrCRC, ErrKey, ErrTxID, ErrAmount, ErrText, ErrUnsupported} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
