// Package sdktest runs a plugin's handlers natively, in `go test`, against a
// fake Portico host: an in-memory KV store, configuration, secrets, an
// http.Handler standing in for the ERP, a log, grants, and assertions on the
// returned view. Calls go through the same JSON encoding as inside wasm.
//
// Where the portal refuses something, the harness calls the portal's own
// rule from sdk/abi, so a test fails where the deployed plugin would: the
// action's name and form (abi.CheckAction, before the plugin runs), the
// view (abi.CheckOutput), each HTTP request (abi.CheckHTTPRequest), each
// redirect (abi.CheckRedirect), the allowed hosts (abi.CheckAllowedHosts)
// and the contract's limits (abi's constants).
//
// What depends on the portal's operator it cannot know: whether the
// operator lists private networks (PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS) and
// a gestor lets the plugin reach them. An allowed host at a private,
// loopback or link-local address is served here like any other, and
// refused by the portal unless both allow it (see Host.AllowedHosts). Nor
// does it measure memory or wasm speed: run the module with `portico
// plugin run` for those.
//
//	func TestGreets(t *testing.T) {
//		h := sdktest.New(t)
//		h.User.Name = "Ana"
//		h.Render().NoError().Contains("Olá, Ana!")
//	}
package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/internal/bridge"
	"github.com/portico-dev/portico/sdk/viewtext"
)

// Limits the fake host enforces: the plugin contract's defaults (sdk/abi;
// docs/design-runtime.md), which the real host applies too. The real host
// may be configured with other per-plugin limits.
const (
	MaxKVKey     = abi.MaxKVKey              // bytes per key
	MaxKVValue   = abi.MaxKVValue            // bytes per value
	MaxKVKeys    = abi.MaxKVKeys             // keys per plugin and tenant
	MaxKVBytes   = abi.MaxKVBytes            // keys + values per plugin and tenant
	MaxHostCalls = abi.DefaultMaxHostCalls   // host calls per plugin call
	MaxHTTPBody  = abi.MaxHTTPResponseBody   // bytes of an HTTP response body passed back
	MaxLogLines  = abi.DefaultMaxLogLines    // log lines per plugin call
	MaxLogBytes  = abi.DefaultMaxLogBytes    // log bytes (messages and attributes) per plugin call
	MaxLogAttrs  = abi.MaxLogAttrs           // attributes per log line
	MaxSecret    = abi.MaxSecretName         // bytes of a secret's name
	MaxInput     = abi.DefaultMaxInputBytes  // bytes of a call's JSON input
	MaxOutput    = abi.DefaultMaxOutputBytes // bytes of a call's JSON output
)

// AllGrants lists every grant (abi.Grants); New gives them all.
var AllGrants = abi.Grants

// LogLine is one line the plugin logged.
type LogLine struct {
	Level, Message string
	Attrs          map[string]string
}

// Host is a fake Portico host. Set its fields before calling Render or
// Action; the KV map keeps its contents across calls, like the real store.
// A Host is not safe for concurrent use.
type Host struct {
	t tb

	// Mux holds the handlers to run; New sets sdk.DefaultMux, where a
	// plugin's init registers them.
	Mux *sdk.Mux
	// User is the person calls are for. New sets a cliente speaking pt-BR
	// with every profile field filled in; clear a field to test a plugin
	// that is not granted it.
	User   abi.User
	Plugin abi.PluginInfo
	// Config reaches the plugin only with the "config" grant.
	Config  map[string]string
	Secrets map[string]string
	KV      map[string][]byte
	// Grants are the host functions the plugin may use (AllGrants by
	// default).
	Grants []string
	// AllowedHosts are the origins ("https://erp.example.com:443" or
	// without the default port) that HTTP requests may go to; ERP serves
	// them. Set both with ServeERP. They are checked as the portal checks
	// a plugin's allowed hosts when a gestor saves them
	// (abi.CheckAllowedHosts, as a production portal applies it: https
	// only, at most abi.MaxAllowedHosts): ServeERP and every call fail
	// the test with the portal's reason when it would refuse one.
	//
	// Private addresses depend on the portal's operator, which the
	// harness cannot know: an origin at a private, loopback or link-local
	// address (https://10.1.2.3:8443, or a name that resolves to one) is
	// served here like any other, while the portal refuses to connect to
	// it unless its operator lists the address
	// (PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS) and a gestor lets the plugin
	// reach the private network. The harness resolves no names. Try those
	// with `portico plugin run --allow-host … --allow-private …`.
	AllowedHosts []string
	ERP          http.Handler
	// Timeout is a call's deadline; zero means abi.MaxTimeoutMS, the
	// longest the portal ever waits for a plugin. Native code (and more
	// so under -race) runs at another speed than the module in wasm, so
	// the deadline catches a call that never ends, not one that is
	// merely slow: time the module with `portico plugin run`, whose
	// deadline is the plugin's own (2 s by default, 1 s for settings). A
	// call still running at the deadline fails as "timeout", and the
	// Host takes no further call: its handler is left running.
	Timeout time.Duration

	calls int
	// stuck is set when a call's handler was left running at its
	// deadline: it may still change the KV map.
	stuck bool
}

