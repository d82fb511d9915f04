// Package view checks what a wasm plugin returns before anything of it is
// shown: every block of an abi.View against explicit limits, link-outs
// against the plugin's allowed hosts, downloads against a content-type
// allow-list, names of fields and actions against a safe token. A view that
// breaks any rule is refused whole ("malformed"); it is never partly
// rendered. Clean returns a copy that holds only the fields each block type
// uses, so the HTML page and the JSON API show exactly what was checked.
//
// The package also draws barcodes (Interleaved 2 of 5) and QR codes as SVG
// built from numbers only, so no plugin text reaches the markup.
//
// It imports neither Fiber nor storage.
package view

import (
	"errors"
	"fmt"
	"maps"
	"mime"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/sdk/abi"
)

// Limits of a view. Lengths of text are counted in characters (runes),
// except where a byte size is named.
const (
	MaxBlocks        = 100       // blocks per view
	MaxTitle         = 120       // view title, heading text, labels of buttons
	MaxText          = 4000      // text, alert and copy blocks, the polite error
	MaxLabel         = 200       // labels of blocks, fields, items, options
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
	MaxFilename      = 100       // characters of a download's file name
	MaxName          = 64        // bytes of a field or action name
)

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

var nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether s may name a form field or an action: an ASCII
// letter, then letters, digits, '_', '.' or '-', at most MaxName bytes.
// Names starting with '_' are the host's (e.g. _csrf).
func ValidName(s string) bool { return nameRe.MatchString(s) }

// Policy is what validation needs to know about the plugin.
type Policy struct {
	// AllowedHosts are the plugin's exact origins (model.NormalizeOrigin
	// form); a link-out must point at one of them.
	AllowedHosts []string
	// AllowInsecureLocal permits http:// links to localhost (demo and dev).
	AllowInsecureLocal bool
}

// Error says why a view was refused: Path names the offending element
// (e.g. "blocks[3].rows"), Reason is English for logs.
type Error struct {
	Path, Reason string
}

func (e *Error) Error() string { return "invalid view: " + e.Path + ": " + e.Reason }

// ErrEmpty means the output held neither a view nor an error.
var ErrEmpty = errors.New("invalid view: output has neither a view nor an error")

func fail(p, format string, args ...any) *Error {
	return &Error{Path: p, Reason: fmt.Sprintf(format, args...)}
}

// Result is a checked output: exactly one of View and Message is set.
type Result struct {
	View *abi.View
	// Message is the plugin's polite error, shown as an alert.
	Message string
}

// CleanOutput checks a guest's output and returns its clean form.
func CleanOutput(o *abi.Output, pol Policy) (*Result, error) {
	if o == nil {
		return nil, ErrEmpty
	}
	if o.Error != "" {
		if o.View != nil {
			return nil, fail("error", "both a view and an error")
		}
		if err := checkText("error", o.Error, MaxText, false); err != nil {
			return nil, err
		}
		return &Result{Message: o.Error}, nil
	}
	if o.View == nil {
		return nil, ErrEmpty
	}
	v, err := Clean(o.View, pol)
	if err != nil {
		return nil, err
	}
	return &Result{View: v}, nil
}

// Clean checks v and returns a copy holding only the fields each block type
// uses, with defaults filled in (heading level 2, alert tone info).
func Clean(v *abi.View, pol Policy) (*abi.View, error) {
	if err := checkText("title", v.Title, MaxTitle, true); err != nil {
		return nil, err
	}
	if len(v.Blocks) > MaxBlocks {
		return nil, fail("blocks", "%d blocks, at most %d", len(v.Blocks), MaxBlocks)
	}
	out := &abi.View{Title: v.Title, Blocks: make([]abi.Block, 0, len(v.Blocks))}
	for i := range v.Blocks {
		b, err := cleanBlock(fmt.Sprintf("blocks[%d]", i), &v.Blocks[i], pol)
		if err != nil {
			return nil, err
		}
		out.Blocks = append(out.Blocks, b)
	}
	return out, nil
}

