package imports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/plugins/loyalty/imports/csvfile"
	"github.com/portico-dev/portico/plugins/loyalty/points"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// errLostRace: another process committed this import's batch first.
var errLostRace = errors.New("another process is running this import")

// maxAttempts bounds the tries of one batch (a deadlock, a busy database,
// a source key a concurrent import inserted first).
const maxAttempts = 5

// Report line codes of good and skipped rows (bad rows have csvfile's
// problem codes, or these conflicts).
const (
	CodeCreated          = "created"
	CodeMatchedEmail     = "matched_email"
	CodeMatchedDocument  = "matched_document"
	CodeAlreadyApplied   = "already_applied"
	CodeCustomerConflict = "customer_conflict" // e-mail and document of two customers
	CodeDocumentMismatch = "document_mismatch" // the e-mail's customer has another document
)

// SourceKey is the ledger source key of the points of data row n of a
// file whose rows have the content digest digest.
func SourceKey(digest string, n int) string {
	return "import:" + digest + ":" + strconv.Itoa(n)
}

// job is one run of an import.
type job struct {
	imp      importRow
	settings points.Settings // the programme's, read when the import starts
	previous string
}

// process runs import id from where it stands.
func (s *Service) process(id string) {
	ctx := s.ctx
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("import panicked", "import", id, "panic", p)
			s.fail(id, "a importação parou por um erro interno; as linhas já aplicadas continuam valendo. Envie o arquivo de novo para aplicar o restante: nada será contado duas vezes.")
		}
	}()
	res := s.db.WithContext(ctx).Model(&importRow{}).Where("id = ? AND status IN ?", id, []string{StatusQueued, StatusRunning}).
		Updates(map[string]any{"status": StatusRunning, "updated_at": s.now().UTC()})
	if res.Error != nil {
		s.interrupted(id, res.Error)
		return
	}
	if res.RowsAffected == 0 {
		return // done, failed or gone meanwhile
	}
	s.notify()
	var j job
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&j.imp).Error; err != nil {
		s.interrupted(id, err)
		return
	}
	settings, err := s.st.Settings(ctx)
	if err != nil {
		s.interrupted(id, err)
		return
	}
	j.settings = settings
	var prev []string
	if err := s.db.WithContext(ctx).Model(&importRow{}).Where("content_sha256 = ? AND id <> ? AND created_at <= ?", j.imp.ContentSHA256, id, j.imp.CreatedAt).
		Order("created_at, id").Limit(1).Pluck("id", &prev).Error; err != nil {
		s.interrupted(id, err)
		return
	}
	if len(prev) > 0 {
		j.previous = prev[0]
	}

	rd, err := csvfile.NewReader(&fileReader{ctx: ctx, db: s.db, id: id}, csvfile.Encoding(j.imp.Encoding))
	if err != nil {
		s.stopped(id, 0, err)
		return
	}
	done := j.imp.DoneRows
	batch := make([]*csvfile.Row, 0, BatchSize)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		if err := s.apply(ctx, &j, done, batch); err != nil {
			s.stopped(id, batch[0].Line, err)
			return false
		}
		done += len(batch)
		batch = batch[:0]
		return true
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.stopped(id, 0, err)
			return
		}
		if row.N <= done {
			continue // applied before the interruption
		}
		batch = append(batch, row)
		if len(batch) == BatchSize && !flush() {
			return
		}
	}
	if !flush() {
		return
	}
	s.finish(id)
}

// stopped handles an error that stopped import id at line: the shutdown
// or a lost race leave it for later or for the other process; anything
// else fails it.
func (s *Service) stopped(id string, line int, err error) {
	switch {
	case s.ctx.Err() != nil:
		s.log.Info("import interrupted; it resumes at the next start", "import", id)
	case errors.Is(err, errLostRace):
		s.log.Info("import taken over by another process", "import", id)
	default:
		s.log.Error("import failed", "import", id, "line", line, "err", err)
		where := ""
		if line > 0 {
			where = fmt.Sprintf(" na linha %d", line)
		}
		s.fail(id, "a importação parou"+where+" por um erro ao ler o arquivo ou gravar no banco de dados; as linhas anteriores foram aplicadas. "+
			"Envie o arquivo de novo para aplicar o restante: as linhas já aplicadas não serão contadas duas vezes.")
	}
}

// interrupted logs an error before any work; the import stays as it was
// and is retried once it has stood still for StaleAfter, or at the next
// start.
func (s *Service) interrupted(id string, err error) {
	if s.ctx.Err() == nil {
		s.log.Error("import could not start; it is retried later", "import", id, "err", err)
	}
}

