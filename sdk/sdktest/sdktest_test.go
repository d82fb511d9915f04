package sdktest

import (
	"fmt"
	"net/http"
	"net/url"
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
	set("new", "v").ErrorContains(fmt.Sprintf("%d keys", MaxKVKeys))
	set("0", "v").NoError()
	// Byte quota.
	h.KV = map[string][]byte{"big": make([]byte, MaxKVBytes-10)}
	set("x", "1234567").ErrorContains("would exceed") // len("big")+MaxKVBytes-10 + 1+7 = MaxKVBytes+1
	set("x", "123456").NoError()                      // exactly MaxKVBytes
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