// New returns a fake host for t with every grant, an empty configuration,
// secrets and KV, and a default user. t may be nil (in an Example): a
// failed assertion then panics.
func New(t testing.TB) *Host {
	var x tb = panicTB{}
	if t != nil {
		t.Helper()
		x = t
	}
	return &Host{
		t:   x,
		Mux: sdk.DefaultMux,
		User: abi.User{
			ID: "user-1", Role: "cliente", Locale: "pt-BR", Tenant: "construtora-exemplo",
			Name: "Maria Souza", Email: "maria@example.com", Document: "12345678909", Phone: "+5511999990000",
		},
		Plugin:  abi.PluginInfo{Slug: "plugin", Title: "Plugin"},
		Config:  map[string]string{},
		Secrets: map[string]string{},
		KV:      map[string][]byte{},
		Grants:  slices.Clone(AllGrants),
	}
}

// As sets the user's role ("cliente", "sindico" or "gestor") and returns h.
func (h *Host) As(role string) *Host {
	h.User.Role = role
	return h
}

// ServeERP allows HTTP requests to origin (such as
// "https://erp.example.com") and serves them with handler, in process: no
// network is used. It fails the test now when the portal would refuse
// origin as an allowed host (see AllowedHosts): an http origin, a path,
// credentials.
func (h *Host) ServeERP(origin string, handler http.Handler) *Host {
	h.t.Helper()
	h.AllowedHosts = append(h.AllowedHosts, origin)
	h.ERP = handler
	h.checkAllowedHosts()
	return h
}

// checkAllowedHosts fails the test now when the portal would refuse the
// plugin's allowed hosts (abi.CheckAllowedHosts, without the demo's
// http://localhost).
func (h *Host) checkAllowedHosts() {
	h.t.Helper()
	_, problems := abi.CheckAllowedHosts(h.AllowedHosts, false)
	if len(problems) == 0 {
		return
	}
	var lines []string
	for _, err := range problems {
		if errors.Is(err, abi.ErrTooManyAllowedHosts) {
			lines = append(lines, fmt.Sprintf("sdktest: the portal would refuse %d allowed hosts: a plugin has at most %d", len(h.AllowedHosts), abi.MaxAllowedHosts))
		} else {
			lines = append(lines, "sdktest: the portal would refuse this "+err.Error())
		}
	}
	h.t.Fatalf("%s", strings.Join(lines, "\n"))
}

// Grant sets the plugin's grants to exactly grants and returns h.
func (h *Host) Grant(grants ...string) *Host {
	h.Grants = grants
	return h
}

// Render runs the plugin's render handler.
func (h *Host) Render() *Result {
	h.t.Helper()
	return h.call(&abi.Input{Kind: abi.KindRender})
}

// Card runs the plugin's home card handler; the view is checked as a card
// (abi.Policy.Card).
func (h *Host) Card() *Result {
	h.t.Helper()
	return h.call(&abi.Input{Kind: abi.KindCard})
}

// Settings runs the plugin's settings handler (abi.KindSettings) with the
// host's Config, as the admin's plugin page does: for a gestor in
// User.Locale, without a user ID or profile fields, and without host
// functions, so a host call fails as it would there. The answer is in Result.Settings,
// checked with abi.CheckSettings, the host's check.
func (h *Host) Settings() *Result {
	h.t.Helper()
	return h.call(&abi.Input{Kind: abi.KindSettings})
}