// apply commits rows, the next batch after done rows, retrying what a
// concurrent writer may have made fail.
func (s *Service) apply(ctx context.Context, j *job, done int, rows []*csvfile.Row) error {
	for attempt := 1; ; attempt++ {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return s.applyTx(tx, j, done, rows)
		})
		if err == nil {
			s.notify()
			if s.afterBatch != nil {
				s.afterBatch(j.imp.ID, done+len(rows))
			}
			return nil
		}
		if errors.Is(err, errLostRace) || ctx.Err() != nil || attempt == maxAttempts {
			return err
		}
		s.log.Warn("import batch failed; retrying", "import", j.imp.ID, "line", rows[0].Line, "attempt", attempt, "err", err)
		t := time.NewTimer(time.Duration(attempt*attempt) * 100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// counts are a batch's additions to the import's counters.
type counts struct {
	applied, failed, skipped, created int
	points                            int64
}

// pending is a good row's customer and points, before the customers are
// created.
type pending struct {
	line     *lineRow
	customer *store.Customer
	row      *csvfile.Row
}

func (s *Service) applyTx(tx *gorm.DB, j *job, done int, rows []*csvfile.Row) error {
	var c counts
	now := s.now().UTC()
	// The guard: this batch follows done rows, and no one else applied it.
	res := tx.Model(&importRow{}).Where("id = ? AND status = ? AND done_rows = ?", j.imp.ID, StatusRunning, done).Update("updated_at", now)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errLostRace
	}
	b := s.st.Bulk(tx)
	var keys, emails, docs []string
	for _, r := range rows {
		if r.OK() {
			if r.Points > 0 {
				keys = append(keys, SourceKey(j.imp.ContentSHA256, r.N))
			}
			emails = append(emails, r.Email)
			if r.Document != "" {
				docs = append(docs, r.Document)
			}
		}
	}
	applied, err := b.AppliedSourceKeys(keys)
	if err != nil {
		return err
	}
	byEmail, byDoc := map[string]*store.Customer{}, map[string]*store.Customer{}
	found, err := b.CustomersByEmail(emails)
	if err != nil {
		return err
	}
	for i := range found {
		if byEmail[found[i].Email] == nil {
			byEmail[found[i].Email] = &found[i]
		}
	}
	if found, err = b.CustomersByDocument(docs); err != nil {
		return err
	}
	for i := range found {
		if byDoc[found[i].Document] == nil {
			byDoc[found[i].Document] = &found[i]
		}
	}

	lines := make([]lineRow, len(rows))
	var created []*store.Customer
	var earns []pending
	for i, r := range rows {
		ln := &lines[i]
		*ln = lineRow{ImportID: j.imp.ID, Line: r.Line}
		if !r.OK() {
			ln.Status, ln.Code, ln.Message = LineError, r.Problems[0].Code, csvfile.Messages(r.Problems)
			c.failed++
			continue
		}
		if r.Points > 0 && applied[SourceKey(j.imp.ContentSHA256, r.N)] {
			ln.Status, ln.Code = LineSkipped, CodeAlreadyApplied
			ln.Message = fmt.Sprintf("%s já lançados por uma importação anterior destas mesmas linhas", pointsText(r.Points))
			if j.previous != "" {
				ln.Message += " (importação " + j.previous + ")"
			}
			ln.Message += "; nada foi alterado"
			c.skipped++
			continue
		}
		byE, byD := byEmail[r.Email], (*store.Customer)(nil)
		if r.Document != "" {
			byD = byDoc[r.Document]
		}
		var cust *store.Customer
		switch {
		case byE != nil && byD != nil && byE != byD && (byE.ID == "" || byE.ID != byD.ID):
			ln.Status, ln.Code = LineError, CodeCustomerConflict
			ln.Message = "o e-mail " + r.Email + " e o documento pertencem a clientes diferentes; nada foi alterado"
		case byE != nil && r.Document != "" && byE.Document != "" && byE.Document != r.Document:
			ln.Status, ln.Code = LineError, CodeDocumentMismatch
			ln.Message = "o cliente com o e-mail " + r.Email + " tem outro documento cadastrado; nada foi alterado"
		case byE != nil:
			cust = byE
			ln.Code, ln.Message = CodeMatchedEmail, "cliente já cadastrado ("+r.Email+")"
		case byD != nil:
			cust = byD
			ln.Code, ln.Message = CodeMatchedDocument, "cliente já cadastrado com este documento"
			if byD.Email != "" {
				ln.Message += " e o e-mail " + byD.Email
			}
		default:
			cust = &store.Customer{Name: r.Name, Email: r.Email, Document: r.Document}
			created = append(created, cust)
			byEmail[r.Email] = cust
			if r.Document != "" {
				byDoc[r.Document] = cust
			}
			ln.Code, ln.Message = CodeCreated, "cliente criado ("+r.Email+")"
		}
		if cust == nil {
			c.failed++
			continue
		}
		ln.Status = LineOK
		c.applied++
		if r.Points > 0 {
			ln.Message += "; " + pointsText(r.Points)
			earns = append(earns, pending{line: ln, customer: cust, row: r})
			c.points += r.Points
		} else {
			ln.Message += "; sem pontos"
		}
	}
	if err := b.CreateCustomers(created); err != nil {
		return err
	}
	c.created = len(created)
	if len(earns) > 0 {
		expires := j.settings.ExpiresAt(s.st.Now())
		reason := truncate("importação "+j.imp.FileName, points.MaxReason)
		ms := make([]store.Movement, len(earns))
		for i, p := range earns {
			ms[i] = store.Movement{CustomerID: p.customer.ID, Points: p.row.Points, Reason: reason,
				Actor: "import:" + j.imp.UploaderEmail, SourceKey: SourceKey(j.imp.ContentSHA256, p.row.N), ExpiresAt: expires}
		}
		if _, err := b.Earn(store.KindEarn, ms); err != nil {
			return err
		}
	}
	for i := range lines {
		lines[i].Message = safeCell(lines[i].Message)
	}
	if err := inGroups(len(lines), func(lo, hi int) error {
		part := lines[lo:hi]
		return tx.Create(&part).Error
	}); err != nil {
		return err
	}
	err = tx.Model(&importRow{}).Where("id = ?", j.imp.ID).Updates(map[string]any{
		"done_rows":         gorm.Expr("done_rows + ?", len(rows)),
		"applied_rows":      gorm.Expr("applied_rows + ?", c.applied),
		"failed_rows":       gorm.Expr("failed_rows + ?", c.failed),
		"skipped_rows":      gorm.Expr("skipped_rows + ?", c.skipped),
		"points":            gorm.Expr("points + ?", c.points),
		"created_customers": gorm.Expr("created_customers + ?", c.created),
	}).Error
	return err
}

