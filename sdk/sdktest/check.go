package sdktest

import (
	"fmt"
	"maps"
	"mime"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portico-dev/portico/sdk/abi"
)

// Bounds of a view, the same as Portico's renderer (internal/view; a
// parity test in host/cli keeps the two in step).
const (
	MaxBlocks        = 100       // blocks per view
	MaxTitle         = 120       // view title, heading text, button labels (characters)
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
	MaxBarcodeDigits = 64        // Interleaved 2 of 5 digits
	MaxQRBytes       = 512       // bytes in a QR code
	MaxURL           = 2048      // bytes of a link-out URL
	MaxDownloadBytes = 256 << 10 // bytes of a download's data
	MaxName          = 64        // bytes of a field or action name
)

// DownloadExtensions lists the content types a download block may have,
// each with the file name extensions (lower case, with the dot) its file
// name may end in: a name such as boleto.pdf.exe or x.html is refused.
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

// DownloadTypes are the content types a download block may have (the keys
// of DownloadExtensions, sorted).
var DownloadTypes = slices.Sorted(maps.Keys(DownloadExtensions))

// CheckView lists the ways v breaks the rules Portico's renderer applies
// (nil when it breaks none): the block and field types, the bounds above,
// non-empty labels where the page needs one, no control characters in
// one-line texts, names (fields and actions) of an ASCII letter then
// letters, digits, '_', '.' or '-', select values among the options, number
// and date values, barcodes of an even number of digits, links only to an
// origin in allowedHosts, downloads of an allowed type with a file name,
// and, when actions is non-nil, buttons naming an action in actions.
func CheckView(v *abi.View, allowedHosts, actions []string) []string {
	c := checker{hosts: allowedHosts, actions: actions}
	c.text("title", v.Title, MaxTitle, true, false)
	if len(v.Blocks) > MaxBlocks {
		c.add("blocks", "%d blocks, at most %d", len(v.Blocks), MaxBlocks)
		return c.problems
	}
	for i := range v.Blocks {
		c.block(fmt.Sprintf("blocks[%d]", i), &v.Blocks[i])
	}
	return c.problems
}

type checker struct {
	hosts, actions []string
	problems       []string
}

// maxProblems bounds the list CheckView returns.
const maxProblems = 20

func (c *checker) add(path, format string, args ...any) {
	switch {
	case len(c.problems) < maxProblems:
		c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
	case len(c.problems) == maxProblems:
		c.problems = append(c.problems, "… (more problems left out)")
	}
}

// text checks a string: valid UTF-8, at most max characters, no control
// characters (line breaks and tabs only when multiline), no bidirectional
// overrides; empty only when allowEmpty.
func (c *checker) text(path, s string, max int, allowEmpty, multiline bool) {
	if s == "" {
		if !allowEmpty {
			c.add(path, "empty")
		}
		return
	}
	if !utf8.ValidString(s) {
		c.add(path, "not UTF-8")
		return
	}
	n := 0
	for _, r := range s {
		n++
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			c.add(path, "control character %U", r)
			return
		}
		if r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			c.add(path, "bidirectional or separator control character %U", r)
			return
		}
	}
	if n > max {
		c.add(path, "%d characters, at most %d", n, max)
	}
}

func validName(s string) bool {
	if s == "" || len(s) > MaxName {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		letter := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !('0' <= ch && ch <= '9') && ch != '_' && ch != '.' && ch != '-' {
			return false
		}
	}
	return true
}

