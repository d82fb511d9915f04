package boleto

import (
	"fmt"
	"strconv"
)

// BancoDoBrasil is Banco do Brasil's COMPE code.
const BancoDoBrasil = "001"

// MaxBBSequence is the largest sequence of a 7-digit-convênio nosso número
// (ten digits).
const MaxBBSequence = 9_999_999_999

// BBConvenio7 is Banco do Brasil's campo livre for a convênio of seven
// digits (numbered from 1.000.000), the layout BB gives every new
// beneficiary (carteiras 17 and 18). Its 25 digits are
//
//	positions 20-25 (6)  zeros, "000000"
//	          26-42 (17) nosso número: the convênio (7) and a sequence (10)
//	          43-44 (2)  carteira
//
// The nosso número of this layout has no check digit. Source: Banco do
// Brasil, "Especificações Técnicas para Confecção de Boleto de Cobrança do
// Banco do Brasil", code-bar annex for convênios of 7 positions; the same
// layout is implemented and tested in BoletoNetCore
// (BancoBrasilCarteira17_019Tests) and brcobranca (banco_brasil_spec,
// "convenio de 7 digitos e nosso numero de 10"). See docs/boleto.md.
type BBConvenio7 struct {
	Convenio string // seven digits, 1000000 to 9999999
	Sequence int64  // 0 to MaxBBSequence, unique per convênio
	Carteira string // two digits, such as "17"
}

// NossoNumero returns the 17-digit nosso número: convênio and sequence.
func (b BBConvenio7) NossoNumero() (string, error) {
	if err := b.validate(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%010d", b.Convenio, b.Sequence), nil
}

// FreeField returns the 25-digit campo livre.
func (b BBConvenio7) FreeField() (string, error) {
	nn, err := b.NossoNumero()
	if err != nil {
		return "", err
	}
	return "000000" + nn + b.Carteira, nil
}

func (b BBConvenio7) validate() error {
	if len(b.Convenio) != 7 || !digits(b.Convenio) || b.Convenio[0] == '0' {
		return fmt.Errorf("%w: convênio %q, want seven digits from 1000000", ErrFreeField, clip(b.Convenio))
	}
	if b.Sequence < 0 || b.Sequence > MaxBBSequence {
		return fmt.Errorf("%w: sequence %d, want 0 to %d", ErrFreeField, b.Sequence, int64(MaxBBSequence))
	}
	if len(b.Carteira) != 2 || !digits(b.Carteira) || b.Carteira == "00" {
		return fmt.Errorf("%w: carteira %q, want two digits", ErrFreeField, clip(b.Carteira))
	}
	return nil
}

// ParseBBConvenio7 reads a campo livre laid out as BBConvenio7. It fails
// on one of another layout (which does not start with six zeros, or whose
// convênio is not seven digits from 1000000).
func ParseBBConvenio7(free string) (BBConvenio7, error) {
	if len(free) != FreeLen || !digits(free) {
		return BBConvenio7{}, fmt.Errorf("%w: %q, want %d digits", ErrFreeField, clip(free), FreeLen)
	}
	if free[:6] != "000000" {
		return BBConvenio7{}, fmt.Errorf("%w: %q does not start with six zeros (not a 7-digit convênio)", ErrFreeField, free)
	}
	seq, _ := strconv.ParseInt(free[13:23], 10, 64) // ten checked digits
	b := BBConvenio7{Convenio: free[6:13], Sequence: seq, Carteira: free[23:25]}
	if err := b.validate(); err != nil {
		return BBConvenio7{}, err
	}
	return b, nil
}
