// Package wasmbin reads WebAssembly binaries: a bounds-checked reader of
// the format's primitives, the section splitter, walkers of the import,
// export and code sections, and the one instruction decoder. It is the only
// code in Portico that parses wasm bytes; the sandbox's rewriters
// (deadline instrumentation, global export) and its structure check are
// built on it.
//
// Every length is checked against the input: a malformed or truncated
// binary is an error wrapping ErrDecode, never a panic.
//
//	secs, err := wasmbin.Split(wasm)
//	for _, s := range secs {
//		if s.ID == wasmbin.SectionImport {
//			im, err := wasmbin.ReadImports(s.Payload(wasm))
//			…
//		}
//	}
package wasmbin

import (
	"errors"
	"fmt"
)

// ErrDecode is wrapped by every error of this package: the input is not a
// binary this package can decode.
var ErrDecode = errors.New("invalid or unsupported wasm")

// Section ids (WebAssembly 2.0, section 5.5).
const (
	SectionCustom   byte = 0
	SectionType     byte = 1
	SectionImport   byte = 2
	SectionFunction byte = 3
	SectionTable    byte = 4
	SectionMemory   byte = 5
	SectionGlobal   byte = 6
	SectionExport   byte = 7
	SectionStart    byte = 8
	SectionElement  byte = 9
	SectionCode     byte = 10
	SectionData     byte = 11
	SectionDataCnt  byte = 12
)

// External kinds of imports and exports.
const (
	KindFunc   byte = 0
	KindTable  byte = 1
	KindMemory byte = 2
	KindGlobal byte = 3
)

// Reader reads the binary format's primitives from B, starting at Off.
type Reader struct {
	B   []byte
	Off int
}

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.Off >= len(r.B) {
		return 0, ErrDecode
	}
	c := r.B[r.Off]
	r.Off++
	return c, nil
}

// ULEB reads an unsigned LEB128 integer of at most 64 bits.
func (r *Reader) ULEB() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, ErrDecode
}

// Skip skips n bytes.
func (r *Reader) Skip(n uint64) error {
	if n > uint64(len(r.B)-r.Off) {
		return ErrDecode
	}
	r.Off += int(n)
	return nil
}

// Bytes reads the next n bytes (a slice of B, not a copy).
func (r *Reader) Bytes(n uint64) ([]byte, error) {
	start := r.Off
	if err := r.Skip(n); err != nil {
		return nil, err
	}
	return r.B[start:r.Off], nil
}

// Name reads a length-prefixed name.
func (r *Reader) Name() (string, error) {
	n, err := r.ULEB()
	if err != nil {
		return "", err
	}
	start := r.Off
	if err := r.Skip(n); err != nil {
		return "", err
	}
	return string(r.B[start:r.Off]), nil
}

// Limits skips a table's or memory's limits.
func (r *Reader) Limits() error {
	_, _, _, err := r.ReadLimits()
	return err
}

// ReadLimits reads a table's or memory's limits: the minimum, and the
// maximum when hasMax.
func (r *Reader) ReadLimits() (minimum, maximum uint64, hasMax bool, err error) {
	flags, err := r.Byte()
	if err != nil {
		return 0, 0, false, err
	}
	if minimum, err = r.ULEB(); err != nil {
		return 0, 0, false, err
	}
	if flags&1 != 0 {
		maximum, err = r.ULEB()
		hasMax = err == nil
	}
	return minimum, maximum, hasMax, err
}

// Memarg skips a load's or store's memory argument: its alignment (whose
// bit 6 announces a memory index) and its offset.
func (r *Reader) Memarg() error {
	align, err := r.ULEB()
	if err == nil && align&0x40 != 0 {
		_, err = r.ULEB() // memory index
	}
	if err == nil {
		_, err = r.ULEB()
	}
	return err
}

// BlockType skips a block type: 0x40, a value type, or a type index (a
// signed LEB128).
func (r *Reader) BlockType() error {
	if r.Off >= len(r.B) {
		return ErrDecode
	}
	switch c := r.B[r.Off]; {
	case c == 0x40 || (c >= 0x6f && c <= 0x7f):
		r.Off++
		return nil
	}
	_, err := r.ULEB()
	return err
}

