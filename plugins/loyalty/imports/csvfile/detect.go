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
	// superset of ISO-8859-1's printable characters): a file that is not
	// valid UTF-8, and has no valid UTF-8 multi-byte sequence either, is
	// read as this.
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
// then it is unreadable and refused — or it mixes the two: valid UTF-8
// multi-byte sequences (accented letters written as UTF-8) and bytes that
// are not UTF-8, as when rows typed or exported in Latin-1 are pasted into
// a UTF-8 file. Read as either encoding, some of its names would be
// garbled ("JosÃ©", "Jo?o"), so it is refused (mixed_encoding, with the
// line of the first byte that is not UTF-8).
type Detector struct {
	size      int64
	head      []byte
	nul       bool
	controls  int64
	undefined bool // a byte Windows-1252 does not define

	// line is the line of the byte being looked at (1-based; LF, CRLF and
	// a lone CR end a line); lastCR says the previous byte was a CR.
	line   int64
	lastCR bool
	// invalid: a byte that is not part of valid UTF-8, first on
	// invalidLine; multi: a valid multi-byte UTF-8 sequence.
	invalid     bool
	invalidLine int64
	multi       bool
	// pending holds a multi-byte sequence begun but not complete, begun on
	// pendingLine.
	pending     [utf8.UTFMax]byte
	np          int
	pendingLine int64
}

// Write looks at p. It never fails.
func (d *Detector) Write(p []byte) (int, error) {
	n := len(p)
	d.size += int64(n)
	if len(d.head) < 8 {
		d.head = append(d.head, p[:min(8-len(d.head), len(p))]...)
	}
	if d.line == 0 {
		d.line = 1
	}
	for _, c := range p {
		switch {
		case c == 0:
			d.nul = true
		case c == '\n':
			if !d.lastCR {
				d.line++
			}
		case c == '\r':
			d.line++
		case c < 0x20 && c != '\t', c == 0x7F:
			d.controls++
		case c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D:
			d.undefined = true
		}
		d.lastCR = c == '\r'
		if c < utf8.RuneSelf && d.np == 0 {
			continue // ASCII
		}
		d.feed(c, d.line)
	}
	return n, nil
}

// feed takes the next byte of a multi-byte sequence, or one that starts
// one (non-ASCII), seen on line.
func (d *Detector) feed(c byte, line int64) {
	if d.np == 0 {
		if c < utf8.RuneSelf {
			return
		}
		d.pending[0], d.np, d.pendingLine = c, 1, line
		if !utf8.FullRune(d.pending[:1]) {
			return // a lead byte: its continuation follows
		}
		// A byte that cannot start a sequence (a continuation byte, 0xC0,
		// 0xC1, 0xF5–0xFF).
		d.np = 0
		d.bad(line)
		return
	}
	d.pending[d.np] = c
	d.np++
	if !utf8.FullRune(d.pending[:d.np]) {
		return
	}
	if r, size := utf8.DecodeRune(d.pending[:d.np]); r != utf8.RuneError || size > 1 {
		d.multi = true // size == np: the sequence just became complete
		d.np = 0
		return
	}
	// The lead byte is not UTF-8; the bytes after it start afresh (one of
	// them may be ASCII, or the lead of a sequence of its own).
	d.bad(d.pendingLine)
	var rest [utf8.UTFMax]byte
	k := copy(rest[:], d.pending[1:d.np])
	at := d.pendingLine
	d.np = 0
	for _, b := range rest[:k] {
		d.feed(b, at)
	}
}

// bad records a byte that is not UTF-8, on line.
func (d *Detector) bad(line int64) {
	if !d.invalid {
		d.invalid, d.invalidLine = true, line
	}
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
	invalid, invalidLine := d.invalid, d.invalidLine
	if !invalid && d.np > 0 { // the file ends inside a sequence
		invalid, invalidLine = true, d.pendingLine
	}
	switch {
	case !invalid && bom:
		return UTF8BOM, nil
	case !invalid:
		return UTF8, nil
	case bom:
		return "", &FileError{Code: CodeInvalidEncoding, Detail: "começa como UTF-8 (BOM) mas tem bytes que não são UTF-8"}
	case d.multi:
		return "", &FileError{Code: CodeMixedEncoding, Line: int(invalidLine)}
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
