package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/userimport"
)

// Outcomes of one row of a user import.
const (
	ImportCreated = "created" // a new user
	ImportExists  = "exists"  // a user of the portal already has the e-mail: left as it is
	ImportFailed  = "failed"  // refused: Fields say why
)

// ImportedRow is the outcome of one row of the file.
type ImportedRow struct {
	Line   int    `json:"line"`
	Email  string `json:"email"`
	Status string `json:"status"`
	// Fields are the reasons of a failed row: the field (email, name,
	// roles, document, phone) and a validation code, as the user form
	// reports them.
	Fields []model.FieldError `json:"fields,omitempty"`
}

// ImportReport is a whole import's outcome, row by row in file order.
type ImportReport struct {
	Created int           `json:"created"`
	Exists  int           `json:"exists"`
	Failed  int           `json:"failed"`
	Ignored []string      `json:"ignored_columns"`
	Rows    []ImportedRow `json:"rows"`
}

// ImportUsers creates the people of a parsed file as active users of
// tenantID without a password (they enter through the company's site — a
// portal session — or set one with "Esqueci minha senha" or a reset link),
// each exactly as CreateUser would, audited one by one. A row whose e-mail
// a user already has is left alone (status exists), so importing the same
// file again creates nobody twice; a row the form would refuse is failed
// with the same validation codes. Only customer roles are imported. The
// rows before a database failure stay created: the error is returned, and
// importing the file again finishes the rest.
func (s *Service) ImportUsers(ctx context.Context, tenantID string, a model.Actor, f *userimport.File) (*ImportReport, error) {
	rep := &ImportReport{Ignored: append([]string{}, f.Ignored...), Rows: make([]ImportedRow, 0, len(f.Rows))}
	for _, r := range f.Rows {
		out := ImportedRow{Line: r.Line, Email: r.Email}
		switch r.Problem {
		case userimport.RowBadRole:
			out.Status, out.Fields = ImportFailed, []model.FieldError{{Field: "roles", Code: "invalid_choice"}}
		case userimport.RowTooLong:
			out.Status, out.Fields = ImportFailed, []model.FieldError{{Field: "row", Code: "too_long"}}
		default:
			email, name, doc, phone, roles := r.Email, r.Name, r.Document, r.Phone, r.Roles
			_, err := s.CreateUser(ctx, tenantID, a, UserInput{Email: &email, Name: &name, Document: &doc, Phone: &phone, Roles: &roles})
			var v *model.ValidationError
			switch {
			case err == nil:
				out.Status = ImportCreated
			case errors.Is(err, ErrEmailTaken):
				out.Status = ImportExists
			case errors.As(err, &v):
				out.Status, out.Fields = ImportFailed, v.Fields
			default:
				return rep, fmt.Errorf("import users: line %d: %w", r.Line, err)
			}
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
