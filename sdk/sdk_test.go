package sdk

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
)

// fakeTransport answers every host call with resp (ok=false when refuse).
type fakeTransport struct {
	resp   []byte
	refuse bool
	got    [][]byte
}

func (f *fakeTransport) HostCall(req []byte) ([]byte, bool) {
	f.got = append(f.got, req)
	return f.resp, !f.refuse
}

func serveJSON(t *testing.T, m *Mux, input string, tr *fakeTransport) abi.Output {
	t.Helper()
	var out abi.Output
	if err := json.Unmarshal(m.serve([]byte(input), tr), &out); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return out
}

func TestServe(t *testing.T) {
	m := NewMux()
	m.Render(func(c *Context) (*View, error) { return NewView("r").Text(c.User().Name), nil })
	m.Action("fail", func(c *Context) (*View, error) { return nil, errorString("sorry") })
	m.Action("empty-error", func(c *Context) (*View, error) { return nil, errorString("") })
	m.Action("nil", func(c *Context) (*View, error) { return nil, nil })
	m.Action("echo", func(c *Context) (*View, error) {
		n, ok := c.FormInt("n")
		return NewView(c.Action()).Text(c.FormValue("a")).Text(boolText(c.Checked("b"))).Text(boolText(ok && n == 7)), nil
	})
	for _, tc := range []struct {
		name, input, wantErr, wantText string
	}{
		{"render", `{"abi":1,"kind":"render","user":{"name":"Ana"}}`, "", "Ana"},
		{"action", `{"abi":1,"kind":"action","action":"echo","form":{"a":["x","y"],"b":["on"],"n":[" 7"]}}`, "", "x,yes,yes"},
		{"handler error", `{"abi":1,"kind":"action","action":"fail"}`, "sorry", ""},
		{"empty error", `{"abi":1,"kind":"action","action":"empty-error"}`, "the plugin failed", ""},
		{"nil view", `{"abi":1,"kind":"action","action":"nil"}`, "no view", ""},
		{"unknown action", `{"abi":1,"kind":"action","action":"nope"}`, "Esta ação não está mais disponível", ""},
		{"unknown action, es", `{"abi":1,"kind":"action","action":"nope","user":{"locale":"es"}}`, "Esta acción ya no está disponible", ""},
		{"unknown action, en", `{"abi":1,"kind":"action","action":"nope","user":{"locale":"en"}}`, "This action is no longer available", ""},
		{"action without name", `{"abi":1,"kind":"action"}`, "without an action name", ""},
		{"wrong abi", `{"abi":2,"kind":"render"}`, "ABI version 2", ""},
		{"missing abi", `{"kind":"render"}`, "ABI version 0", ""},
		{"unknown kind", `{"abi":1,"kind":"delete"}`, `unknown kind "delete"`, ""},
		{"not json", `{`, "decode input", ""},
		{"empty", ``, "decode input", ""},
		{"wrong types", `{"abi":"1"}`, "decode input", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := serveJSON(t, m, tc.input, &fakeTransport{})
			if tc.wantErr != "" {
				if out.View != nil || !strings.Contains(out.Error, tc.wantErr) {
					t.Fatalf("got view %v error %q, want error containing %q", out.View, out.Error, tc.wantErr)
				}
				return
			}
			if out.View == nil {
				t.Fatalf("error %q, want a view", out.Error)
			}
			var texts []string
			for _, b := range out.View.Blocks {
				texts = append(texts, b.Text)
			}
			if got := strings.Join(texts, ","); got != tc.wantText {
				t.Errorf("texts = %q, want %q", got, tc.wantText)
			}
		})
	}
}

