// Package imports is the loyalty programme's bulk assignment from a CSV
// file ("Dar puntos masivamente"): a gestor uploads a file of customers and
// points; Start checks it and stores it, a background worker applies it in
// batches, progress and a per-row report are kept in the database, and the
// uploader gets an e-mail when it ends. docs/loyalty-import.md is the
// gestor's and the operator's description; this is the mechanism.
//
// Storage: the uploaded bytes are staged in a temporary file while Start
// hashes them and checks the encoding and the header (nothing is stored
// for a refused file), then kept in the database (import_files, 1 MiB
// chunks) in the same transaction as the import's row, so an import
// survives a restart and any app process on the same database can resume
// it; the chunks are deleted when the import ends.
//
// Duplicates, at two levels:
//   - the file: its bytes' SHA-256. The same bytes again, while an import
//     of them is queued, running or done, are refused with
//     *AlreadyImportedError (a partial UNIQUE index makes this hold for
//     concurrent uploads); after a failed import they may be sent again.
//   - the rows: every earn carries the ledger source key
//     "import:{content digest}:{row ordinal}", where the content digest is
//     csvfile's SHA-256 of the file's normalised rows (not of its bytes)
//     and the ordinal is the data row's position. The same rows sent again
//     in other bytes — another separator, encoding, BOM, quoting, line
//     endings, column order, extra columns — have the same keys and are
//     skipped, as is every row a crashed or failed import had applied;
//     two files that differ in any row have different digests, so two
//     campaigns that give the same customer the same points both count.
//     The ledger's UNIQUE source_key enforces it, also across processes.
//
// Resumption: each batch's ledger entries, customers, report lines and
// progress counters commit in one transaction, guarded by the progress
// counter (UPDATE … WHERE done_rows = n), so an interrupted import resumes
// exactly after its last committed batch, and of two processes resuming
// the same import only one commits each batch (the other stops). Imports
// are resumed when a service starts and, while it runs, when their
// progress has stood still for Options.StaleAfter (their worker died).
package imports

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/internal/inflight"
	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/loyalty/imports/csvfile"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// Limits.
const (
	// MaxFileSize bounds an uploaded file: 100,000 rows of a typical file
	// are about 8 MB.
	MaxFileSize = 20 << 20
	// BatchSize is how many rows one transaction applies.
	BatchSize = 512
	// DefaultWorkers is how many imports run at once when Options.Workers
	// is 0: imports write, and SQLite has one writer.
	DefaultWorkers = 1
	// MaxList bounds List.
	MaxList = 500

	chunkSize = 1 << 20
	// maxFileName bounds the file name kept, in characters.
	maxFileName = 120
)

// Statuses of an import.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Statuses of a report line.
const (
	LineOK      = "ok"
	LineError   = "error"
	LineSkipped = "skipped"
)

// ErrClosed is Start after Close.
var ErrClosed = errors.New("imports: the service is closed")

// Options configure New.
type Options struct {
	Store *store.Store
	Log   *slog.Logger
	// Mailer mails the uploader when an import ends; nil: no mail.
	Mailer *mail.Sender
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Workers bounds the imports processed at once; DefaultWorkers when 0.
	Workers int
	// StaleAfter is how long a queued or running import's progress may
	// stand still before the service resumes it (its worker died: a
	// process that crashed on a shared database, an error before its
	// first batch); DefaultStaleAfter when 0.
	StaleAfter time.Duration
	// ResumeEvery is how often the service looks for such imports;
	// DefaultResumeEvery when 0.
	ResumeEvery time.Duration
}

// Resumption of imports whose worker died.
const (
	// DefaultStaleAfter is far longer than a batch takes (its 512 rows
	// commit in well under a second; its retries back off for 3 s).
	DefaultStaleAfter  = 5 * time.Minute
	DefaultResumeEvery = time.Minute
	// maxResume bounds the imports one look resumes.
	maxResume = 20
)

// Uploader is who sent the file.
type Uploader struct{ Name, Email string }

