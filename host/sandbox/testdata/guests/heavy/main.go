// Command heavy is a test guest whose outputs are cheap to produce and
// expensive to decode naively: many empty elements of the view's arrays.
// It implements ABI v1 raw (no SDK, no encoding/json) so that it compiles
// quickly.
//
// Actions (form "n" is the element count):
//
//	blocks  {"view":{"blocks":[{},{},…]}} with n empty blocks
//	rows    one table block with n empty rows
//	deep    an unknown field nested n arrays deep
//	ok      one text block
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o heavy.wasm .
package main

import (
	"bytes"
	"strconv"
	"unsafe"
)

func main() {}

var inBuf, outBuf []byte

//go:wasmexport portico_abi_version
func version() int32 { return 1 }

//go:wasmexport portico_alloc
func alloc(size int32) int32 {
	inBuf = make([]byte, size+1)
	return int32(uintptr(unsafe.Pointer(&inBuf[0])))
}

// field returns the raw text after `"key":` up to the next quote (enough
// for the host's compact JSON and the values these tests send).
func field(in []byte, key string) string {
	i := bytes.Index(in, []byte(`"`+key+`":`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(in[i+len(key)+3:], `["`)
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

//go:wasmexport portico_handle
func handle(ptr, n int32) int64 {
	in := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
	count, _ := strconv.Atoi(field(in, "n"))
	var b bytes.Buffer
	switch field(in, "action") {
	case "blocks":
		b.WriteString(`{"view":{"blocks":[`)
		for i := range count {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{}`)
		}
		b.WriteString(`]}}`)
	case "rows":
		b.WriteString(`{"view":{"blocks":[{"type":"table","columns":["a"],"rows":[`)
		for i := range count {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`[]`)
		}
		b.WriteString(`]}]}}`)
	case "deep":
		b.WriteString(`{"x":`)
		b.Write(bytes.Repeat([]byte{'['}, count))
		b.Write(bytes.Repeat([]byte{']'}, count))
		b.WriteString(`,"view":{"blocks":[]}}`)
	default:
		b.WriteString(`{"view":{"blocks":[{"type":"text","text":"ok"}]}}`)
	}
	outBuf = b.Bytes()
	return int64(uintptr(unsafe.Pointer(&outBuf[0])))<<32 | int64(len(outBuf))
}
