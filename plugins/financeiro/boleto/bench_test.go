package boleto

import "testing"

// BenchmarkIssue measures what issuing a slip costs the plugin: the campo
// livre, the barcode, the linha digitável and the ITF bars.
func BenchmarkIssue(b *testing.B) {
	due := date(2026, 12, 7)
	for b.Loop() {
		free, _ := BBConvenio7{Convenio: "1234567", Sequence: 42, Carteira: "17"}.FreeField()
		s, err := New(BancoDoBrasil, due, 103033, free)
		if err != nil {
			b.Fatal(err)
		}
		bar, _ := s.Barcode()
		line, _ := s.Line()
		_ = FormatLine(line)
		if _, err := ITF(bar); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLine measures reading a typed linha digitável.
func BenchmarkParseLine(b *testing.B) {
	for b.Loop() {
		if _, err := ParseLine(published[0].line); err != nil {
			b.Fatal(err)
		}
	}
}