// Action runs the action called name with the given form values as the
// portal's page posts them (use Submit to send a form of a view as a
// browser would). As in the portal, the page's own field (abi.CSRFField)
// is removed and the rest is checked with the portal's own rule
// (abi.CheckAction: a safe action name, safe field names, at most
// abi.MaxFormKeys names and abi.MaxFormValues values of at most
// abi.MaxFormValue bytes, abi.MaxFormBytes in all, UTF-8 without NUL).
// When the portal would refuse the call, the plugin does not run: the
// Result fails as "invalid_input" (Fails("invalid_input")), the portal's
// 400 plugin_invalid_input, and FailDetail says why.
func (h *Host) Action(name string, form url.Values) *Result {
	h.t.Helper()
	h.checkAllowedHosts()
	sent := maps.Clone(map[string][]string(form))
	abi.RemovePageFields(sent)
	checked, err := abi.CheckAction(name, sent)
	if err != nil {
		what := "form"
		var ie *abi.InputError
		if errors.As(err, &ie) && ie.Path == "action" {
			what = "action name"
		}
		return &Result{t: h.t, Failed: "invalid_input",
			FailDetail: "the portal would refuse this " + what + " with 400 (plugin_invalid_input) and not run the plugin: " + err.Error()}
	}
	return h.call(&abi.Input{Kind: abi.KindAction, Action: name, Form: checked})
}

// Submit presses the button for action in r's view: it collects the values
// of the form holding that button as a browser would (a checkbox only when
// checked), replaces those named in changes, and runs the action. A change
// to a field the form does not have, or a select value that is not one of
// its options, fails the test (use Action to send arbitrary values).
// To uncheck a checkbox, set it to "". The form is then checked as Action
// checks it, so a form the portal would refuse (a value of more than
// abi.MaxFormValue bytes, say) fails the call as "invalid_input".
func (h *Host) Submit(r *Result, action string, changes url.Values) *Result {
	h.t.Helper()
	form, ok := r.formFor(action)
	if !ok {
		h.t.Fatalf("sdktest: the view has no form with a button for action %q\n%s", action, r.Text())
	}
	values := url.Values{}
	fields := map[string]abi.Field{}
	for _, f := range form.Fields {
		fields[f.Name] = f
		if f.Type == abi.FieldCheckbox {
			if f.Value == "on" {
				values.Set(f.Name, "on")
			}
			continue
		}
		values.Add(f.Name, f.Value)
	}
	for name, vals := range changes {
		f, ok := fields[name]
		if !ok {
			h.t.Fatalf("sdktest: the form for %q has no field %q", action, name)
		}
		if f.Type == abi.FieldCheckbox && (len(vals) == 0 || vals[0] == "") {
			values.Del(name)
			continue
		}
		if f.Type == abi.FieldSelect {
			for _, v := range vals {
				if !slices.ContainsFunc(f.Options, func(o abi.Option) bool { return o.Value == v }) {
					h.t.Fatalf("sdktest: %q is not an option of select %q", v, name)
				}
			}
		}
		values[name] = vals
	}
	return h.Action(action, values)
}

func (h *Host) has(grant string) bool { return slices.Contains(h.Grants, grant) }