func (c *checker) block(p string, b *abi.Block) {
	switch b.Type {
	case abi.BlockHeading:
		if b.Level != 0 && (b.Level < 1 || b.Level > 3) {
			c.add(p+".level", "level %d, want 1 to 3", b.Level)
		}
		c.text(p+".text", b.Text, MaxTitle, false, false)
	case abi.BlockText:
		c.text(p+".text", b.Text, MaxText, false, true)
	case abi.BlockAlert:
		if b.Tone != "" && !slices.Contains([]string{abi.ToneInfo, abi.ToneSuccess, abi.ToneWarning, abi.ToneError}, b.Tone) {
			c.add(p+".tone", "unknown tone %q", b.Tone)
		}
		c.text(p+".text", b.Text, MaxText, false, true)
	case abi.BlockKV:
		c.text(p+".label", b.Label, MaxLabel, true, false)
		if len(b.Items) == 0 || len(b.Items) > MaxItems {
			c.add(p+".items", "%d items, want 1 to %d", len(b.Items), MaxItems)
		}
		for j, it := range b.Items {
			ip := fmt.Sprintf("%s.items[%d]", p, j)
			c.text(ip+".label", it.Label, MaxLabel, false, false)
			c.text(ip+".value", it.Value, MaxValue, true, true)
		}
	case abi.BlockTable:
		c.table(p, b)
	case abi.BlockForm:
		c.form(p, b)
	case abi.BlockCopy:
		c.text(p+".label", b.Label, MaxLabel, true, false)
		c.text(p+".text", b.Text, MaxText, false, true)
	case abi.BlockBarcode:
		c.text(p+".label", b.Label, MaxLabel, true, false)
		if !evenDigits(b.Value) {
			c.add(p+".value", "%q is not an even number of digits, 2 to %d (Interleaved 2 of 5)", b.Value, MaxBarcodeDigits)
		}
	case abi.BlockQR:
		c.text(p+".label", b.Label, MaxLabel, true, false)
		if b.Value == "" || len(b.Value) > MaxQRBytes {
			c.add(p+".value", "QR content must be 1 to %d bytes", MaxQRBytes)
		} else {
			c.text(p+".value", b.Value, MaxQRBytes, false, true)
		}
	case abi.BlockLink:
		c.text(p+".label", b.Label, MaxLabel, false, false)
		c.link(p+".url", b.URL)
	case abi.BlockDownload:
		c.text(p+".label", b.Label, MaxLabel, false, false)
		if len(b.Data) > MaxDownloadBytes {
			c.add(p+".data", "%d bytes, at most %d", len(b.Data), MaxDownloadBytes)
		}
		mt, _, err := mime.ParseMediaType(b.ContentType)
		if err != nil || DownloadExtensions[mt] == nil {
			c.add(p+".content_type", "%q is not one of the allowed types %v", b.ContentType, DownloadTypes)
		}
		if strings.Trim(b.Filename, "_. /\\") == "" {
			c.add(p+".filename", "no usable file name")
		} else if exts := DownloadExtensions[mt]; exts != nil {
			base := strings.TrimSpace(path.Base("/" + strings.ReplaceAll(b.Filename, "\\", "/")))
			if ext := strings.ToLower(path.Ext(base)); !slices.Contains(exts, ext) || len(base) == len(ext) {
				c.add(p+".filename", "%q must end in one of %v for %s", b.Filename, exts, mt)
			}
		}
	default:
		c.add(p+".type", "unknown block type %q", b.Type)
	}
}

func (c *checker) table(p string, b *abi.Block) {
	c.text(p+".label", b.Label, MaxLabel, true, false)
	if len(b.Columns) == 0 || len(b.Columns) > MaxColumns {
		c.add(p+".columns", "%d columns, want 1 to %d", len(b.Columns), MaxColumns)
	}
	if len(b.Rows) > MaxRows || len(b.Rows)*len(b.Columns) > MaxTableCells {
		c.add(p+".rows", "%d rows, at most %d and %d cells", len(b.Rows), MaxRows, MaxTableCells)
		return
	}
	for j, col := range b.Columns {
		c.text(fmt.Sprintf("%s.columns[%d]", p, j), col, MaxLabel, false, false)
	}
	for r, row := range b.Rows {
		if len(row) != len(b.Columns) {
			c.add(fmt.Sprintf("%s.rows[%d]", p, r), "%d cells for %d columns", len(row), len(b.Columns))
			continue
		}
		for j, cell := range row {
			c.text(fmt.Sprintf("%s.rows[%d][%d]", p, r, j), cell, MaxCell, true, false)
		}
	}
}

