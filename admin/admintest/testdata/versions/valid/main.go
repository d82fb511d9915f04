// Command valid is the admin tests' wasm guest built on the SDK: render
// logs a line and shows a heading; the action "boom" panics (a trap), so the
// tests can see calls, errors and log lines in the plugin's health.
package main

import "github.com/portico-dev/portico/sdk"

func init() {
	sdk.Render(func(c *sdk.Context) (*sdk.View, error) {
		c.Log().Info("rendered", "who", c.User().ID)
		return sdk.NewView("ok"), nil
	})
	sdk.Action("boom", func(c *sdk.Context) (*sdk.View, error) { panic("boom") })
}

func main() {}
