package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// shape describes where the arrays of an Output are and how many
// elements each may hold: the view limits above, counted while decoding.
type shape struct {
	keys  []shapeKey // object: the known keys
	elem  *shape     // array: the shape of its elements
	max   int        // array: most elements; 0 is no limit
	noun  string     // array: what its elements are, for the error
	isArr bool
}

type shapeKey struct {
	name []byte
	*shape
}

func arrayOf(limit int, noun string, elem *shape) *shape {
	return &shape{isArr: true, max: limit, noun: noun, elem: elem}
}

// outputShape is the shape of Output (its JSON field names): the view's
// arrays, and the settings' (KindSettings).
var outputShape = func() *shape {
	obj := &shape{}
	field := &shape{keys: []shapeKey{{[]byte("options"), arrayOf(MaxOptions, "options", obj)}}}
	block := &shape{keys: []shapeKey{
		{[]byte("items"), arrayOf(MaxItems, "items", obj)},
		{[]byte("columns"), arrayOf(MaxColumns, "columns", nil)},
		{[]byte("rows"), arrayOf(MaxRows, "rows", arrayOf(MaxColumns, "cells", nil))},
		{[]byte("fields"), arrayOf(MaxFields, "fields", field)},
		{[]byte("buttons"), arrayOf(MaxButtons, "buttons", obj)},
	}}
	view := &shape{keys: []shapeKey{{[]byte("blocks"), arrayOf(MaxBlocks, "blocks", block)}}}
	settings := &shape{keys: []shapeKey{
		{[]byte("fields"), arrayOf(MaxSettings, "fields", nil)},
		{[]byte("problems"), arrayOf(MaxSettingProblems, "problems", nil)},
	}}
	return &shape{keys: []shapeKey{{[]byte("view"), view}, {[]byte("settings"), settings}}}
}()

// blocksShape is the shape of a view's blocks array.
var blocksShape = outputShape.keys[0].keys[0].shape

// longestKey is the length of the longest known key in bytes.
const longestKey = len("settings")

// DecodeOutput decodes a guest's JSON output. Unlike json.Unmarshal it
// first walks the text (without allocating) and refuses, at the first
// element past the limit, any array of the view holding more elements
// than the view limits allow (blocks, items, columns, rows and their
// cells, fields, options, buttons), any settings answer with more fields
// or problems than MaxSettings and MaxSettingProblems, and any nesting
// deeper than MaxDepth, so that decoding costs at most what a view within
// the limits costs, whatever the output's size. The limits are the ones CheckView checks; the
// decoded output still has to pass CheckOutput.
//
// A refusal for a limit is a *ViewError naming the array (e.g.
// "blocks[3].rows"); invalid JSON is a plain error.
//
// The text is scanned twice, not three times: the walk runs on any bytes
// (it never reads past the end and always ends, but counts reliably only
// in valid JSON), and json.Unmarshal checks the whole text is valid before
// it allocates anything. Only a refusal for a limit checks validity on its
// own, so that invalid JSON is always reported as such.
func DecodeOutput(raw []byte) (*Output, error) {
	s := walker{raw: raw}
	if err := s.value(outputShape, 0); err != nil {
		if !json.Valid(raw) {
			return nil, invalidOutput(raw)
		}
		return nil, err
	}
	var out Output
	if s.blocks > 0 {
		// Room for the blocks counted, so that decoding does not grow the
		// slice block by block. Only with a view object in the text and
		// blocks in it: decoding then fills or replaces this View as it
		// would a new one (a later "view": null still clears it).
		out.View = &View{Blocks: make([]Block, 0, s.blocks)}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("output is not valid JSON: %w", err)
	}
	return &out, nil
}

// invalidOutput is the error for an output that is not JSON, with
// encoding/json's description of where.
func invalidOutput(raw []byte) error {
	var out Output
	err := json.Unmarshal(raw, &out)
	if err == nil {
		err = errors.New("invalid JSON")
	}
	return fmt.Errorf("output is not valid JSON: %w", err)
}

// walker walks JSON text, counting the elements of the arrays its shape
// names. On text that is not JSON it stops early or counts wrongly, but
// never reads outside raw and always ends: every step consumes a byte or
// returns.
type walker struct {
	raw  []byte
	pos  int
	path [MaxDepth + 1]step // the way to the current value
	key  [6 * longestKey]byte
	// blocks is the most elements of a view's blocks array seen.
	blocks int
}

// step is one element of a path: an object key (raw[start:end], still
// escaped) or an array index.
type step struct {
	isKey      bool
	start, end int
	index      int
}

