package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/userimport"
)

// Outcomes of one row of a user import.
const (
	ImportCreated = "created" // a new user
	ImportExists  = "exists"  // a user of the portal already has the e-mail: left as it is
	ImportFailed  = "failed"  // refused: Problems say why
)

// Notes on an ImportExists row.
const (
	NoteInactive = "inactive" // the user is deactivated, and stays so
	NoteRepeated = "repeated" // an earlier row of the file has the e-mail (SameAs)
)

// ImportProblem is one reason a row failed: the field (email, name,
// roles, document, phone, row), a code — a validation code of the user
// form, or one of the import's own (import_bad_role, import_scientific,
// import_bad_quote) — and, for import_bad_role, the value found.
type ImportProblem struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	Value string `json:"value,omitempty"`
}

// ImportedRow is the outcome of one row of the file.
type ImportedRow struct {
	Line     int             `json:"line"`
	Email    string          `json:"email"`
	Status   string          `json:"status"`
	Problems []ImportProblem `json:"problems,omitempty"`
	// Note and SameAs qualify an ImportExists row (Note*).
	Note   string `json:"note,omitempty"`
	SameAs int    `json:"same_as_line,omitempty"`
}

// ImportReport is a whole import's outcome, row by row in file order.
type ImportReport struct {
	Created int           `json:"created"`
	Exists  int           `json:"exists"`
	Failed  int           `json:"failed"`
	Ignored []string      `json:"ignored_columns"`
	Rows    []ImportedRow `json:"rows"`
	// StoppedAt is the line a database failure stopped the import at
	// (the rows from it on were not imported); 0 when it ran to the end.
	StoppedAt int `json:"stopped_at_line,omitempty"`
}

// importRowProblems maps the parser's row problems to the report's.
var importRowProblems = map[string]string{
	userimport.RowBadRole:    "import_bad_role",
	userimport.RowTooLong:    "too_long",
	userimport.RowScientific: "import_scientific",
	userimport.RowMalformed:  "import_bad_quote",
}

// importFields maps the parser's columns to the user form's fields.
var importFields = map[string]string{
	userimport.ColEmail: "email", userimport.ColName: "name", userimport.ColRole: "roles",
	userimport.ColDocument: "document", userimport.ColPhone: "phone", "": "row",
}

// ImportUsers creates the people of a parsed file as active users of
// tenantID without a password (they enter through the company's site — a
// portal session — or set one with "Esqueci minha senha" or a reset link),
// each exactly as CreateUser would, audited one by one. A row whose e-mail
// a user already has is left alone (status exists, noted when that user
// is deactivated — an import never reactivates anyone — or when an
// earlier row of the file has it), so importing the same file again
// creates nobody twice; a row the form would refuse is failed with the
// same validation codes. Only the customer roles (cliente, síndico) are
// ever granted, whoever built the file. A database failure stops the
// import: the report so far is returned with the error (StoppedAt), and
// importing the file again finishes the rest.
func (s *Service) ImportUsers(ctx context.Context, tenantID string, a model.Actor, f *userimport.File) (*ImportReport, error) {
	rep := &ImportReport{Ignored: append([]string{}, f.Ignored...), Rows: make([]ImportedRow, 0, len(f.Rows))}
	firstLine := map[string]int{} // e-mail (lower case) → the row that had it first
	for _, r := range f.Rows {
		out, err := s.importRow(ctx, tenantID, a, r, firstLine)
		if err != nil {
			rep.StoppedAt = r.Line
			return rep, fmt.Errorf("import users: line %d: %w", r.Line, err)
		}
		switch out.Status {
		case ImportCreated:
			rep.Created++
		case ImportExists:
			rep.Exists++
		default:
			rep.Failed++
		}
		rep.Rows = append(rep.Rows, out)
	}
	s.log.Info("users imported", "tenant_id", tenantID, "created", rep.Created, "exists", rep.Exists, "failed", rep.Failed, "actor", a.Label)
	return rep, nil
}

// importRow imports one row; an error is the database's.
func (s *Service) importRow(ctx context.Context, tenantID string, a model.Actor, r userimport.Row, firstLine map[string]int) (ImportedRow, error) {
	out := ImportedRow{Line: r.Line, Email: r.Email}
	if code, ok := importRowProblems[r.Problem]; ok {
		out.Status = ImportFailed
		out.Problems = []ImportProblem{{Field: importFields[r.Field], Code: code, Value: r.Value}}
		return out, nil
	}
	for _, role := range r.Roles {
		if role != userimport.RoleCliente && role != userimport.RoleSindico {
			out.Status = ImportFailed
			out.Problems = []ImportProblem{{Field: "roles", Code: "import_bad_role", Value: role}}
			return out, nil
		}
	}
	key := strings.ToLower(strings.TrimSpace(r.Email))
	if line, ok := firstLine[key]; ok && key != "" {
		out.Status, out.Note, out.SameAs = ImportExists, NoteRepeated, line
		return out, nil
	}
	// Looked up first, so that a second import of a file does not lean on
	// the unique index (an error in the database's log for every row).
	if key != "" {
		switch u, err := s.store.UserByEmail(ctx, tenantID, key); {
		case err == nil:
			firstLine[key] = r.Line
			out.Status = ImportExists
			if !u.Active {
				out.Note = NoteInactive
			}
			return out, nil
		case !errors.Is(err, model.ErrNotFound):
			return out, err
		}
	}
	email, name, doc, phone, roles := r.Email, r.Name, r.Document, r.Phone, r.Roles
	_, err := s.CreateUser(ctx, tenantID, a, UserInput{Email: &email, Name: &name, Document: &doc, Phone: &phone, Roles: &roles})
	var v *model.ValidationError
	switch {
	case err == nil:
		out.Status = ImportCreated
		firstLine[key] = r.Line
	case errors.Is(err, ErrEmailTaken): // created meanwhile by someone else
		out.Status = ImportExists
		firstLine[key] = r.Line
	case errors.As(err, &v):
		out.Status = ImportFailed
		for _, fe := range v.Fields {
			out.Problems = append(out.Problems, ImportProblem{Field: fe.Field, Code: fe.Code})
		}
	default:
		return out, err
	}
	return out, nil
}
