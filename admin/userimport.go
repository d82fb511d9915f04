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
	p.Args = []any{"Line", fe.Line, "Column", ImportColumnName(fe.Column), "Rows", userimport.MaxRows, "KB", userimport.MaxBytes >> 10}
	return p
}

// ImportColumnName is how the page names a column of the file: the header
// a spreadsheet in Portuguese would have.
func ImportColumnName(col string) string {
	switch col {
	case userimport.ColEmail:
		return "e-mail"
	case userimport.ColName:
		return "nome"
	case userimport.ColRole:
		return "perfil"
	case userimport.ColDocument:
		return "documento"
	case userimport.ColPhone:
		return "telefone"
	}
	return col
}

// ImportRow is one row of an import's report as people read it.
type ImportRow struct {
	Line   int    `json:"line"`
	Email  string `json:"email"`
	Status string `json:"status"`
	// Problems maps a field (email, name, roles, document, phone, row) to
	// what is wrong with it, in the reader's language.
	Problems map[string]string `json:"problems,omitempty"`
	// Detail is Problems as one line for a page: "CPF ou CNPJ: …".
	Detail string `json:"-"`
}

// importFieldLabels are the catalogue keys naming a row's fields.
var importFieldLabels = map[string]string{
	"email": "admin.users.email", "name": "admin.users.name", "roles": "admin.users.roles",
	"document": "admin.users.document", "phone": "admin.users.phone", "row": "admin.import.field_row",
}

// ImportRows puts l's words on a report's rows; has tells whether the
// catalogue holds a key (ValidationKey).
func ImportRows(l *i18n.Localizer, has func(string) bool, rep *service.ImportReport) []ImportRow {
	out := make([]ImportRow, 0, len(rep.Rows))
	for _, r := range rep.Rows {
		row := ImportRow{Line: r.Line, Email: r.Email, Status: r.Status}
		var parts []string
		for _, f := range r.Fields {
			if row.Problems == nil {
				row.Problems = map[string]string{}
			}
			if _, dup := row.Problems[f.Field]; dup {
				continue
			}
			msg := l.T(ValidationKey(has, f.Code))
			row.Problems[f.Field] = msg
			label := f.Field
			if key, ok := importFieldLabels[f.Field]; ok {
				label = l.T(key)
			}
			parts = append(parts, label+": "+msg)
		}
		row.Detail = strings.Join(parts, " ")
		out = append(out, row)
	}
	return out
}
