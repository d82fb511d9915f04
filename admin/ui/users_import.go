package ui

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/userimport"
)

// importPage is the user import's page: the form and, after an upload,
// the report.
type importPage struct {
	// MaxRows is the row limit in the reader's digits ("2.000" in pt-BR).
	MaxRows string
	MaxKB   int
	Report  *service.ImportReport
	Rows    []admin.ImportRow
	Ignored string
	// Stopped says the database failed at a line: the report is partial.
	Stopped string
}

func (u *UI) newImportPage(c *fiber.Ctx) *importPage {
	return &importPage{MaxRows: web.L(c).Number(userimport.MaxRows), MaxKB: userimport.MaxBytes >> 10}
}

func (u *UI) showImportUsers(c *fiber.Ctx) error {
	v := u.newView(c, "users", "admin.import.title")
	v.D = u.newImportPage(c)
	return u.render(c, fiber.StatusOK, "users_import", v)
}

// importUsers creates the file's people (admin.ReadImportFile,
// userimport.Parse, Service.ImportUsers: the API's path) and shows the
// report; a refused file is shown next to the file field, and nobody is
// created.
func (u *UI) importUsers(c *fiber.Ctx) error {
	v := u.newView(c, "users", "admin.import.title")
	d := u.newImportPage(c)
	v.D = d
	data, err := admin.ReadImportFile(c)
	if err == nil {
		f, perr := userimport.Parse(data)
		if perr == nil {
			rep, err := u.svc.ImportUsers(c.UserContext(), web.Tenant(c).ID, u.actor(c), f)
			status := fiber.StatusOK
			if err != nil {
				if rep == nil || rep.StoppedAt == 0 {
					return err
				}
				// The rows before the failure are created: say so, and
				// that the same file finishes the rest.
				u.env.Log.Error("user import stopped", "tenant", web.Tenant(c).Slug, "line", rep.StoppedAt, "err", err)
				d.Stopped = v.L.T("error.import_stopped", "Line", rep.StoppedAt)
				status = fiber.StatusServiceUnavailable
			}
			d.Report, d.Rows = rep, admin.ImportRows(v.L, func(k string) bool { return u.keys[k] }, rep)
			d.Ignored = strings.Join(rep.Ignored, ", ")
			return u.render(c, status, "users_import", v)
		}
		err = admin.ImportProblem(perr)
	}
	var p *web.Problem
	if !errors.As(err, &p) || p.Status >= 500 {
		return err
	}
	v.Errors.Add("file", admin.ImportProblemMessage(v.L, p))
	return u.render(c, p.Status, "users_import", v)
}

// importTemplate is the example file the import page offers, with the
// headers and the separator a spreadsheet in the reader's language uses
// (every language's are accepted).
func (u *UI) importTemplate(c *fiber.Ctx) error {
	l := web.L(c)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+l.T("admin.import.template_file")+`"`)
	return c.SendString("\ufeff" + l.T("admin.import.template_header") + "\r\n" + l.T("admin.import.template_example") + "\r\n")
}