// fail returns the error for the value at depth, named by its path from
// the view (as CheckView names it: "blocks[3].rows").
func (w *walker) fail(depth int, reason string) error {
	steps := w.path[:depth]
	if len(steps) > 0 && steps[0].isKey && w.keyIs(w.raw[steps[0].start:steps[0].end], outputShape.keys[0].name) {
		steps = steps[1:]
	}
	var b []byte
	for _, s := range steps {
		switch {
		case s.isKey:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, w.raw[s.start:min(s.end, s.start+32)]...)
		default:
			b = append(append(append(b, '['), strconv.Itoa(s.index)...), ']')
		}
	}
	if len(b) == 0 {
		b = []byte("output")
	}
	return &ViewError{Path: string(b), Reason: reason}
}

func (w *walker) space() {
	for w.pos < len(w.raw) {
		switch w.raw[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// at returns the byte at w.pos, or 0 at the end of the text.
func (w *walker) at() byte {
	if w.pos < len(w.raw) {
		return w.raw[w.pos]
	}
	return 0
}

// value walks the value at w.pos, at depth containers deep, whose shape
// is sh (nil: not part of the view, only its depth is bounded).
func (w *walker) value(sh *shape, depth int) error {
	w.space()
	switch w.at() {
	case 0:
		return nil // the end: not JSON, which json.Unmarshal reports
	case '{':
		if depth == MaxDepth {
			return w.fail(depth, fmt.Sprintf("nested deeper than %d levels", MaxDepth))
		}
		w.pos++
		for {
			w.space()
			switch w.at() {
			case '}':
				w.pos++
				return nil
			case 0:
				return nil
			case ',':
				w.pos++
				w.space()
			}
			start := w.pos
			if !w.skipString() {
				return nil
			}
			var child *shape
			if sh != nil && !sh.isArr {
				for _, k := range sh.keys {
					if w.keyIs(w.raw[start+1:w.pos-1], k.name) {
						child = k.shape
						break
					}
				}
			}
			w.path[depth] = step{isKey: true, start: start + 1, end: w.pos - 1}
			w.space()
			if w.at() != ':' {
				return nil
			}
			w.pos++
			if err := w.value(child, depth+1); err != nil {
				return err
			}
			w.space()
		}
	case '[':
		if depth == MaxDepth {
			return w.fail(depth, fmt.Sprintf("nested deeper than %d levels", MaxDepth))
		}
		w.pos++
		var elem *shape
		if sh != nil && sh.isArr {
			elem = sh.elem
		}
		for n := 0; ; n++ {
			w.space()
			switch w.at() {
			case ']':
				w.pos++
				if sh == blocksShape {
					w.blocks = max(w.blocks, n)
				}
				return nil
			case 0:
				return nil
			case ',':
				w.pos++
			}
			if sh != nil && sh.isArr && sh.max > 0 && n == sh.max {
				return w.fail(depth, fmt.Sprintf("more than %d %s", sh.max, sh.noun))
			}
			w.path[depth] = step{index: n}
			before := w.pos
			if err := w.value(elem, depth+1); err != nil {
				return err
			}
			if w.pos == before {
				return nil // no value where one must be: not JSON
			}
		}
	case '"':
		w.skipString()
	default: // a number, true, false or null
		for w.pos < len(w.raw) {
			switch w.raw[w.pos] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return nil
			}
			w.pos++
		}
	}
	return nil
}

// skipString moves past the string starting at w.pos and reports whether
// it was closed before the end of the text.
func (w *walker) skipString() bool {
	w.pos++
	for w.pos < len(w.raw) && w.raw[w.pos] != '"' {
		if w.raw[w.pos] == '\\' {
			w.pos++
		}
		w.pos++
	}
	if w.pos >= len(w.raw) {
		w.pos = len(w.raw)
		return false
	}
	w.pos++
	return true
}

// keyIs reports whether the raw (still escaped) key names the field name
// for encoding/json: equal after unescaping under Unicode case folding.
func (w *walker) keyIs(raw, name []byte) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return bytes.EqualFold(raw, name)
	}
	if len(raw) > len(w.key) {
		return false // even escaped, too long to be any known key
	}
	key := w.key[:0]
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			key = append(key, raw[i])
			i++
			continue
		}
		if i+1 == len(raw) {
			return false // a lone backslash: not JSON
		}
		c := raw[i+1]
		i += 2
		switch c {
		case 'b':
			key = append(key, '\b')
		case 'f':
			key = append(key, '\f')
		case 'n':
			key = append(key, '\n')
		case 'r':
			key = append(key, '\r')
		case 't':
			key = append(key, '\t')
		case 'u':
			if i+4 > len(raw) {
				return false // a short escape: not JSON
			}
			r := hex4(raw[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hex4(raw[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			key = utf8.AppendRune(key, r)
		default: // '"', '\\', '/'
			key = append(key, c)
		}
	}
	return bytes.EqualFold(key, name)
}

// hex4 decodes the four hexadecimal digits of a valid \u escape.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
