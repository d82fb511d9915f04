// Package csvfile reads the CSV file of the loyalty programme's bulk
// assignment ("Dar puntos masivamente"), row by row, in bounded memory.
//
// The file: a header line and data rows. Columns, in any order, headers in
// pt-BR or es, case, spaces, '-'/'_' and accents not mattering:
//
//	nome | nombres | nombre                      required
//	email | e-mail | correo | correo electrónico required
//	sobrenome | apellidos | apellido
//	documento | documento de identidad | cpf | cpf/cnpj
//	pontos | puntos
//
// Other columns are ignored (Reader.Ignored lists them). The separator is
// ',', ';' or a tab, whichever the header line has most of outside quotes
// (a header with none of them is refused: no_separator), or the one a first
// line "sep=X" names, as Excel writes and reads it (that line is skipped
// and not counted); fields are quoted as RFC 4180 says. The encoding is UTF-8, with or without the
// BOM, or Windows-1252/Latin-1 (see Detector). Lines may end in CRLF, LF
// or CR; empty lines, and rows whose fields are all empty, are skipped.
//
// A file is refused whole (*FileError) when its encoding is unreadable or
// its header lacks a required column; otherwise every data row is returned
// with its problems (Row.Problems), so the caller applies the good ones
// and reports the bad ones by line.
package csvfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/loyalty/points"
)

// MaxName bounds a customer's full name (nome and sobrenome), in
// characters: Portico's user name limit.
const MaxName = model.MaxNameLength

// Columns the file may have.
const (
	colName = iota
	colSurname
	colEmail
	colDocument
	colPoints
	numCols
)

// columnNames are the pt-BR names the messages use.
var columnNames = [numCols]string{"nome", "sobrenome", "email", "documento", "pontos"}

// headers maps a normalised header to its column.
var headers = map[string]int{
	"nome": colName, "nombres": colName, "nombre": colName,
	"sobrenome": colSurname, "apellidos": colSurname, "apellido": colSurname,
	"email": colEmail, "e_mail": colEmail, "correo": colEmail, "correo_electronico": colEmail,
	"documento": colDocument, "documento_de_identidad": colDocument, "cpf": colDocument, "cpf_cnpj": colDocument,
	"pontos": colPoints, "puntos": colPoints,
}

// Row is one data row.
type Row struct {
	// Line is the row's number as a spreadsheet shows it, the header being
	// 1: empty lines count, and a line break inside a quoted field does
	// not start a new row. Without such line breaks it is the line number
	// in a text editor.
	Line int
	// N is the data row's ordinal, 1-based: skipped empty rows do not
	// count. It is the same for the same rows whatever the bytes.
	N int
	// Name is nome and sobrenome, spaces collapsed; Email and Document are
	// normalised (lower case; the CPF/CNPJ digits) when valid, else as
	// written (trimmed). Points is 0 when the column is absent, empty or
	// 0: the row only registers the customer.
	Name, Email, Document string
	Points                int64
	// Problems is empty for a good row.
	Problems []Problem
}

// OK reports whether the row has no problem.
func (r *Row) OK() bool { return len(r.Problems) == 0 }

// Reader reads the data rows of a file.
type Reader struct {
	csv  *csv.Reader
	sep  rune
	cols [numCols]int
	// Ignored lists the headers, as written, of the columns not used.
	Ignored []string
	// embedded counts line breaks inside the records read so far, which a
	// spreadsheet does not count as rows.
	embedded int
	n        int
	digest   hash.Hash
	eof      bool
}

// NewReader reads the header of r, a file in encoding enc (as Detect
// found it), and returns a Reader of its data rows. A header without a
// required column, with a column twice, or that is not CSV, is a
// *FileError; so is a file with no header line.
func NewReader(r io.Reader, enc Encoding) (*Reader, error) {
	switch enc {
	case UTF8, UTF8BOM:
	case Windows1252:
		r = transform.NewReader(r, charmap.Windows1252.NewDecoder())
	default:
		return nil, fmt.Errorf("csvfile: unknown encoding %q", enc)
	}
	br := bufio.NewReaderSize(newCRReader(r), 64<<10)
	if enc != Windows1252 {
		if b, _ := br.Peek(3); bytes.Equal(b, bomUTF8) {
			_, _ = br.Discard(3)
		}
	}
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	sep, skip := sepLine(head)
	if skip > 0 {
		_, _ = br.Discard(skip)
	} else {
		var content bool
		sep, content = separator(head)
		switch {
		case !content:
			return nil, &FileError{Code: CodeEmpty}
		case sep == 0:
			return nil, &FileError{Code: CodeNoSeparator, Detail: headerLine(head)}
		}
	}
	rd := &Reader{sep: sep, digest: sha256.New()}
	rd.csv = csv.NewReader(br)
	rd.csv.Comma = rd.sep
	rd.csv.FieldsPerRecord = -1
	rd.csv.ReuseRecord = true
	var rec []string
	for {
		rec, err = rd.csv.Read()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return nil, &FileError{Code: CodeEmpty}
		case errors.As(err, &pe):
			return nil, &FileError{Code: CodeMalformedHeader, Detail: problemText(pe)}
		case err != nil:
			return nil, err
		}
		if !blank(rec) {
			break
		}
		rd.embedded += newlines(rec)
	}
	rd.embedded += newlines(rec)
	if err := rd.header(rec); err != nil {
		return nil, err
	}
	return rd, nil
}

