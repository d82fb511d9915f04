package main

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/sdk"
	"github.com/portico-dev/portico/sdk/abi"
)

// Configuration keys (the plugin's configuration, set per tenant on the
// admin's plugin page) and secret names. docs/financeiro.md lists them with
// examples.
const (
	cfgERPURL       = "erp_url"      // the ERP API's base URL, such as https://api.sienge.com.br/empresa/public/api/v1
	cfgBank         = "banco"        // COMPE code; only 001 (Banco do Brasil) is laid out
	cfgAgency       = "agencia"      // shown on the slip
	cfgAccount      = "conta"        // shown on the slip
	cfgCarteira     = "carteira"     // two digits, 17 or 18
	cfgConvenio     = "convenio"     // seven digits
	cfgBeneficiary  = "beneficiario" // the company's name on the slip and in Pix
	cfgBeneficiaryD = "cnpj"         // the company's CNPJ, shown on the slip
	cfgCity         = "cidade"       // the company's city, for Pix
	cfgFine         = "multa"        // percentage, at most 2
	cfgInterest     = "juros_mes"    // percentage a month
	cfgMaxDays      = "prazo_dias"   // days ahead a new due date may be
	cfgBusinessDays = "dias_uteis"   // true: business days only
	secretUser      = "erp_usuario"  // the ERP's API user
	secretPassword  = "erp_senha"    // its password
	defaultMaxDays  = 30             // when prazo_dias is not set
	maxConfigText   = 200            // characters of a text setting shown on the slip
	defaultFine     = "2"            // when multa is not set
	defaultInterest = "1"            // when juros_mes is not set
	defaultCarteira = "17"           // when carteira is not set
	defaultBank     = boleto.BancoDoBrasil
)

// settings is the plugin's configuration, checked.
type settings struct {
	erpURL      string // without a trailing slash
	bank        string
	agency      string
	account     string
	carteira    string
	convenio    string
	beneficiary string
	cnpj        string
	city        string
	rates       charges.Settings
	window      charges.Window
}

// problem is one thing wrong with the configuration: the key, what is
// wrong in English for the plugin's log (the health page), and the same in
// the caller's language for the gestor (the admin's plugin page and the
// gestor's own view of the plugin). missing marks a required key that is
// not set, which the admin reports by itself from the declared settings.
type problem struct {
	key, what, text string
	missing         bool
}

var (
	digits7  = regexp.MustCompile(`^[0-9]{7}$`)
	digits2  = regexp.MustCompile(`^[0-9]{2}$`)
	textOK   = regexp.MustCompile(`^[^\x00-\x1f\x7f]*$`)
	cnpjLike = regexp.MustCompile(`^[0-9./-]{14,18}$`)
)

