package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/host/web"
	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
)

// settingsForm is the tenant settings form as typed. Was is the stored
// colour the form was loaded with.
type settingsForm struct {
	Name, BrandName, LogoURL, PrimaryColor, DefaultLocale, AllowedOrigins, PortalSessionMinutes string
	PortalLinkMinutes, DefaultReturnURL, TimeZone                                               string
	PortalLinkEmailLogin                                                                        bool
	Was                                                                                         string
	Version                                                                                     int64
}

// Picker is the colour input's value, which must be a valid #rrggbb.
func (f settingsForm) Picker() string {
	for _, c := range []string{f.PrimaryColor, f.Was} {
		if model.ValidColor(c) {
			return strings.ToLower(c)
		}
	}
	return "#1f5fa8"
}

type settingsPage struct {
	Form    settingsForm
	Locales []web.LocaleOption
	Zones   []zoneOption
	// MailAvailable says whether the server sends mail (PORTICO_SMTP_URL):
	// without it the one-time code by e-mail is never offered, whatever
	// the tenant chose.
	MailAvailable bool
}

// MailNoteID names the note that says the code by e-mail is unavailable
// on this server, for the checkbox's aria-describedby; "" when mail is
// configured (there is no note).
func (d *settingsPage) MailNoteID() string {
	if d.MailAvailable {
		return ""
	}
	return "mail-unavailable"
}

func settingsLabels(field string) string {
	return map[string]string{
		"name": "admin.settings.name", "brand_name": "admin.settings.brand_name", "logo_url": "admin.settings.logo_url",
		"primary_color": "admin.settings.primary_color", "default_locale": "admin.settings.default_locale",
		"allowed_origins": "admin.settings.allowed_origins", "portal_session_minutes": "admin.settings.portal_session_minutes",
		"portal_link_minutes": "admin.settings.portal_link_minutes", "portal_link_email_login": "admin.settings.portal_link_email_login",
		"default_return_url": "admin.settings.default_return_url", "time_zone": "admin.settings.time_zone",
	}[field]
}

func (u *UI) showSettings(c *fiber.Ctx) error {
	t, err := u.store.TenantByID(c.UserContext(), web.Tenant(c).ID)
	if err != nil {
		return err
	}
	f := settingsForm{
		Name: t.Name, BrandName: t.BrandName, LogoURL: t.LogoURL, PrimaryColor: t.PrimaryColor, DefaultLocale: t.DefaultLocale,
		AllowedOrigins: strings.Join(t.AllowedOrigins, "\n"), PortalSessionMinutes: strconv.Itoa(t.PortalSessionMinutes),
		PortalLinkMinutes: strconv.Itoa(t.PortalLinkMinutes), PortalLinkEmailLogin: t.PortalLinkEmailLogin, DefaultReturnURL: t.DefaultReturnURL,
		TimeZone: t.TimeZone, Version: t.Version, Was: t.PrimaryColor,
	}
	return u.renderSettings(c, fiber.StatusOK, f, nil)
}

func (u *UI) renderSettings(c *fiber.Ctx, status int, f settingsForm, out *outcome) error {
	v := u.newView(c, "settings", "admin.settings.title")
	d := &settingsPage{Form: f, MailAvailable: u.env.Config != nil && u.env.Config.SMTP != nil}
	for _, tag := range model.SupportedLocales {
		d.Locales = append(d.Locales, web.LocaleOption{Tag: tag, Name: i18n.LanguageName(tag), Current: tag == f.DefaultLocale})
	}
	d.Zones = zoneOptions(f.TimeZone, v.L.Locale(), time.Now())
	if out != nil {
		v.Alert, v.Errors = out.alert, out.errs
		v.Errors.label(v.L, settingsLabels)
	}
	v.D = d
	return u.render(c, status, "settings", v)
}

