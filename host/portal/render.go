package portal

import (
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/icon"
	"github.com/portico-dev/portico/internal/model"
)

// renderPage sends page with status, uncached (every portal page shows
// someone's data or a form's CSRF token).
func renderPage(c *fiber.Ctx, status int, page templ.Component) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendHTML(c, status, page)
}

// sendHTML renders page straight into the response body and sends it with
// status. A component that fails leaves no partial page behind: the body
// is emptied and the error returned, so the error handler's page replaces
// it whole.
func sendHTML(c *fiber.Ctx, status int, page templ.Component) error {
	res := c.Response()
	res.ResetBody()
	if err := page.Render(c.UserContext(), res.BodyWriter()); err != nil {
		res.ResetBody()
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Status(status)
	return nil
}

// asset returns the fingerprinted URL of the portal's static file name
// (host/portal/assets); an unknown name fails the render.
func (v *view) asset(name string) (string, error) {
	return v.assets.URL(name)
}

// iconSVG inlines the icon name from Portico's icon set (nothing for an
// unknown name). The SVG files are reviewed and compiled into the binary:
// no plugin or user supplies markup.
func iconSVG(name string) templ.Component {
	return templ.Raw(icon.SVG(name))
}

// frameSrc is what an iframe plugin's frame loads: Portico's launch page
// for a token plugin that has credentials, which posts the launch token on
// to the plugin, else the plugin's own URL.
func (v *view) frameSrc() string {
	if v.Plugin.AuthType == model.AuthToken && v.Plugin.ClientID != "" {
		return v.Base + "/p/" + v.Plugin.Slug + "/launch"
	}
	return v.Plugin.URL
}

// actionURL is the address a wasm form's button posts to. The action is
// a checked name (abi.ValidName), which escaping leaves as it is; escaped
// anyway, whatever it holds stays one path segment of this plugin's
// actions.
func (b wasmBlock) actionURL(action string) string {
	return b.Page.Base + "/p/" + b.Page.Slug + "/actions/" + url.PathEscape(action)
}

// messageKey is the catalogue key of the portal link page's explanation
// of lp.Reason (portal_link.message_expired, …).
func (lp *linkPage) messageKey() string {
	return "portal_link.message_" + lp.Reason
}

// hasError reports whether the account form's field has an error.
func (ap *accountPage) hasError(field string) bool {
	return ap.Errors[field] != ""
}

// describedBy is the aria-describedby of an account field: its hint's id
// (hintID, "" for none), then its error's (e-{field}) when it has one; ""
// when it has neither.
func (ap *accountPage) describedBy(hintID, field string) string {
	if ap.hasError(field) {
		return strings.TrimSpace(hintID + " e-" + field)
	}
	return hintID
}

// pluginTitle is the plugin's title in the page's language (its own
// translation when the gestor gave one, else its title), as the menu and
// the document's <title> show it.
func (v *view) pluginTitle() string { return v.Plugin.TitleIn(v.L.Locale()) }

// columnAt is the name of a table's column i, for the cell's data-label
// (a phone shows each row as a card, every value under its column's name);
// "" past the last column.
func columnAt(cols []string, i int) string {
	if i < len(cols) {
		return cols[i]
	}
	return ""
}

// numericColumns reports which of a table's n columns hold amounts: every
// cell that is not empty (or a dash standing for nothing) is a number, a percentage or a sum of money
// ("R$ 1.250,00", "-3,5%", "12"), and at least one is. The portal
// right-aligns those columns, as a spreadsheet does, so that a column of
// installments reads at a glance; a plugin does not have to say it.
func numericColumns(n int, rows [][]string) []bool {
	num := make([]bool, n)
	for i := range num {
		seen := false
		num[i] = true
		for _, row := range rows {
			if i >= len(row) || strings.Trim(row[i], " \u00a0-\u2013\u2014") == "" {
				continue
			}
			if !isAmount(row[i]) {
				num[i] = false
				break
			}
			seen = true
		}
		num[i] = num[i] && seen
	}
	return num
}

// isAmount reports whether s is a number with an optional sign, currency
// symbol (before or after) or percent sign: digits and the separators
// people write in them (".", ",", spaces, "'"), beginning and ending in a
// digit. Dates ("10/11/2026"), fractions ("5/12") and codes with letters
// or dashes are not amounts.
func isAmount(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-− ")
	for _, cur := range []string{"R$", "US$", "$", "€", "£"} {
		if t, ok := strings.CutPrefix(s, cur); ok {
			s = strings.TrimLeft(t, "+-−  ")
			break
		}
		if t, ok := strings.CutSuffix(s, cur); ok {
			s = strings.TrimRight(t, "  ")
			break
		}
	}
	s = strings.TrimSuffix(s, "%")
	if s == "" {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case i > 0 && i < len(s)-1 && strings.ContainsRune(".,'   ", r):
		default:
			return false
		}
	}
	return digits > 0 && s[0] >= '0' && s[0] <= '9' && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}
