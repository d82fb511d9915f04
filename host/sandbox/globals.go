package sandbox

import (
	"fmt"
	"strconv"

	"github.com/portico-dev/portico/host/sandbox/internal/wasmbin"
)

// A Go guest keeps part of its state in wasm globals (the stack pointer,
// the current goroutine…), which wazero does not let the host read or set
// unless they are exported. exportGlobals rewrites a module so that every
// global it defines is also exported as globalExportPrefix+index; the pool
// then restores them with the memory snapshot. The rewrite only appends
// export entries: code, data and the other sections are untouched.

const globalExportPrefix = "portico_global_"

// errRewrite is wrapped by the errors of a module the rewriters or the
// structure check cannot decode or rewrite.
var errRewrite = wasmbin.ErrDecode

// exportGlobals returns wasm with every defined global exported, and the
// number of globals exported.
func exportGlobals(wasm []byte) ([]byte, int, error) {
	secs, err := wasmbin.Split(wasm)
	if err != nil {
		return nil, 0, err
	}
	importedGlobals, definedGlobals := 0, 0
	exportIdx := -1
	names := map[string]bool{}
	for i, s := range secs {
		switch s.ID {
		case wasmbin.SectionImport:
			im, err := wasmbin.ReadImports(s.Payload(wasm))
			if err != nil {
				return nil, 0, err
			}
			importedGlobals = im.Globals
		case wasmbin.SectionGlobal:
			n, _, err := wasmbin.Count(s.Payload(wasm))
			if err != nil {
				return nil, 0, err
			}
			definedGlobals = int(n)
		case wasmbin.SectionExport:
			exportIdx = i
			exports, err := wasmbin.ReadExports(s.Payload(wasm))
			if err != nil {
				return nil, 0, err
			}
			for _, x := range exports {
				names[x.Name] = true
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
		entries = wasmbin.AppendULEB(entries, uint64(len(name)))
		entries = append(entries, name...)
		entries = append(entries, wasmbin.KindGlobal)
		entries = wasmbin.AppendULEB(entries, uint64(importedGlobals+i))
	}
	var payload []byte
	insertAt := len(wasm)
	replaceEnd := len(wasm)
	if exportIdx >= 0 {
		s := secs[exportIdx]
		n, first, _ := wasmbin.Count(s.Payload(wasm))
		payload = wasmbin.AppendULEB(nil, n+uint64(definedGlobals))
		payload = append(payload, wasm[s.Start+first:s.End]...)
		payload = append(payload, entries...)
		insertAt, replaceEnd = s.Hdr, s.End
	} else {
		payload = wasmbin.AppendULEB(nil, uint64(definedGlobals))
		payload = append(payload, entries...)
		for _, s := range secs {
			if s.ID >= wasmbin.SectionStart && s.ID <= wasmbin.SectionDataCnt {
				insertAt, replaceEnd = s.Hdr, s.Hdr
				break
			}
		}
	}
	out := make([]byte, 0, len(wasm)+len(entries)+16)
	out = append(out, wasm[:insertAt]...)
	out = wasmbin.AppendSection(out, wasmbin.SectionExport, payload)
	out = append(out, wasm[replaceEnd:]...)
	return out, definedGlobals, nil
}
