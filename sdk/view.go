package sdk

import "github.com/portico-dev/portico/sdk/abi"

// View is a page of declarative blocks, built by chaining:
//
//	v := sdk.NewView("Boletos").
//		Heading(1, "Segunda via").
//		Text("Escolha o boleto.")
//
// Portico renders every block with its own templates and escapes all text;
// links go only to the plugin's allowed hosts, barcodes must be an even
// number of digits (Interleaved 2 of 5). The host checks this and refuses a
// view that breaks it.
type View struct{ view abi.View }

// NewView returns an empty view with a title (shown as the page's heading
// when set).
func NewView(title string) *View {
	return &View{view: abi.View{Title: title, Blocks: []abi.Block{}}}
}

// ABI returns the view in its wire form.
func (v *View) ABI() *abi.View {
	c := v.view
	c.Blocks = append([]abi.Block{}, v.view.Blocks...)
	return &c
}

func (v *View) add(b abi.Block) *View {
	v.view.Blocks = append(v.view.Blocks, b)
	return v
}

// Heading adds a heading of level 1, 2 or 3 (others are clamped).
func (v *View) Heading(level int, text string) *View {
	level = min(max(level, 1), 3)
	return v.add(abi.Block{Type: abi.BlockHeading, Level: level, Text: text})
}

// Text adds a paragraph.
func (v *View) Text(text string) *View {
	return v.add(abi.Block{Type: abi.BlockText, Text: text})
}

// Alert adds a highlighted message with a tone: abi.ToneInfo,
// abi.ToneSuccess, abi.ToneWarning or abi.ToneError.
func (v *View) Alert(tone, text string) *View {
	return v.add(abi.Block{Type: abi.BlockAlert, Tone: tone, Text: text})
}

// Info adds an alert with tone info.
func (v *View) Info(text string) *View { return v.Alert(abi.ToneInfo, text) }

// Success adds an alert with tone success.
func (v *View) Success(text string) *View { return v.Alert(abi.ToneSuccess, text) }

// Warning adds an alert with tone warning.
func (v *View) Warning(text string) *View { return v.Alert(abi.ToneWarning, text) }

// Error adds an alert with tone error.
func (v *View) Error(text string) *View { return v.Alert(abi.ToneError, text) }

// Item is one row of a key-value list.
func Item(label, value string) abi.KV { return abi.KV{Label: label, Value: value} }

// KV adds a key-value list (label: value rows).
func (v *View) KV(items ...abi.KV) *View {
	return v.add(abi.Block{Type: abi.BlockKV, Items: items})
}

// Table adds a table with a header row of columns and the given rows.
func (v *View) Table(columns []string, rows ...[]string) *View {
	if rows == nil {
		rows = [][]string{}
	}
	return v.add(abi.Block{Type: abi.BlockTable, Columns: columns, Rows: rows})
}

// Form adds a form; see NewForm.
func (v *View) Form(f *Form) *View {
	return v.add(abi.Block{Type: abi.BlockForm, Fields: f.fields, Buttons: f.buttons})
}

// Copy adds text with a copy button, such as a boleto's digitable line or a
// Pix code.
func (v *View) Copy(label, text string) *View {
	return v.add(abi.Block{Type: abi.BlockCopy, Label: label, Text: text})
}

// Barcode adds an Interleaved 2 of 5 barcode (a boleto's); value is digits
// only, an even count.
func (v *View) Barcode(label, value string) *View {
	return v.add(abi.Block{Type: abi.BlockBarcode, Label: label, Value: value})
}

// QR adds a QR code of value (a Pix code, a URL).
func (v *View) QR(label, value string) *View {
	return v.add(abi.Block{Type: abi.BlockQR, Label: label, Value: value})
}

// Link adds a link out, opened in a new tab; its origin must be one of the
// plugin's allowed hosts.
func (v *View) Link(label, url string) *View {
	return v.add(abi.Block{Type: abi.BlockLink, Label: label, URL: url})
}

// Download adds a button that downloads data as filename (a PDF, a CSV).
func (v *View) Download(label, filename, contentType string, data []byte) *View {
	return v.add(abi.Block{Type: abi.BlockDownload, Label: label, Filename: filename, ContentType: contentType, Data: data})
}

// Form is a form whose buttons each run an action with the form's values.
// Field methods add a field; Required and Placeholder change the field
// added last.
//
//	f := sdk.NewForm().
//		Text("nome", "Nome", "").Required().
//		Select("unidade", "Unidade", "", sdk.Option("101", "Apto 101")).
//		Button("Enviar", "enviar")
type Form struct {
	fields  []abi.Field
	buttons []abi.Button
}

// NewForm returns an empty form.
func NewForm() *Form { return &Form{fields: []abi.Field{}, buttons: []abi.Button{}} }

func (f *Form) field(fl abi.Field) *Form {
	f.fields = append(f.fields, fl)
	return f
}

// Text adds a one-line text field with an initial value.
func (f *Form) Text(name, label, value string) *Form {
	return f.field(abi.Field{Type: abi.FieldText, Name: name, Label: label, Value: value})
}

// Number adds a numeric field.
func (f *Form) Number(name, label, value string) *Form {
	return f.field(abi.Field{Type: abi.FieldNumber, Name: name, Label: label, Value: value})
}

// Date adds a date field; value and the submitted value are YYYY-MM-DD.
func (f *Form) Date(name, label, value string) *Form {
	return f.field(abi.Field{Type: abi.FieldDate, Name: name, Label: label, Value: value})
}

// Option is one choice of a select field.
func Option(value, label string) abi.Option { return abi.Option{Value: value, Label: label} }

// Select adds a drop-down list; value is the selected option's value.
func (f *Form) Select(name, label, value string, options ...abi.Option) *Form {
	return f.field(abi.Field{Type: abi.FieldSelect, Name: name, Label: label, Value: value, Options: options})
}

// Checkbox adds a checkbox; a checked box is submitted as "on" (see
// Context.Checked).
func (f *Form) Checkbox(name, label string, checked bool) *Form {
	v := ""
	if checked {
		v = "on"
	}
	return f.field(abi.Field{Type: abi.FieldCheckbox, Name: name, Label: label, Value: v})
}

// Hidden adds a value the form sends back unchanged. The user can still
// change it: verify it in the action like any other input.
func (f *Form) Hidden(name, value string) *Form {
	return f.field(abi.Field{Type: abi.FieldHidden, Name: name, Value: value})
}

// Required marks the last field as required: the portal shows it as
// required, but neither it nor the browser stops a form sent without it
// (the portal's forms are novalidate, so that the messages are the
// plugin's, in the person's language). Check the value in the action and
// answer a missing one with a view that says what to fill in.
func (f *Form) Required() *Form {
	if n := len(f.fields); n > 0 {
		f.fields[n-1].Required = true
	}
	return f
}

// Placeholder sets the last field's placeholder text.
func (f *Form) Placeholder(text string) *Form {
	if n := len(f.fields); n > 0 {
		f.fields[n-1].Placeholder = text
	}
	return f
}

// Button adds a button that submits the form to action.
func (f *Form) Button(label, action string) *Form {
	f.buttons = append(f.buttons, abi.Button{Label: label, Action: action})
	return f
}