func (h *Host) call(in *abi.Input) *Result {
	h.t.Helper()
	h.checkAllowedHosts()
	h.calls++
	in.ABI = abi.Version
	in.User = h.User
	if in.Kind == abi.KindSettings {
		// As the host sends it: for a gestor, about no one's data.
		in.User = abi.User{Role: "gestor", Locale: h.User.Locale, Tenant: h.User.Tenant}
	}
	in.Plugin = h.Plugin
	in.RequestID = "test-" + strconv.Itoa(h.calls)
	if h.has("config") && len(h.Config) > 0 {
		in.Config = h.Config
	}
	data, err := json.Marshal(in)
	if err != nil {
		h.t.Fatalf("sdktest: encode input: %v", err)
	}
	if len(data) > MaxInput {
		h.t.Fatalf("sdktest: input of %d bytes is over the host's limit of %d", len(data), MaxInput)
	}
	if h.stuck {
		h.t.Fatalf("sdktest: an earlier call of this Host did not end by its deadline; use a new Host")
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = abi.MaxTimeoutMS * time.Millisecond
	}
	tr := &transport{h: h, noGrants: in.Kind == abi.KindSettings, deadline: time.Now().Add(timeout)}
	// The handler runs aside, as the guest runs in its sandbox: a panic
	// or a call past its deadline fails that call, as the portal fails it
	// (trap, timeout), and the test goes on.
	type served struct {
		raw    []byte
		panic  any
		exited bool // the handler's goroutine exited (runtime.Goexit: a t.FailNow in it)
	}
	done := make(chan served, 1)
	go func() {
		finished := false
		defer func() {
			if p := recover(); p != nil {
				done <- served{panic: p}
			} else if !finished {
				done <- served{exited: true}
			}
		}()
		raw := bridge.Serve(h.Mux, data, tr)
		finished = true
		done <- served{raw: raw}
	}()
	var sv served
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case sv = <-done:
	case <-t.C:
		// The handler keeps running, but it reaches this Host no more:
		// once abandon returns, no host call of it is under way and every
		// later one is refused, so the test may read the KV map.
		tr.abandon()
		h.stuck = true
		return &Result{t: h.t, Failed: "timeout", FailDetail: fmt.Sprintf("the call ran for more than %v", timeout)}
	}
	if sv.exited {
		h.t.Fatalf("sdktest: the handler's goroutine exited (a t.FailNow or runtime.Goexit during the call)")
	}
	if sv.panic != nil {
		return &Result{t: h.t, Failed: "trap", FailDetail: fmt.Sprintf("the plugin panicked: %v", sv.panic), Logs: tr.logs, HostCalls: tr.reqs}
	}
	raw := sv.raw
	if tr.n > MaxHostCalls {
		// The portal stops the call at the host call past the limit,
		// whatever the plugin made of the refusal.
		return &Result{t: h.t, Failed: "host_calls", FailDetail: fmt.Sprintf("more than %d host calls in one call", MaxHostCalls),
			Logs: tr.logs, HostCalls: tr.reqs}
	}
	r := &Result{t: h.t, Raw: raw, Logs: tr.logs, HostCalls: tr.reqs}
	if len(raw) > MaxOutput {
		h.t.Errorf("sdktest: output of %d bytes is over the host's limit of %d", len(raw), MaxOutput)
	}
	var out abi.Output
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		h.t.Fatalf("sdktest: decode output: %v\n%s", err, raw)
	}
	r.Output = &out
	r.View = out.View
	r.Err = out.Error
	r.Settings = out.Settings
	if in.Kind == abi.KindSettings {
		switch {
		case out.View != nil:
			h.t.Errorf("sdktest: a settings call answered a view")
		case out.Settings != nil:
			if err := abi.CheckSettings(out.Settings); err != nil {
				h.t.Errorf("sdktest: the host would refuse these settings: %v", err)
			}
		}
		return r
	}
	if out.Settings != nil {
		h.t.Errorf("sdktest: a %s call answered settings", in.Kind)
	}
	if out.Error != "" || out.View != nil {
		actions, _ := bridge.Actions(h.Mux)
		what := "view"
		if out.View == nil {
			what = "error message"
		}
		for _, p := range problems(abi.CheckOutput(&out, abi.Policy{AllowedHosts: h.AllowedHosts, Actions: actions, Card: in.Kind == abi.KindCard})) {
			h.t.Errorf("sdktest: the host would refuse this %s: %s", what, p)
		}
	}
	return r
}

// transport is the fake host's side of the host calls of one plugin call.
type transport struct {
	h *Host
	// noGrants refuses every host call (a settings call).
	noGrants bool
	// deadline is the call's: an HTTP request ends by it, and one that
	// sets no timeout ends abi.HTTPReserveMS before it, as in the portal.
	deadline time.Time
	// mu is held by each host call; abandoned refuses every later one
	// (the call passed its deadline and the test goes on with the Host).
	mu        sync.Mutex
	abandoned bool
	n         int
	reqs      []abi.HostRequest
	logs      []LogLine

	logBytes int
}

// abandon waits for the host call under way, if any, and refuses every
// later one.
func (tr *transport) abandon() {
	tr.mu.Lock()
	tr.abandoned = true
	tr.mu.Unlock()
}

func (tr *transport) HostCall(b []byte) ([]byte, bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.abandoned {
		return nil, false
	}
	tr.n++
	if tr.n > MaxHostCalls {
		return nil, false
	}
	var req abi.HostRequest
	var resp abi.HostResponse
	if err := json.Unmarshal(b, &req); err != nil {
		resp.Error = &abi.HostError{Code: abi.ErrInvalid, Message: "malformed request: " + err.Error()}
	} else {
		tr.reqs = append(tr.reqs, req)
		resp = tr.serve(&req)
	}
	out, err := json.Marshal(&resp)
	if err != nil {
		tr.h.t.Errorf("sdktest: encode host response: %v", err) // not Fatalf: this runs on the handler's goroutine
		return nil, false
	}
	return out, true
}