// saveSettings updates the tenant through the Service, guarded by version.
func (u *UI) saveSettings(c *fiber.Ctx) error {
	f := settingsForm{
		Name: formText(c, "name"), BrandName: formText(c, "brand_name"), LogoURL: strings.TrimSpace(formText(c, "logo_url")),
		PrimaryColor: strings.TrimSpace(formText(c, "primary_color")), DefaultLocale: formText(c, "default_locale"),
		AllowedOrigins: formText(c, "allowed_origins"), PortalSessionMinutes: strings.TrimSpace(formText(c, "portal_session_minutes")),
		PortalLinkMinutes: strings.TrimSpace(formText(c, "portal_link_minutes")), PortalLinkEmailLogin: c.FormValue("portal_link_email_login") != "",
		DefaultReturnURL: strings.TrimSpace(formText(c, "default_return_url")), TimeZone: formText(c, "time_zone"),
	}
	// The colour has a picker and a text box; whichever the gestor changed
	// wins (without the script they are not kept in step).
	f.Was = formText(c, "primary_color_was")
	if picked := strings.TrimSpace(c.FormValue("primary_color_picker")); strings.EqualFold(f.PrimaryColor, f.Was) && picked != "" && !strings.EqualFold(picked, f.Was) {
		f.PrimaryColor = cut(picked)
	}
	version := formVersion(c)
	if version != nil {
		f.Version = *version
	}
	origins := lines(f.AllowedOrigins)
	// A number that does not parse becomes -1, out of range: the Service
	// refuses it and stores nothing; its message is replaced below.
	number := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return -1, false
		}
		return n, true
	}
	minutes, minutesOK := number(f.PortalSessionMinutes)
	linkMinutes, linkOK := number(f.PortalLinkMinutes)
	in := service.TenantInput{Name: &f.Name, BrandName: &f.BrandName, LogoURL: &f.LogoURL, PrimaryColor: &f.PrimaryColor,
		DefaultLocale: &f.DefaultLocale, AllowedOrigins: &origins, PortalSessionMinutes: &minutes,
		PortalLinkMinutes: &linkMinutes, PortalLinkEmailLogin: &f.PortalLinkEmailLogin, DefaultReturnURL: &f.DefaultReturnURL,
		Version: version}
	if f.TimeZone != "" { // a form from before the field existed keeps the zone
		in.TimeZone = &f.TimeZone
	}
	if _, err := u.svc.UpdateTenant(c.UserContext(), web.Tenant(c).ID, u.actor(c), in); err != nil {
		out, err := u.explain(c, err, "", "not_found")
		if err != nil {
			return err
		}
		if !minutesOK {
			out.errs.replace("portal_session_minutes", web.L(c).T("validation.wrong_type"))
		}
		if !linkOK {
			out.errs.replace("portal_link_minutes", web.L(c).T("validation.wrong_type"))
		}
		return u.renderSettings(c, out.status, f, out)
	}
	return redirect(c, "/admin/settings", "saved")
}

// zoneOption is one choice of the time zone list.
type zoneOption struct {
	Name, Label string
	Current     bool
}

// zoneCities spells the Brazilian zones' cities as people write them
// (the IANA names have no accents) and says which is Brasília time.
var zoneCities = map[string]string{
	"America/Sao_Paulo": "São Paulo, Brasília, Rio de Janeiro", "America/Belem": "Belém", "America/Maceio": "Maceió",
	"America/Araguaina": "Araguaína", "America/Santarem": "Santarém", "America/Cuiaba": "Cuiabá",
	"America/Porto_Velho": "Porto Velho", "America/Boa_Vista": "Boa Vista", "America/Rio_Branco": "Rio Branco",
	"America/Noronha": "Fernando de Noronha", "America/Bahia": "Salvador", "America/Bogota": "Bogotá",
}

// zoneCitiesByLocale are the cities whose names change with the reader's
// language; the others are written the same in pt-BR, es and en.
var zoneCitiesByLocale = map[string]map[string]string{
	"America/Asuncion":    {"pt-BR": "Assunção", "es": "Asunción", "en": "Asunción"},
	"America/Mexico_City": {"pt-BR": "Cidade do México", "es": "Ciudad de México", "en": "Mexico City"},
	"Europe/Lisbon":       {"pt-BR": "Lisboa", "es": "Lisboa", "en": "Lisbon"},
}

// zoneOptions lists model.TimeZones as "city — UTC−03:00" at now, cities
// named in locale, with current selected; a current zone that is valid but
// not in the list (set through the API) is offered too, so saving the form
// keeps it.
func zoneOptions(current, locale string, now time.Time) []zoneOption {
	names := model.TimeZones
	if current != "" && !slices.Contains(names, current) && model.ValidTimeZone(current) {
		names = append(slices.Clip(names), current)
	}
	out := make([]zoneOption, 0, len(names))
	for _, n := range names {
		city, ok := zoneCities[n]
		if byLocale, found := zoneCitiesByLocale[n]; found {
			if city, ok = byLocale[locale]; !ok {
				city, ok = byLocale["pt-BR"]
			}
		}
		if !ok {
			city = strings.ReplaceAll(n[strings.LastIndexByte(n, '/')+1:], "_", " ")
		}
		t := &model.Tenant{TimeZone: n}
		_, off := now.In(t.Location()).Zone()
		sign := "+"
		if off < 0 {
			sign, off = "−", -off
		}
		out = append(out, zoneOption{Name: n, Label: fmt.Sprintf("%s — UTC%s%02d:%02d", city, sign, off/3600, off%3600/60), Current: n == current})
	}
	return out
}
