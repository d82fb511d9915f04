// Package viewtext renders a plugin's view as plain text: for assertions in
// tests, for runnable examples, and for `portico plugin run` in a terminal.
// It uses the standard library only.
package viewtext

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/portico-dev/portico/sdk/abi"
)

// Format returns v as readable text, one block after another:
//
//	# Title                    the view's title and level-1 headings
//	## Heading                 level 2 (### for level 3)
//	[warning] text             an alert with its tone
//	Label: value               a key-value row
//	[copy] Label: text         copyable text
//	[form]                     a form, its fields and buttons indented
//	  name (text, required) "Label" = "value"
//	  [button] Label -> action
//
// Tables are drawn with aligned columns. The output ends with a newline.
func Format(v *abi.View) string {
	var b strings.Builder
	if v == nil {
		return "(no view)\n"
	}
	if v.Title != "" {
		fmt.Fprintf(&b, "# %s\n", v.Title)
	}
	for _, bl := range v.Blocks {
		writeBlock(&b, bl)
	}
	return b.String()
}

func writeBlock(b *strings.Builder, bl abi.Block) {
	switch bl.Type {
	case abi.BlockHeading:
		level := min(max(bl.Level, 1), 3)
		fmt.Fprintf(b, "%s %s\n", strings.Repeat("#", level), bl.Text)
	case abi.BlockText:
		fmt.Fprintf(b, "%s\n", bl.Text)
	case abi.BlockAlert:
		fmt.Fprintf(b, "[%s] %s\n", bl.Tone, bl.Text)
	case abi.BlockKV:
		for _, it := range bl.Items {
			fmt.Fprintf(b, "%s: %s\n", it.Label, it.Value)
		}
	case abi.BlockTable:
		writeTable(b, bl.Columns, bl.Rows)
	case abi.BlockForm:
		b.WriteString("[form]\n")
		for _, f := range bl.Fields {
			var attrs []string
			attrs = append(attrs, f.Type)
			if f.Required {
				attrs = append(attrs, "required")
			}
			fmt.Fprintf(b, "  %s (%s)", f.Name, strings.Join(attrs, ", "))
			if f.Label != "" {
				fmt.Fprintf(b, " %q", f.Label)
			}
			fmt.Fprintf(b, " = %q", f.Value)
			if f.Placeholder != "" {
				fmt.Fprintf(b, " placeholder %q", f.Placeholder)
			}
			if len(f.Options) > 0 {
				opts := make([]string, len(f.Options))
				for i, o := range f.Options {
					opts[i] = o.Value + "=" + o.Label
				}
				fmt.Fprintf(b, " options [%s]", strings.Join(opts, ", "))
			}
			b.WriteString("\n")
		}
		for _, btn := range bl.Buttons {
			fmt.Fprintf(b, "  [button] %s -> %s\n", btn.Label, btn.Action)
		}
	case abi.BlockCopy:
		fmt.Fprintf(b, "[copy] %s: %s\n", bl.Label, bl.Text)
	case abi.BlockBarcode:
		fmt.Fprintf(b, "[barcode] %s: %s\n", bl.Label, bl.Value)
	case abi.BlockQR:
		fmt.Fprintf(b, "[qr] %s: %s\n", bl.Label, bl.Value)
	case abi.BlockLink:
		fmt.Fprintf(b, "[link] %s -> %s\n", bl.Label, bl.URL)
	case abi.BlockDownload:
		fmt.Fprintf(b, "[download] %s: %s (%s, %d bytes)\n", bl.Label, bl.Filename, bl.ContentType, len(bl.Data))
	default:
		fmt.Fprintf(b, "[unknown block %q]\n", bl.Type)
	}
}

func writeTable(b *strings.Builder, cols []string, rows [][]string) {
	n := len(cols)
	for _, r := range rows {
		n = max(n, len(r))
	}
	width := make([]int, n)
	measure := func(r []string) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	measure(cols)
	for _, r := range rows {
		measure(r)
	}
	line := func(r []string) {
		cells := make([]string, n)
		for i := range n {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			cells[i] = c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
		}
		b.WriteString(strings.TrimRight(strings.Join(cells, " | "), " ") + "\n")
	}
	if len(cols) > 0 {
		line(cols)
		seps := make([]string, n)
		for i := range n {
			seps[i] = strings.Repeat("-", width[i])
		}
		b.WriteString(strings.Join(seps, "-+-") + "\n")
	}
	for _, r := range rows {
		line(r)
	}
}
