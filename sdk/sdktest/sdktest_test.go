package sdktest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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
	// set stores "v" repeated "n" times (once without n) under "k", with
	// `\0` in k standing for a NUL byte: the portal refuses a form
	// value of more than abi.MaxFormValue bytes or holding a NUL, so the
	// plugin builds those keys and values itself.
	m.Action("set", func(c *sdk.Context) (*sdk.View, error) {
		n, err := strconv.Atoi(c.FormValue("n"))
		if err != nil {
			n = 1
		}
		k := strings.ReplaceAll(c.FormValue("k"), `\0`, "\x00")
		if err := c.KV().SetString(k, strings.Repeat(c.FormValue("v"), n)); err != nil {
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
	// set stores n bytes "v" under k.
	set := func(k string, n int) *Result {
		return h.Action("set", url.Values{"k": {k}, "v": {"v"}, "n": {strconv.Itoa(n)}})
	}
	for _, tc := range []struct {
		name, k string
		n       int
		wantErr string
	}{
		{"key at limit", strings.Repeat("k", MaxKVKey), 1, ""},
		{"key over limit", strings.Repeat("k", MaxKVKey+1), 1, "limit"},
		{"empty key", "", 1, "invalid"},
		{"key with NUL", `a\0b`, 1, "invalid"},
		{"value at limit", "a", MaxKVValue, ""},
		{"value over limit", "b", MaxKVValue + 1, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			r := set(tc.k, tc.n)
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
	set("new", 1).ErrorContains(fmt.Sprintf("%d keys", MaxKVKeys))
	set("0", 1).NoError()
	// Byte quota.
	h.KV = map[string][]byte{"big": make([]byte, MaxKVBytes-10)}
	set("x", 7).ErrorContains("would exceed") // len("big")+MaxKVBytes-10 + 1+7 = MaxKVBytes+1
	set("x", 6).NoError()                     // exactly MaxKVBytes
}

// TestHostCallBudget: a call past MaxHostCalls fails as the portal fails
// it (host_calls), whatever the plugin makes of the refused host call.
func TestHostCallBudget(t *testing.T) {
	h := New(t)
	h.Mux = kvMux()
	r := h.Action("many", nil).Fails("host_calls")
	if r.View != nil || len(r.HostCalls) != MaxHostCalls || !strings.Contains(r.Text(), "failed (host_calls)") {
		t.Errorf("the failed call: view %v, %d host calls, %q", r.View, len(r.HostCalls), r.Text())
	}
	if errs := failures(h, func() { h.Action("many", nil).NoError() }); len(errs) != 1 || !strings.Contains(errs[0], "the call failed (host_calls)") {
		t.Errorf("NoError on a failed call: %q", errs)
	}
	h.Action("get", url.Values{"k": {"k"}}).NoError() // the next call has its own budget
}

// TestPanicAndTimeoutFailTheCall: a handler that panics fails its call
// (trap) and the test goes on; one still running at the deadline fails
// as timeout, and the Host then refuses further calls.
func TestPanicAndTimeoutFailTheCall(t *testing.T) {
	m := sdk.NewMux()
	m.Action("panic", func(c *sdk.Context) (*sdk.View, error) {
		var m map[string]int
		m["x"] = 1
		return nil, nil
	})
	release := make(chan struct{})
	m.Action("hang", func(c *sdk.Context) (*sdk.View, error) {
		<-release
		return sdk.NewView("").Text("late"), nil
	})
	m.Action("ok", func(c *sdk.Context) (*sdk.View, error) { return sdk.NewView("").Text("ok"), nil })
	h := New(t)
	h.Mux = m
	r := h.Action("panic", nil).Fails("trap")
	if !strings.Contains(r.FailDetail, "assignment to entry in nil map") {
		t.Errorf("panic detail: %q", r.FailDetail)
	}
	h.Action("ok", nil).NoError().Contains("ok")
	if errs := failures(h, func() { h.Action("panic", nil).ErrorContains("x") }); len(errs) != 1 {
		t.Errorf("ErrorContains on a failed call: %q", errs)
	}

	h.Timeout = 50 * time.Millisecond
	h.Action("hang", nil).Fails("timeout")
	defer close(release)
	if errs := failures(h, func() { h.Action("ok", nil) }); len(errs) != 1 || !strings.Contains(errs[0], "did not end by its deadline") {
		t.Errorf("a call after one left running: %q", errs)
	}
}

// TestLateHandlerLeavesTheHostAlone: a handler still running after its
// call timed out reaches the Host no more, so the test can read the KV
// map while it goes on (go test -race proves there is no data race).
func TestLateHandlerLeavesTheHostAlone(t *testing.T) {
	m := sdk.NewMux()
	release, finished := make(chan struct{}), make(chan error, 1)
	m.Action("late", func(c *sdk.Context) (*sdk.View, error) {
		<-release
		var err error
		for i := range 200 {
			if err = c.KV().SetString("k", strconv.Itoa(i)); err != nil {
				break
			}
		}
		finished <- err
		return sdk.NewView("").Text("late"), nil
	})
	h := New(t)
	h.Mux = m
	h.Timeout = 20 * time.Millisecond
	h.Action("late", nil).Fails("timeout")
	close(release)
	for range 1000 {
		if _, ok := h.KV["k"]; ok {
			t.Fatal("a handler past its deadline wrote the Host's KV")
		}
	}
	if err := <-finished; err == nil {
		t.Error("the late handler's host calls succeeded")
	}
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
		{"::", "err invalid"}, // not a URL: the portal answers invalid
		{"/a", "err invalid"},
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

// TestHTTPWithoutTimeoutEndsBeforeTheCall: as in the portal, a request
// that sets no timeout ends abi.HTTPReserveMS before the call's deadline,
// so the plugin can still answer in its own words when its ERP hangs.
func TestHTTPWithoutTimeoutEndsBeforeTheCall(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		var v any
		if err := c.GetJSON("https://erp.example.com/hang", nil, &v); err != nil {
			return sdk.NewView("").Text("err " + sdk.Code(err) + ": " + err.Error()), nil
		}
		return sdk.NewView("").Text("answered"), nil
	})
	h := New(t)
	h.Mux = m
	h.Timeout = 500 * time.Millisecond
	h.ServeERP("https://erp.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	h.Render().NoError().Contains("err upstream").Contains("deadline")
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
		{"no error", func() { h.Action("bad", nil).NoError() }, "the call answered an error: boom"},
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

// A request's Timeout fails it with ErrUpstream when the ERP hangs, so the
// plugin still answers; without one, the call's default deadline applies.
func TestHTTPTimeout(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		ms, _ := strconv.Atoi(c.Config("timeout_ms"))
		_, err := c.Do(sdk.Request{URL: "https://erp.example.com/slow", Timeout: time.Duration(ms) * time.Millisecond})
		return sdk.NewView("t").Text("err=" + sdk.Code(err) + ";"), nil
	})
	h := New(t)
	h.Mux = m
	h.ServeERP("https://erp.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(200 * time.Millisecond):
			fmt.Fprint(w, "late")
		}
	}))
	h.Config["timeout_ms"] = "20"
	h.Render().NoError().Contains("err=upstream;")
	h.Config["timeout_ms"] = "0" // the default deadline (2 s) lets the answer come
	h.Render().NoError().Contains("err=;")
	h.Config["timeout_ms"] = "20000" // above abi.MaxTimeoutMS
	h.Render().NoError().Contains("err=invalid;")
}

