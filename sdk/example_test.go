package sdk_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/sdktest"
	"github.com/portico-dev/portico/sdk/viewtext"
)

// A view is a list of blocks built by chaining; viewtext shows it as text.
func ExampleNewView() {
	v := sdk.NewView("Boleto").
		Heading(2, "Vencimento 10/08").
		Warning("Vence em 3 dias.").
		KV(sdk.Item("Valor", "R$ 1.250,00"), sdk.Item("Unidade", "Apto 101")).
		Copy("Linha digitável", "34191.79001 01043.510047 91020.150008 1 96610000125000").
		Barcode("Código de barras", "34191966100001250001790010435100479102015000")
	fmt.Print(viewtext.Format(v.ABI()))
	// Output:
	// # Boleto
	// ## Vencimento 10/08
	// [warning] Vence em 3 dias.
	// Valor: R$ 1.250,00
	// Unidade: Apto 101
	// [copy] Linha digitável: 34191.79001 01043.510047 91020.150008 1 96610000125000
	// [barcode] Código de barras: 34191966100001250001790010435100479102015000
}

// A table takes its columns, then one slice per row.
func ExampleView_Table() {
	v := sdk.NewView("").Table([]string{"Mês", "Valor"}, []string{"julho", "1.250,00"}, []string{"agosto", "1.310,00"})
	fmt.Print(viewtext.Format(v.ABI()))
	// Output:
	// Mês    | Valor
	// -------+---------
	// julho  | 1.250,00
	// agosto | 1.310,00
}

// A form's buttons name actions; Required and Placeholder change the field
// added last.
func ExampleNewForm() {
	f := sdk.NewForm().
		Text("nome", "Nome", "").Required().Placeholder("Seu nome").
		Date("dia", "Dia da visita", "2025-08-10").
		Select("unidade", "Unidade", "101", sdk.Option("101", "Apto 101"), sdk.Option("102", "Apto 102")).
		Checkbox("aviso", "Avisar por e-mail", true).
		Hidden("origem", "portal").
		Button("Agendar", "agendar")
	fmt.Print(viewtext.Format(sdk.NewView("").Form(f).ABI()))
	// Output:
	// [form]
	//   nome (text, required) "Nome" = "" placeholder "Seu nome"
	//   dia (date) "Dia da visita" = "2025-08-10"
	//   unidade (select) "Unidade" = "101" options [101=Apto 101, 102=Apto 102]
	//   aviso (checkbox) "Avisar por e-mail" = "on"
	//   origem (hidden) = "portal"
	//   [button] Agendar -> agendar
}

// A plugin registers a render handler and its actions, usually on
// sdk.DefaultMux from init (sdk.Render, sdk.Action). sdktest runs them
// natively.
func ExampleMux() {
	mux := sdk.NewMux()
	mux.Render(func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("Agenda").
			Form(sdk.NewForm().Date("dia", "Dia", "").Required().Button("Agendar", "agendar")), nil
	})
	mux.Action("agendar", func(c *sdk.Context) (*sdk.View, error) {
		dia := c.FormValue("dia")
		if dia == "" {
			return nil, fmt.Errorf("escolha um dia")
		}
		return sdk.NewView("Agenda").Success("Visita agendada para " + dia + "."), nil
	})

	h := sdktest.New(nil) // in a test: sdktest.New(t)
	h.Mux = mux
	page := h.Render()
	fmt.Print(h.Submit(page, "agendar", url.Values{"dia": {"2025-08-10"}}).Text())
	fmt.Print(h.Action("agendar", nil).Text())
	// Output:
	// # Agenda
	// [success] Visita agendada para 2025-08-10.
	// error: escolha um dia
}

