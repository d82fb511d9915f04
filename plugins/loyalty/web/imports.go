package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/imports"
	"github.com/portico-dev/portico/plugins/loyalty/imports/csvfile"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// The CSV import pages: an upload form and the past imports; an import's
// page with a progress bar while it runs (the script polls a small JSON
// answer; without script the page refreshes itself) and, when it is done,
// the per-row report to download. The imports service (package imports)
// parses, deduplicates and applies the file in the background.

// pastImports is how many imports the page lists.
const pastImports = 20

// UploadReadTimeout is how long the import route may take to read its
// request: a large CSV file on a slow line. The server's ReadTimeout,
// which bounds every other request, is shorter.
const UploadReadTimeout = 5 * time.Minute

type importsData struct {
	Enabled bool
	Mail    bool
	Max     int64
	List    []imports.Import
	Err     string
}

func (h *Handler) renderImports(w http.ResponseWriter, r *http.Request, s *Session, status int, errMsg string) {
	d := importsData{Enabled: h.o.Imports != nil, Mail: h.o.MailImports && launchkit.Str(s.User.Email) != "", Max: h.o.MaxUpload, Err: errMsg}
	if d.Enabled {
		var err error
		if d.List, err = h.o.Imports.List(r.Context(), pastImports); err != nil {
			h.internal(w, r, s, err)
			return
		}
	}
	h.render(w, status, "imports.html", h.newPage(s, "imp.title", "imports", d))
}

func (h *Handler) importsPage(w http.ResponseWriter, r *http.Request, s *Session) {
	h.renderImports(w, r, s, http.StatusOK, "")
}

// fileErrorText is a refused file's reason in lang.
func fileErrorText(lang string, fe *csvfile.FileError) string {
	key := "err.file." + fe.Code
	if _, ok := messages["pt-BR"][key]; !ok {
		return translate(lang, "err.file.generic")
	}
	switch fe.Code {
	case csvfile.CodeMissingColumn:
		col := fe.Detail
		if col == "" {
			col = fe.Column
		}
		return translate(lang, key, col)
	case csvfile.CodeDuplicateColumn:
		return translate(lang, key, fe.Column)
	case csvfile.CodeNoSeparator:
		return translate(lang, key, fe.Detail)
	case csvfile.CodeMixedEncoding:
		return translate(lang, key, number(lang, int64(fe.Line)))
	}
	return translate(lang, key)
}

// upload streams the multipart body's "file" part into the imports
// service, never holding the whole file in memory; the service refuses a
// bad file before changing anything.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, s *Session) {
	lang := s.Lang
	if h.o.Imports == nil {
		h.renderImports(w, r, s, http.StatusServiceUnavailable, translate(lang, "imp.off"))
		return
	}
	// The file plus the form's few other bytes; a large file on a slow
	// line may take up to UploadReadTimeout, a time only this route gets
	// (the server's ReadTimeout bounds every other request).
	r.Body = http.MaxBytesReader(w, r.Body, h.o.MaxUpload+16<<10)
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(UploadReadTimeout))
	tooLarge := func() {
		h.renderImports(w, r, s, http.StatusRequestEntityTooLarge, translate(lang, "err.upload.too_large", number(lang, h.o.MaxUpload>>20)))
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		h.renderImports(w, r, s, http.StatusBadRequest, translate(lang, "err.upload.missing"))
		return
	}
	// The report goes to the uploader, so the portal must have told us the
	// gestor's e-mail (the plugin's "e-mail" user field).
	if _, err := model.NormalizeEmail(launchkit.Str(s.User.Email)); err != nil {
		h.renderImports(w, r, s, http.StatusUnprocessableEntity, translate(lang, "err.upload.email"))
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		h.renderImports(w, r, s, http.StatusBadRequest, translate(lang, "err.upload.failed"))
		return
	}
	for {
		part, err := mr.NextPart()
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge()
			return
		case errors.Is(err, io.EOF):
			h.renderImports(w, r, s, http.StatusUnprocessableEntity, translate(lang, "err.upload.missing"))
			return
		case err != nil:
			h.renderImports(w, r, s, http.StatusBadRequest, translate(lang, "err.upload.failed"))
			return
		}
		if part.FormName() != "file" {
			_ = part.Close()
			continue
		}
		name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "" || name == "." || name == "/" {
			h.renderImports(w, r, s, http.StatusUnprocessableEntity, translate(lang, "err.upload.missing"))
			return
		}
		if n, bad := text(name); bad != "" {
			name = "arquivo.csv"
		} else {
			name = n
		}
		by := imports.Uploader{Name: launchkit.Str(s.User.Name), Email: launchkit.Str(s.User.Email)}
		imp, err := h.o.Imports.Start(r.Context(), part, name, by)
		var fe *csvfile.FileError
		var again *imports.AlreadyImportedError
		switch {
		case errors.As(err, &mbe):
			tooLarge()
		case errors.As(err, &fe):
			h.renderImports(w, r, s, http.StatusUnprocessableEntity, translate(lang, "err.file", fileErrorText(lang, fe)))
		case errors.As(err, &again):
			s.SetFlash(translate(lang, "imp.already", dateTime(lang, h.o.Location, again.Import.CreatedAt)))
			redirect(w, r, s, "/importacoes/"+again.Import.ID)
		case err != nil:
			h.internal(w, r, s, err)
		default:
			s.SetFlash(translate(lang, "imp.started"))
			redirect(w, r, s, "/importacoes/"+imp.ID)
		}
		return
	}
}

