package wasmbin

import (
	"errors"
	"testing"
)

// module assembles a binary from sections (id, payload…).
func module(secs ...[]byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range secs {
		m = AppendSection(m, s[0], s[1:])
	}
	return m
}

func name(s string) []byte { return append(AppendULEB(nil, uint64(len(s))), s...) }

func TestWalkers(t *testing.T) {
	imports := []byte{SectionImport, 4}
	for _, imp := range [][]byte{
		{KindFunc, 0},
		{KindTable, 0x70, 0x00, 1},
		{KindMemory, 0x01, 1, 2},
		{KindGlobal, 0x7f, 0x00},
	} {
		imports = append(append(append(imports, name("env")...), name("x")...), imp...)
	}
	exports := append([]byte{SectionExport, 1}, name("run")...)
	exports = append(exports, KindFunc, 3)
	// Two bodies: one local i32 and "loop end end"; no locals and "block end end".
	code := []byte{SectionCode, 2, 7, 1, 1, 0x7f, OpLoop, 0x40, OpEnd, OpEnd, 5, 0, OpBlock, 0x40, OpEnd, OpEnd}
	wasm := module(imports, exports, code)

	secs, err := Split(wasm)
	if err != nil || len(secs) != 3 || secs[0].ID != SectionImport || secs[2].End != len(wasm) {
		t.Fatalf("Split = %+v, %v", secs, err)
	}
	im, err := ReadImports(secs[0].Payload(wasm))
	if err != nil || im != (Imports{Funcs: 1, Tables: 1, Memories: 1, Globals: 1}) {
		t.Fatalf("ReadImports = %+v, %v", im, err)
	}
	ex, err := ReadExports(secs[1].Payload(wasm))
	if err != nil || len(ex) != 1 || ex[0] != (Export{"run", KindFunc, 3}) {
		t.Fatalf("ReadExports = %+v, %v", ex, err)
	}
	var ops []byte
	var locals []uint64
	err = WalkCode(secs[2].Payload(wasm), func(_ int, body []byte) error {
		off, n, err := BodyLocals(body)
		if err != nil {
			return err
		}
		locals = append(locals, n)
		return WalkInstructions(body, off, func(op byte, _ int) error {
			ops = append(ops, op)
			return nil
		})
	})
	if err != nil || string(ops) != string([]byte{OpLoop, OpEnd, OpEnd, OpBlock, OpEnd, OpEnd}) || len(locals) != 2 || locals[0] != 1 || locals[1] != 0 {
		t.Fatalf("WalkCode: ops % x, locals %v, %v", ops, locals, err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
	}{
		{"short", []byte("\x00asm")},
		{"section past the end", append([]byte("\x00asm\x01\x00\x00\x00"), SectionCode, 5, 0)},
		{"unterminated LEB128", append([]byte("\x00asm\x01\x00\x00\x00"), SectionCode, 0x80, 0x80)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Split(tt.wasm); !errors.Is(err, ErrDecode) {
				t.Fatalf("Split = %v, want ErrDecode", err)
			}
		})
	}
	if err := WalkInstructions([]byte{0xff}, 0, func(byte, int) error { return nil }); !errors.Is(err, ErrDecode) {
		t.Fatalf("unknown opcode: %v", err)
	}
	if _, err := ReadImports([]byte{1, 0, 0, 9}); !errors.Is(err, ErrDecode) {
		t.Fatalf("unknown import kind: %v", err)
	}
}

// FuzzParse runs every walker of the package over arbitrary bytes: none
// may panic, the sections Split returns must tile the input after the
// preamble, and every offset WalkInstructions reports must lie in the body
// and grow.
func FuzzParse(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(module([]byte{SectionImport, 1, 1, 'e', 1, 'g', KindGlobal, 0x7f, 0}, []byte{SectionCode, 1, 4, 0, OpLoop, 0x40, OpEnd}))
	f.Add(module([]byte{SectionExport, 1, 1, 'x', KindMemory, 0}, []byte{SectionCode, 1, 5, 0, 0xfd, 12, 0, OpEnd}))
	f.Fuzz(func(t *testing.T, b []byte) {
		secs, err := Split(b)
		if err != nil {
			return
		}
		next := 8
		for _, s := range secs {
			if s.Hdr != next || s.Start < s.Hdr || s.End < s.Start || s.End > len(b) {
				t.Fatalf("section %+v does not follow offset %d", s, next)
			}
			next = s.End
			p := s.Payload(b)
			_, _, _ = Count(p)
			_, _ = ReadImports(p)
			_, _ = ReadExports(p)
			_ = WalkCode(p, func(_ int, body []byte) error {
				off, _, err := BodyLocals(body)
				if err != nil {
					return nil
				}
				last := off
				return WalkInstructions(body, off, func(_ byte, end int) error {
					if end <= last || end > len(body) {
						t.Fatalf("instruction end %d after %d in a %d-byte body", end, last, len(body))
					}
					last = end
					return nil
				})
			})
		}
		if next != len(b) {
			t.Fatalf("sections end at %d of %d", next, len(b))
		}
	})
}