func fail(code, format string, args ...any) abi.HostResponse {
	return abi.HostResponse{Error: &abi.HostError{Code: code, Message: fmt.Sprintf(format, args...)}}
}

var opGrant = map[string]string{
	abi.OpHTTP: "http", abi.OpKVGet: "kv", abi.OpKVSet: "kv", abi.OpKVDelete: "kv", abi.OpKVIncr: "kv", abi.OpKVCAS: "kv",
	abi.OpSecretGet: "secrets", abi.OpLog: "log",
}

func (tr *transport) serve(req *abi.HostRequest) abi.HostResponse {
	h := tr.h
	grant, ok := opGrant[req.Op]
	if !ok {
		return fail(abi.ErrInvalid, "unknown operation %q", req.Op)
	}
	if tr.noGrants || !h.has(grant) {
		return fail(abi.ErrGrantMissing, "the plugin lacks the %q grant", grant)
	}
	switch req.Op {
	case abi.OpKVGet, abi.OpKVSet, abi.OpKVDelete, abi.OpKVIncr, abi.OpKVCAS:
		if len(req.Key) > MaxKVKey {
			return fail(abi.ErrLimit, "key of %d bytes exceeds the limit of %d", len(req.Key), MaxKVKey)
		}
		if req.Key == "" || !utf8.ValidString(req.Key) || strings.ContainsRune(req.Key, 0) {
			return fail(abi.ErrInvalid, "a key is 1 to %d bytes of UTF-8 text", MaxKVKey)
		}
	}
	switch req.Op {
	case abi.OpKVGet:
		v, ok := h.KV[req.Key]
		return abi.HostResponse{Value: v, Found: ok}
	case abi.OpKVSet:
		return tr.set(req.Key, req.Value, abi.HostResponse{})
	case abi.OpKVIncr, abi.OpKVCAS:
		old, found := h.KV[req.Key]
		v, write, resp, err := abi.KVChange(req, old, found)
		if err != nil {
			return fail(abi.ErrInvalid, "the value of %q is not a decimal integer, or the sum leaves int64", req.Key)
		}
		if !write {
			return resp
		}
		return tr.set(req.Key, v, resp)
	case abi.OpKVDelete:
		delete(h.KV, req.Key)
		return abi.HostResponse{}
	case abi.OpSecretGet:
		if req.Name == "" || len(req.Name) > MaxSecret {
			return fail(abi.ErrInvalid, "a secret name has 1 to %d bytes", MaxSecret)
		}
		v, ok := h.Secrets[req.Name]
		if !ok {
			return fail(abi.ErrNotFound, "secret %q is not set", req.Name)
		}
		return abi.HostResponse{Value: []byte(v), Found: true}
	case abi.OpLog:
		switch req.Level {
		case "debug", "info", "warn", "error":
		default:
			return fail(abi.ErrInvalid, "unknown log level %q", req.Level)
		}
		if len(req.Attrs) > MaxLogAttrs {
			return fail(abi.ErrLimit, "%d attributes exceed the limit of %d", len(req.Attrs), MaxLogAttrs)
		}
		size := len(req.Message)
		for k, v := range req.Attrs {
			size += len(k) + len(v)
		}
		if len(tr.logs) >= MaxLogLines {
			return fail(abi.ErrLimit, "more than %d log lines", MaxLogLines)
		}
		if tr.logBytes+size > MaxLogBytes {
			return fail(abi.ErrLimit, "more than %d log bytes", MaxLogBytes)
		}
		tr.logBytes += size
		tr.logs = append(tr.logs, LogLine{Level: req.Level, Message: req.Message, Attrs: req.Attrs})
		return abi.HostResponse{}
	case abi.OpHTTP:
		return tr.http(req)
	}
	return fail(abi.ErrInvalid, "unknown operation %q", req.Op)
}

