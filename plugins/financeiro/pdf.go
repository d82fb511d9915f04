package main

import (
	"bytes"
	"fmt"

	"codeberg.org/go-pdf/fpdf"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/charges"
)

// The slip's barcode as FEBRABAN prints it: 103 mm long, 13 mm high, with
// quiet zones of 10 narrow modules.
const (
	barcodeWidthMM  = 103.0
	barcodeHeightMM = 13.0
	quietModules    = 10
)

// slipPDF draws the segunda via as a one-page A4 PDF: the beneficiary, the
// linha digitável, the fields of the ficha de compensação, the breakdown,
// and the barcode in Interleaved 2 of 5 (the same bar widths the portal
// draws, from boleto.ITF). The plugin draws it, not the host or the ERP:
// the host stays a generic renderer, and the ERP's own slip link needs the
// ERP's credentials, which the customer never has. Core fonts keep it a
// few kilobytes; text outside Windows-1252 is written as "?".
func slipPDF(is issued, locale string) ([]byte, error) {
	widths, err := boleto.ITF(is.Barcode)
	if err != nil {
		return nil, fmt.Errorf("slip pdf: %w", err)
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.SetTitle("Segunda via de boleto", true)
	p.SetCreator("Portico", true)
	p.SetCompression(true)
	// A fixed creation date keeps the same slip the same file.
	p.SetCreationDate(is.NewDue)
	p.SetModificationDate(is.NewDue)
	p.SetMargins(15, 15, 15)
	p.AddPage()
	tr := p.UnicodeTranslatorFromDescriptor("")
	T := func(ptBR, es, en string) string {
		switch locale {
		case "es":
			return tr(es)
		case "en":
			return tr(en)
		}
		return tr(ptBR)
	}
	money := func(c int64) string { return tr(charges.FormatBRL(c, locale)) }

	p.SetFont("Helvetica", "B", 14)
	p.CellFormat(0, 8, tr(is.Beneficiary), "", 1, "L", false, 0, "")
	p.SetFont("Helvetica", "", 9)
	if is.CNPJ != "" {
		p.CellFormat(0, 5, "CNPJ "+tr(is.CNPJ), "", 1, "L", false, 0, "")
	}
	p.Ln(2)
	p.SetFont("Helvetica", "B", 12)
	p.CellFormat(25, 8, "001-9", "1", 0, "C", false, 0, "")
	p.CellFormat(0, 8, boleto.FormatLine(is.Line), "1", 1, "R", false, 0, "")

	p.SetFont("Helvetica", "", 9)
	row := func(label, value string) {
		p.SetFont("Helvetica", "", 7)
		p.CellFormat(55, 4, label, "LT", 0, "L", false, 0, "")
		p.SetFont("Helvetica", "B", 10)
		p.CellFormat(0, 4, "", "TR", 1, "L", false, 0, "")
		p.CellFormat(55, 6, "", "LB", 0, "L", false, 0, "")
		p.CellFormat(0, 6, value, "RB", 1, "L", false, 0, "")
	}
	row(T("Local de pagamento", "Lugar de pago", "Where to pay"), T("Pagável em qualquer banco ou pelo Pix", "Pagadero en cualquier banco o por Pix", "Payable at any bank or by Pix"))
	row(T("Vencimento", "Vencimiento", "Due date"), charges.FormatDate(is.NewDue, locale))
	row(T("Beneficiário", "Beneficiario", "Beneficiary"), tr(is.Beneficiary))
	row(T("Agência / conta", "Agencia / cuenta", "Branch / account"), tr(is.Agency))
	row(T("Nosso número", "Nuestro número", "Bank reference"), is.NossoNumero)
	row(T("Contrato", "Contrato", "Contract"), tr(is.Contract))
	row(T("Parcela", "Cuota", "Installment"), tr(is.Installment)+"  ("+T("vencimento original", "vencimiento original", "original due date")+" "+charges.FormatDate(is.OriginalDue, locale)+")")
	row(T("Valor do documento", "Valor del documento", "Amount"), money(is.Principal))
	row(T("Multa", "Multa", "Late fee"), money(is.Fine))
	row(T(fmt.Sprintf("Juros de mora (%d dias)", is.Days), fmt.Sprintf("Intereses de mora (%d días)", is.Days), fmt.Sprintf("Late interest (%d days)", is.Days)), money(is.Interest))
	row(T("Valor cobrado", "Valor cobrado", "Amount due"), money(is.Total))

	// The barcode: each element a filled rectangle for a bar, a gap for a
	// space.
	modules := 2 * quietModules
	for _, w := range widths {
		modules += w
	}
	unit := barcodeWidthMM / float64(modules)
	x, y := p.GetX()+unit*quietModules, p.GetY()+8
	p.SetFillColor(0, 0, 0)
	for i, w := range widths {
		if i%2 == 0 {
			p.Rect(x, y, unit*float64(w), barcodeHeightMM, "F")
		}
		x += unit * float64(w)
	}
	p.SetY(y + barcodeHeightMM + 4)
	p.SetFont("Helvetica", "", 7)
	p.MultiCell(0, 4, T("Segunda via emitida pelo portal do cliente. Pague até o vencimento; depois dele, emita outra.",
		"Segunda vía emitida por el portal del cliente. Pague hasta el vencimiento; después, emita otra.",
		"Duplicate issued by the customer portal. Pay by the due date; after it, issue another."), "", "L", false)
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("slip pdf: %w", err)
	}
	return buf.Bytes(), nil
}
