package boleto

import "fmt"

// Interleaved 2 of 5 (ITF), the symbology FEBRABAN prescribes for the
// barcode of a slip: digits in pairs, the first of each pair drawn in five
// bars, the second in the five spaces between them; two of each five
// elements are wide. FEBRABAN's proportions are narrow:wide = 1:3, a start
// pattern of narrow bar, narrow space, narrow bar, narrow space, and a stop
// pattern of wide bar, narrow space, narrow bar.
//
// For the 44 digits of a slip that is 4 + 22×18 + 5 = 405 narrow modules;
// printed 103 mm long (the slip's barcode size, 13 mm high) a module is
// about 0.254 mm.
const (
	Narrow = 1 // width of a narrow element, in modules
	Wide   = 3 // width of a wide element, in modules
)

// itfPatterns lists, for each digit, which of its five elements are wide.
var itfPatterns = [10][5]bool{
	{false, false, true, true, false}, // 0 nnwwn
	{true, false, false, false, true}, // 1 wnnnw
	{false, true, false, false, true}, // 2 nwnnw
	{true, true, false, false, false}, // 3 wwnnn
	{false, false, true, false, true}, // 4 nnwnw
	{true, false, true, false, false}, // 5 wnwnn
	{false, true, true, false, false}, // 6 nwwnn
	{false, false, false, true, true}, // 7 nnnww
	{true, false, false, true, false}, // 8 wnnwn
	{false, true, false, true, false}, // 9 nwnwn
}

// ITF returns the element widths, in modules, of digits drawn as
// Interleaved 2 of 5: a bar first, then alternately spaces and bars,
// start and stop patterns included, quiet zones excluded. digits must be
// an even number of ASCII digits.
func ITF(digits string) ([]int, error) {
	if digits == "" || len(digits)%2 != 0 {
		return nil, fmt.Errorf("%w: %d digits, want an even number for Interleaved 2 of 5", ErrLength, len(digits))
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return nil, fmt.Errorf("%w: %q at byte %d, want digits only", ErrCharacter, digits[i], i+1)
		}
	}
	w := make([]int, 0, 4+len(digits)*5+3)
	w = append(w, Narrow, Narrow, Narrow, Narrow) // start
	for i := 0; i < len(digits); i += 2 {
		bars, spaces := itfPatterns[digits[i]-'0'], itfPatterns[digits[i+1]-'0']
		for k := 0; k < 5; k++ {
			w = append(w, width(bars[k]), width(spaces[k]))
		}
	}
	return append(w, Wide, Narrow, Narrow), nil // stop
}

// DecodeITF reads element widths (as ITF returns them: narrow 1, wide 3,
// bar first) back into digits. It is what a scanner does, and lets tests
// check a drawing.
func DecodeITF(w []int) (string, error) {
	n := len(w) - 7
	if n < 10 || n%10 != 0 {
		return "", fmt.Errorf("%w: %d elements is not start + pairs of digits + stop", ErrLength, len(w))
	}
	for _, x := range w[:4] {
		if x != Narrow {
			return "", fmt.Errorf("%w: bad start pattern %v", ErrCharacter, w[:4])
		}
	}
	if s := w[len(w)-3:]; s[0] != Wide || s[1] != Narrow || s[2] != Narrow {
		return "", fmt.Errorf("%w: bad stop pattern %v", ErrCharacter, s)
	}
	out := make([]byte, 0, n/5)
	for i := 4; i < 4+n; i += 10 {
		var bars, spaces [5]bool
		for k := 0; k < 5; k++ {
			b, s := w[i+2*k], w[i+2*k+1]
			if (b != Narrow && b != Wide) || (s != Narrow && s != Wide) {
				return "", fmt.Errorf("%w: element width %d or %d is neither narrow nor wide", ErrCharacter, b, s)
			}
			bars[k], spaces[k] = b == Wide, s == Wide
		}
		d1, d2 := itfDigit(bars), itfDigit(spaces)
		if d1 < 0 || d2 < 0 {
			return "", fmt.Errorf("%w: element group at %d is no digit", ErrCharacter, i)
		}
		out = append(out, byte('0'+d1), byte('0'+d2))
	}
	return string(out), nil
}

func itfDigit(p [5]bool) int {
	for d, q := range itfPatterns {
		if p == q {
			return d
		}
	}
	return -1
}

func width(wide bool) int {
	if wide {
		return Wide
	}
	return Narrow
}
