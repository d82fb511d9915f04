// Package bridge is the seam between package sdk and whatever stands in for
// the Portico host: the wasm imports under GOOS=wasip1, or package sdktest's
// fake host in native tests. It is internal so that plugin authors see a
// small API; sdk fills in the function variables at init.
package bridge

// Transport carries one host request to the host and returns its answer,
// both as the JSON of abi.HostRequest and abi.HostResponse. ok is false when
// the host refused the call outright (its host-call budget is spent).
type Transport interface {
	HostCall(request []byte) (response []byte, ok bool)
}

// Serve runs the handler that mux (a *sdk.Mux) registered for the JSON
// abi.Input in input and returns the JSON abi.Output. Set by package sdk.
var Serve func(mux any, input []byte, t Transport) []byte

// Actions lists the action names mux (a *sdk.Mux) has handlers for, and
// whether it has a render handler. Set by package sdk.
var Actions func(mux any) (actions []string, render bool)
