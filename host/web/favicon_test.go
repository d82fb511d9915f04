package web

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"testing"
)

// TestFaviconICO reads /favicon.ico as a browser does: an ICO directory of
// one 32×32 entry whose data, at the offset it names, is a PNG of the
// drawing (blue square, white columns, transparent rounded corners).
func TestFaviconICO(t *testing.T) {
	ico := faviconICO
	if len(ico) < 22 {
		t.Fatalf("ICO of %d bytes", len(ico))
	}
	le := binary.LittleEndian
	if le.Uint16(ico[0:]) != 0 || le.Uint16(ico[2:]) != 1 || le.Uint16(ico[4:]) != 1 {
		t.Fatalf("ICONDIR = % x, want reserved 0, type 1, one image", ico[:6])
	}
	size, offset := le.Uint32(ico[14:]), le.Uint32(ico[18:])
	if ico[6] != 32 || ico[7] != 32 || le.Uint16(ico[12:]) != 32 || int(offset)+int(size) != len(ico) {
		t.Fatalf("ICONDIRENTRY = % x (file of %d bytes)", ico[6:22], len(ico))
	}
	img, err := png.Decode(bytes.NewReader(ico[offset:]))
	if err != nil {
		t.Fatalf("the entry is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
		t.Fatalf("image is %v, want 32×32", b)
	}
	for _, tc := range []struct {
		name       string
		x, y       int
		r, g, b, a uint32
	}{
		{"corner", 0, 0, 0, 0, 0, 0},
		{"background", 3, 16, 0x1f, 0x5f, 0xa8, 0xff},
		{"middle column", 16, 20, 0xff, 0xff, 0xff, 0xff},
		{"between columns", 12, 20, 0x1f, 0x5f, 0xa8, 0xff},
		{"pediment", 16, 8, 0xff, 0xff, 0xff, 0xff},
	} {
		r, g, b, a := img.At(tc.x, tc.y).RGBA()
		if r>>8 != tc.r || g>>8 != tc.g || b>>8 != tc.b || a>>8 != tc.a {
			t.Errorf("%s pixel (%d,%d) = #%02x%02x%02x/%02x, want #%02x%02x%02x/%02x",
				tc.name, tc.x, tc.y, r>>8, g>>8, b>>8, a>>8, tc.r, tc.g, tc.b, tc.a)
		}
	}
}
