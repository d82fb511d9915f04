// Package userimport reads the spreadsheet a gestor uploads to create the
// portal's customers and síndicos in bulk: a CSV file with a header line
// and one person per line. It parses and checks the file's shape only;
// each person is then created through the admin service, which validates
// them as it validates one typed into the form.
//
// The file: columns in any order, named in Portuguese, Spanish or English,
// case and accents ignored — e-mail (required; "email", "correo"), nome
// (required; "name", "nombre"), perfil ("role", "rol": cliente, síndico or
// ambos; blank is cliente), documento ("cpf", "cnpj", "document"),
// telefone ("celular", "phone", "teléfono"). Other columns are ignored and
// listed. The separator is the one of ";", "," and tab that the header line
// holds most of (a spreadsheet saved as CSV in Brazil uses ";"). The text
// is UTF-8, with or without a byte order mark, or Windows-1252 (what
// Excel saves on Windows), told apart by whether it is valid UTF-8. Lines
// may end in CRLF or LF; quoted fields follow RFC 4180; blank lines are
// skipped.
//
// It uses the standard library and golang.org/x/text's Windows-1252 table.
package userimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
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
	"perfil": ColRole, "papel": ColRole, "role": ColRole, "rol": ColRole, "tipo": ColRole,
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
// be imported as it stands (RowBadRole, RowTooLong); the others are the
// service's to find.
type Row struct {
	Line                         int // the file's line number, the header being 1
	Email, Name, Document, Phone string
	Roles                        []string
	Problem                      string
}

// Row problem codes.
const (
	RowBadRole = "bad_role" // the perfil is none of cliente, síndico, ambos
	RowTooLong = "too_long" // a field is over MaxField characters
)

// File error codes: the whole file is refused and nobody is created.
const (
	FileEmpty         = "empty"          // no header line
	FileTooLarge      = "too_large"      // over MaxBytes
	FileTooManyRows   = "too_many_rows"  // over MaxRows people
	FileNotText       = "not_text"       // holds NUL bytes: a spreadsheet not saved as CSV
	FileMissingColumn = "missing_column" // no e-mail or no nome column (Column names it)
	FileDuplicate     = "duplicate"      // a column appears twice (Column names it)
	FileBadCSV        = "bad_csv"        // a quote is not closed, or similar (Line)
	FileNoRows        = "no_rows"        // a header and nobody under it
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
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &FileError{Code: FileNotText}
	}
	text := decode(data)
	header, _, _ := strings.Cut(text, "\n")
	if strings.TrimSpace(header) == "" {
		return nil, &FileError{Code: FileEmpty}
	}
	sep := separator(header)
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.FieldsPerRecord, r.ReuseRecord = sep, -1, true
	head, err := r.Read()
	if err != nil {
		return nil, csvError(err)
	}
	f := &File{Separator: sep}
	cols := map[int]string{}
	seen := map[string]bool{}
	for i, h := range head {
		col, ok := aliases[fold(h)]
		switch {
		case !ok:
			if name := strings.TrimSpace(h); name != "" {
				f.Ignored = append(f.Ignored, truncate(name, 40))
			}
		case seen[col]:
			return nil, &FileError{Code: FileDuplicate, Column: col}
		default:
			seen[col], cols[i] = true, col
		}
	}
	for _, need := range []string{ColEmail, ColName} {
		if !seen[need] {
			return nil, &FileError{Code: FileMissingColumn, Column: need}
		}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := r.FieldPos(0)
		row := Row{Line: line}
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
				row.Problem, cell = RowTooLong, truncate(cell, MaxField)
			}
			switch col {
			case ColEmail:
				row.Email = cell
			case ColName:
				row.Name = cell
			case ColRole:
				role = cell
			case ColDocument:
				row.Document = cell
			case ColPhone:
				row.Phone = cell
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
			row.Problem = RowBadRole
		}
		row.Roles = roles
		f.Rows = append(f.Rows, row)
	}
	if len(f.Rows) == 0 {
		return nil, &FileError{Code: FileNoRows}
	}
	return f, nil
}

// decode returns the file's text: UTF-8 without its byte order mark, or
// Windows-1252 turned into UTF-8 when the bytes are not valid UTF-8.
func decode(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil { // Windows-1252 decodes every byte; kept for safety
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	return string(out)
}

// separator returns the one of ';', ',' and tab that header holds most of
// outside quotes (',' when it holds none).
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
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// csvError turns encoding/csv's error into a FileError naming the line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Code: FileBadCSV, Line: pe.Line}
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
		switch r {
		case ' ', '-', '.', '_', '/', '+', ',', ';', '\u00a0':
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

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
