// Command financeiro is Portico's first-party finance plugin: the
// customer's open and overdue installments, read from the company's ERP
// by the CPF or CNPJ in the user context, and the segunda via de boleto:
// a new due date within the window the gestor set, the fine and interest
// it costs, a Banco do Brasil slip registered in the ERP once (however
// many times it is asked for), its linha digitável, barcode, Pix copia e
// cola and a PDF.
//
// Build it with `make plugins` (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared).
// It needs the grants http (to the ERP's origin), kv, secrets, config and
// log, and the user's document and name; docs/financeiro.md lists its
// configuration.
package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portico-dev/portico/internal/document"
	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/calendar"
	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

func init() {
	sdk.Render(render)
	sdk.Action("simular", simulate)
	sdk.Action("emitir", issue)
	sdk.Action("voltar", render)
	sdk.Card(card)
	sdk.Settings(describe)
}

func main() {}

// now is the clock; tests replace it.
var now = time.Now

// zone is the customers' time zone: Brasília time, UTC−3 all year since
// 2019, so no time zone database is needed in the guest.
var zone = time.FixedZone("BRT", -3*60*60)

// today is the calendar date in Brasília, at midnight UTC (the form the
// charges and calendar packages use).
func today() time.Time {
	t := now().In(zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Form field names.
const (
	fieldInstallment = "parcela"    // "contractID:installmentID"
	fieldDue         = "vencimento" // YYYY-MM-DD
)

// title is the view's title in the user's language.
func title(c *sdk.Context) string { return c.Tr("Financeiro", "Finanzas", "Billing") }

// session is what every handler starts with: the checked configuration,
// the ERP, and the customer's contracts.
type session struct {
	c         *sdk.Context
	s         settings
	erp       ERP
	contracts []Contract
	clock     *clock
	// pending holds the IDs of the contracts whose installments could not
	// be loaded in this call (the ERP too slow for all of them, or
	// failing after some): they are listed without installments, and the
	// page says that it is incomplete.
	pending map[string]bool
	// unread holds the indexes of the contracts whose installments the
	// call did not need (the other contracts of an issue or a
	// simulation); readUnread loads them when a list is drawn.
	unread []int
}

// open loads the configuration, the customer's contracts and their
// installments as p asks (load.go). When nothing useful can be read it
// returns the view to show instead: a polite message for the customer,
// the details in the plugin's log for the gestor.
func open(c *sdk.Context, p plan) (*session, *sdk.View) {
	s, problems := loadSettings(c)
	if len(problems) > 0 {
		for _, p := range problems {
			c.Log().Error("configuration: "+p.key+" "+p.what, "key", p.key)
		}
		v := sdk.NewView(title(c)).Warning(unavailableText(c))
		if c.User().Role == "gestor" {
			v.Heading(2, c.Tr("Configuração incompleta", "Configuración incompleta", "Incomplete configuration"))
			rows := [][]string{}
			for _, p := range problems {
				rows = append(rows, []string{p.key, p.text})
			}
			v.Table([]string{c.Tr("Chave", "Clave", "Key"), c.Tr("Problema", "Problema", "Problem")}, rows...)
		}
		return nil, v
	}
	clk := newClock(c)
	erp, err := newERP(c, s, clk)
	if err != nil {
		c.Log().Error("configuration: " + err.Error() + " (set the secrets " + secretUser + " and " + secretPassword + ")")
		return nil, sdk.NewView(title(c)).Warning(unavailableText(c))
	}
	doc := c.User().Document
	if d, err := document.Normalize(doc); err != nil || d != doc {
		if doc == "" {
			c.Log().Warn("the user context has no document: grant the profile field document, and check the user's CPF or CNPJ")
		}
		return nil, sdk.NewView(title(c)).Info(c.Tr(
			"Não encontramos o seu CPF ou CNPJ no cadastro do portal. Fale com a construtora para atualizá-lo e ver as suas parcelas aqui.",
			"No encontramos su CPF o CNPJ en el registro del portal. Comuníquese con la constructora para actualizarlo y ver sus cuotas aquí.",
			"We could not find your CPF or CNPJ in the portal's records. Contact the developer to update it and see your installments here."))
	}
	contracts, ok := loadSnapshot(c, doc, snapshotTTL)
	if !ok {
		var err error
		if contracts, err = erp.Contracts(doc); err != nil {
			return nil, erpFailure(c, err)
		}
		saveSnapshot(c, doc, contracts)
	}
	ss := &session{c: c, s: s, erp: erp, contracts: contracts, clock: clk}
	if fail := ss.loadInstallments(p); fail != nil {
		return nil, fail
	}
	t := today()
	for i := range contracts {
		markOverdue(&contracts[i], t)
	}
	return ss, nil
}

// markOverdue sets the Overdue of a contract's installments.
func markOverdue(ct *Contract, today time.Time) {
	for j := range ct.Installments {
		in := &ct.Installments[j]
		in.Overdue = in.Open && overdue(in.Due, today)
	}
}

// partial reports whether some contracts' installments are missing.
func (ss *session) partial() bool { return len(ss.pending) > 0 }

// overdue reports whether an installment due on due is late on today: a
// due date on a weekend or a bank holiday is payable without charges on
// the next business day (as charges.Compute counts it), so it is late only
// after that day.
func overdue(due, today time.Time) bool {
	return today.After(calendar.NextBusinessDay(due))
}

// overdueFor is an overdue installment's status: for how many days it is
// past its due date, so that it reads differently from an open one at a
// glance (the table has no colour of its own).
func overdueFor(c *sdk.Context, due, today time.Time) string {
	days := int(today.Sub(due).Hours() / 24)
	if days < 1 { // due on a holiday and paid late: not a date in the past
		return c.Tr("Vencida", "Vencida", "Overdue")
	}
	return c.Tr(fmt.Sprintf(plural(days, "Vencida há %d dia", "Vencida há %d dias"), days),
		fmt.Sprintf(plural(days, "Vencida hace %d día", "Vencida hace %d días"), days),
		fmt.Sprintf(plural(days, "Overdue by %d day", "Overdue by %d days"), days))
}

func unavailableText(c *sdk.Context) string {
	return c.Tr("O financeiro está indisponível no momento. Tente novamente em alguns minutos.",
		"Las finanzas no están disponibles en este momento. Inténtelo de nuevo en unos minutos.",
		"Billing is unavailable right now. Please try again in a few minutes.")
}

// erpFailure logs what the ERP did, for the gestor, and returns the view
// for the customer: never the ERP's body or a stack trace.
func erpFailure(c *sdk.Context, err error) *sdk.View {
	e := logERP(c, err)
	v := sdk.NewView(title(c))
	switch {
	case errors.Is(e, errBusy):
		mins := max(1, int((e.retryAfter+time.Minute-1)/time.Minute))
		return retry(c, v.Warning(c.Tr(fmt.Sprintf("Muitas consultas ao financeiro agora. Tente novamente em %d min.", mins),
			fmt.Sprintf("Demasiadas consultas a finanzas ahora. Inténtelo de nuevo en %d min.", mins),
			fmt.Sprintf("Billing is busy right now. Please try again in %d min.", mins))))
	case errors.Is(e, errRefused):
		return v.Warning(c.Tr("Não foi possível emitir a segunda via desta parcela. Atualize a página: ela pode ter sido paga ou alterada.",
			"No fue posible emitir la segunda vía de esta cuota. Actualice la página: puede haber sido pagada o modificada.",
			"A new slip for this installment could not be issued. Refresh the page: it may have been paid or changed."))
	}
	return retry(c, v.Warning(unavailableText(c)))
}

// logERP writes what the ERP did to the plugin's log, where the gestor
// reads it on the health page, and returns it classified.
func logERP(c *sdk.Context, err error) *erpError {
	var e *erpError
	if !errors.As(err, &e) {
		e = &erpError{class: errUnavailable, detail: err.Error()}
	}
	switch {
	case errors.Is(e, errBusy):
		c.Log().Warn("the ERP is limiting requests", "detail", e.detail, "retry_after", e.retryAfter.String())
	case errors.Is(e, errCredentials):
		c.Log().Error("the ERP refused the API user: check the secrets "+secretUser+" and "+secretPassword, "detail", e.detail)
	case errors.Is(e, errNotAllowed):
		c.Log().Error("the ERP's address is not allowed: add the origin of "+cfgERPURL+" to the plugin's allowed hosts", "detail", e.detail)
	case errors.Is(e, errRefused):
		c.Log().Warn("the ERP refused the request", "detail", e.detail, "erp_message", plain(e.message, 200))
	case errors.Is(e, errTooSlow):
		c.Log().Warn("the ERP is too slow to read every contract in the call's time", "detail", e.detail)
	default:
		c.Log().Error("the ERP is unavailable", "detail", e.detail)
	}
	return e
}

// retry ends a failure's view with a button that asks the ERP again (the
// installments' list), so the customer need not find the page's reload.
func retry(c *sdk.Context, v *sdk.View) *sdk.View {
	return v.Form(sdk.NewForm().Button(c.Tr("Tentar novamente", "Intentar de nuevo", "Try again"), "voltar"))
}

// plain makes text from the ERP safe for one line of a view or log: no
// control or bidirectional characters, valid UTF-8, at most n characters.
func plain(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

// money writes cents in the user's locale.
func money(c *sdk.Context, cents int64) string { return charges.FormatBRL(cents, c.Locale()) }

func date(c *sdk.Context, t time.Time) string { return charges.FormatDate(t, c.Locale()) }

// plural picks the singular or the plural form of a message about n
// things: one is singular and every other count plural, the rule of
// Portuguese, Spanish and English alike.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// weekday is the day's short name in the user's language.
func weekday(c *sdk.Context, t time.Time) string {
	i := int(t.Weekday())
	return c.Tr([]string{"dom", "seg", "ter", "qua", "qui", "sex", "sáb"}[i],
		[]string{"dom", "lun", "mar", "mié", "jue", "vie", "sáb"}[i],
		[]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}[i])
}

// maxDateOptions is the longest window offered as a select of dates; a
// longer one is a date field (a select holds at most abi.MaxOptions).
const maxDateOptions = 62

// maxShown bounds the contracts drawn on the page (blocks per view are
// bounded by the host).
const maxShown = 15

func render(c *sdk.Context) (*sdk.View, error) {
	ss, fail := open(c, pagePlan)
	if fail != nil {
		return fail, nil
	}
	return ss.list(), nil
}

// card is the home card: the overdue installments, if any, and the next
// one to pay, or that nothing is open. When the ERP or the configuration
// fails, the card fails and the home shows the tile without it (the page
// itself explains). When only some contracts could be read, it says so,
// gives the overdue ones it found as a minimum, and names no next
// installment and no "nothing open", which the others could belie.
func card(c *sdk.Context) (*sdk.View, error) {
	ss, fail := open(c, cardPlan)
	if fail != nil {
		return nil, errors.New(unavailableText(c))
	}
	v := sdk.NewView("")
	var next *Installment
	var overdue int64
	n := 0
	for i := range ss.contracts {
		for j := range ss.contracts[i].Installments {
			in := &ss.contracts[i].Installments[j]
			if in.Overdue {
				overdue += in.Amount
				n++
			} else if in.Open && (next == nil || in.Due.Before(next.Due)) {
				next = in
			}
		}
	}
	if ss.partial() {
		if n > 0 {
			v.Warning(c.Tr(fmt.Sprintf(plural(n, "Pelo menos %d parcela vencida: %s", "Pelo menos %d parcelas vencidas: %s"), n, money(c, overdue)),
				fmt.Sprintf(plural(n, "Al menos %d cuota vencida: %s", "Al menos %d cuotas vencidas: %s"), n, money(c, overdue)),
				fmt.Sprintf(plural(n, "At least %d overdue installment: %s", "At least %d overdue installments: %s"), n, money(c, overdue))))
		}
		return v.Text(c.Tr("Não foi possível consultar todos os seus contratos agora; abra o Financeiro para vê-los.",
			"No fue posible consultar todos sus contratos ahora; abra Finanzas para verlos.",
			"Not all of your contracts could be read just now; open Billing to see them.")), nil
	}
	if n > 0 {
		v.Warning(c.Tr(fmt.Sprintf(plural(n, "%d parcela vencida: %s", "%d parcelas vencidas: %s"), n, money(c, overdue)),
			fmt.Sprintf(plural(n, "%d cuota vencida: %s", "%d cuotas vencidas: %s"), n, money(c, overdue)),
			fmt.Sprintf(plural(n, "%d overdue installment: %s", "%d overdue installments: %s"), n, money(c, overdue))))
	}
	switch {
	case next != nil:
		v.Text(c.Tr(fmt.Sprintf("Próxima parcela: %s, vence em %s", money(c, next.Amount), date(c, next.Due)),
			fmt.Sprintf("Próxima cuota: %s, vence el %s", money(c, next.Amount), date(c, next.Due)),
			fmt.Sprintf("Next installment: %s, due %s", money(c, next.Amount), date(c, next.Due))))
	case n == 0:
		v.Text(c.Tr("Nenhuma parcela em aberto", "Ninguna cuota pendiente", "No installments due"))
	}
	return v, nil
}

// list is the page: every contract with its open installments, and the
// form that asks for a segunda via.
func (ss *session) list() *sdk.View { return ss.listAfter(nil) }

// listAfter is list with first (a message about what the person just
// sent) right under the title, where they see it, not below every
// contract.
func (ss *session) listAfter(first func(*sdk.View) *sdk.View) *sdk.View {
	c := ss.c
	ss.readUnread()
	v := sdk.NewView(title(c))
	if first != nil {
		first(v)
	}
	if len(ss.contracts) == 0 {
		return v.Info(c.Tr("Não há contratos no seu CPF ou CNPJ. Se você comprou uma unidade, fale com a construtora.",
			"No hay contratos a su nombre. Si compró una unidad, comuníquese con la constructora.",
			"There are no contracts under your CPF or CNPJ. If you bought a unit, contact the developer."))
	}
	if ss.partial() {
		// Never a partial list that reads as the whole: the notice, and a
		// way to ask again, before anything else.
		n := len(ss.pending)
		v.Warning(c.Tr(fmt.Sprintf("Não conseguimos carregar agora as parcelas de %d dos seus %d contratos, então esta lista está incompleta. Tente novamente em alguns instantes.", n, len(ss.contracts)),
			fmt.Sprintf("No pudimos cargar ahora las cuotas de %d de sus %d contratos, así que esta lista está incompleta. Inténtelo de nuevo en unos instantes.", n, len(ss.contracts)),
			fmt.Sprintf("We could not load the installments of %d of your %d contracts just now, so this list is incomplete. Please try again in a moment.", n, len(ss.contracts))))
		retry(c, v)
	}
	var due, overdue int64
	var nOverdue int
	for _, ct := range ss.contracts {
		for _, in := range ct.Installments {
			if in.Open {
				due += in.Amount
			}
			if in.Overdue {
				overdue += in.Amount
				nOverdue++
			}
		}
	}
	switch {
	case nOverdue > 0:
		v.Warning(overdueText(c, nOverdue, overdue, ss.partial()))
	case ss.partial():
	case due == 0:
		v.Success(c.Tr("Nenhuma parcela em aberto. Obrigado!", "Ninguna cuota pendiente. ¡Gracias!", "No installments due. Thank you!"))
	}
	day := today()
	dates := ss.s.window.Dates(day)
	for i, ct := range ss.contracts {
		if i == maxShown {
			v.Info(c.Tr("Há mais contratos do que cabem aqui; fale com a construtora para ver os demais.",
				"Hay más contratos de los que caben aquí; comuníquese con la constructora para ver los demás.",
				"There are more contracts than fit here; contact the developer for the rest."))
			break
		}
		v.Heading(2, plain(contractName(ct), 120))
		if ss.pending[ct.ID] {
			v.Text(c.Tr("Não foi possível carregar as parcelas deste contrato agora.",
				"No fue posible cargar las cuotas de este contrato ahora.",
				"The installments of this contract could not be loaded just now."))
			continue
		}
		var rows [][]string
		var options []abi.Option
		paid := 0
		for _, in := range ct.Installments {
			if !in.Open {
				paid++
				continue
			}
			state := c.Tr("Em aberto", "Pendiente", "Open")
			label := fmt.Sprintf("%s — %s — %s", plain(in.Number, 20), date(c, in.Due), money(c, in.Amount))
			if in.Overdue {
				state = overdueFor(c, in.Due, day)
				label += " — " + c.Tr("vencida", "vencida", "overdue")
			}
			rows = append(rows, []string{plain(in.Number, 20), date(c, in.Due), money(c, in.Amount), state})
			options = append(options, sdk.Option(ct.ID+":"+in.ID, label))
		}
		if len(rows) == 0 {
			switch paid {
			case 0:
				v.Text(c.Tr("Este contrato não tem parcelas a pagar.", "Este contrato no tiene cuotas por pagar.", "This contract has no installments to pay."))
			case 1:
				v.Text(c.Tr("A parcela deste contrato está paga.", "La cuota de este contrato está pagada.", "This contract's installment is paid."))
			default:
				v.Text(c.Tr(fmt.Sprintf("Todas as %d parcelas deste contrato estão pagas.", paid),
					fmt.Sprintf("Las %d cuotas de este contrato están pagadas.", paid),
					fmt.Sprintf("All %d installments of this contract are paid.", paid)))
			}
			continue
		}
		v.Table([]string{c.Tr("Parcela", "Cuota", "Installment"), c.Tr("Vencimento", "Vencimiento", "Due date"),
			c.Tr("Valor", "Valor", "Amount"), c.Tr("Situação", "Situación", "Status")}, rows...)
		if paid > 0 {
			v.Text(c.Tr(fmt.Sprintf(plural(paid, "%d parcela paga deste contrato não aparece aqui.", "%d parcelas pagas deste contrato não aparecem aqui."), paid),
				fmt.Sprintf(plural(paid, "%d cuota pagada de este contrato no aparece aquí.", "%d cuotas pagadas de este contrato no aparecen aquí."), paid),
				fmt.Sprintf(plural(paid, "%d paid installment of this contract is not shown.", "%d paid installments of this contract are not shown."), paid)))
		}
		f := sdk.NewForm().
			Select(fieldInstallment, c.Tr("Parcela", "Cuota", "Installment"), options[0].Value, options...).Required()
		dueLabel := c.Tr("Novo vencimento", "Nuevo vencimiento", "New due date")
		if len(dates) <= maxDateOptions {
			// A select of the dates the window allows: a refused date is
			// rare, and the weekday shows.
			var dateOptions []abi.Option
			for _, d := range dates {
				dateOptions = append(dateOptions, sdk.Option(d.Format(time.DateOnly), weekday(c, d)+", "+date(c, d)))
			}
			f.Select(fieldDue, dueLabel, dateOptions[0].Value, dateOptions...).Required()
		} else {
			// A long window (the gestor may allow up to a year) is a date
			// field; the action checks the date.
			last := dates[len(dates)-1]
			f.Date(fieldDue, dueLabel+" "+c.Tr("(até "+date(c, last)+")", "(hasta el "+date(c, last)+")", "(by "+date(c, last)+")"),
				dates[0].Format(time.DateOnly)).Required()
		}
		v.Form(f.Button(c.Tr("Ver valores da segunda via", "Ver valores de la segunda vía", "See the new slip's amounts"), "simular"))
	}
	return v
}

// pick finds the installment a form names among the customer's own
// contracts, and checks the new due date; it returns the view to show
// when either is wrong.
func (ss *session) pick() (Contract, Installment, charges.Breakdown, *sdk.View) {
	c := ss.c
	ctID, inID, _ := strings.Cut(c.FormValue(fieldInstallment), ":")
	for _, ct := range ss.contracts {
		if ct.ID != ctID {
			continue
		}
		for _, in := range ct.Installments {
			if in.ID != inID {
				continue
			}
			if !in.Open {
				return ct, in, charges.Breakdown{}, ss.listAfter(info(c.Tr("Esta parcela já está paga.", "Esta cuota ya está pagada.", "This installment is already paid.")))
			}
			newDue, err := time.Parse(time.DateOnly, c.FormValue(fieldDue))
			if err != nil {
				return ct, in, charges.Breakdown{}, ss.listAfter(failure(c.Tr("Escolha a nova data de vencimento.", "Elija la nueva fecha de vencimiento.", "Choose the new due date.")))
			}
			if err := ss.s.window.Check(today(), newDue); err != nil {
				var de *charges.DueDateError
				msg := err.Error()
				if errors.As(err, &de) {
					msg = de.Message(c.Locale())
				}
				return ct, in, charges.Breakdown{}, ss.listAfter(failure(msg))
			}
			b, err := charges.Compute(in.Amount, in.Due, newDue, ss.s.rates)
			if err != nil {
				c.Log().Error("computing the charges failed: " + err.Error())
				return ct, in, charges.Breakdown{}, sdk.NewView(title(c)).Warning(unavailableText(c))
			}
			return ct, in, b, nil
		}
	}
	// Not one of this customer's installments: a stale page, or a form
	// made by hand. Nothing of another customer is ever looked up.
	return Contract{}, Installment{}, charges.Breakdown{}, ss.listAfter(failure(c.Tr(
		"Esta parcela não está mais em aberto. Escolha uma parcela da lista.",
		"Esta cuota ya no está pendiente. Elija una cuota de la lista.",
		"This installment is no longer open. Choose one from the list.")))
}

// failure and info put a message first on a view (listAfter).
func failure(msg string) func(*sdk.View) *sdk.View {
	return func(v *sdk.View) *sdk.View { return v.Error(msg) }
}

func info(msg string) func(*sdk.View) *sdk.View {
	return func(v *sdk.View) *sdk.View { return v.Info(msg) }
}

// breakdown lists what the segunda via charges.
func breakdown(c *sdk.Context, ct Contract, in Installment, b charges.Breakdown, r charges.Settings) []abi.KV {
	return []abi.KV{
		sdk.Item(c.Tr("Contrato", "Contrato", "Contract"), plain(contractName(ct), 200)),
		sdk.Item(c.Tr("Parcela", "Cuota", "Installment"), plain(in.Number, 20)),
		sdk.Item(c.Tr("Vencimento original", "Vencimiento original", "Original due date"), date(c, in.Due)),
		sdk.Item(c.Tr("Novo vencimento", "Nuevo vencimiento", "New due date"), date(c, b.NewDue)),
		sdk.Item(c.Tr("Valor da parcela", "Valor de la cuota", "Installment amount"), money(c, b.Principal)),
		sdk.Item(c.Tr("Multa", "Multa", "Late fee")+" ("+r.Fine.Format(c.Locale())+")", money(c, b.Fine)),
		sdk.Item(c.Tr(fmt.Sprintf("Juros de mora (%s ao mês, %d dias)", r.MonthlyInterest.Format(c.Locale()), b.Days),
			fmt.Sprintf("Intereses de mora (%s al mes, %d días)", r.MonthlyInterest.Format(c.Locale()), b.Days),
			fmt.Sprintf("Late interest (%s a month, %d days)", r.MonthlyInterest.Format(c.Locale()), b.Days)), money(c, b.Interest)),
		sdk.Item(c.Tr("Total a pagar", "Total a pagar", "Total due"), money(c, b.Total)),
	}
}

// overdueText is the page's warning about n overdue installments adding
// up to amount; partial says it counts only the contracts loaded.
func overdueText(c *sdk.Context, n int, amount int64, partial bool) string {
	pt := plural(n, "Você tem %d parcela vencida, de %s.", "Você tem %d parcelas vencidas, somando %s.")
	es := plural(n, "Tiene %d cuota vencida, de %s.", "Tiene %d cuotas vencidas, por un total de %s.")
	en := plural(n, "You have %d overdue installment of %s.", "You have %d overdue installments, %s in total.")
	if partial {
		pt = plural(n, "Nos contratos carregados, você tem %d parcela vencida, de %s.", "Nos contratos carregados, você tem %d parcelas vencidas, somando %s.")
		es = plural(n, "En los contratos cargados, tiene %d cuota vencida, de %s.", "En los contratos cargados, tiene %d cuotas vencidas, por un total de %s.")
		en = plural(n, "In the contracts loaded, you have %d overdue installment of %s.", "In the contracts loaded, you have %d overdue installments, %s in total.")
	}
	m := money(c, amount)
	return c.Tr(fmt.Sprintf(pt+" Emita a segunda via com uma nova data de vencimento.", n, m),
		fmt.Sprintf(es+" Emita la segunda vía con una nueva fecha de vencimiento.", n, m),
		fmt.Sprintf(en+" Issue a new slip with a new due date.", n, m))
}

// formContract is the contract the form names (pick checks it is the
// customer's).
func formContract(c *sdk.Context) string {
	id, _, _ := strings.Cut(c.FormValue(fieldInstallment), ":")
	return id
}

func simulate(c *sdk.Context) (*sdk.View, error) {
	// The installment as the page showed it (read less than pageFreshness
	// ago, or now): the issue reads it again.
	ss, fail := open(c, plan{fresh: pageFreshness, chosen: formContract(c)})
	if fail != nil {
		return fail, nil
	}
	ct, in, b, bad := ss.pick()
	if bad != nil {
		return bad, nil
	}
	v := sdk.NewView(title(c)).Heading(2, c.Tr("Valores da segunda via", "Valores de la segunda vía", "The new slip's amounts")).
		KV(breakdown(c, ct, in, b, ss.s.rates)...)
	if !b.Late {
		v.Text(c.Tr("Sem multa nem juros: o novo vencimento está dentro do prazo da parcela.",
			"Sin multa ni intereses: el nuevo vencimiento está dentro del plazo de la cuota.",
			"No fee or interest: the new due date is within the installment's term."))
	} else {
		v.Text(c.Tr("A multa é cobrada uma vez; os juros, por dia corrido desde o vencimento original, arredondados ao centavo.",
			"La multa se cobra una vez; los intereses, por día corrido desde el vencimiento original, redondeados al centavo.",
			"The fee is charged once; interest per calendar day since the original due date, rounded to the cent."))
	}
	v.Form(sdk.NewForm().
		Hidden(fieldInstallment, ct.ID+":"+in.ID).
		Hidden(fieldDue, b.NewDue.Format(time.DateOnly)).
		Button(c.Tr("Emitir segunda via", "Emitir segunda vía", "Issue the new slip"), "emitir").
		Button(c.Tr("Voltar", "Volver", "Back"), "voltar"))
	return v, nil
}

func issue(c *sdk.Context) (*sdk.View, error) {
	// The installment as the simulation the customer just confirmed read
	// it (less than pageFreshness ago), else read from the ERP again: the
	// slip charges the amounts the customer was shown, and a page left
	// open longer is checked against the ERP's balance before a slip is
	// registered. One ERP request for the usual click (the plugin's own
	// time stays near issue 11's 5 ms); the ERP still refuses an
	// installment paid in between. Never the 2-minute copies a slow ERP's
	// page falls back to (installmentsTTL).
	ss, fail := open(c, plan{fresh: pageFreshness, chosen: formContract(c)})
	if fail != nil {
		return fail, nil
	}
	ct, in, b, bad := ss.pick()
	if bad != nil {
		return bad, nil
	}
	key := slipKey(ct, in, b)
	is, ok := loadIssued(c, key)
	if !ok {
		reg, err := ss.erp.Register(ct, in, b, key)
		if err != nil {
			return erpFailure(c, err), nil
		}
		var pixErr error
		is, pixErr, err = buildSlip(ss.s, ct, in, b, reg, key)
		if pixErr != nil {
			c.Log().Warn("the slip goes without Pix", "error", pixErr.Error(), "erp_slip_id", reg.ID)
		}
		if err != nil {
			c.Log().Error("drawing the slip failed: "+err.Error(), "erp_slip_id", reg.ID)
			return sdk.NewView(title(c)).Warning(unavailableText(c)), nil
		}
		saveIssued(c, is)
		c.Log().Info("segunda via issued", "erp_slip_id", reg.ID, "nosso_numero", is.NossoNumero)
	}
	return slipView(c, ct, in, b, ss.s, is), nil
}

// slipView shows an issued segunda via: how to pay it first, then what it
// charges and the PDF.
func slipView(c *sdk.Context, ct Contract, in Installment, b charges.Breakdown, s settings, is issued) *sdk.View {
	total, due := money(c, b.Total), date(c, is.NewDue)
	v := sdk.NewView(title(c)).Success(c.Tr("Segunda via emitida: "+total+", a pagar até "+due+".",
		"Segunda vía emitida: "+total+", a pagar hasta el "+due+".",
		"New slip issued: "+total+", to pay by "+due+"."))
	// The ways to pay first, each under its own heading: Pix (copied into
	// the bank's app, the quickest on a phone, or its QR code read from
	// another screen), then the boleto (the linha digitável, the PDF and
	// the barcode); then the details.
	if is.Pix != "" {
		v.Heading(2, "Pix").
			Copy(c.Tr("Pix copia e cola", "Pix copia y pega", "Pix copy and paste"), is.Pix).
			QR(c.Tr("QR Code do Pix", "Código QR del Pix", "Pix QR code"), is.Pix)
	}
	v.Heading(2, c.Tr("Boleto", "Boleto", "Bank slip (boleto)")).
		Copy(c.Tr("Linha digitável", "Línea digitable", "Payment code (linha digitável)"), boleto.FormatLine(is.Line))
	if pdf, err := slipPDF(is, plain(c.User().Name, 120), document.Format(c.User().Document), c.Locale()); err != nil {
		c.Log().Error("drawing the PDF failed: " + err.Error())
	} else {
		v.Download(c.Tr("Baixar boleto em PDF", "Descargar boleto en PDF", "Download the slip (PDF)"), "boleto-"+is.NossoNumero+".pdf", "application/pdf", pdf)
	}
	v.Barcode(c.Tr("Código de barras", "Código de barras", "Barcode"), is.Barcode)
	items := append(breakdown(c, ct, in, b, s.rates),
		sdk.Item(c.Tr("Beneficiário", "Beneficiario", "Beneficiary"), plain(is.Beneficiary, 200)),
		sdk.Item(c.Tr("Nosso número", "Nuestro número", "Bank reference"), is.NossoNumero))
	v.Heading(2, c.Tr("Detalhes", "Detalles", "Details")).KV(items...)
	// The way back to the installments (the page's own "Voltar" leads home).
	return v.Form(sdk.NewForm().Button(c.Tr("Ver minhas parcelas", "Ver mis cuotas", "See my installments"), "voltar"))
}
