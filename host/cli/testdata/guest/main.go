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

func main() {}
