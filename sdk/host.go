package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// Code returns the abi.Err* code of an error from a host function ("" when
// err carries none), for example abi.ErrGrantMissing or abi.ErrNotAllowed.
func Code(err error) string {
	var he *abi.HostError
	if errors.As(err, &he) {
		return he.Code
	}
	return ""
}

// DecodeHostResponse parses the JSON the host delivered through host_result.
func DecodeHostResponse(data []byte) (*abi.HostResponse, error) {
	var r abi.HostResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode host response: %w", err)
	}
	if r.Error != nil && r.Error.Code == "" {
		r.Error.Code = abi.ErrInvalid
	}
	return &r, nil
}

// call performs one host request. The returned error is a *abi.HostError
// (possibly wrapped) when the host refused or failed the request.
func (c *Context) call(req *abi.HostRequest) (*abi.HostResponse, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode host request: %w", err)
	}
	if c.t == nil {
		return nil, &abi.HostError{Code: abi.ErrInvalid, Message: "no host (call handlers through sdktest in tests)"}
	}
	raw, ok := c.t.HostCall(b)
	if !ok {
		return nil, &abi.HostError{Code: abi.ErrLimit, Message: "host call budget spent"}
	}
	resp, err := DecodeHostResponse(raw)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return resp, resp.Error
	}
	return resp, nil
}

// KV is the plugin's durable key-value store, shared by all its users within
// the tenant (grant "kv"). Any call may read and write any key: for
// per-user data, put c.User().ID in the key and never read a key named by
// another user's ID (c.User().ID is the only identity the host vouches
// for; a contract number or e-mail a form sends is not). The store's
// totals (abi.MaxKVKeys, abi.MaxKVBytes) are the whole company's, so keep
// what each user adds small and bounded.
type KV struct{ c *Context }

// KV returns the plugin's key-value store.
func (c *Context) KV() KV { return KV{c: c} }

// Get returns the value stored under key; found is false when there is none.
func (kv KV) Get(key string) (value []byte, found bool, err error) {
	r, err := kv.c.call(&abi.HostRequest{Op: abi.OpKVGet, Key: key})
	if err != nil {
		if Code(err) == abi.ErrNotFound {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("kv get %q: %w", key, err)
	}
	if !r.Found {
		return nil, false, nil
	}
	if r.Value == nil {
		r.Value = []byte{}
	}
	return r.Value, true, nil
}

// GetString is Get for text values ("" when absent).
func (kv KV) GetString(key string) (string, error) {
	v, _, err := kv.Get(key)
	return string(v), err
}

// Set stores value under key, replacing any earlier value. It fails with
// Code(err) == abi.ErrLimit when the key, the value or the plugin's quota is
// too large.
func (kv KV) Set(key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if _, err := kv.c.call(&abi.HostRequest{Op: abi.OpKVSet, Key: key, Value: value}); err != nil {
		return fmt.Errorf("kv set %q: %w", key, err)
	}
	return nil
}

// SetString is Set for text values.
func (kv KV) SetString(key, value string) error { return kv.Set(key, []byte(value)) }

// Incr adds delta to the integer stored under key (0 when absent) and
// returns the new value, atomically: concurrent calls, from any number of
// users at once, never lose an update, as a Get followed by a Set can. The
// value is kept as decimal text, so Get reads it too. A value that is not a
// decimal integer, or a result outside int64, fails with Code(err) ==
// abi.ErrInvalid.
func (kv KV) Incr(key string, delta int64) (int64, error) {
	r, err := kv.c.call(&abi.HostRequest{Op: abi.OpKVIncr, Key: key, Delta: delta})
	if err != nil {
		return 0, fmt.Errorf("kv incr %q: %w", key, err)
	}
	n, err := strconv.ParseInt(string(r.Value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("kv incr %q: the host answered %q", key, r.Value)
	}
	return n, nil
}

// CompareAndSet stores value under key only if the current value is old
// (old nil: only if key is absent), atomically, and reports whether it
// stored. It is how a plugin claims something once ("this slip is mine")
// or updates a record without losing a concurrent change: read, compute,
// CompareAndSet, and read again when it answers false.
func (kv KV) CompareAndSet(key string, old, value []byte) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	r, err := kv.c.call(&abi.HostRequest{Op: abi.OpKVCAS, Key: key, Expect: old, Absent: old == nil, Value: value})
	if err != nil {
		return false, fmt.Errorf("kv compare-and-set %q: %w", key, err)
	}
	return r.Swapped, nil
}

// Delete removes key; deleting an absent key is not an error.
func (kv KV) Delete(key string) error {
	if _, err := kv.c.call(&abi.HostRequest{Op: abi.OpKVDelete, Key: key}); err != nil && Code(err) != abi.ErrNotFound {
		return fmt.Errorf("kv delete %q: %w", key, err)
	}
	return nil
}

// Secret returns the plugin's secret called name (grant "secrets"), set by
// the tenant's administrator and decrypted for this call only. An absent
// secret is an error with Code(err) == abi.ErrNotFound. Never put a secret
// in a view or a log line.
func (c *Context) Secret(name string) (string, error) {
	r, err := c.call(&abi.HostRequest{Op: abi.OpSecretGet, Name: name})
	if err != nil {
		return "", fmt.Errorf("secret %q: %w", name, err)
	}
	if !r.Found && r.Value == nil {
		return "", fmt.Errorf("secret %q: %w", name, &abi.HostError{Code: abi.ErrNotFound, Message: "secret not set"})
	}
	return string(r.Value), nil
}

// Request is an outbound HTTP request (grant "http"). The URL's origin
// (scheme://host:port) must be one of the plugin's allowed hosts, and the
// host checks the request (abi.CheckHTTPRequest: method, sizes, headers).
// It follows at most abi.MaxHTTPRedirects redirects, each only to one of
// the allowed hosts (abi.CheckRedirect): past them the request fails
// with Code abi.ErrUpstream, to another origin with abi.ErrNotAllowed.
type Request struct {
	Method string // "GET" when empty
	URL    string
	Header map[string]string
	Body   []byte
	// Timeout, when above zero, bounds this request (rounded down to the
	// millisecond, at most abi.MaxTimeoutMS); the call's deadline always
	// applies too. Without one (and so with GetJSON and PostJSON) the
	// request ends a little before the call's deadline (abi.HTTPReserveMS:
	// a tenth of the time left, 50 to 500 ms), so a server that hangs fails
	// it with Code abi.ErrUpstream while there is still time to answer the
	// user in the plugin's own words.
	Timeout time.Duration
}

// Response is the answer to a Request.
type Response struct {
	Status int
	Header map[string]string // canonical header names
	Body   []byte
}

// OK reports whether the status is 2xx.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Do sends req through the host. A non-2xx answer is not an error; a refused
// URL (Code abi.ErrNotAllowed), a missing grant or a remote failure (Code
// abi.ErrUpstream) is.
func (c *Context) Do(req Request) (*Response, error) {
	if req.Method == "" {
		req.Method = "GET"
	}
	r, err := c.call(&abi.HostRequest{Op: abi.OpHTTP, Method: req.Method, URL: req.URL, Headers: req.Header, Body: req.Body,
		TimeoutMS: int(req.Timeout / time.Millisecond)})
	if err != nil {
		return nil, fmt.Errorf("http %s %s: %w", req.Method, redactURL(req.URL), err)
	}
	return &Response{Status: r.Status, Header: r.Headers, Body: r.Body}, nil
}

// GetJSON sends a GET to url with "Accept: application/json" and decodes a 2xx
// answer into v. header adds request headers (may be nil).
func (c *Context) GetJSON(url string, header map[string]string, v any) error {
	h := map[string]string{"Accept": "application/json"}
	for k, val := range header {
		h[k] = val
	}
	return c.doJSON(Request{Method: "GET", URL: url, Header: h}, v)
}

// PostJSON sends body encoded as JSON to url and decodes a 2xx answer into v
// (v may be nil to ignore it). header adds request headers (may be nil).
func (c *Context) PostJSON(url string, header map[string]string, body, v any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("http POST %s: encode body: %w", redactURL(url), err)
	}
	h := map[string]string{"Accept": "application/json", "Content-Type": "application/json"}
	for k, val := range header {
		h[k] = val
	}
	return c.doJSON(Request{Method: "POST", URL: url, Header: h, Body: b}, v)
}

