package boleto

import (
	"errors"
	"regexp"
	"strconv"
	"testing"

	"github.com/portico-dev/portico/internal/view"
)

func TestITF(t *testing.T) {
	w, err := ITF("00")
	if err != nil {
		t.Fatal(err)
	}
	// Start nnnn; the pair "00" interleaves nnwwn (bars) with nnwwn
	// (spaces); stop w n n.
	want := []int{1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 3, 1, 1}
	if !equal(w, want) {
		t.Errorf("ITF(00) = %v, want %v", w, want)
	}
	w, err = ITF(validBar)
	if err != nil {
		t.Fatal(err)
	}
	// 44 digits: 4 + 22 pairs × 10 elements + 3 elements; 405 modules.
	if len(w) != 4+220+3 || sum(w) != 405 {
		t.Errorf("44 digits: %d elements, %d modules; want 227 and 405", len(w), sum(w))
	}
	// Every digit has exactly two wide elements, so each pair is 18 modules.
	for i := 4; i < 224; i += 10 {
		if s := sum(w[i : i+10]); s != 18 {
			t.Fatalf("pair at element %d is %d modules, want 18", i, s)
		}
	}
	if got, err := DecodeITF(w); err != nil || got != validBar {
		t.Errorf("DecodeITF = %q, %v; want %q", got, err, validBar)
	}
	for _, bad := range []string{"", "1", "123", "12a4"} {
		if _, err := ITF(bad); err == nil {
			t.Errorf("ITF(%q) accepted", bad)
		}
	}
	if _, err := DecodeITF([]int{1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 3, 1, 2}); !errors.Is(err, ErrCharacter) {
		t.Errorf("bad stop accepted: %v", err)
	}
}

// TestPortalDrawsITF checks what the portal's barcode block
// (internal/view.BarcodeSVG) draws for a slip: read back from its SVG, the
// bars and spaces must be this package's ITF elements (narrow 1, wide 3,
// FEBRABAN's start and stop), after a quiet zone.
func TestPortalDrawsITF(t *testing.T) {
	svg, err := view.BarcodeSVG(validBar)
	if err != nil {
		t.Fatal(err)
	}
	rects := regexp.MustCompile(`<rect x="(\d+)" width="(\d+)"`).FindAllStringSubmatch(string(svg), -1)
	if len(rects) == 0 {
		t.Fatalf("no bars in %s", svg)
	}
	var got []int
	end := 0
	for i, r := range rects {
		x, _ := strconv.Atoi(r[1])
		wd, _ := strconv.Atoi(r[2])
		if i == 0 {
			t.Logf("quiet zone drawn: %d modules", x)
		} else {
			got = append(got, x-end) // the space before this bar
		}
		got = append(got, wd)
		end = x + wd
	}
	want, _ := ITF(validBar)
	if !equal(got, want) {
		t.Errorf("portal draws %v\nwant %v", got, want)
	}
	if digits, err := DecodeITF(got); err != nil || digits != validBar {
		t.Errorf("portal's bars decode to %q, %v", digits, err)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sum(w []int) int {
	n := 0
	for _, x := range w {
		n += x
	}
	return n
}
