package ui

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"html/template"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin"
	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/userimport"
)

// importPage is the user import's page: the form and, after an upload,
// the report.
type importPage struct {
	// MaxRows is the row limit in the reader's digits ("2.000" in pt-BR).
	MaxRows string
	// MailEnabled says the portal mails reset links (PORTICO_SMTP_URL):
	// imported people can then create their password themselves;
	// without it a gestor hands each one a reset link.
	MailEnabled bool
	MaxKB       int
	Report      *service.ImportReport
	Rows        []admin.ImportRow
	Ignored     string
	// Stopped says the database failed at a line: the report is partial.
	Stopped string
	// Download is the report as a CSV file the gestor can keep and fix
	// the spreadsheet from: a data: URL, so nothing is stored.
	Download template.URL
	// DownloadName is its file name.
	DownloadName string
}

func (u *UI) newImportPage(c *fiber.Ctx) *importPage {
	return &importPage{MaxRows: web.L(c).Number(userimport.MaxRows), MaxKB: userimport.MaxBytes >> 10,
		MailEnabled: u.env.Config.SMTP != nil}
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
			d.Download, d.DownloadName = reportCSV(v.L, d.Rows), v.L.T("admin.import.report_file")
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

// reportCSV is the report's rows as a CSV file for a spreadsheet in l's
// language (";"-separated with a byte order mark, as Excel in Brazil reads
// it; "," in English), as a data: URL.
func reportCSV(l *i18n.Localizer, rows []admin.ImportRow) template.URL {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	if l.Locale() != "en" {
		w.Comma = ';'
	}
	w.UseCRLF = true
	_ = w.Write([]string{l.T("admin.import.col_line"), l.T("admin.users.email"), l.T("admin.import.col_result"), l.T("admin.import.col_detail")})
	for _, r := range rows {
		key := "admin.import.status_" + r.Status
		_ = w.Write([]string{strconv.Itoa(r.Line), csvCell(r.Email), l.T(key), csvCell(r.Detail)})
	}
	w.Flush()
	// Built here from the report alone: a data: URL of CSV text, which
	// html/template would otherwise refuse as an unknown scheme.
	return template.URL("data:text/csv;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(b.Bytes())) //nolint:gosec
}

// csvCell keeps a cell from being read as a formula by a spreadsheet (a
// file's e-mail or name starting with =, +, - or @ is the uploader's
// text, not ours to run).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
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