// Separator is the field separator: ',', ';' or '\t' as the header has
// it, or the one a "sep=" first line named.
func (r *Reader) Separator() rune { return r.sep }

func (r *Reader) header(rec []string) error {
	for i := range r.cols {
		r.cols[i] = -1
	}
	for i, h := range rec {
		key := headerKey(h)
		col, ok := headers[key]
		switch {
		case key == "":
			continue
		case !ok:
			r.Ignored = append(r.Ignored, strings.TrimSpace(h))
			continue
		case r.cols[col] >= 0:
			return &FileError{Code: CodeDuplicateColumn, Column: strings.TrimSpace(h)}
		}
		r.cols[col] = i
	}
	var missing []string
	if r.cols[colName] < 0 {
		missing = append(missing, `"nome" (ou "nombres")`)
	}
	if r.cols[colEmail] < 0 {
		missing = append(missing, `"email"`)
	}
	if len(missing) > 0 {
		col := "nome"
		if r.cols[colName] >= 0 {
			col = "email"
		}
		return &FileError{Code: CodeMissingColumn, Column: col, Detail: strings.Join(missing, " e ")}
	}
	return nil
}

// Next returns the next data row, or io.EOF after the last. A record that
// is not valid CSV (a stray quote) is a row with a "malformed" problem,
// and reading goes on after it; other errors are the underlying reader's.
func (r *Reader) Next() (*Row, error) {
	if r.eof {
		return nil, io.EOF
	}
	for {
		rec, err := r.csv.Read()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			r.eof = true
			return nil, io.EOF
		case errors.As(err, &pe) && pe.Err != nil && isCSVError(pe.Err):
			r.n++
			row := &Row{Line: pe.StartLine - r.embedded, N: r.n,
				Problems: []Problem{{Code: CodeMalformed, Message: "registro mal formado: " + problemText(pe)}}}
			r.embedded += pe.Line - pe.StartLine
			r.hashMalformed(pe.Line - pe.StartLine)
			return row, nil
		case err != nil:
			return nil, err
		}
		if blank(rec) {
			r.embedded += newlines(rec)
			continue
		}
		line, _ := r.csv.FieldPos(0)
		r.n++
		row := &Row{Line: line - r.embedded, N: r.n}
		r.embedded += newlines(rec)
		r.fill(row, rec)
		r.hash(row, rec)
		return row, nil
	}
}

// Count is the number of data rows returned so far.
func (r *Reader) Count() int { return r.n }

// Digest is the SHA-256 of the rows read so far, in hex: of their
// normalised values (name, e-mail, document, points, as Row has them),
// not of the bytes — the same rows give the same digest whatever the
// encoding, BOM, separator, quoting, line endings, empty lines, column
// order or ignored columns. Read to io.EOF first to have the whole file's.
func (r *Reader) Digest() string { return hex.EncodeToString(r.digest.Sum(nil)) }

func (r *Reader) hash(row *Row, rec []string) {
	var b [binary.MaxVarintLen64]byte
	write := func(s string) {
		r.digest.Write(b[:binary.PutUvarint(b[:], uint64(len(s)))])
		r.digest.Write([]byte(s))
	}
	write("row")
	write(row.Name)
	write(row.Email)
	write(row.Document)
	if len(row.Problems) == 0 || !hasProblem(row.Problems, "points") {
		write(strconv.FormatInt(row.Points, 10))
	} else {
		write("?" + clean(r.field(rec, colPoints)))
	}
}

func (r *Reader) hashMalformed(lines int) {
	fmt.Fprintf(r.digest, "\x03malformed%d\x00", lines)
}

