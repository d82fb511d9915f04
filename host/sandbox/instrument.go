package sandbox

import "fmt"

// Deadline enforcement without wazero's CloseOnContextDone.
//
// wazero's WithCloseOnContextDone makes every loop header and function
// entry call out of the compiled code to check whether the module was
// closed. A Go guest runs a loop in every function (the resumption jump
// table of Go's wasm backend), so that check made a real render ~4.5× slower
// (measured: 4.3 ms against 0.95 ms per render). Instead, instrument
// rewrites the module: it adds two mutable i32 globals, the stop flag and a
// budget, and at the start of every function body and of every loop
// inserts
//
//	budget -= 1
//	if budget <= 0 {
//	  budget = checkEvery
//	  memory.grow(0)  // an exit to Go: see below
//	  if stop { unreachable }
//	}
//
// The host sets the stop flag when the call's deadline passes; the guest
// traps within checkEvery loop iterations or calls. The exit to Go matters
// as much as the flag: compiled wasm cannot be preempted by Go's runtime, so
// a guest looping without ever leaving compiled code blocks every
// stop-the-world (the garbage collector's) until it returns, and with it
// the timer goroutine that would set the flag: the whole process hangs
// (seen with four looping guests at once). memory.grow is implemented by
// wazero as an exit to Go, where the goroutine can be preempted; with a
// delta of 0 it changes nothing. A module
// using instructions the rewriter does not know (SIMD, threads, exception
// handling…) is not rewritten and runs on a runtime with
// CloseOnContextDone instead.

// checkEvery is the number of loop iterations and function entries between
// two exits to Go (and looks at the stop flag).
const checkEvery = 1000

// instrument returns wasm with the stop flag, the budget and their checks,
// and the index of the stop flag among the module's defined globals (the
// budget follows it). A module without a memory is not instrumented.
func instrument(wasm []byte) ([]byte, int, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, 0, err
	}
	importedGlobals, definedGlobals := 0, 0
	globalIdx, codeIdx := -1, -1
	hasMemory := false
	for i, s := range secs {
		sr := &wasmReader{b: wasm[:s.end], off: s.start}
		switch s.id {
		case 2:
			n, mem, err := countImportedGlobals(sr)
			if err != nil {
				return nil, 0, err
			}
			importedGlobals = n
			hasMemory = hasMemory || mem
		case 5:
			if n, err := sr.uleb(); err == nil && n > 0 {
				hasMemory = true
			}
		case 6:
			n, err := sr.uleb()
			if err != nil {
				return nil, 0, err
			}
			definedGlobals, globalIdx = int(n), i
		case 10:
			codeIdx = i
		}
	}
	if codeIdx < 0 {
		return nil, 0, fmt.Errorf("%w: no code section", errRewrite)
	}
	if !hasMemory {
		return nil, 0, fmt.Errorf("%w: no memory", errRewrite)
	}
	stop := uint64(importedGlobals + definedGlobals)
	budget := stop + 1
	// budget -= 1; if budget <= 0 { budget = checkEvery; memory.grow(0);
	// if stop { unreachable } }
	check := appendULEB([]byte{0x23}, budget)
	check = append(check, 0x41, 0x01, 0x6b, 0x24)
	check = appendULEB(check, budget)
	check = appendULEB(append(check, 0x23), budget)
	check = append(check, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x41)
	check = appendULEB(check, checkEvery)
	check = appendULEB(append(check, 0x24), budget)
	check = append(check, 0x41, 0x00, 0x40, 0x00, 0x1a)
	check = appendULEB(append(check, 0x23), stop)
	check = append(check, 0x04, 0x40, 0x00, 0x0b, 0x0b)

	// The code section, every body rewritten.
	cs := secs[codeIdx]
	cr := &wasmReader{b: wasm[:cs.end], off: cs.start}
	nbodies, err := cr.uleb()
	if err != nil {
		return nil, 0, err
	}
	// Room for the checks (a few per function) without regrowing.
	code := make([]byte, 0, (cs.end-cs.start)+(cs.end-cs.start)/8+64)
	code = appendULEB(code, nbodies)
	body := make([]byte, 0, 1<<16)
	for range nbodies {
		size, err := cr.uleb()
		if err != nil {
			return nil, 0, err
		}
		start := cr.off
		if err := cr.skip(size); err != nil {
			return nil, 0, err
		}
		body, err = instrumentBody(body[:0], wasm[start:cr.off], check)
		if err != nil {
			return nil, 0, err
		}
		code = appendULEB(code, uint64(len(body)))
		code = append(code, body...)
	}
	// The global section with the stop flag and the budget appended (i32,
	// mutable, 0).
	var globals []byte
	flag := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	if globalIdx >= 0 {
		s := secs[globalIdx]
		gr := &wasmReader{b: wasm[:s.end], off: s.start}
		_, _ = gr.uleb()
		globals = appendULEB(nil, uint64(definedGlobals+2))
		globals = append(globals, wasm[gr.off:s.end]...)
	} else {
		globals = appendULEB(nil, 2)
	}
	globals = append(globals, flag...)
	globals = append(globals, flag...)

	out := make([]byte, 0, len(wasm)+len(code)-(cs.end-cs.start)+64)
	out = append(out, wasm[:8]...)
	emit := func(id byte, payload []byte) {
		out = append(out, id)
		out = appendULEB(out, uint64(len(payload)))
		out = append(out, payload...)
	}
	placed := globalIdx >= 0
	for i, s := range secs {
		if !placed && (s.id == 7 || s.id == 8 || s.id == 9 || s.id == 10 || s.id == 11 || s.id == 12) {
			emit(6, globals)
			placed = true
		}
		switch i {
		case globalIdx:
			emit(6, globals)
		case codeIdx:
			emit(10, code)
		default:
			out = append(out, wasm[s.hdr:s.end]...)
		}
	}
	return out, definedGlobals, nil
}