// TestRenderMissing: a render call to a plugin without a render handler
// (registered in main, which never runs) fails the call with a message
// that says where handlers go, instead of showing it to people.
func TestRenderMissing(t *testing.T) {
	defer func() {
		if r := recover(); r != NoRenderHandler {
			t.Errorf("panic = %v, want NoRenderHandler", r)
		}
	}()
	out := serveJSON(t, NewMux(), `{"abi":1,"kind":"render"}`, &fakeTransport{})
	t.Errorf("a plugin without a render handler answered %+v", out)
}

func TestEmptyViewHasBlocks(t *testing.T) {
	m := NewMux()
	m.Render(func(c *Context) (*View, error) { return &View{}, nil })
	raw := string(m.serve([]byte(`{"abi":1,"kind":"render"}`), nil))
	if raw != `{"view":{"blocks":[]}}` {
		t.Errorf("output = %s", raw)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func boolText(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func TestRegistrationPanics(t *testing.T) {
	h := func(*Context) (*View, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		f    func(m *Mux)
	}{
		{"nil render", func(m *Mux) { m.Render(nil) }},
		{"render twice", func(m *Mux) { m.Render(h); m.Render(h) }},
		{"empty action", func(m *Mux) { m.Action("", h) }},
		{"bad action name", func(m *Mux) { m.Action("a b", h) }},
		{"action name starting with a digit", func(m *Mux) { m.Action("1a", h) }},
		{"action name starting with _", func(m *Mux) { m.Action("_csrf", h) }},
		{"long action name", func(m *Mux) { m.Action(strings.Repeat("a", MaxActionName+1), h) }},
		{"nil action", func(m *Mux) { m.Action("a", nil) }},
		{"action twice", func(m *Mux) { m.Action("a", h); m.Action("a", h) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f(NewMux())
		})
	}
	m := NewMux()
	m.Action(strings.Repeat("a", MaxActionName), h) // at the limit: fine
	m.Action("Save_2.v-1", h)
	if names, render := m.actionNames(); len(names) != 2 || render {
		t.Errorf("actionNames = %v, %v", names, render)
	}
}

func TestHostCalls(t *testing.T) {
	run := func(tr *fakeTransport, f func(c *Context)) {
		t.Helper()
		f(newContext(&abi.Input{ABI: 1, Kind: abi.KindRender}, tr))
	}
	t.Run("kv get found", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`{"found":true,"value":"aGk="}`)}, func(c *Context) {
			v, found, err := c.KV().Get("k")
			if err != nil || !found || string(v) != "hi" {
				t.Errorf("Get = %q %v %v", v, found, err)
			}
		})
	})
	t.Run("kv get found empty", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`{"found":true}`)}, func(c *Context) {
			v, found, err := c.KV().Get("k")
			if err != nil || !found || v == nil || len(v) != 0 {
				t.Errorf("Get = %q %v %v", v, found, err)
			}
		})
	})
	t.Run("kv get not found as error code", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`{"error":{"code":"not_found","message":"x"}}`)}, func(c *Context) {
			v, found, err := c.KV().Get("k")
			if err != nil || found || v != nil {
				t.Errorf("Get = %q %v %v", v, found, err)
			}
		})
	})
	t.Run("refused", func(t *testing.T) {
		run(&fakeTransport{refuse: true}, func(c *Context) {
			if err := c.KV().Set("k", nil); Code(err) != abi.ErrLimit {
				t.Errorf("Set err = %v", err)
			}
		})
	})
	t.Run("error without code", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`{"error":{}}`)}, func(c *Context) {
			if _, err := c.Secret("s"); Code(err) != abi.ErrInvalid {
				t.Errorf("Secret err = %v", err)
			}
		})
	})
	t.Run("garbage", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`nope`)}, func(c *Context) {
			if _, err := c.Do(Request{URL: "https://x.example/?token=abc"}); err == nil || strings.Contains(err.Error(), "abc") {
				t.Errorf("Do err = %v (must fail and not leak the query)", err)
			}
		})
	})
	t.Run("secret absent", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`{}`)}, func(c *Context) {
			if _, err := c.Secret("s"); Code(err) != abi.ErrNotFound {
				t.Errorf("Secret err = %v", err)
			}
		})
	})
	t.Run("kv delete absent is fine", func(t *testing.T) {
		run(&fakeTransport{resp: []byte(`{"error":{"code":"not_found","message":"x"}}`)}, func(c *Context) {
			if err := c.KV().Delete("k"); err != nil {
				t.Errorf("Delete err = %v", err)
			}
		})
	})
	t.Run("http request encoding", func(t *testing.T) {
		tr := &fakeTransport{resp: []byte(`{"status":201,"headers":{"X":"y"},"body":"e30="}`)}
		run(tr, func(c *Context) {
			var v map[string]any
			if err := c.PostJSON("https://erp.example/a", map[string]string{"X-Key": "1"}, map[string]int{"n": 1}, &v); err != nil {
				t.Fatal(err)
			}
		})
		var req abi.HostRequest
		if err := json.Unmarshal(tr.got[0], &req); err != nil {
			t.Fatal(err)
		}
		if req.Op != abi.OpHTTP || req.Method != "POST" || string(req.Body) != `{"n":1}` ||
			req.Headers["Content-Type"] != "application/json" || req.Headers["X-Key"] != "1" {
			t.Errorf("request = %+v", req)
		}
	})
	t.Run("log attrs", func(t *testing.T) {
		tr := &fakeTransport{resp: []byte(`{}`)}
		run(tr, func(c *Context) { c.Log().Warn("m", "a", "1", "odd") })
		var req abi.HostRequest
		_ = json.Unmarshal(tr.got[0], &req)
		if req.Level != "warn" || req.Attrs["a"] != "1" || req.Attrs["odd"] != "(missing)" {
			t.Errorf("log request = %+v", req)
		}
	})
	t.Run("no transport", func(t *testing.T) {
		c := newContext(&abi.Input{}, nil)
		if _, _, err := c.KV().Get("k"); err == nil {
			t.Error("no error without a host")
		}
	})
}