// inGroups is store.Bulk's grouping for this package's tables: ranges of
// 512, 64, 8 or 1 rows, so the SQLite statement cache sees few texts.
func inGroups(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := 1
		for _, s := range []int{512, 64, 8, 1} {
			if n-lo >= s {
				size = s
				break
			}
		}
		if err := f(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}

// finish marks import id done, deletes its stored file and mails the
// uploader (only the process whose update ends the import does).
func (s *Service) finish(id string) {
	s.end(id, StatusDone, "")
}

// fail marks import id failed with reason.
func (s *Service) fail(id, reason string) {
	s.end(id, StatusFailed, reason)
}

func (s *Service) end(id, status, reason string) {
	ctx := s.ctx
	now := s.now().UTC()
	var won bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r importRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return err
		}
		msg := reason
		if status == StatusDone {
			msg = summary(&r)
		}
		res := tx.Model(&importRow{}).Where("id = ? AND status IN ?", id, []string{StatusQueued, StatusRunning}).
			Updates(map[string]any{"status": status, "message": msg, "finished_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		won = true
		return tx.Where("import_id = ?", id).Delete(&fileChunk{}).Error
	})
	if err != nil {
		s.interrupted(id, err)
		return
	}
	s.notify()
	if !won {
		return
	}
	imp, err := s.Get(ctx, id)
	if err != nil {
		s.log.Error("import finished; reading it back for the mail", "import", id, "err", err)
		return
	}
	s.log.Info("import finished", "import", id, "status", imp.Status, "rows", imp.Total, "applied", imp.Applied,
		"failed", imp.Failed, "skipped", imp.Skipped)
	s.mail(ctx, imp)
}

// summary is a finished import's message.
func summary(r *importRow) string {
	return fmt.Sprintf("%s linhas: %s aplicadas (%s clientes novos, %s), %s com erro, %s ignoradas (pontos já lançados antes).",
		thousands(int64(r.TotalRows)), thousands(int64(r.AppliedRows)), thousands(int64(r.CreatedCustomers)), pointsText(r.Points),
		thousands(int64(r.FailedRows)), thousands(int64(r.SkippedRows)))
}

func pointsText(n int64) string {
	if n == 1 {
		return "1 ponto"
	}
	return thousands(n) + " pontos"
}

// thousands writes n as pt-BR does: 1.234.567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fileReader streams a stored file from its chunks, one at a time.
type fileReader struct {
	ctx  context.Context
	db   *gorm.DB
	id   string
	seq  int
	buf  []byte
	done bool
}

func (f *fileReader) Read(p []byte) (int, error) {
	for len(f.buf) == 0 {
		if f.done {
			return 0, io.EOF
		}
		var chunks []fileChunk
		if err := f.db.WithContext(f.ctx).Where("import_id = ? AND seq = ?", f.id, f.seq).Limit(1).Find(&chunks).Error; err != nil {
			return 0, fmt.Errorf("read the stored file: %w", err)
		}
		if len(chunks) == 0 {
			if f.seq == 0 {
				return 0, errors.New("read the stored file: it is gone")
			}
			f.done = true
			return 0, io.EOF
		}
		f.buf = chunks[0].Data
		f.seq++
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}
