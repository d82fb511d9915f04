package main

import (
	"fmt"

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
func slipPDF(is issued, locale string) ([]byte, error) {
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
		d.Text(left, y, 9, false, "CNPJ "+is.CNPJ)
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
	row(T("Local de pagamento", "Lugar de pago", "Where to pay"), T("Pagável em qualquer banco ou pelo Pix", "Pagadero en cualquier banco o por Pix", "Payable at any bank or by Pix"))
	row(T("Vencimento", "Vencimiento", "Due date"), charges.FormatDate(is.NewDue, locale))
	row(T("Beneficiário", "Beneficiario", "Beneficiary"), is.Beneficiary)
	row(T("Agência / conta", "Agencia / cuenta", "Branch / account"), is.Agency)
	row(T("Nosso número", "Nuestro número", "Bank reference"), is.NossoNumero)
	row(T("Contrato", "Contrato", "Contract"), is.Contract)
	row(T("Parcela", "Cuota", "Installment"), is.Installment+"  ("+T("vencimento original", "vencimiento original", "original due date")+" "+charges.FormatDate(is.OriginalDue, locale)+")")
	row(T("Valor do documento", "Valor del documento", "Amount"), money(is.Principal))
	row(T("Multa", "Multa", "Late fee"), money(is.Fine))
	row(T(fmt.Sprintf("Juros de mora (%d dias)", is.Days), fmt.Sprintf("Intereses de mora (%d días)", is.Days), fmt.Sprintf("Late interest (%d days)", is.Days)), money(is.Interest))
	row(T("Valor cobrado", "Valor cobrado", "Amount due"), money(is.Total))

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
