// Command valid is the admin tests' wasm guest built on the SDK: render
// logs a line and shows a heading; the action "boom" panics (a trap), and
// "degraded" logs an error and answers politely (as a plugin whose ERP is
// down does), so the tests can see calls, errors and log lines in the
// plugin's health.
package main

import "github.com/portico-dev/portico/sdk"

func init() {
	sdk.Render(func(c *sdk.Context) (*sdk.View, error) {
		c.Log().Info("rendered", "who", c.User().ID)
		return sdk.NewView("ok"), nil
	})
	sdk.Action("boom", func(c *sdk.Context) (*sdk.View, error) { panic("boom") })
	sdk.Action("degraded", func(c *sdk.Context) (*sdk.View, error) {
		c.Log().Error("the ERP is unavailable")
		return sdk.NewView("ok").Warning("unavailable"), nil
	})
}

func main() {}
