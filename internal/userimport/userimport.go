// Package userimport reads the spreadsheet a gestor uploads to create the
// portal's customers and síndicos in bulk: a CSV file with a header line
// and one person per line. It parses and checks the file's shape only;
// each person is then created through the admin service, which validates
// them as it validates one typed into the form.
//
// The file: columns in any order, named in Portuguese, Spanish or English,
// case, spaces and accents ignored — e-mail (required; "email",
// "correo"), nome (required; "name", "nombre"), perfil ("role", "rol":
// cliente, síndico or ambos; blank is cliente), documento ("cpf", "cnpj",
// "document"), telefone ("celular", "phone", "teléfono"); two phone or two
// document columns (Telefone and Celular, CPF and CNPJ) give the first one
// filled in. Other columns are ignored and listed. The separator is the
// one of ";", "," and tab under which the header names both required
// columns, or the one a first line "sep=;" names, as Excel writes it (a
// setting, not a row). The text is UTF-8, with or without a byte order
// mark, UTF-16 with one (Excel's "Unicode Text"), or Windows-1252 (what
// Excel saves on Windows), told apart as decode says; a file mixing two is
// refused rather than read with garbled names. Lines may end in CRLF, LF
// or CR; quoted fields follow RFC 4180; blank lines are skipped, before
// the header too. Line numbers are the spreadsheet's rows: a line break
// inside a quoted cell does not start a row. A stray quote spoils its row
// only; a quote that never closes refuses the file, naming the row where
// it opens.
//
// A CPF or CNPJ of digits that a spreadsheet stored as a number lost one
// or two leading zeros; they are put back when the result is a valid
// document, and one shown in scientific notation (1,23457E+13) is reported
// as such.
//
// It uses the standard library, golang.org/x/text's Windows-1252 table and
// internal/document.
package userimport

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"

	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/internal/document"
)

// Limits of a file.
const (
	MaxBytes = 960 << 10 // the file: under the server's 1 MiB request limit with the form around it
	MaxRows  = 2000      // people per file: created one by one, within a request's time
	MaxField = 320       // characters of one field
)

// Columns of the file.
const (
	ColEmail    = "email"
	ColName     = "name"
	ColRole     = "role"
	ColDocument = "document"
	ColPhone    = "phone"
)

// aliases maps a folded header (lower case, no accents, no spaces,
// hyphens, dots or underscores) to its column.
var aliases = map[string]string{
	"email": ColEmail, "mail": ColEmail, "correo": ColEmail, "correoelectronico": ColEmail, "enderecodeemail": ColEmail,
	"nome": ColName, "name": ColName, "nombre": ColName, "nomecompleto": ColName, "fullname": ColName, "nombrecompleto": ColName,
	"perfil": ColRole, "papel": ColRole, "role": ColRole, "rol": ColRole,
	"documento": ColDocument, "cpf": ColDocument, "cnpj": ColDocument, "cpfcnpj": ColDocument, "document": ColDocument,
	"telefone": ColPhone, "celular": ColPhone, "phone": ColPhone, "telefono": ColPhone, "mobile": ColPhone, "whatsapp": ColPhone,
}

// Roles a row may ask for: the portal's customer roles. Gestores are
// created one at a time, on the user form.
const (
	RoleCliente = "cliente"
	RoleSindico = "sindico"
)

// roleValues maps a folded role cell to the roles it grants.
var roleValues = map[string][]string{
	"": {RoleCliente}, "cliente": {RoleCliente}, "client": {RoleCliente}, "customer": {RoleCliente}, "comprador": {RoleCliente},
	"sindico": {RoleSindico}, "sindica": {RoleSindico}, "condominiummanager": {RoleSindico},
	"ambos": {RoleCliente, RoleSindico}, "both": {RoleCliente, RoleSindico}, "clientesindico": {RoleCliente, RoleSindico},
	"clienteesindico": {RoleCliente, RoleSindico}, "clienteysindico": {RoleCliente, RoleSindico},
}

// Row is one person of the file. Problem, when set, is why the row cannot
// be imported as it stands (a Row* code, about the column Field, with the
// cell's Value for RowBadRole); the others are the service's to find.
type Row struct {
	Line                         int // the spreadsheet's row, the header being 1
	Email, Name, Document, Phone string
	Roles                        []string
	Problem, Field, Value        string
}

// Row problem codes.
const (
	RowBadRole    = "bad_role"   // the perfil is none of cliente, síndico, ambos (Value)
	RowTooLong    = "too_long"   // a field is over MaxField characters
	RowScientific = "scientific" // the document is a number in scientific notation (1,23457E+13)
	RowMalformed  = "bad_quote"  // a quote inside an unquoted field: the row cannot be read
)

