package abi

import (
	"fmt"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Policy is what checking a view needs to know about the plugin and the
// host.
type Policy struct {
	// AllowedHosts are the plugin's origins (NormalizeOrigin); a link
	// must point at one of them.
	AllowedHosts []string
	// AllowInsecureLocal permits http:// links to localhost and loopback
	// addresses (the demo and development).
	AllowInsecureLocal bool
	// Actions, when non-nil, are the plugin's action handlers: every
	// button must name one of them. The host leaves it nil (it cannot
	// list a module's handlers); the SDK's test harness sets it.
	Actions []string
	// Card checks the view as a home card (KindCard): at most
	// MaxCardBlocks blocks, each of a CardBlocks type, with at most
	// MaxCardItems items and MaxCardText characters of text.
	Card bool
}

// ViewError says how an output breaks the contract: Path names the
// offending element (e.g. "blocks[3].rows", as CheckView and DecodeOutput
// name it), Reason is English for logs and test failures.
type ViewError struct {
	Path, Reason string
}

func (e *ViewError) Error() string { return "invalid view: " + e.Path + ": " + e.Reason }

// MaxProblems bounds the problems CheckView and CheckOutput list.
const MaxProblems = 20

// CheckOutput lists the ways o breaks the contract (nil when it breaks
// none): it must hold either a view (CheckView) or a polite error of one
// line of at most MaxText characters, not both. At most MaxProblems
// problems are listed; when more were found, one more entry, with Path
// "…", says so.
func CheckOutput(o *Output, pol Policy) []*ViewError {
	return run(pol, MaxProblems, func(c *checker) { c.output(o) })
}

// OutputError returns CheckOutput's first problem, or nil; it stops at
// the first.
func OutputError(o *Output, pol Policy) error {
	return first(run(pol, 1, func(c *checker) { c.output(o) }))
}

// CheckView lists the ways v breaks the rules the host applies before it
// shows a view (nil when it breaks none): the block and field types; the
// limits of limits.go; non-empty labels where the page needs one; the text
// rule (CheckText) everywhere, line breaks only in multi-line texts; names
// of fields and actions (ValidName); select values among the options,
// number and date values, checkbox values; barcodes of an even number of
// digits; QR contents; links only to an origin of pol.AllowedHosts
// (NormalizeURL); downloads of a type of DownloadExtensions with a file
// name (SanitizeFilename) ending in one of the type's extensions; and,
// when pol.Actions is non-nil, buttons naming one of them. At most
// MaxProblems problems are listed, as CheckOutput.
func CheckView(v *View, pol Policy) []*ViewError {
	return run(pol, MaxProblems, func(c *checker) { c.view(v) })
}

// ViewErr returns CheckView's first problem, or nil; it stops at the
// first.
func ViewErr(v *View, pol Policy) error {
	return first(run(pol, 1, func(c *checker) { c.view(v) }))
}

// run walks with a checker that keeps at most limit problems.
func run(pol Policy, limit int, walk func(*checker)) []*ViewError {
	c := checker{pol: pol, limit: limit}
	walk(&c)
	return c.problems
}

// first returns the first problem as an error, or nil.
func first(ps []*ViewError) error {
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}

type checker struct {
	pol      Policy
	limit    int
	problems []*ViewError
	more     bool
}

// loc is where in an output an element lies, as ViewError.Path spells it
// ("blocks[3].rows[1][2]"): a chain of steps on the walk's stack, spelled
// out only when a problem is recorded, so that a view that passes is
// checked without building a string for every element.
type loc struct {
	up   *loc
	name string // a field (".name" after up; the root's name alone)
	idx  int    // an index ("[idx]"), when name is ""
}

// root is the location of a top-level field of the output.
func root(name string) loc { return loc{name: name} }

// dot is l's field name.
func (l *loc) dot(name string) loc { return loc{up: l, name: name} }

// at is l's element i.
func (l *loc) at(i int) loc { return loc{up: l, idx: i} }

func (l loc) String() string { return string(l.spell(nil)) }

// spell appends l's path to b.
func (l *loc) spell(b []byte) []byte {
	switch {
	case l.up != nil && l.name == "":
		return append(strconv.AppendInt(append(l.up.spell(b), '['), int64(l.idx), 10), ']')
	case l.up != nil:
		return append(append(l.up.spell(b), '.'), l.name...)
	}
	return append(b, l.name...)
}

func (c *checker) add(at loc, format string, args ...any) {
	switch {
	case len(c.problems) < c.limit:
		c.problems = append(c.problems, &ViewError{Path: at.String(), Reason: fmt.Sprintf(format, args...)})
	case !c.more && c.limit > 1:
		c.more = true
		c.problems = append(c.problems, &ViewError{Path: "…", Reason: "(more problems left out)"})
	default:
		c.more = true
	}
}

// done reports whether the walk can stop: the list is full and, for a
// list of more than one, it already says that more were left out.
func (c *checker) done() bool { return c.more || (c.limit == 1 && len(c.problems) == 1) }

func (c *checker) output(o *Output) {
	switch {
	case o == nil || (o.View == nil && o.Error == ""):
		c.add(root("output"), "neither a view nor an error")
	case o.View != nil && o.Error != "":
		c.add(root("error"), "both a view and an error")
	case o.Error != "":
		c.text(root("error"), o.Error, MaxText, false, false)
	default:
		c.view(o.View)
	}
}

func (c *checker) view(v *View) {
	c.text(root("title"), v.Title, MaxTitle, true, false)
	blocks := root("blocks")
	if len(v.Blocks) > MaxBlocks {
		c.add(blocks, "%d blocks, at most %d", len(v.Blocks), MaxBlocks)
		return
	}
	if c.pol.Card && len(v.Blocks) > MaxCardBlocks {
		c.add(blocks, "%d blocks, a card has at most %d", len(v.Blocks), MaxCardBlocks)
		return
	}
	for i := range v.Blocks {
		if c.done() {
			return
		}
		p, b := blocks.at(i), &v.Blocks[i]
		if c.pol.Card {
			if !slices.Contains(CardBlocks, b.Type) {
				c.add(p.dot("type"), "a card holds only %s blocks, not %q", strings.Join(CardBlocks, ", "), truncate(b.Type))
				continue
			}
			if len(b.Items) > MaxCardItems {
				c.add(p.dot("items"), "%d items, a card has at most %d", len(b.Items), MaxCardItems)
			}
			if utf8.RuneCountInString(b.Text) > MaxCardText {
				c.add(p.dot("text"), "more than %d characters in a card", MaxCardText)
			}
		}
		c.block(&p, b)
	}
}

// text checks a string: empty only when allowEmpty, then the text rule
// (line breaks and tabs only when multiline) and at most max characters.
func (c *checker) text(p loc, s string, max int, allowEmpty, multiline bool) {
	if s == "" {
		if !allowEmpty {
			c.add(p, "empty")
		}
		return
	}
	if len(s) > 4*max { // more than max characters whatever they are
		c.add(p, "%d bytes, more than %d characters", len(s), max)
		return
	}
	if err := CheckText(s, multiline); err != nil {
		c.add(p, "%v", err)
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.add(p, "%d characters, at most %d", n, max)
	}
}

func (c *checker) block(p *loc, b *Block) {
	switch b.Type {
	case BlockHeading:
		if b.Level != 0 && (b.Level < 1 || b.Level > 3) {
			c.add(p.dot("level"), "level %d, want 1 to 3", b.Level)
		}
		c.text(p.dot("text"), b.Text, MaxTitle, false, false)
	case BlockText:
		c.text(p.dot("text"), b.Text, MaxText, false, true)
	case BlockAlert:
		if b.Tone != "" && !slices.Contains([]string{ToneInfo, ToneSuccess, ToneWarning, ToneError}, b.Tone) {
			c.add(p.dot("tone"), "unknown tone %q", truncate(b.Tone))
		}
		c.text(p.dot("text"), b.Text, MaxText, false, true)
	case BlockKV:
		c.text(p.dot("label"), b.Label, MaxLabel, true, false)
		if len(b.Items) == 0 || len(b.Items) > MaxItems {
			c.add(p.dot("items"), "%d items, want 1 to %d", len(b.Items), MaxItems)
			return
		}
		items := p.dot("items")
		for j, it := range b.Items {
			ip := items.at(j)
			c.text(ip.dot("label"), it.Label, MaxLabel, false, false)
			c.text(ip.dot("value"), it.Value, MaxValue, true, true)
		}
	case BlockTable:
		c.table(p, b)
	case BlockForm:
		c.form(p, b)
	case BlockCopy:
		c.text(p.dot("label"), b.Label, MaxLabel, true, false)
		c.text(p.dot("text"), b.Text, MaxText, false, true)
	case BlockBarcode:
		c.text(p.dot("label"), b.Label, MaxLabel, true, false)
		if !ValidBarcode(b.Value) {
			c.add(p.dot("value"), "%q is not an even number of digits, 2 to %d (Interleaved 2 of 5)", truncate(b.Value), MaxBarcodeDigits)
		}
	case BlockQR:
		c.text(p.dot("label"), b.Label, MaxLabel, true, false)
		if b.Value == "" || len(b.Value) > MaxQRBytes {
			c.add(p.dot("value"), "QR content must be 1 to %d bytes", MaxQRBytes)
		} else if err := CheckText(b.Value, true); err != nil {
			// The same text rule as a text block: what a phone decodes
			// from the code holds no control or hidden direction character.
			c.add(p.dot("value"), "%v", err)
		}
	case BlockLink:
		c.text(p.dot("label"), b.Label, MaxLabel, false, false)
		c.link(p.dot("url"), b.URL)
	case BlockDownload:
		c.text(p.dot("label"), b.Label, MaxLabel, false, false)
		c.download(p, b)
	default:
		c.add(p.dot("type"), "unknown block type %q", truncate(b.Type))
	}
}

func (c *checker) table(p *loc, b *Block) {
	c.text(p.dot("label"), b.Label, MaxLabel, true, false)
	if len(b.Columns) == 0 || len(b.Columns) > MaxColumns {
		c.add(p.dot("columns"), "%d columns, want 1 to %d", len(b.Columns), MaxColumns)
		return
	}
	if len(b.Rows) > MaxRows || len(b.Rows)*len(b.Columns) > MaxTableCells {
		c.add(p.dot("rows"), "%d rows, at most %d and %d cells", len(b.Rows), MaxRows, MaxTableCells)
		return
	}
	columns, rows := p.dot("columns"), p.dot("rows")
	for j, col := range b.Columns {
		c.text(columns.at(j), col, MaxLabel, false, false)
	}
	for r, row := range b.Rows {
		if c.done() {
			return
		}
		rp := rows.at(r)
		if len(row) != len(b.Columns) {
			c.add(rp, "%d cells for %d columns", len(row), len(b.Columns))
			continue
		}
		for j, cell := range row {
			c.text(rp.at(j), cell, MaxCell, true, false)
		}
	}
}

func (c *checker) form(p *loc, b *Block) {
	c.text(p.dot("label"), b.Label, MaxLabel, true, false)
	if len(b.Fields) > MaxFields {
		c.add(p.dot("fields"), "%d fields, at most %d", len(b.Fields), MaxFields)
		return
	}
	if len(b.Buttons) == 0 || len(b.Buttons) > MaxButtons {
		c.add(p.dot("buttons"), "%d buttons, want 1 to %d", len(b.Buttons), MaxButtons)
		return
	}
	seen := map[string]bool{}
	fields, buttons := p.dot("fields"), p.dot("buttons")
	for j := range b.Fields {
		f := &b.Fields[j]
		fp := fields.at(j)
		c.field(&fp, f)
		if seen[f.Name] {
			c.add(fp.dot("name"), "duplicate field name %q", truncate(f.Name))
		}
		seen[f.Name] = true
	}
	for j, bt := range b.Buttons {
		bp := buttons.at(j)
		c.text(bp.dot("label"), bt.Label, MaxTitle, false, false)
		if !ValidName(bt.Action) {
			c.add(bp.dot("action"), "%q is not a valid action name", truncate(bt.Action))
		} else if c.pol.Actions != nil && !slices.Contains(c.pol.Actions, bt.Action) {
			c.add(bp.dot("action"), "button %q calls action %q, which has no handler", truncate(bt.Label), bt.Action)
		}
	}
}

func (c *checker) field(p *loc, f *Field) {
	if !ValidName(f.Name) {
		c.add(p.dot("name"), "%q is not a valid field name (a letter, then letters, digits, '_', '.', '-')", truncate(f.Name))
	}
	c.text(p.dot("label"), f.Label, MaxLabel, f.Type == FieldHidden, false)
	c.text(p.dot("value"), f.Value, MaxValue, true, false)
	switch f.Type {
	case FieldText:
		c.text(p.dot("placeholder"), f.Placeholder, MaxValue, true, false)
	case FieldNumber:
		c.text(p.dot("placeholder"), f.Placeholder, MaxValue, true, false)
		if f.Value != "" {
			if _, err := strconv.ParseFloat(f.Value, 64); err != nil {
				c.add(p.dot("value"), "%q is not a number", truncate(f.Value))
			}
		}
	case FieldDate:
		if f.Value != "" {
			if _, err := time.Parse(time.DateOnly, f.Value); err != nil {
				c.add(p.dot("value"), "%q is not a YYYY-MM-DD date", truncate(f.Value))
			}
		}
	case FieldSelect:
		if len(f.Options) == 0 || len(f.Options) > MaxOptions {
			c.add(p.dot("options"), "%d options, want 1 to %d", len(f.Options), MaxOptions)
			return
		}
		found := f.Value == ""
		options := p.dot("options")
		for k, o := range f.Options {
			op := options.at(k)
			c.text(op.dot("value"), o.Value, MaxValue, true, false)
			c.text(op.dot("label"), o.Label, MaxLabel, false, false)
			found = found || o.Value == f.Value
		}
		if !found {
			c.add(p.dot("value"), "select value %q is not one of the options", truncate(f.Value))
		}
	case FieldCheckbox:
		if f.Value != "" && f.Value != "on" {
			c.add(p.dot("value"), `a checkbox value is "on" or empty, not %q`, truncate(f.Value))
		}
	case FieldHidden:
	default:
		c.add(p.dot("type"), "unknown field type %q", truncate(f.Type))
	}
}

func (c *checker) link(p loc, raw string) {
	if raw == "" || len(raw) > MaxURL {
		c.add(p, "URL must be 1 to %d bytes", MaxURL)
		return
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		c.add(p, "URL holds a space or control character")
		return
	}
	if _, ok := LinkURL(raw, c.pol); !ok {
		c.add(p, "%q is not an absolute https URL to one of the allowed hosts %v", truncate(raw), c.pol.AllowedHosts)
	}
}

// LinkURL returns the canonical form (NormalizeURL) of a link's URL and
// whether its origin is one of pol.AllowedHosts.
func LinkURL(raw string, pol Policy) (string, bool) {
	u, err := NormalizeURL(raw, pol.AllowInsecureLocal)
	if err != nil {
		return "", false
	}
	o, err := OriginOf(u, pol.AllowInsecureLocal)
	if err != nil {
		return "", false
	}
	for _, a := range pol.AllowedHosts {
		if n, err := NormalizeOrigin(a, pol.AllowInsecureLocal); err == nil && n == o {
			return u, true
		}
	}
	return "", false
}

func (c *checker) download(p *loc, b *Block) {
	if len(b.Data) > MaxDownloadBytes {
		c.add(p.dot("data"), "%d bytes, at most %d", len(b.Data), MaxDownloadBytes)
	}
	mt, params, err := mime.ParseMediaType(b.ContentType)
	exts := DownloadExtensions[mt]
	if err != nil || exts == nil {
		c.add(p.dot("content_type"), "%q is not one of the allowed types %v", truncate(b.ContentType), DownloadTypes)
	} else if cs, ok := params["charset"]; ok && strings.HasPrefix(mt, "text/") && !strings.EqualFold(cs, "utf-8") {
		c.add(p.dot("content_type"), "only the utf-8 charset is allowed, not %q", truncate(cs))
	}
	name := SanitizeFilename(b.Filename)
	switch {
	case name == "":
		c.add(p.dot("filename"), "no usable file name")
	case exts != nil:
		if ext := strings.ToLower(path.Ext(name)); !slices.Contains(exts, ext) || len(name) == len(ext) {
			c.add(p.dot("filename"), "%q must end in one of %v for %s", truncate(b.Filename), exts, mt)
		}
	}
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

// ValidBarcode reports whether s may be drawn as an Interleaved 2 of 5
// barcode: an even number of digits, 2 to MaxBarcodeDigits.
func ValidBarcode(s string) bool {
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

// truncate shortens a plugin's string for a problem's Reason.
func truncate(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.ToValidUTF8(s, "?")
}
