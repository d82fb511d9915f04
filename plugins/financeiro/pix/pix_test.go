package pix

import (
	"errors"
	"strings"
	"testing"
)

// bcbExample is the static BR Code of the Banco Central's "Manual de
// Padrões para Iniciação do Pix" (random key, no amount, no txid), CRC
// included; brazilian-utils quotes it from the same manual in its
// isValidPixPayload documentation. Nothing in this repository produced it.
const bcbExample = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000" +
	"5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"

func TestCRC16(t *testing.T) {
	// The catalogue check value of CRC-16/CCITT-FALSE.
	if got := CRC16([]byte("123456789")); got != 0x29B1 {
		t.Errorf("CRC16(123456789) = %04X, want 29B1", got)
	}
	if got := CRC16([]byte(bcbExample[:len(bcbExample)-4])); got != 0x1D3D {
		t.Errorf("CRC16(BCB example) = %04X, want 1D3D", got)
	}
}

func TestEncodeBCBExample(t *testing.T) {
	got, err := Payload{
		Key:          "123e4567-e12b-12d1-a456-426655440000",
		MerchantName: "Fulano de Tal",
		MerchantCity: "BRASILIA",
	}.Encode()
	if err != nil || got != bcbExample {
		t.Fatalf("Encode = %q, %v\nwant %q", got, err, bcbExample)
	}
	p, err := Parse(bcbExample)
	if err != nil {
		t.Fatal(err)
	}
	want := Payload{Key: "123e4567-e12b-12d1-a456-426655440000", MerchantName: "Fulano de Tal", MerchantCity: "BRASILIA", MCC: "0000"}
	if p != want {
		t.Errorf("Parse = %+v, want %+v", p, want)
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		p    Payload
		want string
	}{
		{
			// CRC computed independently: Python's binascii.crc_hqx(payload, 0xFFFF).
			name: "amount",
			p:    Payload{Key: "123e4567-e12b-12d1-a456-426655440000", MerchantName: "Fulano de Tal", MerchantCity: "BRASILIA", Amount: 12345},
			want: "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865406123.455802BR5913Fulano de Tal6008BRASILIA62070503***6304A5A2",
		},
		{
			// Description, txid, and a name and city with accents folded
			// (CRC again from binascii.crc_hqx).
			name: "description, txid, accents",
			p: Payload{Key: "123e4567-e12b-12d1-a456-426655440000", Description: "Parcela  12 A", MerchantName: "Construtora Exemplo",
				MerchantCity: "São Paulo", Amount: 1234567, TxID: "12345PAR001"},
			want: "00020126740014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400000212Parcela 12 A520400005303986540812345.675802BR5919Construtora Exemplo6009Sao Paulo6215051112345PAR0016304C10D",
		},
	}
	for _, tt := range tests {
		got, err := tt.p.Encode()
		if err != nil || got != tt.want {
			t.Errorf("%s: Encode = %q, %v\nwant %q", tt.name, got, err, tt.want)
		}
	}
}

func TestEncodeLimits(t *testing.T) {
	p := Payload{
		Key:          "fulano.de.tal@example.com",
		MerchantName: "Construtora Exemplo Empreendimentos Imobiliários Ltda",
		MerchantCity: "São José dos Campos",
		Description:  strings.Repeat("x", 200),
		Amount:       1,
	}
	code, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(code)
	if err != nil {
		t.Fatal(err)
	}
	if back.MerchantName != "Construtora Exemplo Empre" || back.MerchantCity != "Sao Jose dos Ca" {
		t.Errorf("name %q, city %q: want them cut to 25 and 15", back.MerchantName, back.MerchantCity)
	}
	// Field 26 is at most 99 bytes: GUI (18) + key (4+25) + description (4+48).
	if len(back.Description) != 99-18-29-4 {
		t.Errorf("description of %d bytes, want %d", len(back.Description), 99-18-29-4)
	}
	if back.Amount != 1 || !strings.Contains(code, "54040.01") {
		t.Errorf("one cent written as %q", code)
	}
	// The largest amount fits field 54's 13 characters.
	p.Amount = MaxAmount
	if code, err = p.Encode(); err != nil || !strings.Contains(code, "54139999999999.99") {
		t.Errorf("MaxAmount: %q, %v", code, err)
	}
}