func cleanBlock(p string, b *abi.Block, pol Policy) (abi.Block, error) {
	out := abi.Block{Type: b.Type}
	var err error
	switch b.Type {
	case abi.BlockHeading:
		out.Text, out.Level = b.Text, b.Level
		if out.Level == 0 {
			out.Level = 2
		}
		if out.Level < 1 || out.Level > 3 {
			return out, fail(p+".level", "level %d, want 1 to 3", b.Level)
		}
		err = checkText(p+".text", b.Text, MaxTitle, false)
	case abi.BlockText:
		out.Text = b.Text
		err = checkMultiline(p+".text", b.Text, MaxText, false)
	case abi.BlockAlert:
		out.Text, out.Tone = b.Text, b.Tone
		if out.Tone == "" {
			out.Tone = abi.ToneInfo
		}
		if !slices.Contains([]string{abi.ToneInfo, abi.ToneSuccess, abi.ToneWarning, abi.ToneError}, out.Tone) {
			return out, fail(p+".tone", "unknown tone")
		}
		err = checkMultiline(p+".text", b.Text, MaxText, false)
	case abi.BlockKV:
		out.Label = b.Label
		if err = checkText(p+".label", b.Label, MaxLabel, true); err != nil {
			return out, err
		}
		if len(b.Items) == 0 || len(b.Items) > MaxItems {
			return out, fail(p+".items", "%d items, want 1 to %d", len(b.Items), MaxItems)
		}
		out.Items = make([]abi.KV, len(b.Items))
		for j, it := range b.Items {
			ip := fmt.Sprintf("%s.items[%d]", p, j)
			if err = checkText(ip+".label", it.Label, MaxLabel, false); err != nil {
				return out, err
			}
			if err = checkMultiline(ip+".value", it.Value, MaxValue, true); err != nil {
				return out, err
			}
			out.Items[j] = it
		}
	case abi.BlockTable:
		out.Label = b.Label
		err = cleanTable(p, b, &out)
	case abi.BlockForm:
		out.Label = b.Label
		err = cleanForm(p, b, &out)
	case abi.BlockCopy:
		out.Label, out.Text = b.Label, b.Text
		if err = checkText(p+".label", b.Label, MaxLabel, true); err != nil {
			return out, err
		}
		err = checkMultiline(p+".text", b.Text, MaxText, false)
	case abi.BlockBarcode:
		out.Label, out.Value = b.Label, b.Value
		if err = checkText(p+".label", b.Label, MaxLabel, true); err != nil {
			return out, err
		}
		err = checkBarcode(p+".value", b.Value)
	case abi.BlockQR:
		out.Label, out.Value = b.Label, b.Value
		if err = checkText(p+".label", b.Label, MaxLabel, true); err != nil {
			return out, err
		}
		if b.Value == "" || len(b.Value) > MaxQRBytes {
			return out, fail(p+".value", "QR content must be 1 to %d bytes", MaxQRBytes)
		}
		// The same text rule as a text block: what a phone decodes from
		// the code must hold no control or hidden direction characters.
		if err := model.CheckText(b.Value, true); err != nil {
			return out, fail(p+".value", "%v", err)
		}
	case abi.BlockLink:
		out.Label = b.Label
		if err = checkText(p+".label", b.Label, MaxLabel, false); err != nil {
			return out, err
		}
		out.URL, err = checkLink(p+".url", b.URL, pol)
	case abi.BlockDownload:
		out.Label = b.Label
		if err = checkText(p+".label", b.Label, MaxLabel, false); err != nil {
			return out, err
		}
		out.Filename, out.ContentType, out.Data, err = checkDownload(p, b)
	default:
		return out, fail(p+".type", "unknown block type %q", truncate(b.Type))
	}
	return out, err
}

func cleanTable(p string, b *abi.Block, out *abi.Block) error {
	if err := checkText(p+".label", b.Label, MaxLabel, true); err != nil {
		return err
	}
	if len(b.Columns) == 0 || len(b.Columns) > MaxColumns {
		return fail(p+".columns", "%d columns, want 1 to %d", len(b.Columns), MaxColumns)
	}
	if len(b.Rows) > MaxRows || len(b.Rows)*len(b.Columns) > MaxTableCells {
		return fail(p+".rows", "%d rows, at most %d and %d cells", len(b.Rows), MaxRows, MaxTableCells)
	}
	out.Columns = make([]string, len(b.Columns))
	for j, c := range b.Columns {
		if err := checkText(fmt.Sprintf("%s.columns[%d]", p, j), c, MaxLabel, false); err != nil {
			return err
		}
		out.Columns[j] = c
	}
	out.Rows = make([][]string, len(b.Rows))
	for r, row := range b.Rows {
		if len(row) != len(b.Columns) {
			return fail(fmt.Sprintf("%s.rows[%d]", p, r), "%d cells for %d columns", len(row), len(b.Columns))
		}
		for j, cell := range row {
			if err := checkText(fmt.Sprintf("%s.rows[%d][%d]", p, r, j), cell, MaxCell, true); err != nil {
				return err
			}
		}
		out.Rows[r] = slices.Clone(row)
	}
	return nil
}