// http serves an http host request with the ERP handler. What the request
// may be (method, URL at an allowed host, sizes, timeout, headers) is the
// portal's own rule, abi.CheckHTTPRequest, and so is what of the answer
// is passed back (abi.ResponseHeaders).
func (tr *transport) http(req *abi.HostRequest) abi.HostResponse {
	r, herr := abi.CheckHTTPRequest(req, tr.h.AllowedHosts)
	if herr != nil {
		return abi.HostResponse{Error: herr}
	}
	if tr.h.ERP == nil {
		return fail(abi.ErrUpstream, "no ERP handler (sdktest.Host.ServeERP)")
	}
	end := tr.deadline
	if req.TimeoutMS > 0 {
		end = minTime(end, time.Now().Add(time.Duration(req.TimeoutMS)*time.Millisecond))
	} else {
		left := time.Until(end).Milliseconds()
		end = end.Add(-time.Duration(abi.HTTPReserveMS(left)) * time.Millisecond)
	}
	timeout := time.Until(end)
	ctx, cancel := context.WithDeadline(context.Background(), end)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), bytes.NewReader(req.Body))
	if err != nil {
		return fail(abi.ErrInvalid, "bad request: %v", err)
	}
	for k, v := range r.Header {
		hr.Header[k] = []string{v}
	}
	// Redirects are followed as the portal's client follows them: by
	// net/http's client (which method and body go on, which headers are
	// dropped), at most abi.MaxHTTPRedirects, each target re-checked with
	// abi.CheckRedirect, so a redirect the portal refuses is refused here.
	client := &http.Client{
		Transport: erpTransport{tr.h.ERP},
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if herr := abi.CheckRedirect(next.URL, len(via), tr.h.AllowedHosts); herr != nil {
				return herr
			}
			return nil
		},
	}
	res, err := client.Do(hr)
	if err != nil {
		var he *abi.HostError
		switch {
		case errors.As(err, &he):
			return abi.HostResponse{Error: he}
		case ctx.Err() != nil && req.TimeoutMS == 0:
			return fail(abi.ErrUpstream, "request to %s did not answer before the call's deadline", r.Origin)
		case ctx.Err() != nil:
			return fail(abi.ErrUpstream, "request to %s timed out after %d ms", r.Origin, timeout.Milliseconds())
		}
		return fail(abi.ErrUpstream, "request to %s failed: %v", r.Origin, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxHTTPBody+1))
	if err != nil {
		return fail(abi.ErrUpstream, "read body: %v", err)
	}
	if len(body) > MaxHTTPBody {
		return fail(abi.ErrLimit, "response body over %d bytes", MaxHTTPBody)
	}
	return abi.HostResponse{Status: res.StatusCode, Headers: abi.ResponseHeaders(res.Header), Body: body}
}

// erpTransport serves each request with the ERP handler, in process. The
// handler runs aside so that one that hangs fails the request at its
// deadline, as a real server would; it is told through the request's
// context and is waited for before the request ends.
type erpTransport struct{ erp http.Handler }

func (t erpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	// The handler gets its own copy, with a body and a Host as a server
	// gives them (a redirect's request leaves Host to the URL).
	sr := req.Clone(req.Context())
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.erp.ServeHTTP(rec, sr)
	}()
	select {
	case <-done:
	case <-req.Context().Done():
		<-done
		return nil, req.Context().Err()
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}

// set stores value under key within the host's limits and answers resp.
func (tr *transport) set(key string, value []byte, resp abi.HostResponse) abi.HostResponse {
	h := tr.h
	if len(value) > MaxKVValue {
		return fail(abi.ErrLimit, "value of %d bytes is over %d", len(value), MaxKVValue)
	}
	total := 0
	for k, v := range h.KV {
		if k != key {
			total += len(k) + len(v)
		}
	}
	if _, exists := h.KV[key]; !exists && len(h.KV) >= MaxKVKeys {
		return fail(abi.ErrLimit, "the store already has %d keys", MaxKVKeys)
	}
	if total+len(key)+len(value) > MaxKVBytes {
		return fail(abi.ErrLimit, "the store would exceed %d bytes", MaxKVBytes)
	}
	h.KV[key] = bytes.Clone(value)
	return resp
}