// The atomic KV operations in the fake host: Incr counts from an absent
// key and refuses text; CompareAndSet claims an absent key once and then
// swaps only from the current value.
func TestKVAtomic(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		kv := c.KV()
		n1, _ := kv.Incr("n", 1)
		n2, _ := kv.Incr("n", 41)
		_, errText := kv.Incr("text", 1)
		first, _ := kv.CompareAndSet("claim", nil, []byte("a"))
		second, _ := kv.CompareAndSet("claim", nil, []byte("b"))
		wrong, _ := kv.CompareAndSet("claim", []byte("b"), []byte("c"))
		right, _ := kv.CompareAndSet("claim", []byte("a"), []byte("c"))
		return sdk.NewView("").Text(fmt.Sprintf("%d %d %s %v %v %v %v", n1, n2, sdk.Code(errText), first, second, wrong, right)), nil
	})
	h := New(t)
	h.Mux = m
	h.KV["text"] = []byte("abc")
	h.Render().NoError().Contains("1 42 invalid true false false true")
	if string(h.KV["claim"]) != "c" || string(h.KV["n"]) != "42" {
		t.Errorf("store = %q", h.KV)
	}
}

// formMux echoes the form its action "echo" received, and counts the
// calls that reached it.
func formMux(ran *int) *sdk.Mux {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		// 1,500 euro signs: 1,500 characters, within a field value's
		// abi.MaxValue, but 4,500 bytes, more than abi.MaxFormValue.
		return sdk.NewView("").Form(sdk.NewForm().
			Text("short", "Short", "ok").
			Text("long", "Long", strings.Repeat("€", 1500)).
			Button("Go", "echo")), nil
	})
	m.Action("echo", func(c *sdk.Context) (*sdk.View, error) {
		*ran++
		var names []string
		for k := range c.Form() {
			names = append(names, k)
		}
		slices.Sort(names)
		return sdk.NewView("").Text("fields=" + strings.Join(names, ",")), nil
	})
	return m
}