func cleanForm(p string, b *abi.Block, out *abi.Block) error {
	if err := checkText(p+".label", b.Label, MaxLabel, true); err != nil {
		return err
	}
	if len(b.Fields) > MaxFields {
		return fail(p+".fields", "%d fields, at most %d", len(b.Fields), MaxFields)
	}
	if len(b.Buttons) == 0 || len(b.Buttons) > MaxButtons {
		return fail(p+".buttons", "%d buttons, want 1 to %d", len(b.Buttons), MaxButtons)
	}
	seen := map[string]bool{}
	out.Fields = make([]abi.Field, len(b.Fields))
	for j := range b.Fields {
		fp := fmt.Sprintf("%s.fields[%d]", p, j)
		f, err := cleanField(fp, &b.Fields[j])
		if err != nil {
			return err
		}
		if seen[f.Name] {
			return fail(fp+".name", "duplicate field name")
		}
		seen[f.Name] = true
		out.Fields[j] = f
	}
	out.Buttons = make([]abi.Button, len(b.Buttons))
	for j, bt := range b.Buttons {
		bp := fmt.Sprintf("%s.buttons[%d]", p, j)
		if err := checkText(bp+".label", bt.Label, MaxTitle, false); err != nil {
			return err
		}
		if !ValidName(bt.Action) {
			return fail(bp+".action", "action is not a safe name")
		}
		out.Buttons[j] = bt
	}
	return nil
}

func cleanField(p string, f *abi.Field) (abi.Field, error) {
	out := abi.Field{Type: f.Type, Name: f.Name, Label: f.Label, Value: f.Value, Required: f.Required}
	if !ValidName(f.Name) {
		return out, fail(p+".name", "name is not a safe name")
	}
	if f.Type != abi.FieldHidden {
		if err := checkText(p+".label", f.Label, MaxLabel, false); err != nil {
			return out, err
		}
	} else if err := checkText(p+".label", f.Label, MaxLabel, true); err != nil {
		return out, err
	}
	if err := checkText(p+".value", f.Value, MaxValue, true); err != nil {
		return out, err
	}
	switch f.Type {
	case abi.FieldText:
		out.Placeholder = f.Placeholder
		if err := checkText(p+".placeholder", f.Placeholder, MaxValue, true); err != nil {
			return out, err
		}
	case abi.FieldNumber:
		out.Placeholder = f.Placeholder
		if err := checkText(p+".placeholder", f.Placeholder, MaxValue, true); err != nil {
			return out, err
		}
		if f.Value != "" {
			if _, err := strconv.ParseFloat(f.Value, 64); err != nil {
				return out, fail(p+".value", "not a number")
			}
		}
	case abi.FieldDate:
		if f.Value != "" {
			if _, err := time.Parse(time.DateOnly, f.Value); err != nil {
				return out, fail(p+".value", "not a YYYY-MM-DD date")
			}
		}
	case abi.FieldSelect:
		if len(f.Options) == 0 || len(f.Options) > MaxOptions {
			return out, fail(p+".options", "%d options, want 1 to %d", len(f.Options), MaxOptions)
		}
		out.Options = make([]abi.Option, len(f.Options))
		found := f.Value == ""
		for k, o := range f.Options {
			op := fmt.Sprintf("%s.options[%d]", p, k)
			if err := checkText(op+".value", o.Value, MaxValue, true); err != nil {
				return out, err
			}
			if err := checkText(op+".label", o.Label, MaxLabel, false); err != nil {
				return out, err
			}
			found = found || o.Value == f.Value
			out.Options[k] = o
		}
		if !found {
			return out, fail(p+".value", "value is not one of the options")
		}
	case abi.FieldCheckbox:
		if f.Value != "" && f.Value != "on" {
			return out, fail(p+".value", `a checkbox value is "on" or empty`)
		}
	case abi.FieldHidden:
		out.Required = false
	default:
		return out, fail(p+".type", "unknown field type %q", truncate(f.Type))
	}
	return out, nil
}

func checkBarcode(p, v string) error {
	if v == "" || len(v) > MaxBarcodeDigits || len(v)%2 != 0 {
		return fail(p, "want an even number of digits, 2 to %d", MaxBarcodeDigits)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return fail(p, "not a digit at %d", i)
		}
	}
	return nil
}