// File error codes: the whole file is refused and nobody is created.
const (
	FileEmpty         = "empty"          // no header line
	FileTooLarge      = "too_large"      // over MaxBytes
	FileTooManyRows   = "too_many_rows"  // over MaxRows people
	FileNotText       = "not_text"       // holds NUL bytes: a spreadsheet not saved as CSV
	FileMissingColumn = "missing_column" // no e-mail or no nome column (Column names it)
	FileDuplicate     = "duplicate"      // a column appears twice (Column names it)
	FileBadCSV        = "bad_csv"        // a quoted field is not closed (Line: where it opens)
	FileNoRows        = "no_rows"        // a header and nobody under it
	FileMixed         = "mixed_encoding" // UTF-8 and another encoding in one file
)

// FileError refuses a whole file.
type FileError struct {
	Code   string
	Line   int    // for FileBadCSV
	Column string // for FileMissingColumn and FileDuplicate
}

func (e *FileError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("user import: %s at line %d", e.Code, e.Line)
	case e.Column != "":
		return fmt.Sprintf("user import: %s: %s", e.Code, e.Column)
	}
	return "user import: " + e.Code
}

// File is a parsed file: its people and the header columns it ignored.
type File struct {
	Rows    []Row
	Ignored []string
	// Separator is the field separator found in the header line.
	Separator rune
}

// Parse reads a whole file (at most MaxBytes). A refusal of the whole file
// is a *FileError; a row with a problem is returned with Problem set.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxBytes {
		return nil, &FileError{Code: FileTooLarge}
	}
	// Excel's "Unicode Text" (.txt) is UTF-16 with a byte order mark.
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		u, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, &FileError{Code: FileNotText}
		}
		data = append([]byte("\xef\xbb\xbf"), u...)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &FileError{Code: FileNotText}
	}
	text, err := decode(data)
	if err != nil {
		return nil, err
	}
	// Line breaks: CRLF and a lone CR (old Mac spreadsheets) become LF.
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	// Blank lines before the header are not the header, and count as the
	// spreadsheet's rows; Excel's "sep=;" line is a setting, not a row.
	skipped := 0
	var sep rune
	for {
		line, rest, found := strings.Cut(text, "\n")
		if m := sepLine.FindStringSubmatch(strings.Trim(line, " ")); m != nil && sep == 0 && skipped == 0 {
			sep, _ = utf8.DecodeRuneInString(m[1])
			text = rest
			continue
		}
		if strings.Trim(line, ",; \t") != "" || !found {
			break
		}
		text, skipped = rest, skipped+1
	}
	header := firstRecord(text)
	if strings.Trim(header, ",; \t\n") == "" {
		return nil, &FileError{Code: FileEmpty}
	}
	if sep == 0 {
		sep = separator(header)
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.FieldsPerRecord, r.ReuseRecord = sep, -1, true
	head, err := r.Read()
	if err != nil {
		return nil, csvError(err, skipped, 0)
	}
	f := &File{Separator: sep}
	cols := map[int]string{}
	seen := map[string]bool{}
	for i, h := range head {
		col, ok := aliases[fold(h)]
		switch {
		case !ok:
			if name := strings.TrimSpace(h); name != "" && len(f.Ignored) < MaxIgnored {
				f.Ignored = append(f.Ignored, clip.Runes(name, 40))
			}
		case seen[col] && col != ColPhone && col != ColDocument:
			return nil, &FileError{Code: FileDuplicate, Column: col}
		default:
			// Telefone and Celular, or CPF and CNPJ, side by side: the
			// first one filled in counts.
			seen[col], cols[i] = true, col
		}
	}
	for _, need := range []string{ColEmail, ColName} {
		if !seen[need] {
			return nil, &FileError{Code: FileMissingColumn, Column: need}
		}
	}
	// embedded counts the line breaks inside quoted cells so far, which a
	// spreadsheet does not count as rows.
	embedded := newlines(head)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		// A stray quote inside a cell, or text after a closing quote, on
		// one line: that row cannot be read, the next ones can. A quote
		// that runs to other lines never closed: the file is refused.
		if errors.As(err, &pe) && (errors.Is(pe.Err, csv.ErrBareQuote) || errors.Is(pe.Err, csv.ErrQuote) && pairedQuotes(text, pe.StartLine)) {
			// One row cannot be read; the next ones can.
			if len(f.Rows) == MaxRows {
				return nil, &FileError{Code: FileTooManyRows}
			}
			f.Rows = append(f.Rows, Row{Line: skipped + pe.StartLine - embedded, Problem: RowMalformed})
			embedded += pe.Line - pe.StartLine
			continue
		}
		if err != nil {
			return nil, csvError(err, skipped, embedded)
		}
		line, _ := r.FieldPos(0)
		row := Row{Line: skipped + line - embedded}
		embedded += newlines(rec)
		blank := true
		role := ""
		for i, cell := range rec {
			cell = strings.TrimSpace(cell)
			if cell != "" {
				blank = false
			}
			col, ok := cols[i]
			if !ok {
				continue
			}
			if utf8.RuneCountInString(cell) > MaxField {
				if row.Problem == "" {
					row.Problem, row.Field = RowTooLong, col
				}
				cell = clip.Runes(cell, MaxField)
			}
			switch col {
			case ColEmail:
				row.Email = cell
			case ColName:
				row.Name = cell
			case ColRole:
				role = cell
			case ColDocument:
				row.Document = cmp.Or(row.Document, cell)
			case ColPhone:
				row.Phone = cmp.Or(row.Phone, cell)
			}
		}
		if blank {
			continue
		}
		if len(f.Rows) == MaxRows {
			return nil, &FileError{Code: FileTooManyRows}
		}
		roles, ok := roleValues[fold(role)]
		if !ok && row.Problem == "" {
			row.Problem, row.Field, row.Value = RowBadRole, ColRole, clip.Runes(role, 40)
		}
		row.Roles = roles
		if d, problem := lostZeros(row.Document); problem != "" {
			if row.Problem == "" {
				row.Problem, row.Field = problem, ColDocument
			}
		} else {
			row.Document = d
		}
		f.Rows = append(f.Rows, row)
	}
	if len(f.Rows) == 0 {
		return nil, &FileError{Code: FileNoRows}
	}
	return f, nil
}

