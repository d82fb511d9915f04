package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// MaxJSONBody is the largest JSON request body the API reads (64 KiB).
const MaxJSONBody = 64 << 10

// DecodeJSON strictly decodes the request body into dst: the content type
// must be application/json, the body at most MaxJSONBody bytes, exactly one
// JSON object, and no field the API does not know. Each failure is a 4xx
// Problem with its own code.
func DecodeJSON(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	if ct != fiber.MIMEApplicationJSON {
		return Fail(fiber.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	return decodeJSONBody(c.Body(), dst)
}

func decodeJSONBody(body []byte, dst any) error {
	if len(body) > MaxJSONBody {
		return Fail(fiber.StatusRequestEntityTooLarge, "body_too_large")
	}
	// Every endpoint takes an object; encoding/json would accept null as
	// one (leaving dst as it was) and report fields a gestor never sent.
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Fail(fiber.StatusBadRequest, "invalid_json")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			p := Fail(fiber.StatusBadRequest, "unknown_field")
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if len(name) > 64 {
				name = name[:64]
			}
			p.Fields = map[string]string{name: "validation.unknown_field"}
			return p
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			p := Fail(fiber.StatusBadRequest, "invalid_json")
			p.Fields = map[string]string{typeErr.Field: "validation.wrong_type"}
			return p
		}
		return Fail(fiber.StatusBadRequest, "invalid_json")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Fail(fiber.StatusBadRequest, "invalid_json")
	}
	return nil
}