func TestEncodeRejects(t *testing.T) {
	ok := Payload{Key: "12345678909", MerchantName: "Ana", MerchantCity: "Recife"}
	tests := []struct {
		name string
		edit func(*Payload)
		want error
	}{
		{"no key", func(p *Payload) { p.Key = "" }, ErrKey},
		{"formatted CPF", func(p *Payload) { p.Key = "123.456.789-09" }, ErrKey},
		{"12 digits", func(p *Payload) { p.Key = "123456789012" }, ErrKey},
		{"upper-case UUID", func(p *Payload) { p.Key = "123E4567-E12B-12D1-A456-426655440000" }, ErrKey},
		{"phone without digits", func(p *Payload) { p.Key = "+" }, ErrKey},
		{"e-mail without domain", func(p *Payload) { p.Key = "ana@" }, ErrKey},
		{"e-mail with space", func(p *Payload) { p.Key = "a na@x.com" }, ErrKey},
		{"key too long", func(p *Payload) { p.Key = strings.Repeat("a", 70) + "@x.com.br" }, ErrKey},
		{"txid too long", func(p *Payload) { p.TxID = strings.Repeat("A", 26) }, ErrTxID},
		{"txid with hyphen", func(p *Payload) { p.TxID = "PARC-1" }, ErrTxID},
		{"txid with accent", func(p *Payload) { p.TxID = "PARCELAÇÃO" }, ErrTxID},
		{"negative amount", func(p *Payload) { p.Amount = -1 }, ErrAmount},
		{"amount too big", func(p *Payload) { p.Amount = MaxAmount + 1 }, ErrAmount},
		{"empty name", func(p *Payload) { p.MerchantName = "  " }, ErrText},
		{"empty city", func(p *Payload) { p.MerchantCity = "" }, ErrText},
		{"emoji in name", func(p *Payload) { p.MerchantName = "Ana 🏠" }, ErrText},
		{"control character", func(p *Payload) { p.MerchantCity = "Reci\x00fe" }, ErrText},
		{"invalid UTF-8", func(p *Payload) { p.MerchantName = "Ana\xff" }, ErrText},
		{"MCC letters", func(p *Payload) { p.MCC = "00a0" }, ErrFormat},
	}
	for _, tt := range tests {
		p := ok
		tt.edit(&p)
		if _, err := p.Encode(); !errors.Is(err, tt.want) {
			t.Errorf("%s: Encode error %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := ok.Encode(); err != nil {
		t.Errorf("valid payload: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	withCRC := func(body string) string {
		body += "6304"
		return body + strings.ToUpper(hex4(CRC16([]byte(body))))
	}
	body := bcbExample[:len(bcbExample)-8]
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrFormat},
		{"huge", strings.Repeat("0", MaxPayload+1), ErrFormat},
		{"wrong CRC", bcbExample[:len(bcbExample)-1] + "E", ErrCRC},
		{"changed name, old CRC", strings.Replace(bcbExample, "Fulano", "Fulana", 1), ErrCRC},
		{"CRC not hex", bcbExample[:len(bcbExample)-4] + "1D3G", ErrFormat},
		{"no CRC field", body, ErrFormat},
		{"non-ASCII", strings.Replace(bcbExample, "BRASILIA", "BRASÍLIA", 1), ErrFormat},
		{"length past end", withCRC("000201269900"), ErrFormat},
		{"no format indicator", withCRC(body[6:]), ErrFormat},
		{"format 02", withCRC("000202" + body[6:]), ErrFormat},
		{"dynamic", withCRC("000201010212" + body[6:]), ErrUnsupported},
		{"dynamic URL", withCRC("0002012628" + "0014br.gov.bcb.pix2506x.y/qr" + body[66:]), ErrUnsupported},
		{"other GUI", withCRC(strings.Replace(body, "br.gov.bcb.pix", "br.gov.bcb.pox", 1)), ErrFormat},
		{"dollars", withCRC(strings.Replace(body, "5303986", "5303840", 1)), ErrFormat},
		{"country US", withCRC(strings.Replace(body, "5802BR", "5802US", 1)), ErrFormat},
		{"duplicate country", withCRC(strings.Replace(body, "5802BR", "5802BR5802BR", 1)), ErrFormat},
		{"no txid field", withCRC(strings.Replace(body, "62070503***", "", 1)), ErrFormat},
		{"amount with comma", withCRC(strings.Replace(body, "5802BR", "540510,005802BR", 1)), ErrAmount},
		{"amount zero", withCRC(strings.Replace(body, "5802BR", "54040.005802BR", 1)), ErrAmount},
		{"amount three decimals", withCRC(strings.Replace(body, "5802BR", "54051.0005802BR", 1)), ErrAmount},
		{"bad txid", withCRC(strings.Replace(body, "62070503***", "62070503a-b", 1)), ErrTxID},
		{"blank name", withCRC(strings.Replace(body, "5913Fulano de Tal", "5903   ", 1)), ErrText},
		{"name too long", withCRC(strings.Replace(body, "5913Fulano de Tal", "5926Fulano de Tal Fulano de Ta", 1)), ErrText},
		{"bad key", withCRC(strings.Replace(body, "0136123e4567-e12b-12d1-a456-426655440000", "0136123e4567-e12b-12d1-a456-42665544000Z", 1)), ErrKey},
		{"reserved field 65", withCRC(body + "6502xx"), ErrFormat},
		{"tip indicator 55", withCRC(strings.Replace(body, "5802BR", "55020158025802BR", 1)), ErrFormat},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: Parse error %v, want %v", tt.name, err, tt.want)
		}
	}
	// Fields of other schemes and unreserved templates are skipped; a
	// lower-case CRC and an upper-case GUI are read.
	for _, in := range []string{
		withCRC(strings.Replace(body, "5204", "0404abcd5204", 1)),
		withCRC(body + "8004test"),
		withCRC(body + "64060002pt"),
		withCRC(strings.Replace(body, "br.gov.bcb.pix", "BR.GOV.BCB.PIX", 1)),
		bcbExample[:len(bcbExample)-4] + "1d3d",
		withCRC("000201010211" + body[6:]),
	} {
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}

// Spaces in a parsed text are tidied as Encode writes them, so a parsed
// payload encodes to a code that parses to the same payload.
func TestParseTidiesSpaces(t *testing.T) {
	body := strings.Replace(bcbExample[:len(bcbExample)-8], "5913Fulano de Tal", "5915 Fulano  de Tal", 1) + "6304"
	in := body + strings.ToUpper(hex4(CRC16([]byte(body))))
	p, err := Parse(in)
	if err != nil || p.MerchantName != "Fulano de Tal" {
		t.Fatalf("Parse = %+v, %v; want name %q", p, err, "Fulano de Tal")
	}
	out, _ := p.Encode()
	if out != bcbExample {
		t.Errorf("re-encoded %q, want %q", out, bcbExample)
	}
}

func hex4(v uint16) string {
	const h = "0123456789abcdef"
	return string([]byte{h[v>>12], h[v>>8&15], h[v>>4&15], h[v&15]})
}

func TestNormalizeKey(t *testing.T) {
	tests := []struct {
		in   string
		want string
		typ  KeyType
	}{
		{"123.456.789-09", "12345678909", KeyCPF},
		{" 12.345.678/0001-95 ", "12345678000195", KeyCNPJ},
		{"+55 (61) 91234-5678", "+5561912345678", KeyPhone},
		{"Ana.Souza@Example.COM", "ana.souza@example.com", KeyEmail},
		{"123E4567-E12B-12D1-A456-426655440000", "123e4567-e12b-12d1-a456-426655440000", KeyEVP},
	}
	for _, tt := range tests {
		got, typ, err := NormalizeKey(tt.in)
		if err != nil || got != tt.want || typ != tt.typ {
			t.Errorf("NormalizeKey(%q) = %q, %q, %v; want %q, %q", tt.in, got, typ, err, tt.want, tt.typ)
		}
	}
	for _, in := range []string{"", "abc", "123.456", "+0123", "+55 61 9x", strings.Repeat("9", 400)} {
		if _, _, err := NormalizeKey(in); !errors.Is(err, ErrKey) {
			t.Errorf("NormalizeKey(%q) error %v, want ErrKey", in, err)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"São João", "Sao Joao"},
		{"  Ação   Imóveis ", "Acao Imoveis"},
		{"Rua 7 nº 12", "Rua 7 no 12"},
		{"CONSTRUÇÃO – “Ltda”", `CONSTRUCAO - "Ltda"`},
		{"Müller & Peña", "Muller & Pena"},
	}
	for _, tt := range tests {
		got, err := fold("name", tt.in, 99)
		if err != nil || got != tt.want {
			t.Errorf("fold(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	// Cutting never leaves a trailing space.
	if got, _ := fold("city", "Rio de Janeiro X", 15); got != "Rio de Janeiro" {
		t.Errorf("cut = %q", got)
	}
}
