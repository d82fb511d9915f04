package sandbox

import (
	"errors"
	"fmt"

	"github.com/portico-dev/portico/host/sandbox/internal/wasmbin"
)

// Bounds on a module's structure, checked before it is compiled.
//
// wazero's optimizing compiler grows super-linearly with a function's block
// nesting (measured: 10,000 nested blocks 0.6 s, 20,000 2.2 s, 200,000 still
// compiling after 120 s) and cannot be interrupted inside one function, so
// a module is walked first (wasmbin.WalkInstructions, the decoder instrument uses)
// and refused with the code "too_complex" when one of these bounds is
// passed. They are far above what real Go guests produce (see
// TestStructureOfRealGuests and docs/design-runtime.md for the margins).
const (
	// MaxFunctions bounds the functions a module defines.
	MaxFunctions = 50_000
	// MaxFunctionBytes bounds the size of one function body.
	MaxFunctionBytes = 256 << 10
	// MaxFunctionLocals bounds the locals one function declares.
	MaxFunctionLocals = 5_000
	// MaxBlockNesting bounds how deeply blocks, loops and ifs nest in one
	// function.
	MaxBlockNesting = 2_000
	// MaxTotalNesting bounds the sum over the module's functions of each
	// one's deepest nesting, so that many deep functions cannot add up to
	// a long compile either.
	MaxTotalNesting = 300_000
	// MaxTableEntries bounds the entries of a module's tables, all
	// together. A table is host memory (8 bytes an entry) that the
	// plugin's memory limit does not count, so it is bounded here; a Go
	// guest has one table, with an entry for each function it may call
	// indirectly (fewer than its functions).
	MaxTableEntries = 2 * MaxFunctions
)

// structure is what checkStructure measured of a module: the largest value
// of each bounded quantity and whether it has a start function.
type structure struct {
	functions, maxBodyBytes, maxNesting int
	totalNesting                        int // the sum of each function's deepest nesting
	maxLocals                           uint64
	start                               bool
	tableEntries                        uint64 // the sum of the tables' initial sizes
}

// measureStructure walks wasm's sections and function bodies. It stops at
// the first bound passed (the error is then a *ModuleError); a module it
// cannot decode is an errRewrite-wrapped error.
func measureStructure(wasm []byte) (structure, error) {
	var st structure
	secs, err := wasmbin.Split(wasm)
	if err != nil {
		return st, err
	}
	tooComplex := func(format string, args ...any) error {
		return &ModuleError{Code: "too_complex", Detail: fmt.Sprintf(format, args...)}
	}
	for _, s := range secs {
		switch s.ID {
		case wasmbin.SectionFunction, wasmbin.SectionCode:
			r := &wasmbin.Reader{B: s.Payload(wasm)}
			n, err := r.ULEB()
			if err != nil {
				return st, err
			}
			if n > MaxFunctions {
				return st, tooComplex("the module defines %d functions, the limit is %d", n, MaxFunctions)
			}
			st.functions = max(st.functions, int(n))
			if s.ID == wasmbin.SectionFunction {
				continue
			}
			// The code section is read here rather than with WalkCode so
			// that a body's declared size is judged before it is read.
			for i := range int(n) {
				size, err := r.ULEB()
				if err != nil {
					return st, err
				}
				if size > MaxFunctionBytes {
					return st, tooComplex("function %d has %d bytes of code, the limit is %d", i, size, MaxFunctionBytes)
				}
				body, err := r.Bytes(size)
				if err != nil {
					return st, err
				}
				st.maxBodyBytes = max(st.maxBodyBytes, len(body))
				code, locals, err := wasmbin.BodyLocals(body)
				if err != nil {
					return st, err
				}
				if locals > MaxFunctionLocals {
					return st, tooComplex("function %d declares %d locals, the limit is %d", i, locals, MaxFunctionLocals)
				}
				st.maxLocals = max(st.maxLocals, locals)
				depth, deepest, start := 0, 0, code
				err = wasmbin.WalkInstructions(body, code, func(op byte, end int) error {
					at := start
					start = end
					if writesTable(body, op, at) {
						return &ModuleError{Code: "table_write", Detail: fmt.Sprintf(
							"function %d changes a table (table.set, grow, fill, copy or init); tables are not rewound between calls, so plugins may not change them", i)}
					}
					switch op {
					case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
						depth++
						if depth > MaxBlockNesting {
							return tooComplex("function %d nests blocks more than %d deep", i, MaxBlockNesting)
						}
						deepest = max(deepest, depth)
						st.maxNesting = max(st.maxNesting, depth)
					case wasmbin.OpEnd:
						depth--
					}
					return nil
				})
				if err != nil {
					return st, err
				}
				st.totalNesting += deepest
				if st.totalNesting > MaxTotalNesting {
					return st, tooComplex("the module's functions nest blocks %d deep in total, the limit is %d", st.totalNesting, MaxTotalNesting)
				}
			}
		case wasmbin.SectionTable:
			r := &wasmbin.Reader{B: s.Payload(wasm)}
			n, err := r.ULEB()
			if err != nil {
				return st, err
			}
			for range n {
				if _, err := r.Byte(); err != nil { // the reference type
					return st, err
				}
				size, _, _, err := r.ReadLimits()
				if err != nil {
					return st, err
				}
				// Tables cannot grow (writesTable), so the initial sizes
				// are what they hold.
				if st.tableEntries += min(size, MaxTableEntries+1); st.tableEntries > MaxTableEntries {
					return st, tooComplex("the module's tables have %d entries or more, the limit is %d", st.tableEntries, MaxTableEntries)
				}
			}
		case wasmbin.SectionStart:
			st.start = true
		}
	}
	return st, nil
}

// writesTable reports whether the instruction at body[at:] with opcode op
// changes a table. Tables live in host memory outside the plugin's memory
// limit and are not rewound after a call (only memory and globals are), so
// a module may not write them after instantiation: table.grow could take
// the host's memory without bound, and table.set would carry one user's
// state into the next call. Go, TinyGo and Rust guests fill their function
// table at instantiation and never write it.
func writesTable(body []byte, op byte, at int) bool {
	switch op {
	case wasmbin.OpTableSet:
		return true
	case wasmbin.OpPrefixFC:
		r := &wasmbin.Reader{B: body, Off: at + 1}
		sub, err := r.ULEB()
		return err == nil && (sub == wasmbin.SubTableInit || sub == wasmbin.SubTableCopy ||
			sub == wasmbin.SubTableGrow || sub == wasmbin.SubTableFill)
	}
	return false
}

// checkStructure refuses, before compilation, a module with a start
// function or whose structure passes one of the bounds above. A module it
// cannot decode is refused with the code "compile": the decoder knows every
// instruction wazero's runtime accepts, and an undecoded function could
// hide any nesting.
func checkStructure(wasm []byte) error {
	st, err := measureStructure(wasm)
	if me := (*ModuleError)(nil); errors.As(err, &me) {
		return me
	}
	if err != nil {
		return &ModuleError{Code: "compile", Detail: "cannot decode the module: " + err.Error()}
	}
	if st.start {
		// wazero runs the start function inside instantiation, before the
		// instance exists to be stopped: a start function that loops would
		// hold its goroutine and a core forever. Go reactors
		// (-buildmode=c-shared) have none; their setup is _initialize,
		// which runs under the deadline.
		return &ModuleError{Code: "start_section", Detail: "the module has a start function; plugins must be reactors that initialise in _initialize (Go: -buildmode=c-shared)"}
	}
	return nil
}