// AppendULEB appends v to b as an unsigned LEB128 integer.
func AppendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// AppendSection appends a section with id and payload to b.
func AppendSection(b []byte, id byte, payload []byte) []byte {
	b = append(b, id)
	b = AppendULEB(b, uint64(len(payload)))
	return append(b, payload...)
}

// Section is one section of a binary: its id, where its header starts and
// where its payload starts and ends.
type Section struct {
	ID         byte
	Start, End int // payload
	Hdr        int // section start (id byte)
}

// Payload returns the section's payload in wasm, the binary it was split
// from.
func (s Section) Payload(wasm []byte) []byte { return wasm[s.Start:s.End] }

// Split walks the sections of a binary after its 8-byte preamble,
// checking every length against the input.
func Split(wasm []byte) ([]Section, error) {
	if len(wasm) < 8 {
		return nil, ErrDecode
	}
	var secs []Section
	r := &Reader{B: wasm, Off: 8}
	for r.Off < len(wasm) {
		hdr := r.Off
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.ULEB()
		if err != nil {
			return nil, err
		}
		start := r.Off
		if err := r.Skip(size); err != nil {
			return nil, err
		}
		secs = append(secs, Section{id, start, r.Off, hdr})
	}
	return secs, nil
}

// Count reads the element count that starts a vector section's payload
// (functions, globals, exports, code…) and returns it with the offset of
// the first element.
func Count(payload []byte) (uint64, int, error) {
	r := &Reader{B: payload}
	n, err := r.ULEB()
	return n, r.Off, err
}

// Imports counts an import section's entries by kind.
type Imports struct {
	Funcs, Tables, Memories, Globals int
}

// ReadImports walks an import section's payload.
func ReadImports(payload []byte) (Imports, error) {
	var im Imports
	r := &Reader{B: payload}
	n, err := r.ULEB()
	if err != nil {
		return im, err
	}
	for range n {
		if _, err := r.Name(); err != nil {
			return im, err
		}
		if _, err := r.Name(); err != nil {
			return im, err
		}
		kind, err := r.Byte()
		if err != nil {
			return im, err
		}
		switch kind {
		case KindFunc:
			_, err = r.ULEB()
			im.Funcs++
		case KindTable:
			if _, err = r.Byte(); err == nil {
				err = r.Limits()
			}
			im.Tables++
		case KindMemory:
			err = r.Limits()
			im.Memories++
		case KindGlobal:
			err = r.Skip(2)
			im.Globals++
		default:
			err = fmt.Errorf("%w: import kind %#x", ErrDecode, kind)
		}
		if err != nil {
			return im, err
		}
	}
	return im, nil
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  byte
	Index uint64
}

// ReadExports walks an export section's payload.
func ReadExports(payload []byte) ([]Export, error) {
	r := &Reader{B: payload}
	n, err := r.ULEB()
	if err != nil {
		return nil, err
	}
	var out []Export
	for range n {
		name, err := r.Name()
		if err != nil {
			return nil, err
		}
		kind, err := r.Byte()
		if err != nil {
			return nil, err
		}
		idx, err := r.ULEB()
		if err != nil {
			return nil, err
		}
		out = append(out, Export{name, kind, idx})
	}
	return out, nil
}

// WalkCode calls fn with the index and the bytes (locals and instructions)
// of each function body of a code section's payload, in order; fn may stop
// the walk by returning an error.
func WalkCode(payload []byte, fn func(i int, body []byte) error) error {
	r := &Reader{B: payload}
	n, err := r.ULEB()
	if err != nil {
		return err
	}
	for i := range n {
		size, err := r.ULEB()
		if err != nil {
			return err
		}
		body, err := r.Bytes(size)
		if err != nil {
			return err
		}
		if err := fn(int(i), body); err != nil {
			return err
		}
	}
	return nil
}

// BodyLocals reads the local declarations at the start of the function
// body b: it returns the offset of the body's first instruction and the
// number of locals declared.
func BodyLocals(b []byte) (int, uint64, error) {
	r := &Reader{B: b}
	n, err := r.ULEB()
	if err != nil {
		return 0, 0, err
	}
	var locals uint64
	for range n {
		k, err := r.ULEB()
		if err != nil {
			return 0, 0, err
		}
		if _, err := r.Byte(); err != nil {
			return 0, 0, err
		}
		if locals += k; locals < k {
			return 0, 0, ErrDecode
		}
	}
	return r.Off, locals, nil
}
