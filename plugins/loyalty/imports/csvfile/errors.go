package csvfile

import (
	"fmt"
	"strings"
)

// Codes of a FileError: why a whole file is refused before anything of it
// is applied. Pages translate them; Message gives the pt-BR text.
const (
	CodeEmpty           = "empty"            // no bytes, or no header line
	CodeTooLarge        = "too_large"        // over the size limit (the importer's MaxFileSize)
	CodeBinary          = "binary"           // NUL bytes or many control characters: not a text file
	CodeSpreadsheet     = "spreadsheet"      // an .xlsx/.ods (zip) or .xls file rather than CSV
	CodeUTF16           = "utf16"            // a UTF-16 or UTF-32 file ("Unicode text")
	CodeInvalidEncoding = "invalid_encoding" // neither UTF-8 nor Windows-1252/Latin-1
	CodeMixedEncoding   = "mixed_encoding"   // UTF-8 text and bytes that are not UTF-8 (Line: the first of those)
	CodeMalformedHeader = "malformed_header" // the header line is not valid CSV
	CodeNoSeparator     = "no_separator"     // the header line has no ',', ';' or tab (Detail: the line, clipped)
	CodeMissingColumn   = "missing_column"   // a required column (Column) is absent
	CodeDuplicateColumn = "duplicate_column" // two headers name the same column (Column)
	CodeNoRows          = "no_rows"          // a header and no data row
)

// FileError refuses a whole file: nothing of it is stored or applied.
type FileError struct {
	Code string
	// Column is the column concerned (missing_column, duplicate_column):
	// the pt-BR name of a missing one ("nome", "email"), the header as
	// written of a duplicated one.
	Column string
	// Detail adds facts to the message (the missing columns, the limit).
	Detail string
	// Line is the file's line (1-based, as a text editor counts them)
	// concerned (mixed_encoding: the first byte that is not UTF-8); 0 none.
	Line int
}

func (e *FileError) Error() string {
	s := "csv file refused: " + e.Code
	if e.Column != "" {
		s += " (" + e.Column + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	return s
}

// Message is the refusal in pt-BR, for the page and the API.
func (e *FileError) Message() string {
	switch e.Code {
	case CodeEmpty:
		return "O arquivo está vazio."
	case CodeTooLarge:
		return "O arquivo é grande demais (" + e.Detail + "). Divida-o em arquivos menores."
	case CodeBinary:
		return "O arquivo não é um texto CSV (tem bytes binários). Exporte a planilha como CSV."
	case CodeSpreadsheet:
		return "O arquivo é uma planilha (.xlsx, .xls ou .ods), não um CSV. No Excel ou LibreOffice, use \"Salvar como\" › CSV."
	case CodeUTF16:
		return "O arquivo está em UTF-16 (\"Texto Unicode\"). Salve-o como \"CSV UTF-8\" ou CSV comum."
	case CodeInvalidEncoding:
		return "A codificação do arquivo não é UTF-8 nem Latin-1 (Windows-1252)" + suffix(e.Detail) + "."
	case CodeMixedEncoding:
		return fmt.Sprintf("O arquivo mistura codificações: tem texto em UTF-8, mas a linha %d tem bytes que não são UTF-8 "+
			"(talvez Latin-1, colado de outro arquivo). Lido de um jeito ou de outro, nomes sairiam com letras trocadas. "+
			"Salve-o de novo como \"CSV UTF-8\" e envie outra vez.", e.Line)
	case CodeNoSeparator:
		return "A linha de cabeçalho \"" + e.Detail + "\" não tem separador de colunas: separe as colunas com vírgula, ponto e vírgula ou tabulação."
	case CodeMalformedHeader:
		return "A linha de cabeçalho não é CSV válido" + suffix(e.Detail) + "."
	case CodeMissingColumn:
		return "Falta a coluna obrigatória " + e.Detail + "."
	case CodeDuplicateColumn:
		return fmt.Sprintf("A coluna %q aparece mais de uma vez no cabeçalho.", e.Column)
	case CodeNoRows:
		return "O arquivo tem o cabeçalho mas nenhuma linha de dados."
	}
	return "Arquivo recusado: " + e.Code + "."
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// Problem is what is wrong with one data row; the row is reported and not
// applied.
type Problem struct {
	Field   string // name, email, document, points, or "" for the record
	Code    string // e.g. invalid_email
	Message string // pt-BR
}

// Row problem codes.
const (
	CodeMalformed        = "malformed" // bad quoting: the record could not be read
	CodeNameRequired     = "name_required"
	CodeNameTooLong      = "name_too_long"
	CodeNameInvalid      = "name_invalid"
	CodeEmailRequired    = "email_required"
	CodeEmailInvalid     = "email_invalid"
	CodeDocumentInvalid  = "document_invalid"
	CodePointsInvalid    = "points_invalid"
	CodePointsOutOfRange = "points_out_of_range"
)

// Messages joins the problems' messages, for a report line.
func Messages(ps []Problem) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Message
	}
	return strings.Join(out, "; ")
}