type importData struct {
	Import  *imports.Import
	Running bool
	Mail    bool
	Message string
	// Format says how the file was read: its encoding and separator.
	Format string
}

// formatText is how an import's file was read, in lang ("" when unknown).
func formatText(lang string, imp *imports.Import) string {
	sep := map[string]string{",": "imp.sep.comma", ";": "imp.sep.semicolon", "\t": "imp.sep.tab"}[imp.Separator]
	enc := "imp.enc." + imp.Encoding
	if _, ok := messages["pt-BR"][enc]; !ok || sep == "" {
		return ""
	}
	return translate(lang, "imp.format", translate(lang, enc), translate(lang, sep))
}

// loadImport returns the import named in the path, or answers 404.
func (h *Handler) loadImport(w http.ResponseWriter, r *http.Request, s *Session) *imports.Import {
	if h.o.Imports == nil {
		h.fail(w, r, s.Lang, http.StatusNotFound, "not_found", nil)
		return nil
	}
	imp, err := h.o.Imports.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && imp == nil) {
		h.fail(w, r, s.Lang, http.StatusNotFound, "not_found", err)
		return nil
	}
	if err != nil {
		h.internal(w, r, s, err)
		return nil
	}
	return imp
}

func running(imp *imports.Import) bool { return imp.Status == "queued" || imp.Status == "running" }

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request, s *Session) {
	imp := h.loadImport(w, r, s)
	if imp == nil {
		return
	}
	d := importData{Import: imp, Running: running(imp), Mail: h.o.MailImports && imp.Uploader.Email != "", Format: formatText(s.Lang, imp)}
	// The service's message is in Portuguese: the translated counts say
	// the same in other languages, unless the import failed.
	d.Message = imp.Message
	if s.Lang != "pt-BR" && imp.Status != "failed" {
		d.Message = ""
	}
	p := h.newPage(s, "imp.title", "imports", d)
	p.Refresh = running(imp)
	h.render(w, http.StatusOK, "import.html", p)
}

// progress is the JSON the import page's script polls.
type progress struct {
	Status  string `json:"status"`
	Total   int    `json:"total"`
	Done    int    `json:"done"`
	Applied int    `json:"applied"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	Text    string `json:"text"`
	Running bool   `json:"running"`
}

func (h *Handler) importProgress(w http.ResponseWriter, r *http.Request, s *Session) {
	imp := h.loadImport(w, r, s)
	if imp == nil {
		return
	}
	lang := s.Lang
	p := progress{Status: imp.Status, Total: imp.Total, Done: imp.Done, Applied: imp.Applied, Failed: imp.Failed,
		Skipped: imp.Skipped, Running: running(imp),
		Text: translate(lang, "imp.counted", number(lang, int64(imp.Done)), number(lang, int64(imp.Total)))}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p)
}

// importReport downloads the per-row report (line, status, message).
func (h *Handler) importReport(w http.ResponseWriter, r *http.Request, s *Session) {
	imp := h.loadImport(w, r, s)
	if imp == nil {
		return
	}
	if running(imp) {
		h.fail(w, r, s.Lang, http.StatusNotFound, "not_found", nil)
		return
	}
	base := strings.TrimSuffix(imp.FileName, path.Ext(imp.FileName))
	fileName := "relatorio-" + safeFileName(base) + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName}))
	if err := h.o.Imports.WriteReport(r.Context(), imp.ID, w); err != nil {
		h.o.Log.Error("import report", "import", imp.ID, "err", err)
	}
}

// safeFileName keeps letters, digits, dashes and underscores.
func safeFileName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
	if out == "" || len(out) > 80 {
		out = "importacao"
	}
	return out
}
