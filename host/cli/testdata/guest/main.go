// Command guest is a wasm plugin for the tests of `portico plugin`: its
// configuration key "mode" makes it misbehave in chosen ways.
package main

import (
	"errors"
	"strings"

	"github.com/portico-dev/portico/sdk"
)

func init() {
	sdk.Render(func(c *sdk.Context) (*sdk.View, error) {
		switch c.Config("mode") {
		case "loop":
			n := 0
			for {
				n++
			}
		case "panic":
			panic("boom")
		case "error":
			return nil, errors.New("polite failure")
		case "logerror": // a log line at the level the engine's own log prints
			c.Log().Error("erp down", "attempt", "1")
			return sdk.NewView("").Text("logged"), nil
		case "http":
			r, err := c.Do(sdk.Request{URL: c.Config("url")})
			if err != nil {
				return nil, err
			}
			return sdk.NewView("").Text(string(r.Body)), nil
		case "alloc": // garbage per call, for measuring memory growth
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = byte(i)
			}
			return sdk.NewView("").Text(strings.Repeat("x", int(b[100])%7)), nil
		case "secret":
			s, err := c.Secret("token")
			if err != nil {
				return nil, err
			}
			return sdk.NewView("").Text("len " + strings.Repeat("*", len(s))), nil
		}
		return sdk.NewView("").Text("ok"), nil
	})
}

// hostileViews are views the portal refuses, run as actions so that one
// registration serves them all: `portico plugin run` must refuse each with
// the code the portal's API answers (host/cli's parity test).
var hostileViews = map[string]func() *sdk.View{
	// A link to an origin outside the plugin's allow-list.
	"outside_link": func() *sdk.View {
		return sdk.NewView("").Link("Pagar", "https://elsewhere.example/pay")
	},
	// A barcode that is not Interleaved 2 of 5 (an odd count of digits).
	"odd_barcode": func() *sdk.View { return sdk.NewView("").Barcode("Boleto", "012") },
	// A download whose name does not match its type.
	"exe_download": func() *sdk.View {
		return sdk.NewView("").Download("Boleto", "boleto.pdf.exe", "application/pdf", []byte("%PDF-1.4"))
	},
	// A text with a bidi override character.
	"bidi_text": func() *sdk.View { return sdk.NewView("").Text("abc\u202edef") },
	// More blocks than a view may hold.
	"many_blocks": func() *sdk.View {
		v := sdk.NewView("")
		for range 101 {
			v.Text("x")
		}
		return v
	},
	// A link the allow-list permits: the control row.
	"allowed_link": func() *sdk.View {
		return sdk.NewView("").Link("ERP", "https://erp.example.com/pay")
	},
}

func init() {
	for name, view := range hostileViews {
		sdk.Action(name, func(*sdk.Context) (*sdk.View, error) { return view(), nil })
	}
}

// The home card: a line, or with the configuration "mode=bigcard" more
// blocks than a card may hold (a page's view, refused as a card).
func init() {
	sdk.Card(func(c *sdk.Context) (*sdk.View, error) {
		v := sdk.NewView("").Text("card ok")
		if c.Config("mode") == "bigcard" {
			v.Text("2").Text("3").Text("4")
		}
		return v, nil
	})
}

func main() {}