func hasProblem(ps []Problem, field string) bool {
	for _, p := range ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

func (r *Reader) field(rec []string, col int) string {
	if i := r.cols[col]; i >= 0 && i < len(rec) {
		return rec[i]
	}
	return ""
}

// fill validates the row's fields.
func (r *Reader) fill(row *Row, rec []string) {
	add := func(field, code, msg string) {
		row.Problems = append(row.Problems, Problem{Field: field, Code: code, Message: msg})
	}
	name, surname := clean(r.field(rec, colName)), clean(r.field(rec, colSurname))
	row.Name = name
	if surname != "" {
		row.Name = strings.TrimSpace(name + " " + surname)
	}
	switch {
	case name == "":
		add("name", CodeNameRequired, "o nome é obrigatório")
	case !model.ValidText(row.Name, false):
		add("name", CodeNameInvalid, "o nome tem caracteres inválidos")
	case utf8.RuneCountInString(row.Name) > MaxName:
		add("name", CodeNameTooLong, fmt.Sprintf("o nome passa de %d caracteres", MaxName))
	}

	email := strings.TrimSpace(r.field(rec, colEmail))
	row.Email = email
	if email == "" {
		add("email", CodeEmailRequired, "o e-mail é obrigatório")
	} else if e, err := model.NormalizeEmail(email); err != nil {
		add("email", CodeEmailInvalid, "e-mail inválido: "+quote(email))
	} else {
		row.Email = e
	}

	if doc := strings.TrimSpace(r.field(rec, colDocument)); doc != "" {
		row.Document = doc
		if d, err := model.NormalizeDocument(doc); err != nil {
			msg := "documento inválido (CPF ou CNPJ): " + quote(doc)
			if lostZeros(doc) {
				msg += "; parece um CPF ou CNPJ sem os zeros à esquerda, que a planilha apagou ao tratá-lo como número: formate a coluna como texto e exporte de novo"
			}
			add("document", CodeDocumentInvalid, msg)
		} else {
			row.Document = d
		}
	}

	if p := strings.TrimSpace(r.field(rec, colPoints)); p != "" {
		n, ok := parsePoints(p)
		switch {
		case !ok:
			add("points", CodePointsInvalid, "pontos devem ser um número inteiro positivo: "+quote(p))
		case n > points.MaxPoints:
			add("points", CodePointsOutOfRange, fmt.Sprintf("pontos acima do limite de %s por linha: %s", thousands(points.MaxPoints), quote(p)))
		default:
			row.Points = n
		}
	}
}

// lostZeros reports whether doc, refused as a document, is digits only
// and becomes a valid CPF or CNPJ with zeros put back in front: what a
// spreadsheet does to a document column it reads as numbers.
func lostZeros(doc string) bool {
	if doc == "" || strings.Trim(doc, "0123456789") != "" {
		return false
	}
	for _, n := range []int{11, 14} {
		if len(doc) < n {
			if _, err := model.NormalizeDocument(strings.Repeat("0", n-len(doc)) + doc); err == nil {
				return true
			}
		}
	}
	return false
}

// parsePoints reads a whole number of points: digits, optionally grouped
// in thousands with '.' as pt-BR and es write them ("1.500"). 0 is
// accepted (register the customer only); signs, decimals and anything
// else are not.
func parsePoints(s string) (int64, bool) {
	if strings.Contains(s, ".") {
		groups := strings.Split(s, ".")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return 0, false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, false
			}
		}
		s = strings.Join(groups, "")
	}
	if s == "" || len(s) > 12 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// clean trims s, collapses its inner spaces and puts it in NFC, so "José"
// typed on a Mac (NFD) and on Windows are the same name.
func clean(s string) string {
	return norm.NFC.String(strings.Join(strings.Fields(s), " "))
}

// quote shows a value in a message: at most 60 characters, control
// characters as '?'.
func quote(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return `"` + s + `"`
}

// headerKey normalises a header: no accents, lower case, runs of spaces,
// '-', '_', '.' and '/' as one '_'.
func headerKey(h string) string {
	s, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), h)
	if err != nil {
		s = h
	}
	s = strings.ToLower(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' || r == '/' || r == '\ufeff'
	}), "_")
}

// separator returns the separator of the header line — the first line
// with something besides spaces, tabs and separators: ',', ';' or '\t',
// whichever it has most of outside quotes (',' before ';' before a tab on
// a tie), or 0 when it has none of them. It reports whether head has such
// a line.
func separator(head []byte) (rune, bool) {
	commas, semis, tabs, quoted, content := 0, 0, 0, false, false
	for _, c := range head {
		switch {
		case c == '"':
			quoted, content = !quoted, true
		case quoted:
		case c == '\n':
			if content {
				return pick(commas, semis, tabs), true
			}
			commas, semis, tabs = 0, 0, 0
		case c == ',':
			commas++
		case c == ';':
			semis++
		case c == '\t':
			tabs++
		case c != ' ' && c != '\r':
			content = true
		}
	}
	return pick(commas, semis, tabs), content
}