func TestConfig(t *testing.T) {
	c := newContext(&abi.Input{Config: map[string]string{"n": " 12 ", "b": "TRUE", "f": "false", "bad": "x"}}, nil)
	for _, tc := range []struct {
		got, want any
	}{
		{c.ConfigInt("n", 1), 12},
		{c.ConfigInt("bad", 1), 1},
		{c.ConfigInt("absent", 3), 3},
		{c.ConfigBool("b", false), true},
		{c.ConfigBool("f", true), false},
		{c.ConfigBool("absent", true), true},
		{c.Config("absent"), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %v, want %v", tc.got, tc.want)
		}
	}
}

func TestHeadingLevelClamped(t *testing.T) {
	v := NewView("").Heading(0, "a").Heading(9, "b").ABI()
	if v.Blocks[0].Level != 1 || v.Blocks[1].Level != 3 {
		t.Errorf("levels = %d, %d", v.Blocks[0].Level, v.Blocks[1].Level)
	}
}

// FuzzDecodeInput feeds arbitrary input to the export's decoding and
// dispatch: it must never panic and always answer valid JSON.
func FuzzDecodeInput(f *testing.F) {
	f.Add([]byte(`{"abi":1,"kind":"render","user":{"id":"u","role":"cliente","locale":"es","tenant":"t"}}`))
	f.Add([]byte(`{"abi":1,"kind":"action","action":"a","form":{"x":["1"],"b":["on"]},"config":{"k":"v"}}`))
	f.Add([]byte(`{"abi":1,"kind":"action","action":"a","form":{"x":null}}`))
	f.Add([]byte(`{"abi":1,"kind":"action","action":"\u0000"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	m := NewMux()
	m.Render(func(c *Context) (*View, error) {
		return NewView(c.Plugin().Title).Text(c.User().ID + c.Locale() + c.Config("k") + c.Tr("a", "b", "c")), nil
	})
	m.Action("a", func(c *Context) (*View, error) {
		n, _ := c.FormInt("x")
		return NewView("").Text(c.FormValue("x") + boolText(c.Checked("b")) + string(rune(n))), nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeInput(data)
		if err == nil && (in.ABI != abi.Version || (in.Kind != abi.KindRender && in.Kind != abi.KindAction)) {
			t.Fatalf("accepted %+v", in)
		}
		var out abi.Output
		if err := json.Unmarshal(m.serve(data, &fakeTransport{}), &out); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if (out.View == nil) == (out.Error == "") {
			t.Fatalf("want exactly one of view and error: %+v", out)
		}
	})
}

// FuzzDecodeHostResponse feeds arbitrary host answers to every host
// function: they must never panic, and an error must carry a code or come
// from decoding.
func FuzzDecodeHostResponse(f *testing.F) {
	f.Add([]byte(`{"found":true,"value":"aGk="}`))
	f.Add([]byte(`{"status":200,"headers":{"A":"b"},"body":"e30="}`))
	f.Add([]byte(`{"error":{"code":"limit","message":"too big"}}`))
	f.Add([]byte(`{"error":null,"found":false}`))
	f.Add([]byte(`{"value":"!!"}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeHostResponse(data)
		if err == nil && r.Error != nil && r.Error.Code == "" {
			t.Fatal("host error without a code")
		}
		c := newContext(&abi.Input{ABI: 1, Kind: abi.KindRender}, &fakeTransport{resp: data})
		_, _, _ = c.KV().Get("k")
		_ = c.KV().Set("k", []byte("v"))
		_ = c.KV().Delete("k")
		_, _ = c.Secret("s")
		if resp, err := c.Do(Request{URL: "https://e.example/"}); err == nil && resp == nil {
			t.Fatal("nil response without error")
		}
		var v any
		_ = c.GetJSON("https://e.example/", nil, &v)
		c.Log().Info("m")
	})
}

