package viewtext

import (
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    *abi.View
		want string
	}{
		{"nil", nil, "(no view)\n"},
		{"empty", &abi.View{}, ""},
		{"ragged table", &abi.View{Blocks: []abi.Block{{Type: abi.BlockTable, Columns: []string{"ação", "b"}, Rows: [][]string{{"x"}, {"1", "2", "3"}}}}},
			"ação | b |\n-----+---+--\nx    |   |\n1    | 2 | 3\n"},
		{"table without columns", &abi.View{Blocks: []abi.Block{{Type: abi.BlockTable, Rows: [][]string{{"a", "b"}}}}}, "a | b\n"},
		{"others", &abi.View{Title: "T", Blocks: []abi.Block{
			{Type: abi.BlockHeading, Level: 7, Text: "h"},
			{Type: abi.BlockQR, Label: "q", Value: "v"},
			{Type: abi.BlockLink, Label: "l", URL: "https://x"},
			{Type: abi.BlockDownload, Label: "d", Filename: "a.csv", ContentType: "text/csv", Data: []byte("abc")},
			{Type: "weird"},
		}}, "# T\n### h\n[qr] q: v\n[link] l -> https://x\n[download] d: a.csv (text/csv, 3 bytes)\n[unknown block \"weird\"]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Format(tc.v); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