// MaxIgnored bounds File.Ignored: a header of thousands of unknown
// columns lists the first ones.
const MaxIgnored = 20

// sepLine is Excel's first line naming the separator: "sep=;".
var sepLine = regexp.MustCompile(`(?i)^"?sep=([;,\t])"?$`)

// scientific is a number a spreadsheet shows in scientific notation, as a
// long CPF or CNPJ column formatted as a number becomes: 1,23457E+13.
var scientific = regexp.MustCompile(`(?i)^[0-9]+([.,][0-9]+)?e\+?[0-9]+$`)

// lostZeros returns the document with the leading zeros a spreadsheet
// dropped put back (a CPF of 9 or 10 digits, a CNPJ of 12 or 13, when the
// padded number is a valid one), or a problem code for a number in
// scientific notation. Anything else is returned as it is, for the
// user form's rule to judge.
func lostZeros(doc string) (string, string) {
	if scientific.MatchString(doc) {
		return doc, RowScientific
	}
	if doc == "" || strings.Trim(doc, "0123456789") != "" {
		return doc, ""
	}
	// Only to the nearest length, one or two zeros lost: a CPF of 9 or 10
	// digits, a CNPJ of 12 or 13. Padding further, or an 11-digit number
	// to a CNPJ, would turn a typo into someone else's valid document.
	n := 0
	switch len(doc) {
	case 9, 10:
		n = 11
	case 12, 13:
		n = 14
	default:
		return doc, ""
	}
	if d, err := document.Normalize(strings.Repeat("0", n-len(doc)) + doc); err == nil {
		return d, ""
	}
	return doc, ""
}

// newlines counts the line breaks inside the cells of rec.
func newlines(rec []string) int {
	n := 0
	for _, c := range rec {
		n += strings.Count(c, "\n")
	}
	return n
}

// decode returns the file's text: UTF-8 without its byte order mark, or
// Windows-1252 (what Excel saves on Windows) turned into UTF-8. The two
// are told apart by their letters:
//   - valid UTF-8 is UTF-8, unless every non-ASCII letter in it falls in
//     U+0180–U+07FF and none in Latin-1: Windows-1252 text whose accented
//     capital meets a curly quote or a no-break space ("JOSÉ DA SILVA")
//     happens to be valid UTF-8 of such letters, which no Portuguese or
//     Spanish name uses;
//   - invalid UTF-8 is Windows-1252, unless it also holds UTF-8 Latin-1
//     letters, curly quotes or euro signs, the sign of a file put
//     together from two encodings: refused (FileMixed), as is a BOM
//     followed by invalid UTF-8 or a byte Windows-1252 leaves undefined.
//     Read either way, some names would be stored garbled.
func decode(data []byte) (string, error) {
	if rest, bom := bytes.CutPrefix(data, []byte("\xef\xbb\xbf")); bom {
		if !utf8.Valid(rest) {
			return "", &FileError{Code: FileMixed}
		}
		return string(rest), nil
	}
	if utf8.Valid(data) {
		if !latin1Letters(data) && hasNonASCII(data) {
			return windows1252(data)
		}
		return string(data), nil
	}
	if latin1Letters(data) {
		return "", &FileError{Code: FileMixed}
	}
	return windows1252(data)
}