// BenchmarkServe measures the guest-side work of one call natively:
// decoding the input, running a handler that builds a small view with a
// form, and encoding the output.
func BenchmarkServe(b *testing.B) {
	m := NewMux()
	m.Render(func(c *Context) (*View, error) {
		return NewView("Olá").Heading(1, "Olá, "+c.User().Name).
			Table([]string{"a", "b"}, []string{"1", "2"}, []string{"3", "4"}).
			Form(NewForm().Text("name", "Nome", c.User().Name).Select("c", "Cor", "a", Option("a", "A")).Button("Enviar", "go")), nil
	})
	in := []byte(`{"abi":1,"kind":"render","user":{"id":"u1","role":"cliente","locale":"pt-BR","tenant":"t","name":"Ana"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if out := m.serve(in, nil); len(out) < 100 {
			b.Fatalf("output %s", out)
		}
	}
}

func TestCard(t *testing.T) {
	m := NewMux()
	tr := &fakeTransport{}
	if out := serveJSON(t, m, `{"abi":1,"kind":"card","user":{"id":"u","role":"cliente","locale":"pt-BR","tenant":"t"}}`, tr); !strings.Contains(out.Error, "no home card") {
		t.Errorf("card without a handler = %+v", out)
	}
	m.Card(func(c *Context) (*View, error) {
		if !c.IsCard() || c.IsAction() {
			t.Error("the context does not say it is a card")
		}
		return NewView("").Text("card"), nil
	})
	out := serveJSON(t, m, `{"abi":1,"kind":"card","user":{"id":"u","role":"cliente","locale":"pt-BR","tenant":"t"}}`, tr)
	if out.View == nil || len(out.View.Blocks) != 1 || out.View.Blocks[0].Text != "card" {
		t.Errorf("card = %+v", out)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second card handler did not panic")
		}
	}()
	m.Card(func(*Context) (*View, error) { return nil, nil })
}
