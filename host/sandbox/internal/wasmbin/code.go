package wasmbin

import "fmt"

// Opcodes the sandbox's walkers look for.
const (
	OpUnreachable byte = 0x00
	OpBlock       byte = 0x02
	OpLoop        byte = 0x03
	OpIf          byte = 0x04
	OpEnd         byte = 0x0b
	OpPrefixFC    byte = 0xfc // saturating truncations, bulk memory, tables
	OpPrefixSIMD  byte = 0xfd
	OpTableSet    byte = 0x26
)

// Instructions after the 0xfc prefix that write a table.
const (
	SubTableInit uint64 = 12
	SubTableCopy uint64 = 14
	SubTableGrow uint64 = 15
	SubTableFill uint64 = 17
)

// WalkInstructions decodes the instructions of the function body b from
// offset off to its end and calls fn with each opcode (the prefix byte for
// 0xfc and 0xfd instructions) and the offset just past its immediates. It
// knows every instruction of WebAssembly 2.0 (the features wazero's runtime
// enables, SIMD included) and fails on any other with ErrDecode.
func WalkInstructions(b []byte, off int, fn func(op byte, end int) error) error {
	r := &Reader{B: b, Off: off}
	var err error
	for r.Off < len(b) {
		op, _ := r.Byte()
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			err = r.BlockType()
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || // br, br_if, call, return_call
			(op >= 0x20 && op <= 0x26) || op == 0xd2: // local.*, global.*, table.get/set, ref.func
			_, err = r.ULEB()
		case op == 0x0e: // br_table
			var k uint64
			if k, err = r.ULEB(); err == nil {
				for i := uint64(0); i <= k && err == nil; i++ {
					_, err = r.ULEB()
				}
			}
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			if _, err = r.ULEB(); err == nil {
				_, err = r.ULEB()
			}
		case op == 0x1c: // select t*
			var k uint64
			if k, err = r.ULEB(); err == nil {
				err = r.Skip(k)
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
			err = r.Memarg()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			_, err = r.ULEB()
		case op == 0x41 || op == 0x42: // i32.const, i64.const
			_, err = r.ULEB()
		case op == 0x43:
			err = r.Skip(4)
		case op == 0x44:
			err = r.Skip(8)
		case op == 0xd0: // ref.null
			_, err = r.Byte()
		case op == 0xfc:
			var sub uint64
			if sub, err = r.ULEB(); err != nil {
				break
			}
			switch {
			case sub <= 7: // saturating truncations
			case sub == 9 || sub == 11 || sub == 13 || sub == 15 || sub == 16 || sub == 17:
				_, err = r.ULEB()
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				if _, err = r.ULEB(); err == nil {
					_, err = r.ULEB()
				}
			default:
				err = fmt.Errorf("%w: instruction 0xfc %d", ErrDecode, sub)
			}
		case op == 0xfd: // SIMD
			var sub uint64
			if sub, err = r.ULEB(); err != nil {
				break
			}
			switch {
			case sub <= 11 || sub == 92 || sub == 93: // loads, stores: memarg
				err = r.Memarg()
			case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
				err = r.Skip(16)
			case sub >= 21 && sub <= 34: // extract_lane, replace_lane
				err = r.Skip(1)
			case sub >= 84 && sub <= 91: // load_lane, store_lane: memarg, lane
				if err = r.Memarg(); err == nil {
					err = r.Skip(1)
				}
			case sub > 0xff:
				err = fmt.Errorf("%w: instruction 0xfd %d", ErrDecode, sub)
			}
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
			(op >= 0x45 && op <= 0xc4) || op == 0xd1:
			// no immediates
		default:
			err = fmt.Errorf("%w: instruction %#x", ErrDecode, op)
		}
		if err == nil {
			err = fn(op, r.Off)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
