// Package sdk is the plugin author's side of Portico's wasm plugins.
//
// A plugin is a Go package main compiled as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
//
// It registers handlers in an init function (a reactor never runs main.main):
// one render handler, which draws the plugin's page, and one handler per
// action, which runs when the user presses a form button naming it, and
// optionally a card handler (Card), whose short view the portal shows on
// the plugin's tile of the home page. All receive a *Context (the user,
// the plugin's configuration, the submitted form, and the host functions:
// HTTP, KV, secrets and log) and return a *View, a list of declarative
// blocks that Portico renders with its own templates. No HTML or script
// of the plugin ever reaches the page.
//
//	func init() {
//		sdk.Render(func(c *sdk.Context) (*sdk.View, error) {
//			return sdk.NewView("Hello").Text("Hello, " + c.User().Name), nil
//		})
//	}
//
//	func main() {}
//
// Package sdk exports the wasm functions of ABI version 1 (see package
// sdk/abi for the wire format) when built for GOOS=wasip1, and takes care of
// the memory shared with the host: input and output buffers, and yielding to
// the Go scheduler after every call so the garbage collector runs. Natively
// (go test) there are no exports; package sdk/sdktest runs the same handlers
// against an in-memory fake host.
//
// # Errors
//
// A handler that returns an error makes the call fail politely: the error's
// text is shown to the user as an alert in place of the view, so write it for
// people. A handler that panics traps the wasm instance; the host reports the
// call as failed and counts it in the plugin's health. Host functions return
// errors that carry one of the abi.Err* codes; get it with Code.
//
// # Grants
//
// Every host function needs a grant the tenant's administrator gives the
// plugin: "http" (only to the plugin's allowed hosts), "kv", "secrets", "log";
// the configuration is in the input only with "config", and the user's name,
// e-mail, document and phone only when each field is granted. A call without
// its grant fails with Code(err) == abi.ErrGrantMissing; Log without the
// grant is silently dropped.
//
// # Limits
//
// The host bounds each call's time, memory, input and output size, number of
// host calls and log lines, and the KV store's key and value sizes and
// totals; docs/design-runtime.md lists the numbers.
package sdk
