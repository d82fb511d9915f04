package sdktest_test

import (
	"fmt"
	"net/url"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/sdktest"
)

// Submit presses a button of a returned view with the form's current values
// plus changes, as a browser would. In a test, pass t to New instead of nil.
func ExampleHost_Submit() {
	mux := sdk.NewMux()
	mux.Render(func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("").Form(sdk.NewForm().
			Select("unit", "Unit", "101", sdk.Option("101", "Apt 101"), sdk.Option("102", "Apt 102")).
			Checkbox("email", "E-mail me", true).
			Button("Save", "save")), nil
	})
	mux.Action("save", func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("").Success(fmt.Sprintf("unit %s, e-mail %v", c.FormValue("unit"), c.Checked("email"))), nil
	})
	h := sdktest.New(nil)
	h.Mux = mux
	page := h.Render().NoError()
	fmt.Print(h.Submit(page, "save", nil).Text())
	fmt.Print(h.Submit(page, "save", url.Values{"unit": {"102"}, "email": {""}}).Text())
	// Output:
	// [success] unit 101, e-mail true
	// [success] unit 102, e-mail false
}
