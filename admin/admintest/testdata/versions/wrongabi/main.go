// Command wrongabi exports every function of the plugin ABI but reports ABI
// version 99, which no Portico speaks: the admin tests upload it to see it
// refused with a message naming the host's version.
package main

//go:wasmexport portico_abi_version
func abiVersion() int32 { return 99 }

var buf [1024]byte

//go:wasmexport portico_alloc
func alloc(n int32) int32 { return 0 }

//go:wasmexport portico_handle
func handle(ptr, n int32) int64 { return int64(len(buf)) }

func main() {}
