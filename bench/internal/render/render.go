// Package render is the guest logic shared by the Portico and Extism
// benchmark guests: a view with a heading, two key-values and a 50-row
// table, the same work as host/sandbox's test guest "render" action.
package render

import (
	"strconv"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// Noop is the output of the no-op action.
var Noop = []byte(`{"view":{"blocks":[]}}`)

// View builds the 50-row view for in.
func View(in *abi.Input) *abi.Output {
	rows := make([][]string, 50)
	for i := range rows {
		rows[i] = []string{
			strconv.Itoa(i + 1),
			"Boleto " + strconv.Itoa(2026_000+i),
			time.Date(2026, time.Month(i%12+1), i%28+1, 0, 0, 0, 0, time.UTC).Format("02/01/2006"),
			"R$ " + strconv.FormatFloat(float64(i)*137.5+89.9, 'f', 2, 64),
			[]string{"pago", "aberto", "vencido"}[i%3],
		}
	}
	return &abi.Output{View: &abi.View{
		Title: in.Plugin.Title,
		Blocks: []abi.Block{
			{Type: abi.BlockHeading, Level: 1, Text: "Olá, " + in.User.Name},
			{Type: abi.BlockKV, Items: []abi.KV{{Label: "Usuário", Value: in.User.ID}, {Label: "Papel", Value: in.User.Role}}},
			{Type: abi.BlockTable, Columns: []string{"#", "Documento", "Vencimento", "Valor", "Situação"}, Rows: rows},
		},
	}}
}
