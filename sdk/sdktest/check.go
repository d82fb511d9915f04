package sdktest

import (
	"fmt"
	"slices"

	"github.com/portico-dev/portico/sdk/abi"
)

// CheckView lists the ways v breaks the rules Portico's renderer applies
// (nil when it breaks none): unknown block, tone or field types, heading
// levels outside 1–3, barcodes that are not an even number of digits, links
// to an origin not in allowedHosts, downloads without a file name, form
// fields without a name, select values that are not options, and buttons
// naming an action not in actions (when actions is non-nil).
func CheckView(v *abi.View, allowedHosts, actions []string) []string {
	var problems []string
	add := func(i int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("block %d: ", i)+fmt.Sprintf(format, args...))
	}
	for i, b := range v.Blocks {
		switch b.Type {
		case abi.BlockHeading:
			if b.Level < 1 || b.Level > 3 {
				add(i, "heading level %d is not 1, 2 or 3", b.Level)
			}
		case abi.BlockText, abi.BlockKV, abi.BlockTable, abi.BlockCopy:
		case abi.BlockAlert:
			switch b.Tone {
			case abi.ToneInfo, abi.ToneSuccess, abi.ToneWarning, abi.ToneError:
			default:
				add(i, "unknown alert tone %q", b.Tone)
			}
		case abi.BlockQR:
			if b.Value == "" {
				add(i, "empty QR code")
			}
		case abi.BlockBarcode:
			if !evenDigits(b.Value) {
				add(i, "barcode %q is not an even number of digits (Interleaved 2 of 5)", b.Value)
			}
		case abi.BlockLink:
			o := Origin(b.URL)
			if o == "" || !slices.ContainsFunc(allowedHosts, func(a string) bool { return Origin(a) == o }) {
				add(i, "link to %q: not one of the allowed hosts %v", b.URL, allowedHosts)
			}
		case abi.BlockDownload:
			if b.Filename == "" {
				add(i, "download without a file name")
			}
		case abi.BlockForm:
			for _, f := range b.Fields {
				switch f.Type {
				case abi.FieldText, abi.FieldNumber, abi.FieldDate, abi.FieldSelect, abi.FieldCheckbox, abi.FieldHidden:
				default:
					add(i, "field %q has unknown type %q", f.Name, f.Type)
				}
				if f.Name == "" {
					add(i, "a %s field without a name", f.Type)
				}
				if f.Type == abi.FieldSelect && f.Value != "" &&
					!slices.ContainsFunc(f.Options, func(o abi.Option) bool { return o.Value == f.Value }) {
					add(i, "select %q: value %q is not an option", f.Name, f.Value)
				}
			}
			if len(b.Buttons) == 0 {
				add(i, "a form without buttons")
			}
			for _, btn := range b.Buttons {
				if actions != nil && !slices.Contains(actions, btn.Action) {
					add(i, "button %q calls action %q, which has no handler", btn.Label, btn.Action)
				}
			}
		default:
			add(i, "unknown block type %q", b.Type)
		}
	}
	return problems
}

func evenDigits(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
