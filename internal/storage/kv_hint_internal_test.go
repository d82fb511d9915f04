package storage

import (
	"bytes"
	"strconv"
	"testing"
)

// TestKVHintsAreBounded: the hints keep at most kvHintMaxKeys keys, do not
// keep a value longer than kvHintMaxValue (and forget the key's older
// one), and keep a copy of what they are given.
func TestKVHintsAreBounded(t *testing.T) {
	var h kvHints
	for i := range kvHintMaxKeys + 100 {
		h.put("k"+strconv.Itoa(i), []byte("1"))
	}
	if n := len(h.m); n != kvHintMaxKeys {
		t.Errorf("%d keys hinted after %d puts, want the bound %d", n, kvHintMaxKeys+100, kvHintMaxKeys)
	}

	h.put("k1", []byte("short"))
	h.put("k1", bytes.Repeat([]byte("x"), kvHintMaxValue+1))
	if v, ok := h.get("k1"); ok {
		t.Errorf("a value of %d bytes is hinted (%d bytes), want none", kvHintMaxValue+1, len(v))
	}
	h.put("k2", bytes.Repeat([]byte("x"), kvHintMaxValue))
	if v, ok := h.get("k2"); !ok || len(v) != kvHintMaxValue {
		t.Errorf("a value of exactly %d bytes: hinted %t, %d bytes", kvHintMaxValue, ok, len(v))
	}

	given := []byte("abc")
	h.put("k3", given)
	given[0] = 'X'
	if v, _ := h.get("k3"); string(v) != "abc" {
		t.Errorf("the hint changed with the caller's slice: %q", v)
	}
}
