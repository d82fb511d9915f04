package imports

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/mail"
)

// ReportHeader is the report's first line.
var ReportHeader = []string{"line", "status", "message"}

// WriteReport writes import id's per-row report to w: a CSV of line,
// status (ok, error, skipped) and message (pt-BR), one line per data row
// processed so far, in file order; ';'-separated, CRLF, UTF-8 with a BOM so
// that Excel opens it with the accents right. The rows are streamed from
// the database, never all in memory. An unknown id is store.ErrNotFound.
func (s *Service) WriteReport(ctx context.Context, id string, w io.Writer) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.Comma, cw.UseCRLF = ';', true
	if err := cw.Write(ReportHeader); err != nil {
		return err
	}
	rows, err := s.db.WithContext(ctx).Model(&lineRow{}).Where("import_id = ?", id).Order("line").Rows()
	if err != nil {
		return fmt.Errorf("imports: report %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l lineRow
		if err := s.db.ScanRows(rows, &l); err != nil {
			return fmt.Errorf("imports: report %s: %w", id, err)
		}
		if err := cw.Write([]string{strconv.Itoa(l.Line), l.Status, safeCell(l.Message)}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("imports: report %s: %w", id, err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// safeCell keeps a spreadsheet from reading a message as a formula (the
// messages quote what the file had).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// location is where the mail's times are told.
var location = func() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.FixedZone("-03", -3*60*60)
}()

// mail tells the uploader that imp ended.
func (s *Service) mail(ctx context.Context, imp *Import) {
	if s.mailer == nil || imp.Uploader.Email == "" {
		return
	}
	m := Mail(imp)
	if err := s.mailer.Send(ctx, m); err != nil {
		s.log.Error("mail the import's report", "import", imp.ID, "to", imp.Uploader.Email, "err", err)
		return
	}
	s.log.Info("import mail sent", "import", imp.ID, "to", imp.Uploader.Email)
}

// Mail is the pt-BR message to the uploader of an ended import.
func Mail(imp *Import) mail.Message {
	when := func(t time.Time) string { return t.In(location).Format("02/01/2006 15:04") }
	var b strings.Builder
	greet := "Olá"
	if imp.Uploader.Name != "" {
		greet += ", " + imp.Uploader.Name
	}
	b.WriteString(greet + ".\n\n")
	finished := imp.CreatedAt
	if imp.FinishedAt != nil {
		finished = *imp.FinishedAt
	}
	subject := "Importação de pontos concluída: " + imp.FileName
	if imp.Status == StatusDone {
		fmt.Fprintf(&b, "A importação do arquivo \"%s\", enviado em %s, terminou em %s.\n\n", imp.FileName, when(imp.CreatedAt), when(finished))
	} else {
		subject = "Importação de pontos interrompida: " + imp.FileName
		fmt.Fprintf(&b, "A importação do arquivo \"%s\", enviado em %s, parou em %s: %s\n\n", imp.FileName, when(imp.CreatedAt), when(finished), imp.Message)
	}
	fmt.Fprintf(&b, "Linhas no arquivo: %s\n", thousands(int64(imp.Total)))
	if imp.Done != imp.Total {
		fmt.Fprintf(&b, "Linhas processadas: %s\n", thousands(int64(imp.Done)))
	}
	fmt.Fprintf(&b, "Aplicadas: %s\n", thousands(int64(imp.Applied)))
	fmt.Fprintf(&b, "Com erro (não aplicadas): %s\n", thousands(int64(imp.Failed)))
	fmt.Fprintf(&b, "Ignoradas (pontos já lançados por uma importação anterior das mesmas linhas): %s\n\n", thousands(int64(imp.Skipped)))
	if imp.Status == StatusDone && imp.Message != "" {
		b.WriteString(imp.Message + "\n\n")
	}
	b.WriteString("O relatório linha a linha (CSV: linha, situação e mensagem) está no portal: abra o programa de pontos no painel do gestor, " +
		"vá a \"Importar CSV\" e, em \"Importações anteriores\", abra a importação de \"" + imp.FileName + "\" e clique em \"Baixar o relatório por linha (CSV)\".\n")
	if imp.Failed > 0 {
		b.WriteString("\nAs linhas com erro não foram aplicadas. Corrija-as e envie um arquivo só com elas: " +
			"um arquivo com outras linhas é uma nova importação, e as linhas já aplicadas seriam contadas de novo.\n")
	}
	fmt.Fprintf(&b, "\nImportação %s\n", imp.ID)
	return mail.Message{To: imp.Uploader.Email, Subject: subject, Text: b.String()}
}