// countImportedGlobals counts the imported globals and reports whether a
// memory is imported.
func countImportedGlobals(sr *wasmReader) (int, bool, error) {
	n, err := sr.uleb()
	if err != nil {
		return 0, false, err
	}
	globals, memory := 0, false
	for range n {
		if _, err := sr.name(); err != nil {
			return 0, false, err
		}
		if _, err := sr.name(); err != nil {
			return 0, false, err
		}
		kind, err := sr.byte()
		if err != nil {
			return 0, false, err
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
			memory = true
		case 3:
			err = sr.skip(2)
			globals++
		default:
			err = errRewrite
		}
		if err != nil {
			return 0, false, err
		}
	}
	return globals, memory, nil
}

// instrumentBody appends to dst the function body b (locals and code)
// with check inserted after the locals and after every loop's block type.
// SIMD instructions are decoded but not rewritten: such a module runs on
// the safe runtime (see above).
func instrumentBody(dst, b, check []byte) ([]byte, error) {
	code, _, err := bodyLocals(b)
	if err != nil {
		return nil, err
	}
	dst = append(dst, b[:code]...)
	dst = append(dst, check...)
	from := code
	err = walkInstructions(b, code, func(op byte, end int) error {
		switch op {
		case 0x03: // loop: the check goes after its block type
			dst = append(dst, b[from:end]...)
			dst = append(dst, check...)
			from = end
		case 0xfd:
			return fmt.Errorf("%w: SIMD instruction", errRewrite)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(dst, b[from:]...), nil
}

// bodyLocals reads the local declarations at the start of the function
// body b: it returns the offset of the body's first instruction and the
// number of locals declared.
func bodyLocals(b []byte) (int, uint64, error) {
	r := &wasmReader{b: b}
	n, err := r.uleb()
	if err != nil {
		return 0, 0, err
	}
	var locals uint64
	for range n {
		k, err := r.uleb()
		if err != nil {
			return 0, 0, err
		}
		if _, err := r.byte(); err != nil {
			return 0, 0, err
		}
		if locals += k; locals < k {
			return 0, 0, errRewrite
		}
	}
	return r.off, locals, nil
}

// walkInstructions decodes the instructions of the function body b from
// offset off to its end and calls fn with each opcode (the prefix byte for
// 0xfc and 0xfd instructions) and the offset just past its immediates. It
// knows every instruction of WebAssembly 2.0 (the features wazero's runtime
// enables, SIMD included) and fails on any other with errRewrite; it is the
// one decoder of code that instrument and checkStructure share.
func walkInstructions(b []byte, off int, fn func(op byte, end int) error) error {
	r := &wasmReader{b: b, off: off}
	var err error
	for r.off < len(b) {
		op, _ := r.byte()
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			err = skipBlockType(r)
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || // br, br_if, call, return_call
			(op >= 0x20 && op <= 0x26) || op == 0xd2: // local.*, global.*, table.get/set, ref.func
			_, err = r.uleb()
		case op == 0x0e: // br_table
			var k uint64
			if k, err = r.uleb(); err == nil {
				for i := uint64(0); i <= k && err == nil; i++ {
					_, err = r.uleb()
				}
			}
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			if _, err = r.uleb(); err == nil {
				_, err = r.uleb()
			}
		case op == 0x1c: // select t*
			var k uint64
			if k, err = r.uleb(); err == nil {
				err = r.skip(k)
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
			err = r.memarg()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			_, err = r.uleb()
		case op == 0x41 || op == 0x42: // i32.const, i64.const
			_, err = r.uleb()
		case op == 0x43:
			err = r.skip(4)
		case op == 0x44:
			err = r.skip(8)
		case op == 0xd0: // ref.null
			_, err = r.byte()
		case op == 0xfc:
			var sub uint64
			if sub, err = r.uleb(); err != nil {
				break
			}
			switch {
			case sub <= 7: // saturating truncations
			case sub == 9 || sub == 11 || sub == 13 || sub == 15 || sub == 16 || sub == 17:
				_, err = r.uleb()
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				if _, err = r.uleb(); err == nil {
					_, err = r.uleb()
				}
			default:
				err = fmt.Errorf("%w: instruction 0xfc %d", errRewrite, sub)
			}
		case op == 0xfd: // SIMD
			var sub uint64
			if sub, err = r.uleb(); err != nil {
				break
			}
			switch {
			case sub <= 11 || sub == 92 || sub == 93: // loads, stores: memarg
				err = r.memarg()
			case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
				err = r.skip(16)
			case sub >= 21 && sub <= 34: // extract_lane, replace_lane
				err = r.skip(1)
			case sub >= 84 && sub <= 91: // load_lane, store_lane: memarg, lane
				if err = r.memarg(); err == nil {
					err = r.skip(1)
				}
			case sub > 0xff:
				err = fmt.Errorf("%w: instruction 0xfd %d", errRewrite, sub)
			}
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
			(op >= 0x45 && op <= 0xc4) || op == 0xd1:
			// no immediates
		default:
			err = fmt.Errorf("%w: instruction %#x", errRewrite, op)
		}
		if err == nil {
			err = fn(op, r.off)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// skipBlockType skips a block type: 0x40, a value type, or a type index
// (a signed LEB128).
func skipBlockType(r *wasmReader) error {
	if r.off >= len(r.b) {
		return errRewrite
	}
	switch c := r.b[r.off]; {
	case c == 0x40 || (c >= 0x6f && c <= 0x7f):
		r.off++
		return nil
	}
	_, err := r.uleb()
	return err
}