// Import is an uploaded file and its progress.
type Import struct {
	ID, FileName, SHA256 string
	Uploader             Uploader
	Status               string // "queued", "running", "done", "failed"
	// Total is the file's data rows (counted by Start); Done of them are
	// processed: Applied, Failed (reported as errors) and Skipped (points
	// a previous import of the same rows had given).
	Total, Done, Applied, Failed, Skipped int
	CreatedAt                             time.Time
	FinishedAt                            *time.Time
	// Message sums up a finished import, or says why it failed (pt-BR).
	Message string
	// Encoding and Separator are how the file was read: a csvfile.Encoding
	// ("utf-8", "utf-8-bom", "windows-1252") and the field separator.
	Encoding, Separator string
}

// AlreadyImportedError is a file whose bytes were imported before (or
// are being imported): nothing is counted again.
type AlreadyImportedError struct {
	Import Import
}

func (e *AlreadyImportedError) Error() string {
	return fmt.Sprintf("imports: this file was already imported (import %s, %s)", e.Import.ID, e.Import.Status)
}

// Service runs the imports.
type Service struct {
	st      *store.Store
	db      *gorm.DB
	log     *slog.Logger
	mailer  *mail.Sender
	now     func() time.Time
	sem     chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	running inflight.Counter // the resume and each import's goroutine
	mu      sync.Mutex
	closed  bool
	active  map[string]bool
	changed chan struct{}
	// stop ends the look for stale imports (closed by Close); resumed is
	// closed once the imports left by a previous run are scheduled.
	stop        chan struct{}
	resumed     chan struct{}
	staleAfter  time.Duration
	resumeEvery time.Duration

	// afterBatch, when set (tests), runs after each committed batch.
	afterBatch func(id string, done int)
}

// New returns the service and resumes, in the background, the imports a
// previous run left queued or running; then, every ResumeEvery until
// Close, those whose progress has stood still for StaleAfter.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.ResumeEvery <= 0 {
		o.ResumeEvery = DefaultResumeEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{st: o.Store, db: o.Store.DB(), log: o.Log, mailer: o.Mailer, now: o.Now,
		sem: make(chan struct{}, o.Workers), ctx: ctx, cancel: cancel, active: map[string]bool{}, changed: make(chan struct{}),
		stop: make(chan struct{}), resumed: make(chan struct{}), staleAfter: o.StaleAfter, resumeEvery: o.ResumeEvery}
	s.running.Add()
	go func() {
		defer s.running.Done()
		s.resume()
		close(s.resumed)
		s.resumeStale()
	}()
	return s
}

// resume schedules the imports left queued or running.
func (s *Service) resume() {
	var ids []string
	err := s.db.WithContext(s.ctx).Model(&importRow{}).Where("status IN ?", []string{StatusQueued, StatusRunning}).
		Order("created_at, id").Pluck("id", &ids).Error
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("resume imports", "err", err)
		}
		return
	}
	for _, id := range ids {
		s.log.Info("resuming import", "import", id)
		s.schedule(id)
	}
}

// resumeStale looks, every resumeEvery until Close, for queued or running
// imports whose progress (updated_at, moved by every batch) has stood
// still for staleAfter, and schedules up to maxResume of them that this
// process is not running. Their worker died — or is alive and stuck, in
// this process or another: each batch is guarded by the counter it
// follows, so of two runners only one commits it.
func (s *Service) resumeStale() {
	t := time.NewTicker(s.resumeEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stop:
			return
		case <-s.ctx.Done():
			return
		}
		var rows []importRow
		err := s.db.WithContext(s.ctx).Select("id", "updated_at").
			Where("status IN ? AND updated_at < ?", []string{StatusQueued, StatusRunning}, s.now().UTC().Add(-s.staleAfter)).
			Order("updated_at, id").Limit(maxResume).Find(&rows).Error
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Error("look for stale imports", "err", err)
			}
			continue
		}
		for _, r := range rows {
			if s.schedule(r.ID) {
				s.log.Warn("resuming an import whose progress stood still", "import", r.ID, "since", r.UpdatedAt.UTC())
			}
		}
	}
}

