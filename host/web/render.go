package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/i18n"
	"github.com/portico-dev/portico/internal/model"
)

// RenderHTML executes template name of t with data and sends it with
// status, uncached. Rendering into a buffer first means a template error
// becomes a clean 500, never half a page.
func RenderHTML(c *fiber.Ctx, status int, t *template.Template, name string, data any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

// LocaleOption is one entry of a page's language switcher.
type LocaleOption struct {
	Tag, Name, Short string
	Current          bool
}

// LocaleOptions lists the supported languages, marking l's as current.
func LocaleOptions(l *i18n.Localizer) []LocaleOption {
	out := make([]LocaleOption, 0, len(model.SupportedLocales))
	for _, tag := range model.SupportedLocales {
		short := strings.ToUpper(strings.SplitN(tag, "-", 2)[0])
		out = append(out, LocaleOption{Tag: tag, Name: i18n.LanguageName(tag), Short: short, Current: tag == l.Locale()})
	}
	return out
}
