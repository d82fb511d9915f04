package csvfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/plugins/loyalty/points"
)

// FuzzParse feeds arbitrary bytes to the detector and the reader. Any
// input either is refused with a *FileError or reads to the end with:
// line numbers increasing from 2, ordinals 1, 2, 3…, every good row's
// values valid (the e-mail normalised, the document a CPF/CNPJ, points in
// range, the name valid text), every problem explained. And when every
// row is good, writing the rows back in another spelling (BOM, ';',
// CRLF, everything quoted, columns reordered) reads back the same rows
// with the same digest — the property duplicate detection rests on.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("nome,email\n\"a\nb\",x@y.co\n\"unterminated,z@y.co\n"))
	f.Add([]byte("nombres;email;puntos\r\nÑandú;n@y.co;1.000\r\n\r\n"))
	f.Add([]byte("nome;email;pontos\nJosé da Conceição;jose@exemplo.com;100\nJo\xe3o;joao@exemplo.com;50\n"))
	f.Add([]byte("nome;email\nJo\xe3o;j@y.co\nAndr\xe9;a@y.co\n"))
	f.Add([]byte("nome\temail\tpontos\r\nAna\tana@y.co\t10\r\n\t\t\r\n"))
	f.Add([]byte("\xef\xbb\xbfsep=;\r\nnome;email;x,y,z\r\nAna;a@y.co;1\r\n"))
	f.Add([]byte("\"sep=|\"||\nnome|email\n\"A|na\"|a@y.co\n"))
	f.Add([]byte("nome email\nAna a@y.co\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		enc, err := Detect(bytes.NewReader(data))
		if err != nil {
			mustFileError(t, err)
			return
		}
		rd, err := NewReader(bytes.NewReader(data), enc)
		if err != nil {
			mustFileError(t, err)
			return
		}
		if sep := rd.Separator(); sep == 0 || sep == '"' || sep == '\r' || sep == '\n' {
			t.Fatalf("separator %q", sep)
		}
		var rows []*Row
		allOK, last := true, 1
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			if row.Line <= last || row.N != len(rows)+1 {
				t.Fatalf("row %d at line %d after line %d", row.N, row.Line, last)
			}
			last = row.Line
			for _, p := range row.Problems {
				if p.Code == "" || p.Message == "" || !utf8.ValidString(p.Message) {
					t.Fatalf("line %d: problem %+v", row.Line, p)
				}
			}
			if row.OK() {
				checkGood(t, row)
			} else {
				allOK = false
			}
			rows = append(rows, row)
			if len(rows) > len(data) {
				t.Fatalf("more rows than bytes")
			}
		}
		if !allOK || len(rows) == 0 {
			return
		}
		var b bytes.Buffer
		b.Write(bomUTF8)
		w := csv.NewWriter(&b)
		w.Comma, w.UseCRLF = ';', true
		_ = w.Write([]string{"Pontos", "E-mail", "Documento de identidad", "Nombres", "extra"})
		for _, r := range rows {
			_ = w.Write([]string{strconv.FormatInt(r.Points, 10), r.Email, r.Document, r.Name, "x"})
		}
		w.Flush()
		again, err := NewReader(bytes.NewReader(b.Bytes()), UTF8BOM)
		if err != nil {
			t.Fatalf("rewritten file refused: %v\n%q", err, b.Bytes())
		}
		for i := 0; ; i++ {
			row, err := again.Next()
			if errors.Is(err, io.EOF) {
				if i != len(rows) {
					t.Fatalf("rewritten file has %d rows, want %d", i, len(rows))
				}
				break
			}
			if err != nil || i >= len(rows) {
				t.Fatalf("rewritten row %d: %v", i, err)
			}
			want := rows[i]
			if row.Name != want.Name || row.Email != want.Email || row.Document != want.Document || row.Points != want.Points || !row.OK() {
				t.Fatalf("rewritten row %d: %+v, want %+v", i, row, want)
			}
		}
		if again.Digest() != rd.Digest() {
			t.Fatalf("the same rows in another spelling have another digest")
		}
	})
}

func mustFileError(t *testing.T, err error) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) || fe.Code == "" || fe.Message() == "" {
		t.Fatalf("refusal is not a *FileError: %v", err)
	}
}

func checkGood(t *testing.T, r *Row) {
	t.Helper()
	if r.Name == "" || !model.ValidText(r.Name, false) || utf8.RuneCountInString(r.Name) > MaxName || clean(r.Name) != r.Name {
		t.Fatalf("line %d: good row with name %q", r.Line, r.Name)
	}
	if e, err := model.NormalizeEmail(r.Email); err != nil || e != r.Email {
		t.Fatalf("line %d: good row with e-mail %q", r.Line, r.Email)
	}
	if r.Document != "" {
		if d, err := model.NormalizeDocument(r.Document); err != nil || d != r.Document {
			t.Fatalf("line %d: good row with document %q", r.Line, r.Document)
		}
	}
	if r.Points < 0 || r.Points > points.MaxPoints {
		t.Fatalf("line %d: good row with %d points", r.Line, r.Points)
	}
}

// FuzzDetector: whatever the bytes and however the writes cut them, the
// detector answers as it does for the whole file at once, and its answer
// agrees with a plain reading by utf8.DecodeRune: UTF-8 only for valid
// UTF-8; Windows-1252 only for a file with no valid multi-byte sequence;
// mixed_encoding only for a file with both, naming the line of its first
// byte that is not UTF-8.
func FuzzDetector(f *testing.F) {
	f.Add([]byte("nome;email\nJosé;j@b.co\nJo\xe3o;b@b.co\n"), uint16(5), uint16(17))
	f.Add([]byte("a\rb\r\n\xe9\n\xc3\xa9"), uint16(1), uint16(4))
	f.Add([]byte("\xef\xbb\xbfnome\n\xf0\x9f\x98\x80\xe2\x82"), uint16(9), uint16(11))
	f.Add([]byte("Jos\xe9;a@b.co\r\n"), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint16) {
		a := min(int(cut1), len(data))
		b := min(max(int(cut2), a), len(data))
		var whole, parts Detector
		_, _ = whole.Write(data)
		_, _ = parts.Write(data[:a])
		_, _ = parts.Write(data[a:b])
		_, _ = parts.Write(data[b:])
		enc, err := whole.Result()
		enc2, err2 := parts.Result()
		if enc != enc2 || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("cut at %d,%d: %s %v; whole: %s %v", a, b, enc2, err2, enc, err)
		}
		multi, firstBad := false, 0
		line := 1
		for i := 0; i < len(data); {
			r, size := utf8.DecodeRune(data[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				if firstBad == 0 {
					firstBad = line
				}
			case size > 1:
				multi = true
			}
			for _, c := range data[i : i+size] {
				if c == '\r' || c == '\n' && (i == 0 || data[i-1] != '\r') {
					line++
				}
			}
			i += size
		}
		var fe *FileError
		switch {
		case err == nil && (enc == UTF8 || enc == UTF8BOM) && !utf8.Valid(data):
			t.Fatalf("%s for bytes that are not UTF-8", enc)
		case err == nil && enc == Windows1252 && (utf8.Valid(data) || multi):
			t.Fatalf("windows-1252 for bytes with valid UTF-8 sequences (all valid: %v)", utf8.Valid(data))
		case errors.As(err, &fe) && fe.Code == CodeMixedEncoding && (!multi || firstBad == 0 || fe.Line != firstBad):
			t.Fatalf("mixed_encoding at line %d; multi-byte %v, first byte not UTF-8 on line %d", fe.Line, multi, firstBad)
		}
	})
}
