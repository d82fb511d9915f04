package api

import (
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// The API speaks the portal's three languages: Brazilian Portuguese (the
// default), Spanish and English, chosen by Accept-Language.
const (
	langPT = "pt-BR"
	langES = "es"
	langEN = "en"
)

var (
	langs   = []string{langPT, langES, langEN}
	matcher = language.NewMatcher([]language.Tag{language.BrazilianPortuguese, language.Spanish, language.English})
)

// maxAcceptLanguage bounds the header we parse; a longer one is cut, which
// at worst drops the least preferred languages.
const maxAcceptLanguage = 256

// langOf picks the language of r's answer from Accept-Language.
func langOf(r *http.Request) string {
	h := r.Header.Get("Accept-Language")
	if h == "" {
		return langPT
	}
	if len(h) > maxAcceptLanguage {
		h = h[:maxAcceptLanguage]
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return langPT
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return langPT
	}
	return langs[i]
}

// messages holds every error message of the API, by error code, then
// language. A message may take fmt arguments (the same in every language).
// TestMessagesComplete checks that every code has the three languages.
var messages = map[string]map[string]string{
	"missing_token": {
		langPT: "Envie o token da loja no cabeçalho Authorization: Bearer lyt_…",
		langES: "Envíe el token de la tienda en la cabecera Authorization: Bearer lyt_…",
		langEN: "Send the store's token in the Authorization header: Bearer lyt_…",
	},
	"invalid_token": {
		langPT: "Token da loja inválido ou revogado.",
		langES: "Token de la tienda inválido o revocado.",
		langEN: "Invalid or revoked store token.",
	},
	"not_found": {
		langPT: "Endereço não encontrado.",
		langES: "Dirección no encontrada.",
		langEN: "No such address.",
	},
	"method_not_allowed": {
		langPT: "Método não permitido neste endereço.",
		langES: "Método no permitido en esta dirección.",
		langEN: "Method not allowed on this address.",
	},
	"customer_not_found": {
		langPT: "Cliente não encontrado.",
		langES: "Cliente no encontrado.",
		langEN: "Customer not found.",
	},
	"unsupported_media_type": {
		langPT: "Envie o corpo em JSON, com Content-Type: application/json.",
		langES: "Envíe el cuerpo en JSON, con Content-Type: application/json.",
		langEN: "Send the body as JSON, with Content-Type: application/json.",
	},
	"body_too_large": {
		langPT: "O corpo da requisição passa de 16 KiB.",
		langES: "El cuerpo de la solicitud supera 16 KiB.",
		langEN: "The request body is larger than 16 KiB.",
	},
	"invalid_json": {
		langPT: "O corpo não é um objeto JSON válido para este endereço.",
		langES: "El cuerpo no es un objeto JSON válido para esta dirección.",
		langEN: "The body is not a valid JSON object for this address.",
	},
	"unknown_field": {
		langPT: "Campo desconhecido no corpo: %s.",
		langES: "Campo desconocido en el cuerpo: %s.",
		langEN: "Unknown field in the body: %s.",
	},
	"validation_failed": {
		langPT: "Dados inválidos: %s",
		langES: "Datos inválidos: %s",
		langEN: "Invalid data: %s",
	},
	"invalid_parameter": {
		langPT: "Parâmetro inválido: %s",
		langES: "Parámetro inválido: %s",
		langEN: "Invalid parameter: %s",
	},
	"invalid_idempotency_key": {
		langPT: "A Idempotency-Key deve ter de 1 a 255 caracteres ASCII visíveis, em um só cabeçalho.",
		langES: "La Idempotency-Key debe tener de 1 a 255 caracteres ASCII visibles, en una sola cabecera.",
		langEN: "The Idempotency-Key must be 1 to 255 visible ASCII characters, in one header.",
	},
	"idempotency_key_reused": {
		langPT: "Esta Idempotency-Key já foi usada com outra requisição; use uma chave nova para uma operação nova.",
		langES: "Esta Idempotency-Key ya se usó con otra solicitud; use una clave nueva para una operación nueva.",
		langEN: "This Idempotency-Key was already used with a different request; use a new key for a new operation.",
	},
	"idempotency_key_in_flight": {
		langPT: "Uma requisição com esta Idempotency-Key ainda está em andamento; tente de novo em instantes.",
		langES: "Una solicitud con esta Idempotency-Key todavía está en curso; inténtelo de nuevo en unos instantes.",
		langEN: "A request with this Idempotency-Key is still in progress; try again shortly.",
	},
	"customer_exists": {
		langPT: "Já existe um cliente com este e-mail ou documento.",
		langES: "Ya existe un cliente con este e-mail o documento.",
		langEN: "A customer with this e-mail or document already exists.",
	},
	"below_minimum_purchase": {
		langPT: "Compra abaixo do mínimo do programa para ganhar pontos (%s).",
		langES: "Compra por debajo del mínimo del programa para ganar puntos (%s).",
		langEN: "Purchase below the programme's minimum to earn points (%s).",
	},
	"no_points_earned": {
		langPT: "Esta compra não gera pontos (1 ponto a cada %s).",
		langES: "Esta compra no genera puntos (1 punto cada %s).",
		langEN: "This purchase earns no points (1 point per %s).",
	},
	"insufficient_balance": {
		langPT: "Saldo insuficiente.",
		langES: "Saldo insuficiente.",
		langEN: "Insufficient balance.",
	},
	"internal": {
		langPT: "Erro interno; tente de novo em instantes.",
		langES: "Error interno; inténtelo de nuevo en unos instantes.",
		langEN: "Internal error; please try again shortly.",
	},
}

// fieldMessages explains why one field or parameter was refused, by
// reason code, then language.
var fieldMessages = map[string]map[string]string{
	"required": {
		langPT: "obrigatório",
		langES: "obligatorio",
		langEN: "required",
	},
	"too_long": {
		langPT: "longo demais (no máximo 200 caracteres)",
		langES: "demasiado largo (como máximo 200 caracteres)",
		langEN: "too long (at most 200 characters)",
	},
	"invalid_text": {
		langPT: "contém caracteres de controle ou não é UTF-8",
		langES: "contiene caracteres de control o no es UTF-8",
		langEN: "has control characters or is not UTF-8",
	},
	"invalid_email": {
		langPT: "e-mail inválido",
		langES: "e-mail inválido",
		langEN: "invalid e-mail address",
	},
	"invalid_phone": {
		langPT: "telefone inválido (de 8 a 15 dígitos)",
		langES: "teléfono inválido (de 8 a 15 dígitos)",
		langEN: "invalid phone number (8 to 15 digits)",
	},
	"invalid_document": {
		langPT: "CPF ou CNPJ inválido (confira os dígitos verificadores)",
		langES: "CPF o CNPJ inválido (revise los dígitos verificadores)",
		langEN: "invalid CPF or CNPJ (check the check digits)",
	},
	"points_out_of_range": {
		langPT: "deve ser um inteiro de 1 a 10.000.000",
		langES: "debe ser un entero de 1 a 10.000.000",
		langEN: "must be an integer from 1 to 10,000,000",
	},
	"amount_out_of_range": {
		langPT: "deve ser um inteiro de 1 a 1.000.000.000 centavos (R$ 10.000.000,00)",
		langES: "debe ser un entero de 1 a 1.000.000.000 centavos (R$ 10.000.000,00)",
		langEN: "must be an integer from 1 to 1,000,000,000 centavos (R$ 10,000,000.00)",
	},
	"points_or_amount": {
		langPT: "informe points ou amount_cents (um dos dois)",
		langES: "informe points o amount_cents (uno de los dos)",
		langEN: "send points or amount_cents (exactly one)",
	},
	"limit_out_of_range": {
		langPT: "deve ser um inteiro de 1 a %d",
		langES: "debe ser un entero de 1 a %d",
		langEN: "must be an integer from 1 to %d",
	},
	"invalid_cursor": {
		langPT: "deve ser o id de um movimento (o next_before da página anterior)",
		langES: "debe ser el id de un movimiento (el next_before de la página anterior)",
		langEN: "must be a movement id (the previous page's next_before)",
	},
	"unknown_field": {
		langPT: "campo desconhecido",
		langES: "campo desconocido",
		langEN: "unknown field",
	},
	"wrong_type": {
		langPT: "tipo de valor errado",
		langES: "tipo de valor incorrecto",
		langEN: "wrong type of value",
	},
}

// message returns the message of code in lang.
func message(lang, code string, args ...any) string {
	m := messages[code][lang]
	if m == "" {
		m = messages[code][langPT]
	}
	if m == "" {
		m = code
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// fieldMessage returns the explanation of a refused field in lang.
func fieldMessage(lang, reason string, args ...any) string {
	m := fieldMessages[reason][lang]
	if m == "" {
		m = fieldMessages[reason][langPT]
	}
	if m == "" {
		m = reason
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}
