package slippdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStructure checks what a PDF reader relies on: the header, every
// cross-reference offset pointing at its object, the startxref offset
// pointing at the table, the stream's length, and the end marker.
func TestStructure(t *testing.T) {
	d := New("Segunda via (teste)", time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	d.LineWidth(0.3)
	d.Text(15, 20, 14, true, "Construtora Exemplo — São Paulo (SP) \\ 100%")
	d.Rect(15, 30, 180, 10, false)
	d.Rect(20, 50, 0.5, 13, true)
	pdf := d.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("header or end marker missing:\n%s", pdf)
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 8\n")) {
		t.Fatalf("startxref %d does not point at the table: %.20q", xref, pdf[xref:])
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n \n`).FindAllSubmatch(pdf[xref:], -1)
	if len(entries) != 7 {
		t.Fatalf("%d objects in the table, want 7", len(entries))
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		if want := fmt.Sprintf("%d 0 obj\n", i+1); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("object %d: offset %d points at %.12q", i+1, off, pdf[off:])
		}
	}
	sm := regexp.MustCompile(`(?s)<< /Length (\d+) >>\nstream\n(.*?)endstream`).FindSubmatch(pdf)
	if n, _ := strconv.Atoi(string(sm[1])); sm == nil || n != len(sm[2]) {
		t.Errorf("stream length %s, content %d bytes", sm[1], len(sm[2]))
	}
	for _, want := range []string{`(Construtora Exemplo \227 S\343o Paulo \(SP\) \\ 100%) Tj`, "/BaseFont /Helvetica-Bold", "re f", "re S",
		"/Title (Segunda via \\(teste\\))", "/CreationDate (D:20261207000000Z)"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"abc":        "abc",
		"(a)\\b":     `\(a\)\\b`,
		"ção €":      `\347\343o \200`,
		"a\nb\x00c":  "a?b?c",
		"日本":         "??",
		"\u202eevil": "?evil",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzEscape: whatever the text, the literal string cannot end early or
// carry a byte outside printable ASCII, so the content stream stays
// well-formed.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"Contrato (CT-1)", "\\)", "Ω", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		for i := 0; i < len(e); i++ {
			c := e[i]
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("Escape(%q) holds byte %#x", s, c)
			}
			if (c == '(' || c == ')') && (i == 0 || e[i-1] != '\\') {
				t.Fatalf("Escape(%q) = %q: an unescaped parenthesis", s, e)
			}
			if c == '\\' {
				i++ // the escaped character or the first octal digit
			}
		}
	})
}

// TestReadable has a real PDF reader (Poppler's pdftotext, which .ci/run
// installs) extract the text back, accents and escapes included.
func TestReadable(t *testing.T) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is required under CI=true")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	d := New("t", time.Now())
	d.Text(15, 20, 12, false, "Construtora Exemplo — São Paulo (SP) \\ R$ 1.286,25")
	d.Text(15, 30, 12, true, "Línea digitable: 00190.00009")
	cmd := exec.Command(bin, "-", "-")
	cmd.Stdin = bytes.NewReader(d.Bytes())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{"Construtora Exemplo — São Paulo (SP) \\ R$ 1.286,25", "Línea digitable: 00190.00009"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pdftotext read %q, want %q in it", out, want)
		}
	}
}