// TestActionRefusesWhatThePortalRefuses: a form the portal refuses with
// 400 before the plugin runs (abi.CheckAction) never reaches the plugin
// in the harness either; the Result fails as invalid_input and says why.
// The page's own _csrf field is removed, as the portal removes it.
func TestActionRefusesWhatThePortalRefuses(t *testing.T) {
	ran := 0
	h := New(t)
	h.Mux = formMux(&ran)
	many := func(n int) url.Values {
		v := url.Values{}
		for i := range n {
			v.Set("f"+strconv.Itoa(i), "x")
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		action string
		form   url.Values
		want   string // a part of FailDetail; "" when the plugin runs
	}{
		{"plain form", "echo", url.Values{"nome": {"Ana"}}, ""},
		{"the page's _csrf is removed", "echo", url.Values{"_csrf": {"tok"}, "nome": {"Ana"}}, ""},
		{"value at the limit", "echo", url.Values{"a": {strings.Repeat("x", abi.MaxFormValue)}}, ""},
		{"another '_' field", "echo", url.Values{"_x": {"1"}}, `field name "_x" is not a safe name (names starting with '_' are the portal's)`},
		{"field name with a space", "echo", url.Values{"bad name": {"1"}}, `field name "bad name" is not a safe name`},
		{"NUL byte", "echo", url.Values{"a": {"x\x00y"}}, "form.a: a value holds a NUL byte"},
		{"invalid UTF-8", "echo", url.Values{"a": {"\xff"}}, "form.a: a value is not valid UTF-8"},
		{"5,000-character value", "echo", url.Values{"a": {strings.Repeat("x", 5000)}}, "form.a: a value of 5000 bytes, at most 4000"},
		{"51 fields", "echo", many(abi.MaxFormKeys + 1), "51 fields, at most 50"},
		{"101 values", "echo", url.Values{"a": make([]string, abi.MaxFormValues+1)}, "more than 100 values"},
		{"unsafe action name", "../x", nil, `the portal would refuse this action name with 400 (plugin_invalid_input) and not run the plugin: invalid input: action: "../x" is not a safe name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			before := ran
			r := h.Action(tc.action, tc.form)
			if tc.want == "" {
				r.NoError().NotContains("_csrf")
				if ran != before+1 {
					t.Errorf("the plugin ran %d times, want once", ran-before)
				}
				return
			}
			r.Fails("invalid_input")
			if ran != before {
				t.Errorf("the plugin ran on a form the portal refuses")
			}
			if !strings.Contains(r.FailDetail, tc.want) || !strings.Contains(r.FailDetail, "the portal would refuse this") ||
				!strings.Contains(r.FailDetail, "with 400 (plugin_invalid_input)") {
				t.Errorf("FailDetail = %q, want the portal's 400 and %q", r.FailDetail, tc.want)
			}
			if r.View != nil || len(r.HostCalls) != 0 {
				t.Errorf("a refused call has a view or host calls: %+v", r)
			}
		})
	}
	h.t = t
	// The caller's form is left as it was.
	form := url.Values{"_csrf": {"tok"}, "nome": {"Ana"}}
	h.Action("echo", form).NoError().Contains("fields=nome")
	if form.Get("_csrf") != "tok" {
		t.Errorf("Action changed the caller's form: %v", form)
	}
	// NoError on a refused call fails the test and says why.
	if errs := failures(h, func() { h.Action("echo", url.Values{"bad name": {"1"}}).NoError() }); len(errs) != 1 ||
		!strings.Contains(errs[0], "the call failed (invalid_input): the portal would refuse this form with 400") {
		t.Errorf("NoError on a refused form: %q", errs)
	}
}

// TestSubmitRefusesWhatThePortalRefuses: Submit checks the browser's form
// as the portal does. A field value of 1,500 characters is a valid view,
// but sent back it is 4,500 bytes, and the portal refuses the form.
func TestSubmitRefusesWhatThePortalRefuses(t *testing.T) {
	ran := 0
	h := New(t)
	h.Mux = formMux(&ran)
	page := h.Render().NoError()
	r := h.Submit(page, "echo", nil).Fails("invalid_input")
	if ran != 0 || !strings.Contains(r.FailDetail, "form.long: a value of 4500 bytes, at most 4000") {
		t.Errorf("ran %d, FailDetail %q", ran, r.FailDetail)
	}
	h.Submit(page, "echo", url.Values{"long": {"short now"}}).NoError().Contains("fields=long,short")
	if ran != 1 {
		t.Errorf("ran %d, want 1", ran)
	}
}

// TestHTTPRequestRule: the harness refuses a request the portal's HTTP
// client refuses (abi.CheckHTTPRequest), with the portal's codes and
// messages, and sends what it accepts as the portal sends it.
func TestHTTPRequestRule(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		header := map[string]string{}
		if name, value, ok := strings.Cut(c.Config("header"), ":"); ok {
			header[name] = value
		}
		if n, _ := strconv.Atoi(c.Config("headers")); n > 0 {
			for i := range n {
				header["X-H"+strconv.Itoa(i)] = "v"
			}
		}
		body, _ := strconv.Atoi(c.Config("body"))
		r, err := c.Do(sdk.Request{Method: c.Config("method"), URL: "https://erp.example.com/a", Header: header, Body: make([]byte, body)})
		if err != nil {
			return sdk.NewView("").Text("err " + sdk.Code(err) + ": " + strings.ReplaceAll(err.Error(), "\n", " ")), nil
		}
		return sdk.NewView("").Text(fmt.Sprintf("%d %s", r.Status, r.Body)), nil
	})
	h := New(t)
	h.Mux = m
	h.ServeERP("https://erp.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s ua=%s x=%s", r.Method, r.Header.Get("User-Agent"), r.Header.Get("X-Custom"))
	}))
	for _, tc := range []struct {
		name, method, header string
		headers, body        int
		want                 string
	}{
		{"plain", "", "", 0, 0, "200 GET ua=Portico-Plugin/1 x="},
		{"lower-case method and header", "post", "x-custom:1", 0, 0, "200 POST ua=Portico-Plugin/1 x=1"},
		{"the plugin's user agent", "", "User-Agent:mine/1", 0, 0, "200 GET ua=mine/1"},
		{"headers at the limit", "", "", abi.MaxHTTPHeaders, 0, "200 GET"},
		{"Host", "", "Host:other.example.com", 0, 0, `err invalid: http GET https://erp.example.com/a: invalid: header "Host" may not be set`},
		{"host in lower case", "", "host:other.example.com", 0, 0, `err invalid: http GET https://erp.example.com/a: invalid: header "host" may not be set`},
		{"Content-Length", "", "Content-Length:1", 0, 0, `err invalid:`},
		{"Transfer-Encoding", "", "Transfer-Encoding:chunked", 0, 0, `header "Transfer-Encoding" may not be set`},
		{"Connection", "", "Connection:close", 0, 0, `header "Connection" may not be set`},
		{"a Proxy- header", "", "Proxy-Anything:1", 0, 0, `header "Proxy-Anything" may not be set`},
		{"CRLF in a value", "", "X-Custom:a\r\nInjected: 1", 0, 0, `err invalid: http GET https://erp.example.com/a: invalid: bad header "X-Custom"`},
		{"space in a name", "", "X Custom:1", 0, 0, `bad header "X Custom"`},
		{"too many headers", "", "", abi.MaxHTTPHeaders + 1, 0, "err limit: http GET https://erp.example.com/a: limit: 51 headers exceed the limit of 50"},
		{"CONNECT", "CONNECT", "", 0, 0, `err invalid: http CONNECT https://erp.example.com/a: invalid: method "CONNECT" is not allowed`},
		{"body above the limit", "POST", "", 0, abi.MaxHTTPRequestBody + 1, "err limit:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.Config = map[string]string{"method": tc.method, "header": tc.header, "headers": strconv.Itoa(tc.headers), "body": strconv.Itoa(tc.body)}
			h.Render().NoError().Contains(tc.want)
		})
	}
}

// TestHTTPRedirects: the harness follows redirects as the portal's client
// does: at most abi.MaxHTTPRedirects, each target re-checked against the
// allowed hosts (abi.CheckRedirect), with the portal's codes; a 302 turns
// a POST into a GET, a 307 keeps it.
func TestHTTPRedirects(t *testing.T) {
	m := sdk.NewMux()
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		r, err := c.Do(sdk.Request{Method: c.Config("method"), URL: "https://erp.example.com" + c.Config("path"), Body: []byte("b")})
		if err != nil {
			return sdk.NewView("").Text("err " + sdk.Code(err) + ": " + err.Error()), nil
		}
		return sdk.NewView("").Text(fmt.Sprintf("%d %s", r.Status, r.Body)), nil
	})
	h := New(t)
	h.Mux = m
	erp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hops":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			if n <= 0 {
				http.Redirect(w, r, "/final", http.StatusFound)
			} else {
				http.Redirect(w, r, "/hops?n="+strconv.Itoa(n-1), http.StatusFound)
			}
		case "/away":
			http.Redirect(w, r, "https://evil.example.com/x", http.StatusFound)
		case "/downgrade":
			http.Redirect(w, r, "http://erp.example.com/final", http.StatusFound)
		case "/other":
			http.Redirect(w, r, "https://files.example.com/final", http.StatusFound)
		case "/see-other":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/temporary":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		default:
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s%s body=%s", r.Method, r.Host, r.URL.Path, body)
		}
	})
	h.ServeERP("https://erp.example.com", erp)
	h.ServeERP("https://files.example.com", erp)
	for _, tc := range []struct{ name, method, path, want string }{
		{"no redirect", "GET", "/final", "200 GET erp.example.com/final"},
		{"one redirect", "GET", "/hops?n=0", "200 GET erp.example.com/final"},
		{"abi.MaxHTTPRedirects redirects", "GET", "/hops?n=" + strconv.Itoa(abi.MaxHTTPRedirects-1), "200 GET erp.example.com/final"},
		{"one redirect more", "GET", "/hops?n=" + strconv.Itoa(abi.MaxHTTPRedirects), "err upstream: http GET https://erp.example.com/hops: upstream: stopped after 5 redirects"},
		{"to an unlisted origin", "GET", "/away", "err not_allowed: http GET https://erp.example.com/away: not_allowed: redirect to https://evil.example.com is not in the allowed hosts"},
		{"from https to http", "GET", "/downgrade", "redirect to http://erp.example.com is not in the allowed hosts"},
		{"to another allowed origin", "GET", "/other", "200 GET files.example.com/final"},
		{"302 after a POST", "POST", "/see-other", "200 GET erp.example.com/final body="},
		{"307 after a POST", "POST", "/temporary", "200 POST erp.example.com/final body=b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.Config = map[string]string{"method": tc.method, "path": tc.path}
			h.Render().NoError().Contains(tc.want)
		})
	}
	// A 3xx the client does not follow (no Location) reaches the plugin.
	h.t = t
	h.ERP = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusFound) })
	h.Config = map[string]string{"method": "GET", "path": "/"}
	h.Render().NoError().Contains("302")
}

