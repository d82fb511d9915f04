//go:build wasip1

// Command portico is the Portico (ABI v1) benchmark guest, written against
// the raw ABI like host/sandbox's test guest: "noop" returns an empty view
// without decoding its input, anything else decodes the input and renders
// the 50-row view.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o portico.wasm .
// (add -ldflags "-X main.warm=1" for the warmed variant).
package main

import (
	"encoding/json"
	"strings"
	"unsafe"

	"github.com/portico-dev/portico/bench/internal/render"
	"github.com/portico-dev/portico/sdk/abi"
)

func main() {}

// warm is set with -ldflags "-X main.warm=1" to build the variant that
// exercises encoding/json on the ABI types during _initialize: the
// reflection caches encoding/json fills on first use are then part of the
// post-initialisation image the host rewinds to, instead of being rebuilt
// in every call.
var warm string

func init() {
	if warm == "" {
		return
	}
	var in abi.Input
	_ = json.Unmarshal([]byte(`{"abi":1,"kind":"action","action":"render","user":{"id":"u"},"form":{"a":["b"]},"plugin":{"slug":"s"}}`), &in)
	_, _ = json.Marshal(render.View(&in))
}

var inBuf, outBuf []byte

//go:wasmexport portico_abi_version
func version() int32 { return abi.Version }

//go:wasmexport portico_alloc
func alloc(size int32) int32 {
	inBuf = make([]byte, size+1)
	return int32(uintptr(unsafe.Pointer(&inBuf[0])))
}

//go:wasmexport portico_handle
func handle(ptr, n int32) int64 {
	in := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
	if strings.Contains(string(in[:min(len(in), 64)]), `"action":"noop"`) {
		return ret(render.Noop)
	}
	var input abi.Input
	if err := json.Unmarshal(in, &input); err != nil {
		return ret([]byte(`{"error":"bad input"}`))
	}
	b, err := json.Marshal(render.View(&input))
	if err != nil {
		return ret([]byte(`{"error":"marshal"}`))
	}
	return ret(b)
}

func ret(b []byte) int64 {
	outBuf = b
	return int64(uintptr(unsafe.Pointer(&b[0])))<<32 | int64(len(b))
}
