package app

import (
	"fmt"
	"net/http"
	"strings"
)

// The portal tells us the user's language (the token's locale claim and the
// exchange's locale field): pt-BR, es or en. Pages before the exchange
// (errors) follow the browser's Accept-Language instead.

var messages = map[string]map[string]string{
	"pt-BR": {
		"title":                    "Aplicativo de exemplo",
		"about":                    "Este é o aplicativo de exemplo de integração com o Portico. Abra-o pelo menu do portal.",
		"hello":                    "Olá, %s",
		"hello_anonymous":          "Olá!",
		"intro":                    "O portal nos contou quem você é. Estes são os dados que este aplicativo recebeu:",
		"role.cliente":             "Cliente",
		"role.sindico":             "Síndico",
		"role.gestor":              "Gestor",
		"locale.pt-BR":             "Português (Brasil)",
		"locale.es":                "Espanhol",
		"locale.en":                "Inglês",
		"field.name":               "Nome",
		"field.email":              "E-mail",
		"field.document":           "Documento",
		"field.phone":              "Telefone",
		"field.role":               "Papel",
		"field.locale":             "Idioma",
		"field.tenant":             "Código da empresa",
		"not_granted":              "não liberado para este aplicativo",
		"session":                  "Sua sessão neste aplicativo termina em até %d min ou após 15 minutos sem uso.",
		"not_given":                "não informado",
		"notes":                    "Anotações desta sessão",
		"notes_none":               "Nenhuma anotação ainda.",
		"note_label":               "Nova anotação",
		"note_add":                 "Anotar",
		"notes_full":               "Limite de anotações atingido.",
		"reload":                   "Atualizar",
		"error.title":              "Não foi possível abrir o aplicativo",
		"error.token_expired":      "O link de acesso expirou. Volte ao portal e abra o aplicativo de novo.",
		"error.token_used":         "Este link de acesso já foi usado. Por segurança, cada abertura vale uma vez só: volte ao portal e abra o aplicativo de novo.",
		"error.token_invalid":      "O link de acesso não é válido. Volte ao portal e abra o aplicativo de novo.",
		"error.wrong_audience":     "Este link de acesso foi emitido para outro aplicativo.",
		"error.invalid_client":     "O aplicativo não está configurado corretamente: o portal recusou as credenciais dele. Avise o suporte.",
		"error.token_missing":      "Nenhum link de acesso foi recebido. Abra o aplicativo pelo menu do portal.",
		"error.session_ended":      "Sua sessão neste aplicativo terminou. Volte ao portal e abra o aplicativo de novo.",
		"error.portal_unreachable": "Não conseguimos falar com o portal agora. Tente de novo em instantes.",
		"error.not_configured":     "O aplicativo ainda não tem credenciais configuradas. Avise o suporte.",
		"error.code":               "Código: %s",
	},
	"es": {
		"title":                    "Aplicación de ejemplo",
		"about":                    "Esta es la aplicación de ejemplo de integración con Portico. Ábrala desde el menú del portal.",
		"hello":                    "Hola, %s",
		"hello_anonymous":          "¡Hola!",
		"intro":                    "El portal nos dijo quién es usted. Estos son los datos que recibió esta aplicación:",
		"role.cliente":             "Cliente",
		"role.sindico":             "Síndico",
		"role.gestor":              "Gestor",
		"locale.pt-BR":             "Portugués (Brasil)",
		"locale.es":                "Español",
		"locale.en":                "Inglés",
		"field.name":               "Nombre",
		"field.email":              "Correo electrónico",
		"field.document":           "Documento",
		"field.phone":              "Teléfono",
		"field.role":               "Rol",
		"field.locale":             "Idioma",
		"field.tenant":             "Código de la empresa",
		"not_granted":              "no habilitado para esta aplicación",
		"session":                  "Su sesión en esta aplicación termina en hasta %d min o tras 15 minutos sin uso.",
		"not_given":                "no informado",
		"notes":                    "Notas de esta sesión",
		"notes_none":               "Aún no hay notas.",
		"note_label":               "Nueva nota",
		"note_add":                 "Anotar",
		"notes_full":               "Se alcanzó el límite de notas.",
		"reload":                   "Actualizar",
		"error.title":              "No fue posible abrir la aplicación",
		"error.token_expired":      "El enlace de acceso expiró. Vuelva al portal y abra la aplicación de nuevo.",
		"error.token_used":         "Este enlace de acceso ya se usó. Por seguridad, cada apertura vale una sola vez: vuelva al portal y abra la aplicación de nuevo.",
		"error.token_invalid":      "El enlace de acceso no es válido. Vuelva al portal y abra la aplicación de nuevo.",
		"error.wrong_audience":     "Este enlace de acceso se emitió para otra aplicación.",
		"error.invalid_client":     "La aplicación no está bien configurada: el portal rechazó sus credenciales. Avise al soporte.",
		"error.token_missing":      "No se recibió ningún enlace de acceso. Abra la aplicación desde el menú del portal.",
		"error.session_ended":      "Su sesión en esta aplicación terminó. Vuelva al portal y abra la aplicación de nuevo.",
		"error.portal_unreachable": "No logramos comunicarnos con el portal ahora. Inténtelo de nuevo en unos instantes.",
		"error.not_configured":     "La aplicación aún no tiene credenciales configuradas. Avise al soporte.",
		"error.code":               "Código: %s",
	},
	"en": {
		"title":                    "Example app",
		"about":                    "This is Portico's example integration app. Open it from the portal's menu.",
		"hello":                    "Hello, %s",
		"hello_anonymous":          "Hello!",
		"intro":                    "The portal told us who you are. This is the data this app received:",
		"role.cliente":             "Customer",
		"role.sindico":             "Building manager",
		"role.gestor":              "Manager",
		"locale.pt-BR":             "Portuguese (Brazil)",
		"locale.es":                "Spanish",
		"locale.en":                "English",
		"field.name":               "Name",
		"field.email":              "E-mail",
		"field.document":           "Document",
		"field.phone":              "Phone",
		"field.role":               "Role",
		"field.locale":             "Language",
		"field.tenant":             "Company code",
		"not_granted":              "not granted to this app",
		"session":                  "Your session in this app ends within %d min or after 15 idle minutes.",
		"not_given":                "not given",
		"notes":                    "Notes of this session",
		"notes_none":               "No notes yet.",
		"note_label":               "New note",
		"note_add":                 "Add note",
		"notes_full":               "Note limit reached.",
		"reload":                   "Refresh",
		"error.title":              "The app could not be opened",
		"error.token_expired":      "The access link has expired. Go back to the portal and open the app again.",
		"error.token_used":         "This access link was already used. For your safety each opening works once: go back to the portal and open the app again.",
		"error.token_invalid":      "The access link is not valid. Go back to the portal and open the app again.",
		"error.wrong_audience":     "This access link was issued for another app.",
		"error.invalid_client":     "The app is misconfigured: the portal refused its credentials. Please tell support.",
		"error.token_missing":      "No access link was received. Open the app from the portal's menu.",
		"error.session_ended":      "Your session in this app has ended. Go back to the portal and open the app again.",
		"error.portal_unreachable": "We cannot reach the portal right now. Try again in a moment.",
		"error.not_configured":     "The app has no credentials configured yet. Please tell support.",
		"error.code":               "Code: %s",
	},
}

// translate is the templates' "t" function: t lang key [arg].
func translate(lang, key string, args ...any) string {
	m := messages[pickLang(lang)]
	s, ok := m[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		for i, a := range args {
			if p, ok := a.(*string); ok && p != nil {
				args[i] = *p // the exchange's optional fields are pointers
			}
		}
		return fmt.Sprintf(s, args...)
	}
	return s
}

// word is the templates' "word" function: the translation of kind.value
// (role.cliente, locale.es), or value itself when there is none (a role or
// language newer than this app).
func word(lang, kind, value string) string {
	if s, ok := messages[pickLang(lang)][kind+"."+value]; ok {
		return s
	}
	return value
}

// pickLang maps a locale onto one we have, pt-BR by default.
func pickLang(l string) string {
	l = strings.ToLower(l)
	switch {
	case strings.HasPrefix(l, "es"):
		return "es"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	return "pt-BR"
}

// langOf picks the first language of Accept-Language we have.
func langOf(r *http.Request) string {
	h := r.Header.Get("Accept-Language")
	if len(h) > 256 {
		h = h[:256]
	}
	for _, part := range strings.Split(h, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "pt"):
			return "pt-BR"
		case strings.HasPrefix(tag, "es"):
			return "es"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "pt-BR"
}