// latin1Letters reports whether data holds a UTF-8 sequence of a Latin-1
// character (U+0080–U+00FF: á, ç, ã, º…), a curly quote or a euro sign.
func latin1Letters(data []byte) bool {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if size > 1 && (r >= 0x80 && r <= 0xff || r >= 0x2018 && r <= 0x201f || r == 0x20ac) {
			return true
		}
		i += size
	}
	return false
}

func hasNonASCII(data []byte) bool {
	for _, b := range data {
		if b >= 0x80 {
			return true
		}
	}
	return false
}

// windows1252 decodes data, refusing the bytes the code page leaves
// undefined.
func windows1252(data []byte) (string, error) {
	for _, b := range data {
		switch b {
		case 0x81, 0x8d, 0x8f, 0x90, 0x9d:
			return "", &FileError{Code: FileMixed}
		}
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", &FileError{Code: FileMixed}
	}
	return string(out), nil
}

// pairedQuotes reports whether line n (1-based) of text holds an even
// number of quotes: a quote error there is text after a closing quote
// ("Ana" Maria), not a quote that never closes.
func pairedQuotes(text string, n int) bool {
	for range n - 1 {
		_, rest, found := strings.Cut(text, "\n")
		if !found {
			return false
		}
		text = rest
	}
	line, _, _ := strings.Cut(text, "\n")
	return strings.Count(line, `"`)%2 == 0
}

// firstRecord returns text up to the first line break outside quotes: the
// header, even when a header cell holds a line break.
func firstRecord(text string) string {
	quoted := false
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '"':
			quoted = !quoted
		case '\n':
			if !quoted {
				return text[:i]
			}
		}
	}
	return text
}

// separator returns the field separator of header: the one of ';', ','
// and tab under which the header names both required columns, preferring
// the one it holds most of outside quotes; else the one it holds most of
// (',' when it holds none), whose missing column is then reported.
func separator(header string) rune {
	counts := map[rune]int{}
	quoted := false
	for _, c := range header {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ';' || c == ',' || c == '\t'):
			counts[c]++
		}
	}
	order := []rune{',', ';', '\t'}
	// Most frequent first; ties keep the order above.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && counts[order[j]] > counts[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, sep := range order {
		r := csv.NewReader(strings.NewReader(header))
		r.Comma, r.LazyQuotes = sep, true
		rec, err := r.Read()
		if err != nil {
			continue
		}
		found := map[string]bool{}
		for _, h := range rec {
			found[aliases[fold(h)]] = true
		}
		if found[ColEmail] && found[ColName] {
			return sep
		}
	}
	return order[0]
}

// csvError turns encoding/csv's error into a FileError naming the
// spreadsheet row where the broken quote opens.
func csvError(err error, skipped, embedded int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Code: FileBadCSV, Line: skipped + pe.StartLine - embedded}
	}
	return &FileError{Code: FileBadCSV}
}

// fold lowers s, drops accents of the Latin letters Portuguese and Spanish
// use, and drops spaces, hyphens, dots, slashes, plus signs, commas,
// semicolons and underscores: "E-mail" and "e_mail" are "email",
// "Síndico" is "sindico", "CPF/CNPJ" is "cpfcnpj", "cliente, síndico" is
// "clientesindico".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if unicode.IsSpace(r) {
			continue // spaces, no-break spaces, a line break typed in a header cell
		}
		switch r {
		case '-', '.', '_', '/', '+', ',', ';':
			continue
		case 'á', 'à', 'â', 'ã', 'ä':
			r = 'a'
		case 'é', 'ê', 'è', 'ë':
			r = 'e'
		case 'í', 'ì', 'î', 'ï':
			r = 'i'
		case 'ó', 'ô', 'õ', 'ò', 'ö':
			r = 'o'
		case 'ú', 'ù', 'û', 'ü':
			r = 'u'
		case 'ç':
			r = 'c'
		case 'ñ':
			r = 'n'
		}
		b.WriteRune(r)
	}
	return b.String()
}
