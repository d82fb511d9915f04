package main

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-dev/portico/plugins/financeiro/boleto"
	"github.com/portico-dev/portico/plugins/financeiro/charges"
	"github.com/portico-dev/portico/sdk"
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

// problem is one thing wrong with the configuration: the key and what is
// wrong, in words for the gestor (logged to the plugin's health page).
type problem struct{ key, what string }

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
	add := func(key, what string) { ps = append(ps, problem{key, what}) }
	text := func(key, def string, required bool) string {
		v := strings.TrimSpace(c.Config(key))
		if v == "" {
			v = def
		}
		switch {
		case v == "" && required:
			add(key, "is not set")
		case len([]rune(v)) > maxConfigText || !textOK.MatchString(v):
			add(key, "must be one line of at most 200 characters")
			v = ""
		}
		return v
	}
	s.erpURL = strings.TrimRight(text(cfgERPURL, "", true), "/")
	if s.erpURL != "" {
		u, err := url.Parse(s.erpURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			add(cfgERPURL, "must be an http(s) URL without user, query or fragment, such as https://api.sienge.com.br/empresa/public/api/v1")
			s.erpURL = ""
		}
	}
	s.bank = text(cfgBank, defaultBank, true)
	if s.bank != "" && s.bank != boleto.BancoDoBrasil {
		add(cfgBank, "must be 001 (Banco do Brasil), the only bank whose slip layout this plugin draws")
	}
	s.agency = text(cfgAgency, "", true)
	s.account = text(cfgAccount, "", true)
	s.carteira = text(cfgCarteira, defaultCarteira, true)
	if s.carteira != "" && !digits2.MatchString(s.carteira) {
		add(cfgCarteira, "must be two digits, such as 17")
	}
	s.convenio = text(cfgConvenio, "", true)
	if s.convenio != "" && (!digits7.MatchString(s.convenio) || s.convenio[0] == '0') {
		add(cfgConvenio, "must be Banco do Brasil's convênio of seven digits (1000000 to 9999999)")
	}
	s.beneficiary = text(cfgBeneficiary, "", true)
	s.cnpj = text(cfgBeneficiaryD, "", false)
	if s.cnpj != "" && !cnpjLike.MatchString(s.cnpj) {
		add(cfgBeneficiaryD, "must be a CNPJ such as 12.345.678/0001-95")
	}
	s.city = text(cfgCity, "", false)
	rate := func(key, def string) charges.Rate {
		r, err := charges.ParseRate(text(key, def, true))
		if err != nil {
			add(key, "must be a percentage such as 2 or 0,5")
		}
		return r
	}
	s.rates = charges.Settings{Fine: rate(cfgFine, defaultFine), MonthlyInterest: rate(cfgInterest, defaultInterest)}
	if s.rates.Fine > charges.MaxFine {
		add(cfgFine, "must be at most 2 %, the cap of the consumer code (CDC art. 52 §1)")
	} else if err := s.rates.Validate(); err != nil {
		add(cfgInterest, "is above the largest monthly rate this plugin accepts")
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
		add(cfgMaxDays, "must be a number of days from 0 (today only) to 365")
	}
	if v, ok := c.LookupConfig(cfgBusinessDays); ok && strings.TrimSpace(v) != "" {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			add(cfgBusinessDays, "must be true or false")
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
