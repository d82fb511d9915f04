// Package slippdf writes a boleto as a one-page PDF: text in the standard
// Helvetica fonts (no font is embedded), ruled boxes and the barcode's bars.
// It is a few hundred bytes of PDF syntax written directly, not a PDF
// library: the finance plugin draws the PDF inside its wasm sandbox on every
// issue, and the general-purpose library first used (go-pdf/fpdf) cost
// about 7 ms there per slip (parsing its font metrics and allocating for
// the collector), more than the plugin's whole budget for an action. This
// writer needs no metrics because it aligns everything left.
//
// The output is PDF 1.4: a catalog, one page tree, one A4 page, two Type 1
// fonts with WinAnsiEncoding, one uncompressed content stream, an
// information dictionary and a cross-reference table whose offsets the
// tests check.
package slippdf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Page size (A4) and unit.
const (
	PageWidth  = 595.28 // points
	PageHeight = 841.89
	mm         = 72 / 25.4 // points per millimetre
)

// Doc collects the drawing operations of one page. Coordinates are in
// millimetres from the top-left corner, as a slip's layout is specified.
type Doc struct {
	content bytes.Buffer
	title   string
	date    time.Time
}

// New returns an empty page whose document has title and date (written to
// the information dictionary; a fixed date keeps the same slip the same
// file).
func New(title string, date time.Time) *Doc { return &Doc{title: title, date: date} }

func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// appendNum appends f with two decimals and a space. The content stream is
// written with appends, not fmt: a slip's barcode alone is some 120
// rectangles, and fmt is slow in the guest.
func (d *Doc) appendNum(f float64) {
	b := d.content.AvailableBuffer()
	b = strconv.AppendFloat(b, f, 'f', 2, 64)
	d.content.Write(append(b, ' '))
}

// Text writes s at (x, y) millimetres (y is the baseline), in bold when
// bold is set, at size points. Characters outside Windows-1252 become '?'.
func (d *Doc) Text(x, y float64, size float64, bold bool, s string) {
	font := "/F1"
	if bold {
		font = "/F2"
	}
	d.content.WriteString("BT " + font + " ")
	d.appendNum(size)
	d.content.WriteString("Tf ")
	d.appendNum(x * mm)
	d.appendNum(PageHeight - y*mm)
	d.content.WriteString("Td (" + Escape(s) + ") Tj ET\n")
}

// Rect strokes (fill false) or fills a rectangle with its top-left corner at
// (x, y), w wide and h high, in millimetres.
func (d *Doc) Rect(x, y, w, h float64, fill bool) {
	op := "S"
	if fill {
		op = "f"
	}
	d.appendNum(x * mm)
	d.appendNum(PageHeight - (y+h)*mm)
	d.appendNum(w * mm)
	d.appendNum(h * mm)
	d.content.WriteString("re " + op + "\n")
}

// LineWidth sets the width of stroked lines, in millimetres.
func (d *Doc) LineWidth(w float64) {
	d.appendNum(w * mm)
	d.content.WriteString("w\n")
}

// Bytes returns the PDF file.
func (d *Doc) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>", num(PageWidth), num(PageHeight)))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", d.content.Len(), d.content.Bytes()))
	obj(fmt.Sprintf("<< /Title (%s) /Producer (Portico) /CreationDate (D:%s) >>", Escape(d.title), d.date.UTC().Format("20060102150405Z")))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// winAnsi maps the characters of Windows-1252's 0x80–0x9F range; Latin-1
// (0xA0–0xFF) and ASCII are the same code points.
var winAnsi = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}

// Escape returns s as the inside of a PDF literal string in
// WinAnsiEncoding: parentheses and backslashes escaped, control
// characters and characters outside Windows-1252 as '?'.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r >= 0x20 && r < 0x7f:
			b.WriteByte(byte(r))
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			if c, ok := winAnsi[r]; ok {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte('?')
			}
		}
	}
	return b.String()
}