// Result is the outcome of one call, with assertions that fail the test.
type Result struct {
	t tb
	// Raw is the JSON output exactly as the plugin produced it.
	Raw    []byte
	Output *abi.Output
	// View is nil when the call returned an error.
	View *abi.View
	// Err is the error text shown to the user, "" on success.
	Err string
	// Failed is why the portal would fail the call instead of showing
	// its answer ("" when it would not): "trap" (the handler panicked),
	// "host_calls" (more than MaxHostCalls), "timeout" (still running
	// at Host.Timeout) or "invalid_input" (the portal refuses the action's
	// name or form with 400 before the plugin runs; Action and Submit).
	// FailDetail says more. The portal then shows its own localized error
	// and, but for invalid_input, counts the failure in the plugin's
	// health.
	// (The memory limit is not checked natively: run the module with
	// `portico plugin run`.)
	Failed, FailDetail string
	// Settings is a settings call's answer (Host.Settings).
	Settings *abi.Settings
	// Logs are the lines logged during the call; HostCalls every host
	// request made, in order.
	Logs      []LogLine
	HostCalls []abi.HostRequest
}

// Text returns the view as readable text (see package viewtext), or the
// error when the call failed.
func (r *Result) Text() string {
	if r.Failed != "" {
		return "failed (" + r.Failed + "): " + r.FailDetail + "\n"
	}
	if r.View == nil {
		return "error: " + r.Err + "\n"
	}
	return viewtext.Format(r.View)
}

// NoError fails the test now if the call returned an error instead of a
// view.
func (r *Result) NoError() *Result {
	r.t.Helper()
	if r.Failed != "" {
		r.t.Fatalf("sdktest: the call failed (%s): %s", r.Failed, r.FailDetail)
	}
	if r.View == nil && r.Settings == nil {
		r.t.Fatalf("sdktest: the call answered an error: %s", r.Err)
	}
	return r
}

// Fails fails the test unless the portal would fail the call for reason
// ("trap", "host_calls", "timeout" or "invalid_input"; see
// Result.Failed).
func (r *Result) Fails(reason string) *Result {
	r.t.Helper()
	if r.Failed != reason {
		r.t.Errorf("sdktest: want the call to fail (%s), got:\n%s", reason, r.Text())
	}
	return r
}

// ErrorContains fails the test if the call did not fail with an error
// containing substr.
func (r *Result) ErrorContains(substr string) *Result {
	r.t.Helper()
	if r.Failed != "" || r.View != nil || !strings.Contains(r.Err, substr) {
		r.t.Errorf("sdktest: want an error containing %q, got %q\n%s", substr, r.Err, r.Text())
	}
	return r
}

// Contains fails the test if no visible text of the view (titles, texts,
// labels, values, cells) contains each of texts.
func (r *Result) Contains(texts ...string) *Result {
	r.t.Helper()
	s := r.Text()
	for _, want := range texts {
		if !strings.Contains(s, want) {
			r.t.Errorf("sdktest: the view does not contain %q:\n%s", want, s)
		}
	}
	return r
}

// NotContains fails the test if the view contains any of texts.
func (r *Result) NotContains(texts ...string) *Result {
	r.t.Helper()
	s := r.Text()
	for _, bad := range texts {
		if strings.Contains(s, bad) {
			r.t.Errorf("sdktest: the view contains %q:\n%s", bad, s)
		}
	}
	return r
}

// Blocks returns the view's blocks of type typ (an abi.Block* constant).
func (r *Result) Blocks(typ string) []abi.Block {
	if r.View == nil {
		return nil
	}
	var out []abi.Block
	for _, b := range r.View.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// Block returns the first block of type typ and fails the test now if there
// is none.
func (r *Result) Block(typ string) abi.Block {
	r.t.Helper()
	bs := r.Blocks(typ)
	if len(bs) == 0 {
		r.t.Fatalf("sdktest: the view has no %q block:\n%s", typ, r.Text())
	}
	return bs[0]
}

// Logged fails the test if no log line of the call has message msg.
func (r *Result) Logged(msg string) *Result {
	r.t.Helper()
	for _, l := range r.Logs {
		if l.Message == msg {
			return r
		}
	}
	r.t.Errorf("sdktest: no log line %q among %d", msg, len(r.Logs))
	return r
}

func (r *Result) formFor(action string) (abi.Block, bool) {
	for _, b := range r.Blocks(abi.BlockForm) {
		for _, btn := range b.Buttons {
			if btn.Action == action {
				return b, true
			}
		}
	}
	return abi.Block{}, false
}

// tb is the part of testing.TB the harness uses.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// panicTB stands in for a nil testing.TB.
type panicTB struct{}

func (panicTB) Helper()                           {}
func (panicTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
