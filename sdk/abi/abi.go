// Package abi defines the wire format between Portico and a wasm plugin:
// version 1 of the plugin ABI. Both sides import it — the SDK inside the
// guest and the host's runtime and view renderer — so the format has one
// definition. It uses the standard library only.
//
// # Exports (guest → host)
//
// A plugin is a WASI preview 1 reactor (GOOS=wasip1 GOARCH=wasm go build
// -buildmode=c-shared) that exports:
//
//	_initialize()                          the reactor's start-up (Go runtime init)
//	portico_abi_version() i32              returns Version
//	portico_alloc(size i32) i32            a guest buffer of size bytes for the host
//	                                       to write the input into
//	portico_handle(ptr i32, len i32) i64   reads Input (JSON) at ptr/len, returns
//	                                       Output (JSON) as ptr<<32 | len
//
// The output buffer stays valid until the next export call. The host treats
// any other result (out-of-range pointer, over-size length, invalid JSON) as
// a malformed response.
//
// # Imports (host → guest), module "portico"
//
//	host_call(ptr i32, len i32) i32   performs the HostRequest (JSON) at ptr/len;
//	                                  returns the length of the HostResponse, or
//	                                  -1 when the call was refused outright (host
//	                                  call budget spent)
//	host_result(ptr i32)              copies the pending HostResponse (of the
//	                                  length host_call returned) to ptr
//
// Two calls instead of one keep the host from calling back into the guest's
// allocator while the guest is inside an import.
package abi

// Version is the ABI version this package describes.
const Version = 1

// Export and import names.
const (
	ExportInitialize = "_initialize"
	ExportVersion    = "portico_abi_version"
	ExportAlloc      = "portico_alloc"
	ExportHandle     = "portico_handle"
	ImportModule     = "portico"
	ImportCall       = "host_call"
	ImportResult     = "host_result"
)

// Kinds of call.
const (
	KindRender = "render" // show the plugin's page
	KindAction = "action" // a button of a form was pressed
	// KindCard asks for the plugin's home card: a few lines the portal
	// shows on the tile of the home page of a user who can open the
	// plugin (when the gestor turned the card on). The card view is
	// checked with Policy.Card: at most MaxCardBlocks blocks of
	// CardBlocks' types. The portal waits for it only briefly
	// (docs/design.md, "Home cards").
	KindCard = "card"
)

// Input is what the host passes to portico_handle.
type Input struct {
	ABI  int    `json:"abi"`
	Kind string `json:"kind"`
	// Action is the action name when Kind is KindAction.
	Action string `json:"action,omitempty"`
	// Form holds the submitted form values when Kind is KindAction.
	Form   map[string][]string `json:"form,omitempty"`
	User   User                `json:"user"`
	Plugin PluginInfo          `json:"plugin"`
	// Config is the plugin's configuration (key → value as text; numbers
	// and booleans in their JSON spelling). Present only with the "config"
	// grant.
	Config map[string]string `json:"config,omitempty"`
	// RequestID correlates the call with the host's logs.
	RequestID string `json:"request_id,omitempty"`
}

// User is the person the call is for. ID, Role, Locale and Tenant are
// always set (but ID in a settings call, which is for no one: see
// KindSettings); the profile fields only when the plugin is granted them.
type User struct {
	ID       string `json:"id"`     // opaque, stable, and different in every plugin (pairwise)
	Role     string `json:"role"`   // cliente, sindico or gestor
	Locale   string `json:"locale"` // pt-BR, es or en
	Tenant   string `json:"tenant"` // the tenant's slug
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Document string `json:"document,omitempty"` // CPF or CNPJ, digits only
	Phone    string `json:"phone,omitempty"`
}

// PluginInfo names the plugin being called.
type PluginInfo struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// Output is what portico_handle returns: a view, or an error for the user.
type Output struct {
	View *View `json:"view,omitempty"`
	// Error, when set, is shown to the user instead of a view, as an alert
	// under the plugin's title (the guest chose to fail politely).
	Error string `json:"error,omitempty"`
	// Settings answers a KindSettings call (and only that kind).
	Settings *Settings `json:"settings,omitempty"`
}

// View is a page of declarative blocks. The host renders it with its own
// templates; no plugin-supplied HTML or script reaches the page.
type View struct {
	Title  string  `json:"title,omitempty"`
	Blocks []Block `json:"blocks"`
}

// Block types.
const (
	BlockHeading  = "heading"  // Text, Level 1–3
	BlockText     = "text"     // Text
	BlockAlert    = "alert"    // Text, Tone
	BlockKV       = "kv"       // Items
	BlockTable    = "table"    // Columns, Rows
	BlockForm     = "form"     // Fields, Buttons
	BlockCopy     = "copy"     // Label, Text: text with a copy button
	BlockBarcode  = "barcode"  // Label, Value: Interleaved 2 of 5, digits, even count
	BlockQR       = "qr"       // Label, Value
	BlockLink     = "link"     // Label, URL: a link out, to an allowed host
	BlockDownload = "download" // Label, Filename, ContentType, Data
)

