// Package view is the portal's side of what a wasm plugin returns. The
// rules a view must follow are the plugin contract's (abi.CheckView: the
// limits, the text rule, names, links to the plugin's allowed hosts,
// download types), written once in sdk/abi so that the SDK's test harness
// answers exactly what the portal answers. Here the portal applies them
// with the plugin's policy: a view that breaks any rule is refused whole
// ("malformed"); it is never partly rendered. Clean returns a copy that
// holds only the fields each block type uses, so the HTML page and the
// JSON API show exactly what was checked. What a form submits to an
// action is checked before the plugin runs by the contract's own rule
// (abi.CheckAction, applied by host/runner), not here.
//
// The package also draws barcodes (Interleaved 2 of 5) and QR codes as SVG
// built from numbers only, so no plugin text reaches the markup.
//
// It imports neither Fiber nor storage.
package view

import (
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/portico-dev/portico/sdk/abi"
)

// Policy is what the portal knows about the plugin that the view check
// needs: its allowed hosts (a link-out must point at one of them) and
// whether http:// links to localhost are allowed (demo and dev).
type Policy = abi.Policy

// Error says why a view was refused: Path names the offending element
// (e.g. "blocks[3].rows"), Reason is English for logs.
type Error = abi.ViewError

// ErrEmpty means the output held neither a view nor an error.
var ErrEmpty = errors.New("invalid view: output has neither a view nor an error")

func fail(p, format string, args ...any) error {
	return &Error{Path: p, Reason: fmt.Sprintf(format, args...)}
}

// Result is a checked output: exactly one of View and Message is set.
type Result struct {
	View *abi.View
	// Message is the plugin's polite error, shown as an alert.
	Message string
}

// CleanOutput checks a guest's output with the contract's check
// (abi.OutputError) and returns its clean form.
func CleanOutput(o *abi.Output, pol Policy) (*Result, error) {
	if o == nil || (o.Error == "" && o.View == nil) {
		return nil, ErrEmpty
	}
	if err := abi.OutputError(o, pol); err != nil {
		return nil, err
	}
	if o.Error != "" {
		return &Result{Message: o.Error}, nil
	}
	return &Result{View: cleanView(o.View, pol)}, nil
}

// Clean checks v with the contract's check (abi.ViewErr) and returns a
// copy holding only the fields each block type uses, with defaults filled
// in (heading level 2, alert tone info), link URLs in canonical form and
// download file names as they will be served (abi.SanitizeFilename).
func Clean(v *abi.View, pol Policy) (*abi.View, error) {
	if err := abi.ViewErr(v, pol); err != nil {
		return nil, err
	}
	return cleanView(v, pol), nil
}

// cleanView copies a view that passed the check.
func cleanView(v *abi.View, pol Policy) *abi.View {
	out := &abi.View{Title: v.Title, Blocks: make([]abi.Block, 0, len(v.Blocks))}
	for i := range v.Blocks {
		out.Blocks = append(out.Blocks, cleanBlock(&v.Blocks[i], pol))
	}
	return out
}

func cleanBlock(b *abi.Block, pol Policy) abi.Block {
	out := abi.Block{Type: b.Type}
	switch b.Type {
	case abi.BlockHeading:
		out.Text, out.Level = b.Text, b.Level
		if out.Level == 0 {
			out.Level = 2
		}
	case abi.BlockText:
		out.Text = b.Text
	case abi.BlockAlert:
		out.Text, out.Tone = b.Text, b.Tone
		if out.Tone == "" {
			out.Tone = abi.ToneInfo
		}
	case abi.BlockKV:
		out.Label, out.Items = b.Label, slices.Clone(b.Items)
	case abi.BlockTable:
		out.Label, out.Columns = b.Label, slices.Clone(b.Columns)
		out.Rows = make([][]string, len(b.Rows))
		for r, row := range b.Rows {
			out.Rows[r] = slices.Clone(row)
		}
	case abi.BlockForm:
		out.Label = b.Label
		out.Fields = make([]abi.Field, len(b.Fields))
		for j, f := range b.Fields {
			out.Fields[j] = abi.Field{Type: f.Type, Name: f.Name, Label: f.Label, Value: f.Value, Required: f.Required}
			switch f.Type {
			case abi.FieldText, abi.FieldNumber:
				out.Fields[j].Placeholder = f.Placeholder
			case abi.FieldSelect:
				out.Fields[j].Options = slices.Clone(f.Options)
			case abi.FieldHidden:
				out.Fields[j].Required = false
			}
		}
		out.Buttons = slices.Clone(b.Buttons)
	case abi.BlockCopy:
		out.Label, out.Text = b.Label, b.Text
	case abi.BlockBarcode, abi.BlockQR:
		out.Label, out.Value = b.Label, b.Value
	case abi.BlockLink:
		out.Label = b.Label
		out.URL, _ = abi.LinkURL(b.URL, pol)
	case abi.BlockDownload:
		out.Label = b.Label
		mt, params, _ := mime.ParseMediaType(b.ContentType)
		out.ContentType = mt
		if _, ok := params["charset"]; ok && strings.HasPrefix(mt, "text/") {
			out.ContentType += "; charset=utf-8"
		}
		out.Filename = abi.SanitizeFilename(b.Filename)
		out.Data = slices.Clone(b.Data)
	}
	return out
}

// SanitizeFilename is abi.SanitizeFilename: the file name a download is
// served under.
func SanitizeFilename(s string) string { return abi.SanitizeFilename(s) }
