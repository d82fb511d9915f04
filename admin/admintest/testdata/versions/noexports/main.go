// Command noexports is a Go reactor that exports only portico_abi_version:
// the admin tests upload it to see a module missing the ABI's other exports
// refused.
package main

//go:wasmexport portico_abi_version
func abiVersion() int32 { return 1 }

func main() {}
