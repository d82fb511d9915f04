//go:build wasip1

// Command extism is the Extism (go-pdk) benchmark guest with the same
// logic as the Portico one: "noop" returns an empty view without decoding
// its input, "render" decodes it and renders the 50-row view.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o extism.wasm .
package main

import (
	"encoding/json"

	"github.com/extism/go-pdk"

	"github.com/portico-dev/portico/bench/internal/render"
	"github.com/portico-dev/portico/sdk/abi"
)

func main() {}

//go:wasmexport noop
func noop() int32 {
	pdk.Output(render.Noop)
	return 0
}

//go:wasmexport render
func renderView() int32 {
	var input abi.Input
	if err := json.Unmarshal(pdk.Input(), &input); err != nil {
		pdk.Output([]byte(`{"error":"bad input"}`))
		return 0
	}
	b, err := json.Marshal(render.View(&input))
	if err != nil {
		pdk.Output([]byte(`{"error":"marshal"}`))
		return 0
	}
	pdk.Output(b)
	return 0
}
