package model

import "fmt"

// Size is an iframe size preset or SizeCustom.
type Size string

// Size presets. The pixel values are what the portal renders; tela cheia
// fills the content area (Width and Height 0).
const (
	SizePequeno   Size = "pequeno"
	SizeMedio     Size = "medio"
	SizeGrande    Size = "grande"
	SizeTelaCheia Size = "tela_cheia"
	SizeCustom    Size = "custom"
)

// Bounds for explicit frame sizes, in CSS pixels.
const (
	MinFrameWidth  = 320
	MaxFrameWidth  = 3840
	MinFrameHeight = 240
	MaxFrameHeight = 2160
)

var presetDims = map[Size][2]int{
	SizePequeno:   {640, 480},
	SizeMedio:     {960, 640},
	SizeGrande:    {1280, 800},
	SizeTelaCheia: {0, 0},
}

// Sizes lists the presets in display order.
var Sizes = []Size{SizePequeno, SizeMedio, SizeGrande, SizeTelaCheia}

// ResolveSize returns the width and height a plugin frame gets for size s.
// For SizeCustom the given width and height must lie within the bounds.
func ResolveSize(s Size, width, height int) (int, int, error) {
	if d, ok := presetDims[s]; ok {
		return d[0], d[1], nil
	}
	if s != SizeCustom {
		return 0, 0, fmt.Errorf("unknown size %q", s)
	}
	if width < MinFrameWidth || width > MaxFrameWidth {
		return 0, 0, fmt.Errorf("width %d outside %d–%d", width, MinFrameWidth, MaxFrameWidth)
	}
	if height < MinFrameHeight || height > MaxFrameHeight {
		return 0, 0, fmt.Errorf("height %d outside %d–%d", height, MinFrameHeight, MaxFrameHeight)
	}
	return width, height, nil
}
