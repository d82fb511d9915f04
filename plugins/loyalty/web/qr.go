package web

import (
	"fmt"
	"html/template"
	"image/color"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// qrSVG renders text as a QR code in SVG, server-side (no script, no image
// request): one path of dark modules on a white square with the standard
// quiet zone of 4 modules, scaled by the stylesheet. label is its
// accessible name. Loyalty codes are short ("PT-" and 8 characters), so
// the code is small (21×21 modules at level M in alphanumeric mode) and
// easy for a phone camera at a counter.
func qrSVG(text, label string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("qr code of %q: %w", text, err)
	}
	b := code.Bounds()
	const quiet = 4
	w, h := b.Dx(), b.Dy()
	var path strings.Builder
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if dark(code.At(b.Min.X+x, b.Min.Y+y)) {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	size := w + 2*quiet
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, h+2*quiet, template.HTMLEscapeString(label), size, h+2*quiet, path.String())
	return template.HTML(svg), nil // #nosec G203 -- built above from numbers and an escaped label
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}