// TestAllowedHostsAsThePortal: an allowed host the portal refuses when a
// gestor saves it (abi.CheckAllowedHosts) fails the test at setup, with
// the portal's reason. A private address is the operator's to allow: the
// harness cannot know, and serves it.
func TestAllowedHostsAsThePortal(t *testing.T) {
	m := sdk.NewMux()
	ran := false
	m.Render(func(c *sdk.Context) (*sdk.View, error) {
		ran = true
		return sdk.NewView("").Text("ok"), nil
	})
	erp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct{ origin, want string }{
		{"https://erp.example.com", ""},
		{"https://ERP.example.com:443", ""},
		{"https://10.1.2.3:8443", ""}, // private: the operator's and a gestor's to allow
		{"http://erp.example.com", `sdktest: the portal would refuse this allowed host "http://erp.example.com": only https is allowed`},
		{"http://10.1.2.3:8080", `sdktest: the portal would refuse this allowed host "http://10.1.2.3:8080": only https is allowed`},
		{"http://localhost:8091", `allowed host "http://localhost:8091": only https is allowed`}, // a demo portal's exception only
		{"https://erp.example.com/api", `allowed host "https://erp.example.com/api": an origin has only a scheme, a host and an optional port`},
		{"https://user:pw@erp.example.com", `the portal would refuse this allowed host`},
		{"https://erp.example.com:99999", `port "99999" out of range`},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			h := New(t)
			h.Mux = m
			errs := failures(h, func() { h.ServeERP(tc.origin, erp) })
			if tc.want == "" {
				if len(errs) != 0 {
					t.Fatalf("ServeERP(%q) failed: %q", tc.origin, errs)
				}
				h.t = t
				h.Render().NoError()
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
				t.Fatalf("ServeERP(%q): failures %q, want one containing %q", tc.origin, errs, tc.want)
			}
			// Set directly, the list fails the next call before the
			// plugin runs.
			h = New(t)
			h.Mux = m
			h.AllowedHosts = []string{tc.origin}
			ran = false
			errs = failures(h, func() { h.Render() })
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) || ran {
				t.Fatalf("Render with AllowedHosts %q: failures %q, ran %v", tc.origin, errs, ran)
			}
		})
	}
	// At most abi.MaxAllowedHosts.
	h := New(t)
	h.Mux = m
	for i := range abi.MaxAllowedHosts {
		h.AllowedHosts = append(h.AllowedHosts, "https://erp"+strconv.Itoa(i)+".example.com")
	}
	h.Render().NoError()
	errs := failures(h, func() { h.ServeERP("https://one-more.example.com", erp) })
	if len(errs) != 1 || !strings.Contains(errs[0], "the portal would refuse 21 allowed hosts: a plugin has at most 20") {
		t.Fatalf("21 allowed hosts: %q", errs)
	}
}