func pick(commas, semis, tabs int) rune {
	switch {
	case commas == 0 && semis == 0 && tabs == 0:
		return 0
	case tabs > commas && tabs > semis:
		return '\t'
	case semis > commas:
		return ';'
	}
	return ','
}

// sepLine reads the "sep=X" line Excel writes (and reads) first to name a
// file's separator: it returns X and the length of the line with its line
// break, or 0, 0 when head does not start with one. The line may be quoted
// and followed by separators, as a spreadsheet that saved it again writes
// it ("sep=;";;). X is ',', ';', a tab, '|' or another ASCII punctuation
// character but the quote.
func sepLine(head []byte) (rune, int) {
	end := bytes.IndexByte(head, '\n')
	if end < 0 {
		return 0, 0
	}
	line := bytes.TrimSuffix(head[:end], []byte("\r"))
	quoted := bytes.HasPrefix(line, []byte(`"`))
	if quoted {
		line = line[1:]
	}
	if len(line) < 5 || !bytes.EqualFold(line[:4], []byte("sep=")) {
		return 0, 0
	}
	x, rest := line[4], line[5:]
	if x != '\t' && (x > unicode.MaxASCII || !unicode.IsPunct(rune(x)) && !unicode.IsSymbol(rune(x)) || x == '"') {
		return 0, 0
	}
	if quoted {
		if !bytes.HasPrefix(rest, []byte(`"`)) {
			return 0, 0
		}
		rest = rest[1:]
	}
	if len(bytes.Trim(rest, " "+string(rune(x)))) > 0 {
		return 0, 0
	}
	return rune(x), end + 1
}

// headerLine is the first line of head with something but spaces in it,
// for a message: at most 60 characters, control characters as '?'.
func headerLine(head []byte) string {
	for _, l := range strings.Split(string(head), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			q := quote(l)
			return q[1 : len(q)-1]
		}
	}
	return ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func newlines(rec []string) int {
	n := 0
	for _, f := range rec {
		n += strings.Count(f, "\n")
	}
	return n
}

func isCSVError(err error) bool {
	return errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote) || errors.Is(err, csv.ErrFieldCount)
}

func problemText(pe *csv.ParseError) string {
	what := "aspas mal colocadas"
	if errors.Is(pe.Err, csv.ErrQuote) && pe.Line > pe.StartLine {
		what = "aspas sem fechamento"
	}
	if pe.Line > pe.StartLine {
		return fmt.Sprintf("%s (o campo vai da linha %d à linha %d do arquivo)", what, pe.StartLine, pe.Line)
	}
	return fmt.Sprintf("%s (linha %d do arquivo, coluna %d)", what, pe.Line, pe.Column)
}

// crReader turns lone CRs (old Mac line endings) into LFs; CRLF stays.
type crReader struct {
	br *bufio.Reader
}

func newCRReader(r io.Reader) *crReader { return &crReader{br: bufio.NewReaderSize(r, 32<<10)} }

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	for i := 0; i < n; i++ {
		if p[i] != '\r' {
			continue
		}
		if i+1 < n {
			if p[i+1] != '\n' {
				p[i] = '\n'
			}
			continue
		}
		if next, _ := c.br.Peek(1); len(next) == 0 || next[0] != '\n' {
			p[i] = '\n'
		}
	}
	return n, err
}

// Summary is what a first pass over a file learns.
type Summary struct {
	Encoding  Encoding
	Separator rune
	Rows      int    // data rows (Reader.Count at the end)
	Digest    string // Reader.Digest of all of them
	Ignored   []string
}

// Scan reads all of r, a file in encoding enc, and summarises it. Besides
// NewReader's refusals it refuses a file with no data row (no_rows).
func Scan(r io.Reader, enc Encoding) (*Summary, error) {
	rd, err := NewReader(r, enc)
	if err != nil {
		return nil, err
	}
	for {
		if _, err := rd.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
	}
	if rd.Count() == 0 {
		return nil, &FileError{Code: CodeNoRows}
	}
	return &Summary{Encoding: enc, Separator: rd.sep, Rows: rd.Count(), Digest: rd.Digest(), Ignored: rd.Ignored}, nil
}
