package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/gofiber/fiber/v2"
)

// FaviconPath is Portico's own icon (<link rel="icon">), the same for
// every tenant, so that it can be served before the tenant is resolved and
// cached for a day: the pages that name no tenant link it (an unknown
// host's, the launch page). A tenant's pages link its icon in its colour
// instead (the portal's /icon.svg, drawn by FaviconSVG).
const FaviconPath = "/favicon.svg"

// faviconDrawing is the portico (pediment, beam, three columns, base) on
// the icon's 32×32 grid; drawFavicon draws the same for the ICO.
const faviconDrawing = "M16 4 27 11H5zM6 12h20v2H6zM8 15h3v9H8zm6.5 0h3v9h-3zM21 15h3v9h-3zM5 25h22v3H5z"

// FaviconSVG draws the icon: a rounded square of background with the
// portico in foreground (colours as #rrggbb, checked by the caller).
func FaviconSVG(background, foreground string) []byte {
	return []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="` +
		background + `"/><path fill="` + foreground + `" d="` + faviconDrawing + `"/></svg>`)
}

// PorticoBlue is Portico's own colour: its icon's, and a tenant's that
// has none.
const PorticoBlue = "#1f5fa8"

// faviconSVG is Portico's icon, in its own blue.
var faviconSVG = FaviconSVG(PorticoBlue, "#ffffff")

// faviconICO is /favicon.ico, which browsers and other clients fetch
// when a page links no icon (plain error pages, a JSON API response opened
// in a tab): a 32×32 PNG of the same drawing, in an ICO container. It is
// drawn here rather than stored as a binary so the drawing has one source
// of truth: this file (faviconDrawing and drawFavicon).
var faviconICO = mustICO(drawFavicon())

// RegisterFavicon serves FaviconPath and /favicon.ico; the server mounts
// it before tenant resolution, so any host gets the icon.
func RegisterFavicon(app fiber.Router) {
	app.Get(FaviconPath, FixedFile(faviconSVG, "image/svg+xml", "86400"))
	app.Get("/favicon.ico", FixedFile(faviconICO, "image/x-icon", "86400"))
}

// drawFavicon draws FaviconPath's icon at 32×32: a rounded blue square with a
// white portico (pediment, beam, three columns, base).
func drawFavicon() *image.NRGBA {
	const n = 32
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	var blue color.NRGBA
	if _, err := fmt.Sscanf(PorticoBlue, "#%02x%02x%02x", &blue.R, &blue.G, &blue.B); err != nil {
		panic("favicon: PorticoBlue is not #rrggbb")
	}
	blue.A = 0xff
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := range n {
		for x := range n {
			if inRoundedSquare(x, y, n, 6) {
				img.SetNRGBA(x, y, blue)
			}
		}
	}
	fill := func(x0, y0, x1, y1 int) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				img.SetNRGBA(x, y, white)
			}
		}
	}
	// The pediment: a triangle from (16,4) to the base y=11, x 5..27.
	for y := 4; y < 11; y++ {
		half := (y - 4) * 11 / 7
		fill(16-half, y, 16+half+1, y+1)
	}
	fill(6, 12, 26, 14)  // beam
	fill(8, 15, 11, 24)  // columns
	fill(14, 15, 18, 24) //
	fill(21, 15, 24, 24) //
	fill(5, 25, 27, 28)  // base
	return img
}

// inRoundedSquare reports whether pixel (x, y) lies in an n×n square whose
// corners are rounded with radius r.
func inRoundedSquare(x, y, n, r int) bool {
	cx, cy := x, y
	switch {
	case x < r:
		cx = r
	case x >= n-r:
		cx = n - r - 1
	}
	switch {
	case y < r:
		cy = r
	case y >= n-r:
		cy = n - r - 1
	}
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= r*r
}

// mustICO wraps img as a PNG in an ICO file (one image; ICONDIR and
// ICONDIRENTRY as Windows defines them, the PNG form browsers accept).
func mustICO(img image.Image) []byte {
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		panic("favicon: " + err.Error())
	}
	b := img.Bounds()
	var out bytes.Buffer
	le := binary.LittleEndian
	_ = binary.Write(&out, le, [3]uint16{0, 1, 1}) // reserved, type icon, one image
	out.Write([]byte{byte(b.Dx()), byte(b.Dy()), 0, 0})
	_ = binary.Write(&out, le, [2]uint16{1, 32}) // planes, bits per pixel
	_ = binary.Write(&out, le, [2]uint32{uint32(pngData.Len()), 6 + 16})
	out.Write(pngData.Bytes())
	return out.Bytes()
}
