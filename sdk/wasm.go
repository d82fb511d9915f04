//go:build wasip1

package sdk

import (
	"encoding/json"
	"runtime"
	"unsafe"

	"github.com/portico-dev/portico/sdk/abi"
)

// The wasm side of ABI v1 (see package sdk/abi). The host calls
// portico_alloc, writes the input into that buffer, calls portico_handle
// with it, and reads the output, which stays referenced (so valid) until
// the next export call.
var (
	inBuf  []byte
	outBuf []byte
)

// maxAlloc bounds portico_alloc: the host's own input limit is far smaller.
const maxAlloc = 64 << 20

// init warms encoding/json's per-type caches for the ABI types while the
// reactor initialises. The host snapshots memory right after _initialize and
// rewinds every call to that snapshot, so whatever a call computes is thrown
// away with it; work done here is kept. Measured with host/sandbox's render
// benchmark guest: p50 0.98 ms → 0.29 ms. Plugins can do the same for their
// own JSON types (see docs/plugin-tutorial.md).
func init() {
	var in abi.Input
	_ = json.Unmarshal([]byte(`{"abi":1,"kind":"action","action":"a","form":{"k":["v"]},`+
		`"user":{"id":"u","role":"cliente","locale":"pt-BR","tenant":"t","name":"n","email":"e","document":"d","phone":"p"},`+
		`"plugin":{"slug":"s","title":"t"},"config":{"k":"v"},"request_id":"r"}`), &in)
	_, _ = json.Marshal(abi.Output{View: &abi.View{Title: "t", Blocks: []abi.Block{{
		Type: abi.BlockForm, Text: "t", Level: 1, Tone: abi.ToneInfo, Label: "l", Value: "v", URL: "u",
		Items: []abi.KV{{Label: "l", Value: "v"}}, Columns: []string{"c"}, Rows: [][]string{{"r"}},
		Fields:  []abi.Field{{Type: abi.FieldSelect, Name: "n", Options: []abi.Option{{Value: "v", Label: "l"}}}},
		Buttons: []abi.Button{{Label: "l", Action: "a"}}, Filename: "f", ContentType: "text/plain", Data: []byte("d"),
	}}}, Error: ""})
	var resp abi.HostResponse
	_ = json.Unmarshal([]byte(`{"error":{"code":"c","message":"m"},"status":200,"headers":{"k":"v"},"body":"","value":"","found":true}`), &resp)
	_, _ = json.Marshal(abi.HostRequest{Op: abi.OpLog, Headers: map[string]string{"k": "v"}, Attrs: map[string]string{"k": "v"}})
}

//go:wasmexport portico_abi_version
func exportABIVersion() int32 { return abi.Version }

//go:wasmexport portico_alloc
func exportAlloc(size int32) uint32 {
	outBuf = nil
	inBuf = nil
	if size < 0 || size > maxAlloc {
		return 0
	}
	inBuf = make([]byte, max(size, 1))[:size]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(inBuf))))
}

//go:wasmexport portico_handle
func exportHandle(ptr, n uint32) uint64 {
	var in []byte
	if inBuf != nil {
		base := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(inBuf))))
		if ptr >= base && uint64(ptr)+uint64(n) <= uint64(base)+uint64(len(inBuf)) {
			in = inBuf[ptr-base : ptr-base+n]
		}
	}
	inBuf = nil
	outBuf = nil
	out := DefaultMux.serve(in, wasmHost{})
	outBuf = out
	// A reactor's goroutines only run while an export runs: give the garbage
	// collector's background workers their turn, or the heap only grows
	// (measured: a guest making 1 MiB of garbage per call reached 786 MiB
	// after 1,200 calls without this, and stays near 10 MiB with it; see
	// host/cli's testGuestMemoryFlat).
	runtime.Gosched()
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out))))<<32 | uint64(len(out))
}

//go:wasmimport portico host_call
func hostCall(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport portico host_result
func hostResult(ptr unsafe.Pointer)

type wasmHost struct{}

func (wasmHost) HostCall(req []byte) ([]byte, bool) {
	n := hostCall(unsafe.Pointer(unsafe.SliceData(req)), uint32(len(req)))
	runtime.KeepAlive(req)
	if n < 0 {
		return nil, false
	}
	resp := make([]byte, n)
	if n > 0 {
		hostResult(unsafe.Pointer(unsafe.SliceData(resp)))
	}
	return resp, true
}
