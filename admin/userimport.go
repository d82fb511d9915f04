package admin

import (
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/userimport"
)

// The user import's file, as the admin page and the admin API receive it:
// a text/csv body or a multipart/form-data "file" field, at most
// userimport.MaxBytes. Both edges read it here, turn a refused file into
// the same Problem and put the same words on each row.

// ReadImportFile returns the uploaded CSV file. A request without one is
// the Problem csv_empty; one over the limit csv_too_large; another
// content type unsupported_import_type.
func ReadImportFile(c *fiber.Ctx) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return nil, web.Fail(fiber.StatusUnsupportedMediaType, "unsupported_import_type")
	}
	var b []byte
	switch mt {
	case "text/csv", "text/plain", "application/csv":
		b = c.Body()
	case fiber.MIMEMultipartForm:
		form, err := c.MultipartForm()
		if err != nil {
			return nil, fiber.ErrBadRequest
		}
		files := form.File["file"]
		if len(files) != 1 {
			return nil, ImportProblem(&userimport.FileError{Code: userimport.FileEmpty})
		}
		if files[0].Size > userimport.MaxBytes {
			return nil, ImportProblem(&userimport.FileError{Code: userimport.FileTooLarge})
		}
		f, err := files[0].Open()
		if err != nil {
			return nil, fiber.ErrBadRequest
		}
		defer f.Close()
		if b, err = io.ReadAll(io.LimitReader(f, userimport.MaxBytes+1)); err != nil {
			return nil, fiber.ErrBadRequest
		}
	default:
		return nil, web.Fail(fiber.StatusUnsupportedMediaType, "unsupported_import_type")
	}
	if len(b) > userimport.MaxBytes {
		return nil, ImportProblem(&userimport.FileError{Code: userimport.FileTooLarge})
	}
	return b, nil
}

// ImportProblem turns a refused file (*userimport.FileError) into its
// Problem: 422 csv_<code> (413 csv_too_large), whose message names the
// missing or repeated column and the line of a broken quote. Any other
// error passes through.
func ImportProblem(err error) error {
	var fe *userimport.FileError
	if !errors.As(err, &fe) {
		return err
	}
	p := web.Fail(fiber.StatusUnprocessableEntity, "csv_"+fe.Code)
	if fe.Code == userimport.FileTooLarge {
		p.Status = fiber.StatusRequestEntityTooLarge
	}
	p.Args = []any{"Line", fe.Line, "Column", fe.Column, "Rows", userimport.MaxRows, "KB", userimport.MaxBytes >> 10}
	return p
}

// ImportProblemMessage is a refused file's message in l's language, the
// column named as that language's spreadsheets head it.
func ImportProblemMessage(l *i18n.Localizer, p *web.Problem) string {
	args := append([]any{}, p.Args...)
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "Column" {
			col, _ := args[i+1].(string)
			args[i+1] = ImportColumnName(l, col)
		}
	}
	return l.T("error."+p.Code, args...)
}

// ImportColumnName is how the page names a column of the file, in l's
// language.
func ImportColumnName(l *i18n.Localizer, col string) string {
	switch col {
	case userimport.ColEmail, userimport.ColName, userimport.ColRole, userimport.ColDocument, userimport.ColPhone:
		key := "admin.import.column_" + col
		return l.T(key)
	}
	return col
}

// ImportRow is one row of an import's report as people read it.
type ImportRow struct {
	Line   int    `json:"line"`
	Email  string `json:"email"`
	Status string `json:"status"`
	// Problems maps a field (email, name, roles, document, phone, row) to
	// what is wrong with it, in the reader's language; Codes maps it to
	// the code (a validation code of the user form, or import_bad_role,
	// import_scientific, import_bad_quote) for programs.
	Problems map[string]string `json:"problems,omitempty"`
	Codes    map[string]string `json:"codes,omitempty"`
	// Note qualifies an "exists" row: inactive (the user is deactivated,
	// and stays so) or repeated (SameAs, an earlier row, has the e-mail).
	Note   string `json:"note,omitempty"`
	SameAs int    `json:"same_as_line,omitempty"`
	// Detail is all of it as one line for a page.
	Detail string `json:"-"`
}

// importFieldLabels are the catalogue keys naming a row's fields.
var importFieldLabels = map[string]string{
	"email": "admin.users.email", "name": "admin.users.name", "roles": "admin.users.roles",
	"document": "admin.users.document", "phone": "admin.users.phone", "row": "admin.import.field_row",
}

// ImportRows puts l's words on a report's rows, the failed ones first,
// then those left as they were, then the created, each in file order;
// has tells whether the catalogue holds a key (ValidationKey).
func ImportRows(l *i18n.Localizer, has func(string) bool, rep *service.ImportReport) []ImportRow {
	out := make([]ImportRow, 0, len(rep.Rows))
	for _, status := range []string{service.ImportFailed, service.ImportExists, service.ImportCreated} {
		for _, r := range rep.Rows {
			if r.Status == status {
				out = append(out, importRow(l, has, r))
			}
		}
	}
	return out
}

func importRow(l *i18n.Localizer, has func(string) bool, r service.ImportedRow) ImportRow {
	row := ImportRow{Line: r.Line, Email: r.Email, Status: r.Status, Note: r.Note, SameAs: r.SameAs}
	var parts []string
	for _, p := range r.Problems {
		if _, dup := row.Problems[p.Field]; dup {
			continue
		}
		if row.Problems == nil {
			row.Problems, row.Codes = map[string]string{}, map[string]string{}
		}
		var msg string
		if strings.HasPrefix(p.Code, "import_") {
			key := "admin.import." + p.Code
			msg = l.T(key, "Value", p.Value)
		} else {
			msg = l.T(ValidationKey(has, p.Code))
		}
		row.Problems[p.Field], row.Codes[p.Field] = msg, p.Code
		label := p.Field
		if key, ok := importFieldLabels[p.Field]; ok {
			label = l.T(key)
		}
		parts = append(parts, label+": "+msg)
	}
	switch r.Note {
	case service.NoteInactive:
		parts = append(parts, l.T("admin.import.note_inactive"))
	case service.NoteRepeated:
		parts = append(parts, l.T("admin.import.note_repeated", "Line", r.SameAs))
	}
	row.Detail = strings.Join(parts, " ")
	return row
}