// StatusError is returned by GetJSON and PostJSON for a non-2xx answer.
type StatusError struct {
	Status int
	Body   []byte // at most the first 512 bytes
}

func (e *StatusError) Error() string { return fmt.Sprintf("http status %d", e.Status) }

func (c *Context) doJSON(req Request, v any) error {
	r, err := c.Do(req)
	if err != nil {
		return err
	}
	if !r.OK() {
		b := r.Body
		if len(b) > 512 {
			b = b[:512]
		}
		return fmt.Errorf("http %s %s: %w", req.Method, redactURL(req.URL), &StatusError{Status: r.Status, Body: b})
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("http %s %s: decode answer: %w", req.Method, redactURL(req.URL), err)
	}
	return nil
}

// redactURL drops the query and user info, which may carry tokens, from
// URLs that end up in error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid url)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// Logger writes structured lines to the plugin's log, which the tenant's
// administrator sees on the plugin's health page (grant "log"). Without the
// grant, or past the host's line budget, lines are dropped silently.
type Logger struct{ c *Context }

// Log returns the plugin's logger.
func (c *Context) Log() *Logger { return c.log }

// Debug, Info, Warn and Error write one line at their level. args are
// key/value pairs of text ("order", "123"); a final odd key gets the value
// "(missing)".
func (l *Logger) Debug(msg string, args ...string) { l.write("debug", msg, args) }

// Info writes a line at level info; see Debug.
func (l *Logger) Info(msg string, args ...string) { l.write("info", msg, args) }

// Warn writes a line at level warn; see Debug.
func (l *Logger) Warn(msg string, args ...string) { l.write("warn", msg, args) }

// Error writes a line at level error; see Debug.
func (l *Logger) Error(msg string, args ...string) { l.write("error", msg, args) }

func (l *Logger) write(level, msg string, args []string) {
	var attrs map[string]string
	if len(args) > 0 {
		attrs = make(map[string]string, (len(args)+1)/2)
		for i := 0; i < len(args); i += 2 {
			if i+1 < len(args) {
				attrs[args[i]] = args[i+1]
			} else {
				attrs[args[i]] = "(missing)"
			}
		}
	}
	_, _ = l.c.call(&abi.HostRequest{Op: abi.OpLog, Level: level, Message: msg, Attrs: attrs})
}
