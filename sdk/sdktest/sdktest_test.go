package sdktest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

// recorder is a tb that records failures; Fatalf stops the call by panicking.
type recorder struct{ errs []string }

type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}

// failures runs f against a host whose assertions are recorded, and
// returns them.
func failures(h *Host, f func()) (errs []string) {
	rec := &recorder{}
	h.t = rec
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(fatal); !ok {
				panic(p)
			}
		}
		errs = rec.errs
	}()
	f()
	return rec.errs
}

func kvMux() *sdk.Mux {
	m := sdk.NewMux()
	m.Action("set", func(c *sdk.Context) (*sdk.View, error) {
		if err := c.KV().SetString(c.FormValue("k"), c.FormValue("v")); err != nil {
			return nil, err
		}
		return sdk.NewView("").Text("ok"), nil
	})
	m.Action("get", func(c *sdk.Context) (*sdk.View, error) {
		v, found, err := c.KV().Get(c.FormValue("k"))
		if err != nil {
			return nil, err
		}
		return sdk.NewView("").Text(fmt.Sprintf("%d bytes, found %v", len(v), found)), nil
	})
	m.Action("many", func(c *sdk.Context) (*sdk.View, error) {
		n := 0
		for {
			if _, _, err := c.KV().Get("k"); err != nil {
				return sdk.NewView("").Text(fmt.Sprintf("%d %s", n, sdk.Code(err))), nil
			}
			n++
		}
	})
	return m
}

func TestKVLimits(t *testing.T) {
	h := New(t)
	h.Mux = kvMux()
	set := func(k, v string) *Result { return h.Action("set", url.Values{"k": {k}, "v": {v}}) }
	for _, tc := range []struct {
		name, k, v, wantErr string
	}{
		{"key at limit", strings.Repeat("k", MaxKVKey), "v", ""},
		{"key over limit", strings.Repeat("k", MaxKVKey+1), "v", "limit"},
		{"empty key", "", "v", "invalid"},
		{"key with NUL", "a\x00b", "v", "invalid"},
		{"value at limit", "a", strings.Repeat("v", MaxKVValue), ""},
		{"value over limit", "b", strings.Repeat("v", MaxKVValue+1), "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			r := set(tc.k, tc.v)
			if tc.wantErr == "" {
				r.NoError()
			} else {
				r.ErrorContains(tc.wantErr)
			}
		})
	}
	h.t = t
	h.Action("get", url.Values{"k": {"absent"}}).NoError().Contains(`0 bytes, found false`)
	h.Action("get", url.Values{"k": {"a"}}).NoError().Contains(fmt.Sprintf("%d bytes, found true", MaxKVValue))

	// Key count quota: fill to the limit, then one more fails, replacing works.
	h.KV = map[string][]byte{}
	for i := range MaxKVKeys {
		h.KV[fmt.Sprint(i)] = nil
	}
	set("new", "v").ErrorContains("1000 keys")
	set("0", "v").NoError()
	// Byte quota.
	h.KV = map[string][]byte{"big": make([]byte, MaxKVBytes-10)}
	set("x", "1234567").ErrorContains("would exceed") // len("big")+MaxKVBytes-10 + 1+7 = MaxKVBytes+1
	set("x", "123456").NoError()                      // exactly MaxKVBytes
}

func TestHostCallBudget(t *testing.T) {
	h := New(t)
	h.Mux = kvMux()
	h.Action("many", nil).NoError().Contains(fmt.Sprintf("%d limit", MaxHostCalls))
}

func TestGrantsAndConfig(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		_, err := c.Secret("s")
		c.Log().Info("hi")
		return sdk.NewView("").Text("config=" + c.Config("k") + " secret=" + sdk.Code(err)), nil
	})
	h := New(t)
	h.Mux = m
	h.Config["k"] = "v"
	h.Secrets["s"] = "x"
	r := h.Render().NoError().Contains("config=v secret=").Logged("hi")
	if len(r.Logs) != 1 || r.Logs[0].Level != "info" {
		t.Errorf("logs = %+v", r.Logs)
	}
	r = h.Grant("secrets").Render().NoError().Contains("config= secret=")
	if len(r.Logs) != 0 {
		t.Errorf("logged without the grant: %+v", r.Logs)
	}
	h.Grant().Render().NoError().Contains("secret=grant_missing")
	delete(h.Secrets, "s")
	h.Grant("secrets").Render().NoError().Contains("secret=not_found")
}

