package abi

import (
	"maps"
	"slices"
)

// Limits of a view: the host refuses a view that passes any of them
// (CheckView). Lengths of text are counted in characters (runes), except
// where a byte size is named.
const (
	MaxBlocks        = 100       // blocks per view
	MaxTitle         = 120       // view title, heading text, labels of buttons
	MaxText          = 4000      // text, alert and copy blocks, the polite error
	MaxLabel         = 200       // labels of blocks, fields, items, options, columns
	MaxValue         = 2000      // key-value values, field values, placeholders
	MaxItems         = 100       // key-value items per block
	MaxColumns       = 12        // table columns
	MaxRows          = 500       // table rows
	MaxCell          = 500       // one table cell
	MaxTableCells    = 5000      // rows × columns per table
	MaxFields        = 40        // fields per form
	MaxOptions       = 200       // options per select field
	MaxButtons       = 6         // buttons per form
	MaxBarcodeDigits = 64        // Interleaved 2 of 5 digits (a boleto has 44)
	MaxQRBytes       = 512       // bytes encoded in a QR code (a Pix payload is < 300)
	MaxURL           = 2048      // bytes of a link-out URL
	MaxDownloadBytes = 256 << 10 // bytes of a download's data
	MaxFilename      = 100       // characters of a download's file name as the host serves it
	MaxName          = 64        // bytes of a field or action name
)

// Limits of a home card (KindCard): a few lines of text, alerts and
// key-value items, nothing to press or download.
const (
	MaxCardBlocks = 3   // blocks per card
	MaxCardItems  = 4   // key-value items per card block
	MaxCardText   = 200 // characters of a card's text or alert
)

// CardBlocks are the block types a card may hold.
var CardBlocks = []string{BlockText, BlockAlert, BlockKV}

// MaxDepth bounds the nesting of objects and arrays in a plugin's output
// (DecodeOutput). The deepest part of a view is a select option (output,
// view, blocks, block, fields, field, options, option: 8 levels).
const MaxDepth = 10

// Limits of what a form submits to an action.
const (
	MaxFormKeys   = 50   // distinct field names
	MaxFormValues = 100  // values over all names
	MaxFormValue  = 4000 // bytes of one value
	MaxFormBytes  = 64 << 10
)

// DownloadExtensions is the one table of what a download block may be: each
// allowed content type with the file name extensions (lower case, with the
// dot) a file of that type may have. Types a browser would run or render
// as a page (HTML, SVG, JavaScript) are not in it, and a name whose
// extension does not match its type (boleto.pdf.exe, x.html declared as
// text/plain) is refused, so what the user saves is what the block said.
var DownloadExtensions = map[string][]string{
	"text/plain":       {".txt"},
	"text/csv":         {".csv"},
	"application/json": {".json"},
	"application/pdf":  {".pdf"},
	"image/png":        {".png"},
	"image/jpeg":       {".jpg", ".jpeg"},
	"application/zip":  {".zip"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       {".xlsx"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
	"application/vnd.ms-excel": {".xls"},
	"text/calendar":            {".ics"},
}

// DownloadTypes lists the content types of DownloadExtensions, sorted.
var DownloadTypes = slices.Sorted(maps.Keys(DownloadExtensions))

// Limits of a plugin's key-value store, per (tenant, plugin): one store
// shared by every user of the plugin in a company. The host checks key and
// value sizes on every call; its store enforces the totals. A key per
// customer (a visit counter, a preference) fits a customer base of some
// thousands; keep what each customer adds small and bounded, since one
// customer's calls count against the same totals as everyone's.
const (
	MaxKVKey   = 256      // bytes of one key
	MaxKVValue = 64 << 10 // bytes of one value
	MaxKVKeys  = 10_000   // keys per plugin and tenant
	MaxKVBytes = 16 << 20 // bytes of all keys plus all values per plugin and tenant
)

// Limits of one call, as the host applies them by default. A gestor may
// set other timeout and memory bounds per plugin, within the ranges below;
// the host's operator may raise the others up to its own ceilings.
const (
	DefaultTimeoutMS = 2000   // milliseconds per call
	MinTimeoutMS     = 100    // the shortest timeout a gestor may set
	MaxTimeoutMS     = 10_000 // the longest timeout a gestor may set
	DefaultMemoryMB  = 64     // MiB of linear memory
	MinMemoryMB      = 1      // the least memory a gestor may set
	MaxMemoryMB      = 256    // the most memory a gestor may set

	DefaultMaxInputBytes  = 256 << 10 // bytes of a call's JSON input
	DefaultMaxOutputBytes = 1 << 20   // bytes of a call's JSON output
	DefaultMaxHostCalls   = 200       // host calls per plugin call
	DefaultMaxLogLines    = 100       // log lines per plugin call
	DefaultMaxLogBytes    = 16 << 10  // log bytes (messages and attributes) per plugin call
	MaxLogAttrs           = 32        // attributes per log line
	MaxSecretName         = 128       // bytes of a secret's name
	MaxHTTPRequestBody    = 1 << 20   // bytes of an HTTP request body
	MaxHTTPResponseBody   = 1 << 20   // bytes of an HTTP response body passed back
)

// HTTPReserveMS is how many milliseconds before the call's deadline an
// HTTP host call that sets no timeout_ms is ended: a tenth of the time the
// call has left when the request starts, at least 50 and at most 500. A
// request to an ERP that hangs then fails with ErrUpstream while the
// plugin can still answer in its own words ("o ERP não respondeu"),
// instead of the call being stopped at its deadline with the portal's
// generic message.
func HTTPReserveMS(leftMS int64) int64 {
	return min(max(leftMS/10, 50), 500)
}
