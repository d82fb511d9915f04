package csvfile

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// Encoding is how a file's text is encoded.
type Encoding string

// Encodings a file may have.
const (
	UTF8    Encoding = "utf-8"
	UTF8BOM Encoding = "utf-8-bom" // UTF-8 starting with EF BB BF, as Excel's "CSV UTF-8" writes it
	// Windows1252 is Latin-1 as spreadsheets export it on Windows (a
	// superset of ISO-8859-1's printable characters): any file that is not
	// valid UTF-8 is read as this.
	Windows1252 Encoding = "windows-1252"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	sigZip     = []byte("PK\x03\x04")                                   // .xlsx, .ods
	sigOLE     = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Detector learns a file's encoding as its bytes stream through it (an
// io.Writer, so it sits in an io.MultiWriter beside the hash and the
// copy): the whole file is looked at and nothing of it is kept but a few
// bytes.
//
// The rule: a file of valid UTF-8 is UTF-8 (with or without the BOM);
// any other is Windows-1252, unless it has a NUL byte or more than 1% of
// control characters (not text), or a byte Windows-1252 leaves undefined
// (0x81, 0x8D, 0x8F, 0x90, 0x9D), or a UTF-8 BOM over invalid UTF-8 —
// then it is unreadable and refused.
type Detector struct {
	size      int64
	head      []byte
	nul       bool
	controls  int64
	undefined bool // a byte Windows-1252 does not define
	invalid   bool // not valid UTF-8
	pending   [utf8.UTFMax]byte
	np        int
}

// Write looks at p. It never fails.
func (d *Detector) Write(p []byte) (int, error) {
	n := len(p)
	d.size += int64(n)
	if len(d.head) < 8 {
		d.head = append(d.head, p[:min(8-len(d.head), len(p))]...)
	}
	for _, c := range p {
		switch {
		case c == 0:
			d.nul = true
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r', c == 0x7F:
			d.controls++
		case c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D:
			d.undefined = true
		}
	}
	if d.invalid {
		return n, nil
	}
	// Complete a rune the previous write left cut.
	for d.np > 0 && len(p) > 0 {
		d.pending[d.np] = p[0]
		d.np++
		p = p[1:]
		if utf8.FullRune(d.pending[:d.np]) {
			if r, size := utf8.DecodeRune(d.pending[:d.np]); r == utf8.RuneError && size <= 1 || size != d.np {
				d.invalid = true
				return n, nil
			}
			d.np = 0
		}
	}
	if d.np > 0 {
		return n, nil // p ended inside the rune
	}
	// Keep a rune cut by the end of p for the next write.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	if !utf8.Valid(p[:cut]) {
		d.invalid = true
		return n, nil
	}
	d.np = copy(d.pending[:], p[cut:])
	return n, nil
}

// Size is the number of bytes seen.
func (d *Detector) Size() int64 { return d.size }

// Result says the encoding of the bytes written, or refuses them with a
// *FileError.
func (d *Detector) Result() (Encoding, error) {
	switch {
	case d.size == 0:
		return "", &FileError{Code: CodeEmpty}
	case bytes.HasPrefix(d.head, sigZip), bytes.HasPrefix(d.head, sigOLE):
		return "", &FileError{Code: CodeSpreadsheet}
	case bytes.HasPrefix(d.head, bomUTF16LE), bytes.HasPrefix(d.head, bomUTF16BE):
		return "", &FileError{Code: CodeUTF16}
	case d.nul || d.controls*100 > d.size:
		return "", &FileError{Code: CodeBinary}
	}
	bom := bytes.HasPrefix(d.head, bomUTF8)
	switch {
	case !d.invalid && d.np == 0 && bom:
		return UTF8BOM, nil
	case !d.invalid && d.np == 0:
		return UTF8, nil
	case bom:
		return "", &FileError{Code: CodeInvalidEncoding, Detail: "começa como UTF-8 (BOM) mas tem bytes que não são UTF-8"}
	case d.undefined:
		return "", &FileError{Code: CodeInvalidEncoding, Detail: "tem bytes que o Windows-1252 não define"}
	}
	return Windows1252, nil
}

// Detect reads all of r and returns its encoding (Detector's rule).
func Detect(r io.Reader) (Encoding, error) {
	var d Detector
	if _, err := io.Copy(&d, r); err != nil {
		return "", err
	}
	return d.Result()
}