// loadSettings reads and checks the configuration; every problem is
// listed, so the gestor fixes them in one go.
func loadSettings(c *sdk.Context) (settings, []problem) {
	var s settings
	var ps []problem
	add := func(key, what, pt, es, en string) {
		ps = append(ps, problem{key: key, what: what, text: c.Tr(pt, es, en)})
	}
	text := func(key, def string, required bool) string {
		v := strings.TrimSpace(c.Config(key))
		if v == "" {
			v = def
		}
		switch {
		case v == "" && required:
			ps = append(ps, problem{key: key, what: "is not set", missing: true,
				text: c.Tr("não está definido.", "no está definido.", "is not set.")})
		case len([]rune(v)) > maxConfigText || !textOK.MatchString(v):
			add(key, "must be one line of at most 200 characters",
				"deve ter uma linha de no máximo 200 caracteres.", "debe tener una línea de 200 caracteres como máximo.", "must be one line of at most 200 characters.")
			v = ""
		}
		return v
	}
	s.erpURL = strings.TrimRight(text(cfgERPURL, "", true), "/")
	if s.erpURL != "" {
		u, err := url.Parse(s.erpURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			add(cfgERPURL, "must be an http(s) URL without user, query or fragment, such as https://api.sienge.com.br/empresa/public/api/v1",
				"deve ser um endereço http(s) sem usuário, consulta ou fragmento, como https://api.sienge.com.br/empresa/public/api/v1.",
				"debe ser una dirección http(s) sin usuario, consulta ni fragmento, como https://api.sienge.com.br/empresa/public/api/v1.",
				"must be an http(s) address without user, query or fragment, such as https://api.sienge.com.br/empresa/public/api/v1.")
			s.erpURL = ""
		}
	}
	s.bank = text(cfgBank, defaultBank, true)
	if s.bank != "" && s.bank != boleto.BancoDoBrasil {
		add(cfgBank, "must be 001 (Banco do Brasil), the only bank whose slip layout this plugin draws",
			"deve ser 001 (Banco do Brasil), o único banco cujo boleto este plugin desenha.",
			"debe ser 001 (Banco do Brasil), el único banco cuyo boleto dibuja este plugin.",
			"must be 001 (Banco do Brasil), the only bank whose slip this plugin draws.")
	}
	s.agency = text(cfgAgency, "", true)
	s.account = text(cfgAccount, "", true)
	s.carteira = text(cfgCarteira, defaultCarteira, true)
	if s.carteira != "" && !digits2.MatchString(s.carteira) {
		add(cfgCarteira, "must be two digits, such as 17",
			"deve ter dois dígitos, como 17.", "debe tener dos dígitos, como 17.", "must be two digits, such as 17.")
	}
	s.convenio = text(cfgConvenio, "", true)
	if s.convenio != "" && (!digits7.MatchString(s.convenio) || s.convenio[0] == '0') {
		add(cfgConvenio, "must be Banco do Brasil's convênio of seven digits (1000000 to 9999999)",
			"deve ser o convênio do Banco do Brasil, de sete dígitos (1000000 a 9999999).",
			"debe ser el convenio del Banco do Brasil, de siete dígitos (1000000 a 9999999).",
			"must be Banco do Brasil's convênio of seven digits (1000000 to 9999999).")
	}
	s.beneficiary = text(cfgBeneficiary, "", true)
	s.cnpj = text(cfgBeneficiaryD, "", false)
	if s.cnpj != "" && !cnpjLike.MatchString(s.cnpj) {
		add(cfgBeneficiaryD, "must be a CNPJ such as 12.345.678/0001-95",
			"deve ser um CNPJ, como 12.345.678/0001-95.", "debe ser un CNPJ, como 12.345.678/0001-95.", "must be a CNPJ such as 12.345.678/0001-95.")
	}
	s.city = text(cfgCity, "", false)
	rate := func(key, def string) charges.Rate {
		r, err := charges.ParseRate(text(key, def, true))
		if err != nil {
			add(key, "must be a percentage such as 2 or 0,5",
				"deve ser uma porcentagem, como 2 ou 0,5.", "debe ser un porcentaje, como 2 o 0,5.", "must be a percentage such as 2 or 0.5.")
		}
		return r
	}
	s.rates = charges.Settings{Fine: rate(cfgFine, defaultFine), MonthlyInterest: rate(cfgInterest, defaultInterest)}
	if s.rates.Fine > charges.MaxFine {
		add(cfgFine, "must be at most 2 %, the cap of the consumer code (CDC art. 52 §1)",
			"deve ser no máximo 2 %, o limite do Código de Defesa do Consumidor (art. 52 §1).",
			"debe ser como máximo 2 %, el límite del Código de Defensa del Consumidor de Brasil (art. 52 §1).",
			"must be at most 2 %, the cap of Brazil's consumer code (CDC art. 52 §1).")
	} else if err := s.rates.Validate(); err != nil {
		add(cfgInterest, "is above the largest monthly rate this plugin accepts",
			"passa da maior taxa mensal que este plugin aceita.", "supera la mayor tasa mensual que acepta este plugin.", "is above the largest monthly rate this plugin accepts.")
	}
	// A value that does not parse is a problem to report, not a default
	// to fall back on silently.
	// Business days only unless the gestor says otherwise: a due date
	// on a weekend or a holiday is payable only on the next business day,
	// so offering it misleads the customer.
	s.window = charges.Window{MaxDays: defaultMaxDays, BusinessDaysOnly: true}
	if v, ok := c.LookupConfig(cfgMaxDays); ok && strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			n = -1 // reported below with the range
		}
		s.window.MaxDays = n
	}
	if err := s.window.Validate(); err != nil {
		s.window.MaxDays = defaultMaxDays
		add(cfgMaxDays, "must be a number of days from 0 (today only) to 365",
			"deve ser um número de dias de 0 (só hoje) a 365.", "debe ser un número de días de 0 (solo hoy) a 365.", "must be a number of days from 0 (today only) to 365.")
	}
	if v, ok := c.LookupConfig(cfgBusinessDays); ok && strings.TrimSpace(v) != "" {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			add(cfgBusinessDays, "must be true or false",
				"deve ser Sim ou Não (true ou false).", "debe ser Sí o No (true o false).", "must be Yes or No (true or false).")
		} else {
			s.window.BusinessDaysOnly = b
		}
	}
	return s, ps
}