func (c *checker) form(p string, b *abi.Block) {
	c.text(p+".label", b.Label, MaxLabel, true, false)
	if len(b.Fields) > MaxFields {
		c.add(p+".fields", "%d fields, at most %d", len(b.Fields), MaxFields)
	}
	if len(b.Buttons) == 0 || len(b.Buttons) > MaxButtons {
		c.add(p+".buttons", "%d buttons, want 1 to %d", len(b.Buttons), MaxButtons)
	}
	seen := map[string]bool{}
	for j := range b.Fields {
		f := &b.Fields[j]
		fp := fmt.Sprintf("%s.fields[%d]", p, j)
		if seen[f.Name] {
			c.add(fp+".name", "duplicate field name %q", f.Name)
		}
		seen[f.Name] = true
		c.field(fp, f)
	}
	for j, bt := range b.Buttons {
		bp := fmt.Sprintf("%s.buttons[%d]", p, j)
		c.text(bp+".label", bt.Label, MaxTitle, false, false)
		if !validName(bt.Action) {
			c.add(bp+".action", "%q is not a valid action name", bt.Action)
		} else if c.actions != nil && !slices.Contains(c.actions, bt.Action) {
			c.add(bp+".action", "button %q calls action %q, which has no handler", bt.Label, bt.Action)
		}
	}
}

func (c *checker) field(p string, f *abi.Field) {
	if !validName(f.Name) {
		c.add(p+".name", "%q is not a valid field name (a letter, then letters, digits, '_', '.', '-')", f.Name)
	}
	c.text(p+".label", f.Label, MaxLabel, f.Type == abi.FieldHidden, false)
	c.text(p+".value", f.Value, MaxValue, true, false)
	switch f.Type {
	case abi.FieldText:
		c.text(p+".placeholder", f.Placeholder, MaxValue, true, false)
	case abi.FieldNumber:
		c.text(p+".placeholder", f.Placeholder, MaxValue, true, false)
		if f.Value != "" {
			if _, err := strconv.ParseFloat(f.Value, 64); err != nil {
				c.add(p+".value", "%q is not a number", f.Value)
			}
		}
	case abi.FieldDate:
		if f.Value != "" {
			if _, err := time.Parse(time.DateOnly, f.Value); err != nil {
				c.add(p+".value", "%q is not a YYYY-MM-DD date", f.Value)
			}
		}
	case abi.FieldSelect:
		if len(f.Options) == 0 || len(f.Options) > MaxOptions {
			c.add(p+".options", "%d options, want 1 to %d", len(f.Options), MaxOptions)
		}
		found := f.Value == ""
		for k, o := range f.Options {
			op := fmt.Sprintf("%s.options[%d]", p, k)
			c.text(op+".value", o.Value, MaxValue, true, false)
			c.text(op+".label", o.Label, MaxLabel, false, false)
			found = found || o.Value == f.Value
		}
		if !found {
			c.add(p+".value", "select value %q is not one of the options", f.Value)
		}
	case abi.FieldCheckbox:
		if f.Value != "" && f.Value != "on" {
			c.add(p+".value", `a checkbox value is "on" or empty, not %q`, f.Value)
		}
	case abi.FieldHidden:
	default:
		c.add(p+".type", "unknown field type %q", f.Type)
	}
}

func (c *checker) link(p, raw string) {
	if raw == "" || len(raw) > MaxURL {
		c.add(p, "URL must be 1 to %d bytes", MaxURL)
		return
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		c.add(p, "URL holds a space or control character")
		return
	}
	if u, err := url.Parse(raw); err != nil || !u.IsAbs() {
		c.add(p, "%q is not an absolute http(s) URL", raw)
		return
	}
	o := Origin(raw)
	if o == "" || !slices.ContainsFunc(c.hosts, func(a string) bool { return Origin(a) == o }) {
		c.add(p, "%q: not one of the allowed hosts %v", raw, c.hosts)
	}
}

func evenDigits(s string) bool {
	if s == "" || len(s) > MaxBarcodeDigits || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