func checkLink(p, raw string, pol Policy) (string, error) {
	if raw == "" || len(raw) > MaxURL {
		return "", fail(p, "URL must be 1 to %d bytes", MaxURL)
	}
	for _, r := range raw {
		if r < 0x21 || r == 0x7f {
			return "", fail(p, "URL holds a space or control character")
		}
	}
	u, err := model.NormalizeURL(raw, pol.AllowInsecureLocal)
	if err != nil {
		return "", fail(p, "not an absolute http(s) URL")
	}
	origin, err := model.OriginOf(u, pol.AllowInsecureLocal)
	if err != nil || !slices.Contains(pol.AllowedHosts, origin) {
		return "", fail(p, "host is not in the plugin's allowed hosts")
	}
	return u, nil
}

func checkDownload(p string, b *abi.Block) (name, ctype string, data []byte, err error) {
	if len(b.Data) > MaxDownloadBytes {
		return "", "", nil, fail(p+".data", "%d bytes, at most %d", len(b.Data), MaxDownloadBytes)
	}
	mt, params, perr := mime.ParseMediaType(b.ContentType)
	if perr != nil || DownloadExtensions[mt] == nil {
		return "", "", nil, fail(p+".content_type", "content type not allowed")
	}
	ctype = mt
	if cs, ok := params["charset"]; ok && strings.HasPrefix(mt, "text/") {
		if !strings.EqualFold(cs, "utf-8") {
			return "", "", nil, fail(p+".content_type", "only the utf-8 charset is allowed")
		}
		ctype += "; charset=utf-8"
	}
	name = SanitizeFilename(b.Filename)
	if name == "" {
		return "", "", nil, fail(p+".filename", "no usable file name")
	}
	if exts := DownloadExtensions[mt]; !slices.Contains(exts, strings.ToLower(path.Ext(name))) || len(name) == len(path.Ext(name)) {
		return "", "", nil, fail(p+".filename", "the file name must end in one of %v for %s", exts, mt)
	}
	return name, ctype, slices.Clone(b.Data), nil
}

// SanitizeFilename returns a file name safe for a Content-Disposition header
// and a download attribute: the last path element, letters, digits and
// " ._-()" only (others become '_'), no leading dot, at most MaxFilename
// characters. It returns "" when nothing usable is left.
func SanitizeFilename(s string) string {
	s = strings.ReplaceAll(s, "\\", "/")
	s = path.Base("/" + s)
	var sb strings.Builder
	n := 0
	for _, r := range s {
		if n >= MaxFilename {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" ._-()", r):
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
		n++
	}
	out := strings.TrimLeft(strings.TrimSpace(sb.String()), ".")
	if strings.Trim(out, "_. ") == "" {
		return ""
	}
	return out
}

// checkText checks a one-line text: valid UTF-8, at most max characters,
// no control characters; empty only when allowEmpty.
func checkText(p, s string, max int, allowEmpty bool) error {
	return checkString(p, s, max, allowEmpty, false)
}

// checkMultiline is checkText that also allows line breaks and tabs.
func checkMultiline(p, s string, max int, allowEmpty bool) error {
	return checkString(p, s, max, allowEmpty, true)
}

func checkString(p, s string, max int, allowEmpty, multiline bool) error {
	if s == "" {
		if allowEmpty {
			return nil
		}
		return fail(p, "empty")
	}
	if len(s) > 4*max || !utf8.ValidString(s) {
		return fail(p, "too long or not UTF-8")
	}
	if err := model.CheckText(s, multiline); err != nil {
		return fail(p, "%v", err)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fail(p, "%d characters, at most %d", n, max)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.ToValidUTF8(s, "?")
}

// CheckForm checks the values a browser or app submitted to an action:
// safe field names (no '_' prefix), at most MaxFormKeys names,
// MaxFormValues values of MaxFormValue bytes each, MaxFormBytes in all,
// valid UTF-8. It returns a copy.
func CheckForm(form map[string][]string) (map[string][]string, error) {
	if len(form) > MaxFormKeys {
		return nil, fail("form", "%d fields, at most %d", len(form), MaxFormKeys)
	}
	out := make(map[string][]string, len(form))
	values, total := 0, 0
	for k, vs := range form {
		if !ValidName(k) {
			return nil, fail("form", "field name is not a safe name")
		}
		values += len(vs)
		if values > MaxFormValues {
			return nil, fail("form", "more than %d values", MaxFormValues)
		}
		for _, v := range vs {
			total += len(k) + len(v)
			if len(v) > MaxFormValue || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return nil, fail("form."+k, "value too long or not UTF-8")
			}
		}
		if total > MaxFormBytes {
			return nil, fail("form", "more than %d bytes", MaxFormBytes)
		}
		out[k] = slices.Clone(vs)
	}
	return out, nil
}