// pixMerchant returns the Pix receiver's name and city, or false when the
// configuration lacks them (Pix is then not offered).
func (s settings) pixMerchant() (name, city string, ok bool) {
	if s.beneficiary == "" || s.city == "" {
		return "", "", false
	}
	return s.beneficiary, s.city, true
}

// describe answers the admin's settings call: every key and secret the
// plugin reads, labelled in the gestor's language, and what loadSettings —
// the same check every customer's call runs — finds wrong with the
// configuration. Keys that are not set are left to the admin, which
// reports the required ones from the declaration.
func describe(c *sdk.Context) *sdk.SettingsPage {
	text := func(key string, required bool, def string, label, help [3]string) sdk.Setting {
		return sdk.Setting{Key: key, Type: abi.SettingText, Required: required, Default: def,
			Label: c.Tr(label[0], label[1], label[2]), Help: c.Tr(help[0], help[1], help[2])}
	}
	typed := func(typ string, f sdk.Setting) sdk.Setting { f.Type = typ; return f }
	page := &sdk.SettingsPage{Fields: []sdk.Setting{
		text(cfgERPURL, true, "",
			[3]string{"Endereço da API do ERP", "Dirección de la API del ERP", "ERP API address"},
			[3]string{"O endereço base da API do Sienge da empresa, como https://api.sienge.com.br/empresa/public/api/v1.",
				"La dirección base de la API de Sienge de la empresa, como https://api.sienge.com.br/empresa/public/api/v1.",
				"The base address of the company's Sienge API, such as https://api.sienge.com.br/empresa/public/api/v1."}),
		{Key: secretUser, Type: abi.SettingSecret, Required: true,
			Label: c.Tr("Usuário da API do ERP", "Usuario de la API del ERP", "ERP API user"),
			Help:  c.Tr("O usuário de API criado no Sienge para o portal.", "El usuario de API creado en Sienge para el portal.", "The API user created in Sienge for the portal.")},
		{Key: secretPassword, Type: abi.SettingSecret, Required: true,
			Label: c.Tr("Senha da API do ERP", "Contraseña de la API del ERP", "ERP API password"),
			Help:  c.Tr("A senha desse usuário de API.", "La contraseña de ese usuario de API.", "That API user's password.")},
		text(cfgBeneficiary, true, "",
			[3]string{"Beneficiário", "Beneficiario", "Beneficiary"},
			[3]string{"O nome da empresa como aparece no boleto e no Pix.", "El nombre de la empresa como aparece en el boleto y en Pix.", "The company's name as shown on the slip and in Pix."}),
		text(cfgBeneficiaryD, false, "",
			[3]string{"CNPJ do beneficiário", "CNPJ del beneficiario", "Beneficiary's CNPJ"},
			[3]string{"Mostrado no boleto, como 12.345.678/0001-95.", "Se muestra en el boleto, como 12.345.678/0001-95.", "Shown on the slip, such as 12.345.678/0001-95."}),
		text(cfgCity, false, "",
			[3]string{"Cidade do beneficiário", "Ciudad del beneficiario", "Beneficiary's city"},
			[3]string{"Necessária para oferecer Pix junto com o boleto.", "Necesaria para ofrecer Pix junto con el boleto.", "Needed to offer Pix with the slip."}),
		text(cfgBank, false, defaultBank,
			[3]string{"Banco (código COMPE)", "Banco (código COMPE)", "Bank (COMPE code)"},
			[3]string{"Só 001 (Banco do Brasil) por enquanto.", "Solo 001 (Banco do Brasil) por ahora.", "Only 001 (Banco do Brasil) for now."}),
		text(cfgAgency, true, "",
			[3]string{"Agência", "Agencia", "Branch"},
			[3]string{"A agência da conta de cobrança, mostrada no boleto.", "La agencia de la cuenta de cobro, mostrada en el boleto.", "The collection account's branch, shown on the slip."}),
		text(cfgAccount, true, "",
			[3]string{"Conta", "Cuenta", "Account"},
			[3]string{"A conta de cobrança, mostrada no boleto.", "La cuenta de cobro, mostrada en el boleto.", "The collection account, shown on the slip."}),
		text(cfgCarteira, false, defaultCarteira,
			[3]string{"Carteira", "Cartera", "Portfolio (carteira)"},
			[3]string{"Dois dígitos, como 17 ou 18.", "Dos dígitos, como 17 o 18.", "Two digits, such as 17 or 18."}),
		text(cfgConvenio, true, "",
			[3]string{"Convênio", "Convenio", "Agreement (convênio)"},
			[3]string{"O convênio de cobrança do Banco do Brasil, de sete dígitos.", "El convenio de cobro del Banco do Brasil, de siete dígitos.", "Banco do Brasil's collection agreement, seven digits."}),
		// The rates are text: charges.ParseRate is their rule, and it
		// takes a decimal comma (0,5) and a "%" that a number field would
		// refuse.
		text(cfgFine, false, defaultFine,
			[3]string{"Multa por atraso (%)", "Multa por atraso (%)", "Late fine (%)"},
			[3]string{"Sobre o valor da parcela; no máximo 2 %.", "Sobre el valor de la cuota; como máximo 2 %.", "On the installment's amount; at most 2 %."}),
		text(cfgInterest, false, defaultInterest,
			[3]string{"Juros de mora ao mês (%)", "Intereses de mora al mes (%)", "Late interest a month (%)"},
			[3]string{"Cobrados por dia de atraso, pro rata; como 1 ou 0,5.", "Cobrados por día de atraso, a prorrata; como 1 o 0,5.", "Charged per day late, pro rata; such as 1 or 0.5."}),
		typed(abi.SettingNumber, text(cfgMaxDays, false, strconv.Itoa(defaultMaxDays),
			[3]string{"Prazo máximo do novo vencimento (dias)", "Plazo máximo del nuevo vencimiento (días)", "Latest new due date (days ahead)"},
			[3]string{"De 0 (só hoje) a 365.", "De 0 (solo hoy) a 365.", "From 0 (today only) to 365."})),
		typed(abi.SettingBoolean, text(cfgBusinessDays, false, "true",
			[3]string{"Só dias úteis", "Solo días hábiles", "Business days only"},
			[3]string{"Oferecer como novo vencimento apenas dias úteis.", "Ofrecer como nuevo vencimiento solo días hábiles.", "Offer only business days as the new due date."})),
	}}
	_, ps := loadSettings(c)
	for _, p := range ps {
		if !p.missing {
			page.Problems = append(page.Problems, sdk.Problem{Key: p.key, Message: p.text})
		}
	}
	return page
}
