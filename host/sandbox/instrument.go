package sandbox

import (
	"fmt"

	"github.com/portico-dev/portico/host/sandbox/internal/wasmbin"
)

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
	secs, err := wasmbin.Split(wasm)
	if err != nil {
		return nil, 0, err
	}
	importedGlobals, definedGlobals := 0, 0
	globalIdx, codeIdx := -1, -1
	hasMemory := false
	for i, s := range secs {
		switch s.ID {
		case wasmbin.SectionImport:
			im, err := wasmbin.ReadImports(s.Payload(wasm))
			if err != nil {
				return nil, 0, err
			}
			importedGlobals = im.Globals
			hasMemory = hasMemory || im.Memories > 0
		case wasmbin.SectionMemory:
			if n, _, err := wasmbin.Count(s.Payload(wasm)); err == nil && n > 0 {
				hasMemory = true
			}
		case wasmbin.SectionGlobal:
			n, _, err := wasmbin.Count(s.Payload(wasm))
			if err != nil {
				return nil, 0, err
			}
			definedGlobals, globalIdx = int(n), i
		case wasmbin.SectionCode:
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
	uleb := wasmbin.AppendULEB
	// budget -= 1; if budget <= 0 { budget = checkEvery; memory.grow(0);
	// if stop { unreachable } }
	check := uleb([]byte{0x23}, budget)
	check = append(check, 0x41, 0x01, 0x6b, 0x24)
	check = uleb(check, budget)
	check = uleb(append(check, 0x23), budget)
	check = append(check, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x41)
	check = uleb(check, checkEvery)
	check = uleb(append(check, 0x24), budget)
	check = append(check, 0x41, 0x00, 0x40, 0x00, 0x1a)
	check = uleb(append(check, 0x23), stop)
	check = append(check, 0x04, 0x40, 0x00, 0x0b, 0x0b)

	// The code section, every body rewritten.
	cs := secs[codeIdx]
	nbodies, _, err := wasmbin.Count(cs.Payload(wasm))
	if err != nil {
		return nil, 0, err
	}
	// Room for the checks (a few per function) without regrowing.
	code := make([]byte, 0, (cs.End-cs.Start)+(cs.End-cs.Start)/8+64)
	code = uleb(code, nbodies)
	body := make([]byte, 0, 1<<16)
	err = wasmbin.WalkCode(cs.Payload(wasm), func(_ int, b []byte) error {
		var err error
		if body, err = instrumentBody(body[:0], b, check); err != nil {
			return err
		}
		code = uleb(code, uint64(len(body)))
		code = append(code, body...)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	// The global section with the stop flag and the budget appended (i32,
	// mutable, 0).
	var globals []byte
	flag := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	if globalIdx >= 0 {
		s := secs[globalIdx]
		_, first, _ := wasmbin.Count(s.Payload(wasm))
		globals = uleb(nil, uint64(definedGlobals+2))
		globals = append(globals, wasm[s.Start+first:s.End]...)
	} else {
		globals = uleb(nil, 2)
	}
	globals = append(globals, flag...)
	globals = append(globals, flag...)

	out := make([]byte, 0, len(wasm)+len(code)-(cs.End-cs.Start)+64)
	out = append(out, wasm[:8]...)
	placed := globalIdx >= 0
	for i, s := range secs {
		if !placed && s.ID >= wasmbin.SectionExport && s.ID <= wasmbin.SectionDataCnt {
			out = wasmbin.AppendSection(out, wasmbin.SectionGlobal, globals)
			placed = true
		}
		switch i {
		case globalIdx:
			out = wasmbin.AppendSection(out, wasmbin.SectionGlobal, globals)
		case codeIdx:
			out = wasmbin.AppendSection(out, wasmbin.SectionCode, code)
		default:
			out = append(out, wasm[s.Hdr:s.End]...)
		}
	}
	return out, definedGlobals, nil
}

// instrumentBody appends to dst the function body b (locals and code)
// with check inserted after the locals and after every loop's block type.
// SIMD instructions are decoded but not rewritten: such a module runs on
// the safe runtime (see above).
func instrumentBody(dst, b, check []byte) ([]byte, error) {
	code, _, err := wasmbin.BodyLocals(b)
	if err != nil {
		return nil, err
	}
	dst = append(dst, b[:code]...)
	dst = append(dst, check...)
	from := code
	err = wasmbin.WalkInstructions(b, code, func(op byte, end int) error {
		switch op {
		case wasmbin.OpLoop: // the check goes after its block type
			dst = append(dst, b[from:end]...)
			dst = append(dst, check...)
			from = end
		case wasmbin.OpPrefixSIMD:
			return fmt.Errorf("%w: SIMD instruction", errRewrite)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(dst, b[from:]...), nil
}