// importRow is a row of imports.
type importRow struct {
	ID               string `gorm:"primaryKey"`
	FileName         string `gorm:"column:file_name"`
	SHA256           string `gorm:"column:sha256"`
	ContentSHA256    string `gorm:"column:content_sha256"`
	SizeBytes        int64  `gorm:"column:size_bytes"`
	Encoding         string `gorm:"column:encoding"`
	Separator        string `gorm:"column:separator"`
	UploaderName     string `gorm:"column:uploader_name"`
	UploaderEmail    string `gorm:"column:uploader_email"`
	Status           string `gorm:"column:status"`
	TotalRows        int    `gorm:"column:total_rows"`
	DoneRows         int    `gorm:"column:done_rows"`
	AppliedRows      int    `gorm:"column:applied_rows"`
	FailedRows       int    `gorm:"column:failed_rows"`
	SkippedRows      int    `gorm:"column:skipped_rows"`
	Points           int64  `gorm:"column:points"`
	CreatedCustomers int    `gorm:"column:created_customers"`
	Message          string `gorm:"column:message"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
	FinishedAt       *time.Time
}

func (importRow) TableName() string { return "imports" }

func (r *importRow) public() *Import {
	imp := &Import{ID: r.ID, FileName: r.FileName, SHA256: r.SHA256, Uploader: Uploader{Name: r.UploaderName, Email: r.UploaderEmail},
		Status: r.Status, Total: r.TotalRows, Done: r.DoneRows, Applied: r.AppliedRows, Failed: r.FailedRows, Skipped: r.SkippedRows,
		CreatedAt: r.CreatedAt.UTC(), Message: r.Message, Encoding: r.Encoding, Separator: r.Separator}
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		imp.FinishedAt = &t
	}
	return imp
}

// fileChunk is a piece of a stored file.
type fileChunk struct {
	ImportID string `gorm:"primaryKey;column:import_id"`
	Seq      int    `gorm:"primaryKey;column:seq"`
	Data     []byte `gorm:"column:data"`
}

func (fileChunk) TableName() string { return "import_files" }

// lineRow is one line of an import's report.
type lineRow struct {
	ImportID string `gorm:"primaryKey;column:import_id"`
	Line     int    `gorm:"primaryKey;column:line"`
	Status   string `gorm:"column:status"`
	Code     string `gorm:"column:code"`
	Message  string `gorm:"column:message"`
}

func (lineRow) TableName() string { return "import_lines" }

// Start checks the file — size, encoding, header, at least one data row —
// and, when it can be imported, stores it and queues it; it is processed
// in the background (Get and Wait follow it). A refused file is a
// *csvfile.FileError and a file whose bytes were imported before an
// *AlreadyImportedError; in both cases nothing is stored. Reading file
// fails with its error (an http.MaxBytesError, say), wrapped.
func (s *Service) Start(ctx context.Context, file io.Reader, fileName string, by Uploader) (*Import, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	email, err := model.NormalizeEmail(by.Email)
	if err != nil {
		return nil, fmt.Errorf("imports: the uploader's e-mail: %w", err)
	}
	by.Email, by.Name = email, truncate(cleanText(by.Name), model.MaxNameLength)
	fileName = cleanFileName(fileName)

	tmp, err := os.CreateTemp("", "loyalty-import-*.csv")
	if err != nil {
		return nil, fmt.Errorf("imports: stage the upload: %w", err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	sum := sha256.New()
	var det csvfile.Detector
	n, err := io.Copy(io.MultiWriter(tmp, sum, &det), io.LimitReader(file, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("imports: read the upload: %w", err)
	}
	if n > MaxFileSize {
		return nil, &csvfile.FileError{Code: csvfile.CodeTooLarge, Detail: fmt.Sprintf("o limite é %d MiB", MaxFileSize>>20)}
	}
	enc, err := det.Result()
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("imports: stage the upload: %w", err)
	}
	summary, err := csvfile.Scan(bufio.NewReaderSize(tmp, 64<<10), enc)
	if err != nil {
		return nil, err
	}
	hash := hex.EncodeToString(sum.Sum(nil))
	if prev, err := s.imported(ctx, hash); err != nil || prev != nil {
		if err != nil {
			return nil, err
		}
		return nil, &AlreadyImportedError{Import: *prev}
	}

	now := s.now().UTC()
	row := importRow{ID: store.NewID(), FileName: fileName, SHA256: hash, ContentSHA256: summary.Digest, SizeBytes: n,
		Encoding: string(enc), Separator: string(summary.Separator), UploaderName: by.Name, UploaderEmail: by.Email,
		Status: StatusQueued, TotalRows: summary.Rows, CreatedAt: now, UpdatedAt: now}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("imports: stage the upload: %w", err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		buf := make([]byte, chunkSize)
		for seq := 0; ; seq++ {
			n, err := io.ReadFull(tmp, buf)
			if n > 0 {
				if err := tx.Create(&fileChunk{ImportID: row.ID, Seq: seq, Data: buf[:n]}).Error; err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		if duplicateKey(err) { // the same bytes uploaded at the same moment
			if prev, err2 := s.imported(ctx, hash); err2 == nil && prev != nil {
				return nil, &AlreadyImportedError{Import: *prev}
			}
		}
		return nil, fmt.Errorf("imports: store the file: %w", err)
	}
	s.log.Info("import queued", "import", row.ID, "file", fileName, "rows", summary.Rows, "bytes", n,
		"encoding", enc, "separator", string(summary.Separator), "ignored_columns", summary.Ignored, "by", by.Email)
	s.schedule(row.ID)
	return row.public(), nil
}

// imported returns the import of the bytes hashed to sha that is queued,
// running or done, or nil.
func (s *Service) imported(ctx context.Context, sha string) (*Import, error) {
	var rows []importRow
	err := s.db.WithContext(ctx).Where("sha256 = ? AND status <> ?", sha, StatusFailed).Order("created_at").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("imports: look for the file: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].public(), nil
}

func duplicateKey(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "SQLSTATE 23505")
}

// Get returns import id; an unknown id is store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*Import, error) {
	var rows []importRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("imports: get %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("import %q: %w", id, store.ErrNotFound)
	}
	return rows[0].public(), nil
}

// List returns the latest imports, newest first (limit 1–MaxList; 50
// when 0).
func (s *Service) List(ctx context.Context, limit int) ([]Import, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxList)
	var rows []importRow
	if err := s.db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("imports: list: %w", err)
	}
	out := make([]Import, len(rows))
	for i := range rows {
		out[i] = *rows[i].public()
	}
	return out, nil
}

// Wait blocks until import id is done or failed, or ctx ends (then it
// returns the import as it is and ctx's error).
func (s *Service) Wait(ctx context.Context, id string) (*Import, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		imp, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if imp.Status == StatusDone || imp.Status == StatusFailed {
			return imp, nil
		}
		// Another process may be the one running it: look again now and
		// then even without news from this one.
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return imp, ctx.Err()
		}
		t.Stop()
	}
}

// Close stops accepting files and waits, within ctx, for the running
// imports to finish. When ctx ends first, they stop after the batch they
// are in (its transaction rolls back) and stay "running"; queued imports
// stay "queued": the next New resumes both where they were. Close does not
// close the store.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		close(s.stop)
	}
	s.closed = true
	s.mu.Unlock()
	if s.running.Wait(ctx) != nil {
		s.log.Warn("imports interrupted by the shutdown; they resume at the next start")
		s.cancel()
		_ = s.running.Wait(context.Background())
	}
	s.cancel()
	return nil
}

func (s *Service) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// notify wakes the waiters.
func (s *Service) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// schedule runs import id in the background, once per process. It
// reports whether it did (false: closed, or id is running here already).
func (s *Service) schedule(id string) bool {
	s.mu.Lock()
	if s.closed || s.active[id] {
		s.mu.Unlock()
		return false
	}
	s.active[id] = true
	s.running.Add()
	s.mu.Unlock()
	go func() {
		defer s.running.Done()
		defer func() {
			s.mu.Lock()
			delete(s.active, id)
			s.mu.Unlock()
			s.notify()
		}()
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		defer func() { <-s.sem }()
		if s.isClosed() {
			return // stays queued: the next start resumes it
		}
		s.process(id)
	}()
	return true
}

// cleanFileName keeps the base name of what the browser sent, as valid
// one-line text of at most maxFileName characters.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = truncate(cleanText(name), maxFileName)
	if name == "" || name == "." || name == "/" {
		return "arquivo.csv"
	}
	return name
}

// cleanText drops invalid UTF-8 and control characters and trims.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// truncate is s's first n characters, without the spaces a cut may
// leave at its end.
func truncate(s string, n int) string { return strings.TrimSpace(clip.Runes(s, n)) }