func TestHTTP(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		r, err := c.Do(sdk.Request{Method: "PUT", URL: c.Config("url"), Body: []byte("body"), Header: map[string]string{"x-a": "1"}})
		if err != nil {
			return sdk.NewView("").Text("err " + sdk.Code(err)), nil
		}
		return sdk.NewView("").Text(fmt.Sprintf("%d %s %s", r.Status, r.Header["X-Echo"], r.Body)), nil
	})
	h := New(t)
	h.Mux = m
	h.ServeERP("https://ERP.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Method+" "+r.Header.Get("X-A"))
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, r.URL.Path)
	}))
	for _, tc := range []struct{ url, want string }{
		{"https://erp.example.com/a", "418 PUT 1 /a"},
		{"https://erp.example.com:443/b", "418 PUT 1 /b"},
		{"http://erp.example.com/a", "err not_allowed"},
		{"https://erp.example.com:8443/a", "err not_allowed"},
		{"https://user:pw@erp.example.com/a", "err not_allowed"},
		{"https://erp.example.com.evil.net/a", "err not_allowed"},
		{"file:///etc/passwd", "err not_allowed"},
		{"::", "err not_allowed"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			h.t = t
			h.Config["url"] = tc.url
			h.Render().NoError().Contains(tc.want)
		})
	}
	h.t = t
	h.Config["url"] = "https://erp.example.com/a"
	h.Grant().Render().NoError().Contains("err grant_missing")
}

func TestSubmit(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("").Form(sdk.NewForm().
			Text("t", "T", "x").
			Select("s", "S", "a", sdk.Option("a", "A"), sdk.Option("b", "B")).
			Checkbox("c", "C", true).
			Checkbox("d", "D", false).
			Hidden("h", "hid").
			Button("Go", "go")), nil
	})
	m.Action("go", func(c *sdk.Context) (*sdk.View, error) {
		f := c.Form()
		return sdk.NewView("").Text(fmt.Sprintf("t=%s s=%s c=%v d=%v h=%s n=%d", f.Get("t"), f.Get("s"), f.Has("c"), f.Has("d"), f.Get("h"), len(f))), nil
	})
	h := New(t)
	h.Mux = m
	page := h.Render().NoError()
	h.Submit(page, "go", nil).NoError().Contains("t=x s=a c=true d=false h=hid n=4")
	h.Submit(page, "go", url.Values{"s": {"b"}, "c": {""}, "d": {"on"}}).NoError().Contains("t=x s=b c=false d=true h=hid n=4")

	for _, tc := range []struct {
		name, action string
		changes      url.Values
		want         string
	}{
		{"unknown field", "go", url.Values{"zz": {"1"}}, `no field "zz"`},
		{"select value not an option", "go", url.Values{"s": {"c"}}, `not an option`},
		{"no such button", "other", nil, `no form with a button for action "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := failures(h, func() { h.Submit(page, tc.action, tc.changes) })
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
				t.Errorf("failures = %q, want one containing %q", errs, tc.want)
			}
		})
	}
}

func TestAssertionsFail(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) { return sdk.NewView("").Text("hello"), nil })
	m.Action("bad", func(c *sdk.Context) (*sdk.View, error) { return nil, fmt.Errorf("boom") })
	h := New(t)
	h.Mux = m
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"contains", func() { h.Render().Contains("bye") }, `does not contain "bye"`},
		{"not contains", func() { h.Render().NotContains("hell") }, `contains "hell"`},
		{"no error", func() { h.Action("bad", nil).NoError() }, "the call failed: boom"},
		{"error contains", func() { h.Render().ErrorContains("boom") }, `want an error containing "boom"`},
		{"block", func() { h.Render().Block(abi.BlockQR) }, `no "qr" block`},
		{"logged", func() { h.Render().Logged("x") }, `no log line "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := failures(h, tc.f)
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
				t.Errorf("failures = %q, want one containing %q", errs, tc.want)
			}
		})
	}
}