// Context.Tr picks the text for the user's language.
func ExampleContext_Tr() {
	mux := sdk.NewMux()
	mux.Render(func(c *sdk.Context) (*sdk.View, error) {
		return sdk.NewView("").Text(c.Tr("Bom dia", "Buenos días", "Good morning")), nil
	})
	h := sdktest.New(nil)
	h.Mux = mux
	for _, l := range []string{"pt-BR", "es", "en"} {
		h.User.Locale = l
		fmt.Print(h.Render().Text())
	}
	// Output:
	// Bom dia
	// Buenos días
	// Good morning
}

// The KV store keeps data across calls (grant "kv").
func ExampleKV() {
	mux := sdk.NewMux()
	mux.Render(func(c *sdk.Context) (*sdk.View, error) {
		key := "visits:" + c.User().ID
		s, err := c.KV().GetString(key)
		if err != nil {
			return nil, err
		}
		n, _ := strconv.Atoi(s)
		n++
		if err := c.KV().SetString(key, strconv.Itoa(n)); err != nil {
			return nil, err
		}
		return sdk.NewView("").Text("visit " + strconv.Itoa(n)), nil
	})
	h := sdktest.New(nil)
	h.Mux = mux
	fmt.Print(h.Render().Text(), h.Render().Text())
	h.Grant() // without the grant the call fails politely
	fmt.Print(h.Render().Text())
	// Output:
	// visit 1
	// visit 2
	// error: kv get "visits:user-1": grant_missing: the plugin lacks the "kv" grant
}

// HTTP goes only to the plugin's allowed hosts, through the host. Secrets
// are read at call time; sdktest serves the ERP with an http.Handler.
func ExampleContext_GetJSON() {
	mux := sdk.NewMux()
	mux.Render(func(c *sdk.Context) (*sdk.View, error) {
		token, err := c.Secret("erp_token")
		if err != nil {
			return nil, fmt.Errorf("o plugin não está configurado: %w", err)
		}
		var saldo struct {
			Total string `json:"total"`
		}
		err = c.GetJSON(c.Config("erp_url")+"/saldo?cliente="+url.QueryEscape(c.User().ID),
			map[string]string{"Authorization": "Bearer " + token}, &saldo)
		if err != nil {
			c.Log().Error("erp failed", "err", err.Error())
			return nil, fmt.Errorf("o ERP não respondeu; tente mais tarde")
		}
		return sdk.NewView("").KV(sdk.Item("Saldo", saldo.Total)), nil
	})

	h := sdktest.New(nil)
	h.Mux = mux
	h.Config["erp_url"] = "https://erp.example.com"
	h.Secrets["erp_token"] = "s3cret"
	h.ServeERP("https://erp.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"total": "R$ 10,00 (%s)"}`, r.URL.Query().Get("cliente"))
	}))
	fmt.Print(h.Render().Text())

	h.Secrets["erp_token"] = "wrong"
	r := h.Render()
	fmt.Print(r.Text(), r.Logs[0].Attrs["err"], "\n")

	h.Config["erp_url"] = "https://evil.example.net"
	r = h.Render()
	fmt.Print(r.Logs[0].Attrs["err"], "\n")
	// Output:
	// Saldo: R$ 10,00 (user-1)
	// error: o ERP não respondeu; tente mais tarde
	// http GET https://erp.example.com/saldo: http status 401
	// http GET https://evil.example.net/saldo: not_allowed: origin https://evil.example.net is not in the plugin's allowed hosts
}

// Code tells host errors apart.
func ExampleCode() {
	mux := sdk.NewMux()
	mux.Render(func(c *sdk.Context) (*sdk.View, error) {
		_, err := c.Secret("missing")
		switch sdk.Code(err) {
		case abi.ErrNotFound:
			return sdk.NewView("").Warning("Configure the secret first."), nil
		case abi.ErrGrantMissing:
			return sdk.NewView("").Warning("Grant the secrets permission."), nil
		}
		return nil, err
	})
	h := sdktest.New(nil)
	h.Mux = mux
	fmt.Print(h.Render().Text())
	fmt.Print(h.Grant().Render().Text())
	// Output:
	// [warning] Configure the secret first.
	// [warning] Grant the secrets permission.
}
