package main

import (
	"fmt"
	"strings"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/plugins/financeiro/slippdf"
)

// The slip's barcode as FEBRABAN prints it: 103 mm long, 13 mm high, with
// quiet zones of 10 narrow modules.
const (
	barcodeWidthMM  = 103.0
	barcodeHeightMM = 13.0
	quietModules    = 10
)

// slipPDF draws the segunda via as a one-page A4 PDF: the beneficiary, the
// bank and the linha digitável, the fields of the ficha de compensação with
// the breakdown, and the barcode in Interleaved 2 of 5 (the same bar widths
// the portal draws, from boleto.ITF). The plugin draws it, not the host or
// the ERP: the host stays a generic renderer, and the ERP's own slip link
// needs the ERP's credentials, which the customer never has.
//
// The amounts follow the ficha's layout: "Valor do documento" is what the
// barcode carries, the total with the fine and interest already in it
// (they are not added again at the counter), and the breakdown is written
// under "Instruções". The payer (pagador) is the logged-in customer, whose
// name and CPF or CNPJ a registered boleto must show.
func slipPDF(is issued, payerName, payerDocument, locale string) ([]byte, error) {
	widths, err := boleto.ITF(is.Barcode)
	if err != nil {
		return nil, fmt.Errorf("slip pdf: %w", err)
	}
	T := func(ptBR, es, en string) string {
		switch locale {
		case "es":
			return es
		case "en":
			return en
		}
		return ptBR
	}
	money := func(c int64) string { return charges.FormatBRL(c, locale) }
	d := slippdf.New(T("Segunda via de boleto", "Segunda vía de boleto", "Duplicate bank slip"), is.NewDue)
	const left, width = 15.0, 180.0
	y := 20.0
	d.Text(left, y, 14, true, is.Beneficiary)
	if is.CNPJ != "" {
		y += 6
		d.Text(left, y, 9, false, cnpjText(is.CNPJ))
	}
	y += 6
	d.LineWidth(0.3)
	d.Rect(left, y, 25, 9, false)
	d.Text(left+5, y+6.5, 12, true, is.Barcode[:3]+"-9")
	d.Rect(left+25, y, width-25, 9, false)
	d.Text(left+30, y+6.5, 12, true, boleto.FormatLine(is.Line))
	y += 9
	row := func(label, value string) {
		d.Rect(left, y, width, 10, false)
		d.Text(left+2, y+3.5, 7, false, label)
		d.Text(left+2, y+8.3, 10, true, value)
		y += 10
	}
	where := T("Pagável em qualquer banco até o vencimento", "Pagadero en cualquier banco hasta el vencimiento", "Payable at any bank by the due date")
	if is.Pix != "" {
		where = T("Pagável em qualquer banco ou pelo Pix até o vencimento", "Pagadero en cualquier banco o por Pix hasta el vencimiento", "Payable at any bank or by Pix by the due date")
	}
	row(T("Local de pagamento", "Lugar de pago", "Where to pay"), where)
	row(T("Vencimento", "Vencimiento", "Due date"), charges.FormatDate(is.NewDue, locale))
	row(T("Beneficiário", "Beneficiario", "Beneficiary"), strings.TrimSpace(is.Beneficiary+"  "+cnpjText(is.CNPJ)))
	row(T("Agência / conta", "Agencia / cuenta", "Branch / account"), is.Agency)
	row(T("Nosso número", "Nuestro número", "Bank reference"), is.NossoNumero)
	row(T("Espécie", "Moneda", "Currency"), "R$")
	row(T("Valor do documento", "Valor del documento", "Amount"), money(is.Total))
	row(T("Contrato", "Contrato", "Contract"), is.Contract)
	row(T("Parcela", "Cuota", "Installment"), is.Installment+"  ("+T("vencimento original", "vencimiento original", "original due date")+" "+charges.FormatDate(is.OriginalDue, locale)+")")
	instructions := T("Valor da parcela ", "Valor de la cuota ", "Installment ") + money(is.Principal) + "."
	if is.Fine > 0 || is.Interest > 0 {
		instructions = T(fmt.Sprintf("Parcela %s + multa %s + juros de mora %s (%d dias) = %s, já no valor do documento.", money(is.Principal), money(is.Fine), money(is.Interest), is.Days, money(is.Total)),
			fmt.Sprintf("Cuota %s + multa %s + intereses de mora %s (%d días) = %s, ya en el valor del documento.", money(is.Principal), money(is.Fine), money(is.Interest), is.Days, money(is.Total)),
			fmt.Sprintf("Installment %s + late fee %s + late interest %s (%d days) = %s, already in the amount.", money(is.Principal), money(is.Fine), money(is.Interest), is.Days, money(is.Total)))
	}
	d.Rect(left, y, width, 10, false) // a sentence: smaller, not bold
	d.Text(left+2, y+3.5, 7, false, T("Instruções", "Instrucciones", "Instructions"))
	d.Text(left+2, y+8.3, 8, false, instructions)
	y += 10
	payer := payerName
	if payerDocument != "" {
		payer += "  CPF/CNPJ " + payerDocument
	}
	row(T("Pagador", "Pagador", "Payer"), strings.TrimSpace(payer))

	// The barcode: a filled rectangle for each bar; spaces are gaps.
	modules := 2 * quietModules
	for _, w := range widths {
		modules += w
	}
	unit := barcodeWidthMM / float64(modules)
	x := left + unit*quietModules
	y += 8
	for i, w := range widths {
		if i%2 == 0 {
			d.Rect(x, y, unit*float64(w), barcodeHeightMM, true)
		}
		x += unit * float64(w)
	}
	y += barcodeHeightMM + 6
	d.Text(left, y, 7, false, T("Segunda via emitida pelo portal do cliente. Pague até o vencimento; depois dele, emita outra.",
		"Segunda vía emitida por el portal del cliente. Pague hasta el vencimiento; después, emita otra.",
		"Duplicate issued by the customer portal. Pay by the due date; after it, issue another."))
	return d.Bytes(), nil
}

// cnpjText is the beneficiary's CNPJ as the slip shows it ("" without one).
func cnpjText(cnpj string) string {
	if cnpj == "" {
		return ""
	}
	return "CNPJ " + cnpj
}