// Alert tones.
const (
	ToneInfo    = "info"
	ToneSuccess = "success"
	ToneWarning = "warning"
	ToneError   = "error"
)

// Block is one element of a view; which fields apply depends on Type.
type Block struct {
	Type        string     `json:"type"`
	Text        string     `json:"text,omitempty"`
	Level       int        `json:"level,omitempty"`
	Tone        string     `json:"tone,omitempty"`
	Label       string     `json:"label,omitempty"`
	Value       string     `json:"value,omitempty"`
	URL         string     `json:"url,omitempty"`
	Items       []KV       `json:"items,omitempty"`
	Columns     []string   `json:"columns,omitempty"`
	Rows        [][]string `json:"rows,omitempty"`
	Fields      []Field    `json:"fields,omitempty"`
	Buttons     []Button   `json:"buttons,omitempty"`
	Filename    string     `json:"filename,omitempty"`
	ContentType string     `json:"content_type,omitempty"`
	Data        []byte     `json:"data,omitempty"` // base64 in JSON
}

// KV is one row of a key-value list.
type KV struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Field types of a form.
const (
	FieldText     = "text"
	FieldNumber   = "number"
	FieldDate     = "date" // value YYYY-MM-DD
	FieldSelect   = "select"
	FieldCheckbox = "checkbox" // submitted as "on" when checked
	FieldHidden   = "hidden"
)

// Field is one input of a form.
type Field struct {
	Type        string   `json:"type"`
	Name        string   `json:"name"`
	Label       string   `json:"label,omitempty"`
	Value       string   `json:"value,omitempty"`
	Placeholder string   `json:"placeholder,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Options     []Option `json:"options,omitempty"` // select only
}

// Option is one choice of a select field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Button submits its form to the named action.
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
}

// Host request operations and the grant each needs.
const (
	OpHTTP     = "http"      // grant "http"
	OpKVGet    = "kv.get"    // grant "kv"
	OpKVSet    = "kv.set"    // grant "kv"
	OpKVDelete = "kv.delete" // grant "kv"
	// OpKVIncr adds Delta to the decimal integer stored under Key (0 when
	// absent) and answers the new value, as decimal text, in Value; all
	// in one step no other write to the store interleaves with. A value
	// that is not a decimal integer, or a sum out of int64's range, is
	// ErrInvalid. Grant "kv".
	OpKVIncr = "kv.incr"
	// OpKVCAS stores Value under Key only when the current value equals
	// Expect (with Absent: only when Key is absent), in one step.
	// Swapped says whether it stored; Found and Value are the key's
	// value after the call. Grant "kv".
	OpKVCAS     = "kv.cas"
	OpSecretGet = "secret.get" // grant "secrets"
	OpLog       = "log"        // grant "log"
)

// HostRequest is what the guest passes to host_call.
type HostRequest struct {
	Op string `json:"op"`
	// HTTP
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"body,omitempty"`
	// TimeoutMS, when above zero, bounds this request to that many
	// milliseconds (at most MaxTimeoutMS); the call's own deadline always
	// applies too. A plugin sets it below its call timeout so that a hung
	// server leaves it time to answer the user politely.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// KV and secrets
	Key   string `json:"key,omitempty"`
	Value []byte `json:"value,omitempty"`
	Name  string `json:"name,omitempty"`
	// kv.incr and kv.cas
	Delta  int64  `json:"delta,omitempty"`
	Expect []byte `json:"expect,omitempty"`
	Absent bool   `json:"absent,omitempty"`
	// Log
	Level   string            `json:"level,omitempty"` // debug, info, warn, error
	Message string            `json:"message,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// Host error codes.
const (
	ErrGrantMissing = "grant_missing" // the plugin lacks the grant; Message names it
	ErrNotAllowed   = "not_allowed"   // URL not in the allow-list, or a private address
	ErrLimit        = "limit"         // a size, count or quota limit was hit
	ErrNotFound     = "not_found"     // KV key or secret absent
	ErrInvalid      = "invalid"       // malformed request
	ErrUpstream     = "upstream"      // the remote server failed or timed out
)

// HostResponse is what host_result delivers.
type HostResponse struct {
	Error *HostError `json:"error,omitempty"`
	// HTTP
	Status  int               `json:"status,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    []byte            `json:"body,omitempty"`
	// KV and secrets
	Value []byte `json:"value,omitempty"`
	Found bool   `json:"found,omitempty"`
	// Swapped answers kv.cas: whether the value was stored.
	Swapped bool `json:"swapped,omitempty"`
}

// HostError explains a refused or failed host request.
type HostError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *HostError) Error() string { return e.Code + ": " + e.Message }
