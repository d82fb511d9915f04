package view

import (
	"fmt"
	"html/template"
	"image/color"
	"strings"
	"sync"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/boombuler/barcode/twooffive"

	"github.com/portico-dev/portico/sdk/abi"
)

// Geometry of the drawn codes, in SVG user units (one per module).
const (
	barcodeHeight = 50 // bar height, in modules; scaled by CSS
	barcodeQuiet  = 10 // quiet zone left and right, in modules
	qrQuiet       = 4  // quiet zone around a QR code, in modules
)

// BarcodeSVG draws digits (an even count, abi.ValidBarcode) as an
// Interleaved 2 of 5 barcode. The markup holds numbers only: the digits are
// not written into it, and title names the code for assistive technology
// (escaped by the caller's template, not here), so the result is safe to
// embed.
func BarcodeSVG(digits string) (template.HTML, error) {
	if !abi.ValidBarcode(digits) {
		return "", fail("value", "want an even number of digits, 2 to %d", abi.MaxBarcodeDigits)
	}
	code, err := twooffive.Encode(digits, true)
	if err != nil {
		return "", fmt.Errorf("encode barcode: %w", err)
	}
	w := code.Bounds().Dx()
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="barcode" viewBox="0 0 %d %d" preserveAspectRatio="none" aria-hidden="true" focusable="false">`,
		w+2*barcodeQuiet, barcodeHeight)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="#fff"/>`, w+2*barcodeQuiet, barcodeHeight)
	for x := 0; x < w; {
		if !dark(code, x, 0) {
			x++
			continue
		}
		start := x
		for x < w && dark(code, x, 0) {
			x++
		}
		fmt.Fprintf(&sb, `<rect x="%d" width="%d" height="%d"/>`, start+barcodeQuiet, x-start, barcodeHeight)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()), nil //nolint:gosec // numbers and fixed markup only
}

// qrCache keeps recently drawn QR codes: encoding one takes milliseconds
// (mask selection), and a person reloading a page asks for the same one.
// It holds at most qrCacheSize entries and is emptied when full.
var qrCache = struct {
	sync.Mutex
	m map[string]template.HTML
}{m: map[string]template.HTML{}}

const qrCacheSize = 256

// QRSVG draws content as a QR code (error correction M). Like BarcodeSVG the
// markup holds numbers only.
func QRSVG(content string) (template.HTML, error) {
	if content == "" || len(content) > abi.MaxQRBytes {
		return "", fail("value", "QR content must be 1 to %d bytes", abi.MaxQRBytes)
	}
	qrCache.Lock()
	svg, ok := qrCache.m[content]
	qrCache.Unlock()
	if ok {
		return svg, nil
	}
	svg, err := drawQR(content)
	if err != nil {
		return "", err
	}
	qrCache.Lock()
	if len(qrCache.m) >= qrCacheSize {
		clear(qrCache.m)
	}
	qrCache.m[content] = svg
	qrCache.Unlock()
	return svg, nil
}

func drawQR(content string) (template.HTML, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("encode qr: %w", err)
	}
	n := code.Bounds().Dx()
	size := n + 2*qrQuiet
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" shape-rendering="crispEdges" aria-hidden="true" focusable="false">`, size, size)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="#fff"/>`, size, size)
	for y := 0; y < n; y++ {
		for x := 0; x < n; {
			if !dark(code, x, y) {
				x++
				continue
			}
			start := x
			for x < n && dark(code, x, y) {
				x++
			}
			fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="1"/>`, start+qrQuiet, y+qrQuiet, x-start)
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()), nil //nolint:gosec // numbers and fixed markup only
}

// dark reports whether the module at (x, y) of code is a bar.
func dark(code barcode.Barcode, x, y int) bool {
	b := code.Bounds()
	g := color.GrayModel.Convert(code.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
	return g.Y < 128
}