func TestCheckView(t *testing.T) {
	allowed := []string{"https://erp.example.com"}
	btn := []abi.Button{{Label: "Go", Action: "go"}}
	form := func(f ...abi.Field) abi.Block { return abi.Block{Type: abi.BlockForm, Fields: f, Buttons: btn} }
	for _, tc := range []struct {
		name string
		b    abi.Block
		want string // "" = valid
	}{
		{"heading", abi.Block{Type: abi.BlockHeading, Level: 3, Text: "h"}, ""},
		{"heading default level", abi.Block{Type: abi.BlockHeading, Text: "h"}, ""},
		{"heading level 4", abi.Block{Type: abi.BlockHeading, Level: 4, Text: "h"}, "level 4"},
		{"heading empty", abi.Block{Type: abi.BlockHeading, Level: 1}, "text: empty"},
		{"heading at limit", abi.Block{Type: abi.BlockHeading, Text: strings.Repeat("é", MaxTitle)}, ""},
		{"heading over limit", abi.Block{Type: abi.BlockHeading, Text: strings.Repeat("é", MaxTitle+1)}, "121 characters"},
		{"heading with newline", abi.Block{Type: abi.BlockHeading, Text: "a\nb"}, "control character"},
		{"text with newline", abi.Block{Type: abi.BlockText, Text: "a\nb"}, ""},
		{"text with bidi override", abi.Block{Type: abi.BlockText, Text: "a\u202eb"}, "bidirectional"},
		{"alert", abi.Block{Type: abi.BlockAlert, Tone: abi.ToneError, Text: "x"}, ""},
		{"alert tone", abi.Block{Type: abi.BlockAlert, Tone: "red", Text: "x"}, "unknown tone"},
		{"kv", abi.Block{Type: abi.BlockKV, Items: []abi.KV{{Label: "a", Value: ""}}}, ""},
		{"kv empty", abi.Block{Type: abi.BlockKV}, "0 items"},
		{"kv item without label", abi.Block{Type: abi.BlockKV, Items: []abi.KV{{Value: "v"}}}, "label: empty"},
		{"table", abi.Block{Type: abi.BlockTable, Columns: []string{"a"}, Rows: [][]string{{""}}}, ""},
		{"table no columns", abi.Block{Type: abi.BlockTable}, "0 columns"},
		{"table ragged", abi.Block{Type: abi.BlockTable, Columns: []string{"a", "b"}, Rows: [][]string{{"1"}}}, "1 cells for 2 columns"},
		{"table too many rows", abi.Block{Type: abi.BlockTable, Columns: []string{"a"}, Rows: make([][]string, MaxRows+1)}, "501 rows"},
		{"barcode", abi.Block{Type: abi.BlockBarcode, Value: "0123"}, ""},
		{"barcode odd", abi.Block{Type: abi.BlockBarcode, Value: "012"}, "even number"},
		{"barcode letters", abi.Block{Type: abi.BlockBarcode, Value: "01a3"}, "even number"},
		{"barcode too long", abi.Block{Type: abi.BlockBarcode, Value: strings.Repeat("01", 33)}, "even number"},
		{"qr", abi.Block{Type: abi.BlockQR, Value: "pix"}, ""},
		{"qr empty", abi.Block{Type: abi.BlockQR}, "QR content"},
		{"qr too long", abi.Block{Type: abi.BlockQR, Value: strings.Repeat("x", MaxQRBytes+1)}, "QR content"},
		{"link allowed", abi.Block{Type: abi.BlockLink, Label: "ERP", URL: "https://erp.example.com:443/x"}, ""},
		{"link other host", abi.Block{Type: abi.BlockLink, Label: "x", URL: "https://evil.example/x"}, "allowed hosts"},
		{"link javascript", abi.Block{Type: abi.BlockLink, Label: "x", URL: "javascript:alert(1)"}, "allowed hosts"},
		{"link with space", abi.Block{Type: abi.BlockLink, Label: "x", URL: "https://erp.example.com/a b"}, "space"},
		{"link without label", abi.Block{Type: abi.BlockLink, URL: "https://erp.example.com/"}, "label: empty"},
		{"download", abi.Block{Type: abi.BlockDownload, Label: "d", Filename: "a.pdf", ContentType: "application/pdf"}, ""},
		{"download no name", abi.Block{Type: abi.BlockDownload, Label: "d", Filename: "..", ContentType: "text/csv"}, "file name"},
		{"download html", abi.Block{Type: abi.BlockDownload, Label: "d", Filename: "a.html", ContentType: "text/html"}, "allowed types"},
		{"download too big", abi.Block{Type: abi.BlockDownload, Label: "d", Filename: "a.csv", ContentType: "text/csv", Data: make([]byte, MaxDownloadBytes+1)}, "bytes, at most"},
		{"form", form(abi.Field{Type: "text", Name: "a", Label: "A"}), ""},
		{"form hidden without label", form(abi.Field{Type: "hidden", Name: "a", Value: "1"}), ""},
		{"form field type", form(abi.Field{Type: "file", Name: "a", Label: "A"}), "unknown field type"},
		{"form field name", form(abi.Field{Type: "text", Label: "A"}), "not a valid field name"},
		{"form field name with _", form(abi.Field{Type: "text", Name: "_csrf", Label: "A"}), "not a valid field name"},
		{"form duplicate field", form(abi.Field{Type: "text", Name: "a", Label: "A"}, abi.Field{Type: "text", Name: "a", Label: "B"}), "duplicate"},
		{"form field without label", form(abi.Field{Type: "text", Name: "a"}), "label: empty"},
		{"form number", form(abi.Field{Type: "number", Name: "a", Label: "A", Value: "x"}), "not a number"},
		{"form date", form(abi.Field{Type: "date", Name: "a", Label: "A", Value: "10/08/2025"}), "YYYY-MM-DD"},
		{"form checkbox value", form(abi.Field{Type: "checkbox", Name: "a", Label: "A", Value: "yes"}), `"on" or empty`},
		{"form select value", form(abi.Field{Type: "select", Name: "s", Label: "S", Value: "x", Options: []abi.Option{{Value: "a", Label: "A"}}}), "not one of the options"},
		{"form select no options", form(abi.Field{Type: "select", Name: "s", Label: "S"}), "0 options"},
		{"form no buttons", abi.Block{Type: abi.BlockForm}, "0 buttons"},
		{"form unknown action", abi.Block{Type: abi.BlockForm, Buttons: []abi.Button{{Label: "X", Action: "nope"}}}, "no handler"},
		{"form bad action name", abi.Block{Type: abi.BlockForm, Buttons: []abi.Button{{Label: "X", Action: "1go"}}}, "not a valid action name"},
		{"unknown type", abi.Block{Type: "html"}, "unknown block type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := CheckView(&abi.View{Blocks: []abi.Block{tc.b}}, allowed, []string{"go"})
			if tc.want == "" && len(p) != 0 || tc.want != "" && (len(p) != 1 || !strings.Contains(p[0], tc.want)) {
				t.Errorf("problems = %q, want one with %q", p, tc.want)
			}
		})
	}
	if p := CheckView(&abi.View{Blocks: make([]abi.Block, MaxBlocks+1)}, nil, nil); len(p) != 1 || !strings.Contains(p[0], "101 blocks") {
		t.Errorf("too many blocks: %q", p)
	}
	many := make([]abi.Block, MaxBlocks)
	for i := range many {
		many[i] = abi.Block{Type: "bad"}
	}
	if p := CheckView(&abi.View{Blocks: many}, nil, nil); len(p) != maxProblems+1 || !strings.Contains(p[maxProblems], "left out") {
		t.Errorf("problems are not bounded: %d", len(p))
	}
}

func TestBadErrorMessageFailsTheTest(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) { return nil, fmt.Errorf("line one\nline two") })
	h := New(t)
	h.Mux = m
	if errs := failures(h, func() { h.Render() }); len(errs) != 1 || !strings.Contains(errs[0], "control character") {
		t.Errorf("failures = %q", errs)
	}
}

func TestBadViewFailsTheTest(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("").Barcode("b", "123").Form(sdk.NewForm().Button("x", "missing")), nil
	})
	h := New(t)
	h.Mux = m
	errs := failures(h, func() { h.Render() })
	if len(errs) != 2 {
		t.Errorf("failures = %q, want the barcode and the button", errs)
	}
}
