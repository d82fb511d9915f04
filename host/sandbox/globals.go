package sandbox

import (
	"errors"
	"fmt"
	"strconv"
)

// A Go guest keeps part of its state in wasm globals (the stack pointer,
// the current goroutine…), which wazero does not let the host read or set
// unless they are exported. exportGlobals rewrites a module so that every
// global it defines is also exported as globalExportPrefix+index; the pool
// then restores them with the memory snapshot. The rewrite only appends
// export entries: code, data and the other sections are untouched.

const globalExportPrefix = "portico_global_"

var errRewrite = errors.New("cannot rewrite module")

type wasmReader struct {
	b   []byte
	off int
}

func (r *wasmReader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errRewrite
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *wasmReader) uleb() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errRewrite
}

func (r *wasmReader) skip(n uint64) error {
	if n > uint64(len(r.b)-r.off) {
		return errRewrite
	}
	r.off += int(n)
	return nil
}

func (r *wasmReader) name() (string, error) {
	n, err := r.uleb()
	if err != nil {
		return "", err
	}
	start := r.off
	if err := r.skip(n); err != nil {
		return "", err
	}
	return string(r.b[start:r.off]), nil
}

func (r *wasmReader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.uleb(); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.uleb()
	}
	return err
}

// memarg skips a load's or store's memory argument: its alignment (whose
// bit 6 announces a memory index) and its offset.
func (r *wasmReader) memarg() error {
	align, err := r.uleb()
	if err == nil && align&0x40 != 0 {
		_, err = r.uleb() // memory index
	}
	if err == nil {
		_, err = r.uleb()
	}
	return err
}

func appendULEB(b []byte, v uint64) []byte {
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

// section is one section of a wasm binary: its id, where its header starts
// and where its payload starts and ends.
type section struct {
	id         byte
	start, end int // payload
	hdr        int // section start (id byte)
}

// splitSections walks the sections of a wasm binary after its 8-byte
// preamble, checking every length against the input.
func splitSections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 {
		return nil, errRewrite
	}
	var secs []section
	r := &wasmReader{b: wasm, off: 8}
	for r.off < len(wasm) {
		hdr := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.uleb()
		if err != nil {
			return nil, err
		}
		start := r.off
		if err := r.skip(size); err != nil {
			return nil, err
		}
		secs = append(secs, section{id, start, r.off, hdr})
	}
	return secs, nil
}

// exportGlobals returns wasm with every defined global exported, and the
// number of globals exported.
func exportGlobals(wasm []byte) ([]byte, int, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, 0, err
	}
	importedGlobals, definedGlobals := 0, 0
	exportIdx := -1
	names := map[string]bool{}
	for i, s := range secs {
		sr := &wasmReader{b: wasm[:s.end], off: s.start}
		switch s.id {
		case 2: // imports
			n, err := sr.uleb()
			if err != nil {
				return nil, 0, err
			}
			for range n {
				if _, err := sr.name(); err != nil {
					return nil, 0, err
				}
				if _, err := sr.name(); err != nil {
					return nil, 0, err
				}
				kind, err := sr.byte()
				if err != nil {
					return nil, 0, err
				}
				switch kind {
				case 0:
					_, err = sr.uleb()
				case 1:
					if _, err = sr.byte(); err == nil {
						err = sr.limits()
					}
				case 2:
					err = sr.limits()
				case 3:
					err = sr.skip(2)
					importedGlobals++
				default:
					err = errRewrite
				}
				if err != nil {
					return nil, 0, err
				}
			}
		case 6: // globals
			n, err := sr.uleb()
			if err != nil {
				return nil, 0, err
			}
			definedGlobals = int(n)
		case 7: // exports
			exportIdx = i
			n, err := sr.uleb()
			if err != nil {
				return nil, 0, err
			}
			for range n {
				name, err := sr.name()
				if err != nil {
					return nil, 0, err
				}
				names[name] = true
				if _, err := sr.byte(); err != nil {
					return nil, 0, err
				}
				if _, err := sr.uleb(); err != nil {
					return nil, 0, err
				}
			}
		}
	}
	if definedGlobals == 0 {
		return wasm, 0, nil
	}
	var entries []byte
	for i := range definedGlobals {
		name := globalExportPrefix + strconv.Itoa(i)
		if names[name] {
			return nil, 0, fmt.Errorf("%w: export %q exists", errRewrite, name)
		}
		entries = appendULEB(entries, uint64(len(name)))
		entries = append(entries, name...)
		entries = append(entries, 3)
		entries = appendULEB(entries, uint64(importedGlobals+i))
	}
	var payload []byte
	insertAt := len(wasm)
	replaceEnd := len(wasm)
	if exportIdx >= 0 {
		s := secs[exportIdx]
		sr := &wasmReader{b: wasm[:s.end], off: s.start}
		n, _ := sr.uleb()
		payload = appendULEB(nil, n+uint64(definedGlobals))
		payload = append(payload, wasm[sr.off:s.end]...)
		payload = append(payload, entries...)
		insertAt, replaceEnd = s.hdr, s.end
	} else {
		payload = appendULEB(nil, uint64(definedGlobals))
		payload = append(payload, entries...)
		for _, s := range secs {
			if s.id == 8 || s.id == 9 || s.id == 10 || s.id == 11 || s.id == 12 {
				insertAt, replaceEnd = s.hdr, s.hdr
				break
			}
		}
	}
	out := make([]byte, 0, len(wasm)+len(entries)+16)
	out = append(out, wasm[:insertAt]...)
	out = append(out, 7)
	out = appendULEB(out, uint64(len(payload)))
	out = append(out, payload...)
	out = append(out, wasm[replaceEnd:]...)
	return out, definedGlobals, nil
}
