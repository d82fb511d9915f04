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
	MaxRows, MaxKB int
	Report         *service.ImportReport
	Rows           []admin.ImportRow
	Ignored        string
}

func (u *UI) newImportPage() *importPage {
	return &importPage{MaxRows: userimport.MaxRows, MaxKB: userimport.MaxBytes >> 10}
}

func (u *UI) showImportUsers(c *fiber.Ctx) error {
	v := u.newView(c, "users", "admin.import.title")
	v.D = u.newImportPage()
	return u.render(c, fiber.StatusOK, "users_import", v)
}

// importUsers creates the file's people (admin.ReadImportFile,
// userimport.Parse, Service.ImportUsers: the API's path) and shows the
// report; a refused file is shown next to the file field, and nobody is
// created.
func (u *UI) importUsers(c *fiber.Ctx) error {
	v := u.newView(c, "users", "admin.import.title")
	d := u.newImportPage()
	v.D = d
	data, err := admin.ReadImportFile(c)
	if err == nil {
		f, perr := userimport.Parse(data)
		if perr == nil {
			rep, err := u.svc.ImportUsers(c.UserContext(), web.Tenant(c).ID, u.actor(c), f)
			if err != nil {
				return err
			}
			d.Report, d.Rows = rep, admin.ImportRows(v.L, func(k string) bool { return u.keys[k] }, rep)
			d.Ignored = strings.Join(rep.Ignored, ", ")
			return u.render(c, fiber.StatusOK, "users_import", v)
		}
		err = admin.ImportProblem(perr)
	}
	var p *web.Problem
	if !errors.As(err, &p) || p.Status >= 500 {
		return err
	}
	v.Errors.Add("file", v.L.T("error."+p.Code, p.Args...))
	return u.render(c, p.Status, "users_import", v)
}

// importTemplate is the example file the import page offers, with the
// headers in the reader's language (every language's are accepted).
func (u *UI) importTemplate(c *fiber.Ctx) error {
	l := web.L(c)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+l.T("admin.import.template_file")+`"`)
	return c.SendString("\ufeff" + l.T("admin.import.template_header") + "\r\n" + l.T("admin.import.template_example") + "\r\n")
}
