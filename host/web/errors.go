package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
)

// APIError is the body of every JSON error:
// {"error":{"code":"…","message":"…","fields":{…}}}.
type APIError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Problem is an error a handler returns to have it rendered for the client:
// JSON for the API, an HTML page for the portal.
type Problem struct {
	Status int
	Code   string
	// MsgID is the catalogue key of the message; "error." + Code when empty.
	MsgID string
	// Args fill the message's placeholders (and the fields' messages'), as
	// pairs of name and value: "Max", "16 MiB".
	Args []any
	// Fields maps a field name to a catalogue key: a validation message,
	// or the problem's own.
	Fields map[string]string
	// RetryAfter, when set, becomes the Retry-After header (seconds).
	RetryAfter int
}

func (p *Problem) Error() string { return p.Code }

// Fail returns a Problem with the given status and code.
func Fail(status int, code string) *Problem { return &Problem{Status: status, Code: code} }

// Invalid turns a model.ValidationError into a 422 Problem.
func Invalid(v *model.ValidationError) *Problem {
	p := &Problem{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed", Fields: map[string]string{}}
	for _, f := range v.Fields {
		if _, dup := p.Fields[f.Field]; !dup {
			p.Fields[f.Field] = "validation." + f.Code
		}
	}
	return p
}

// WriteJSONError writes p as the API error body in the request's language.
func WriteJSONError(c *fiber.Ctx, p *Problem) error {
	l := L(c)
	msgID := p.MsgID
	if msgID == "" {
		msgID = "error." + p.Code
	}
	body := APIError{Code: p.Code, Message: l.T(msgID, p.Args...)}
	if len(p.Fields) > 0 {
		body.Fields = make(map[string]string, len(p.Fields))
		for f, key := range p.Fields {
			body.Fields[f] = l.T(key, p.Args...)
		}
	}
	if p.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.RetryAfter))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(p.Status).JSON(fiber.Map{"error": body})
}

// AsProblem converts any handler error into a Problem: Problems pass
// through, Fiber errors keep their status, anything else is a 500.
func AsProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			return Fail(fe.Code, "not_found")
		case fiber.StatusMethodNotAllowed:
			return Fail(fe.Code, "method_not_allowed")
		case fiber.StatusRequestEntityTooLarge:
			return Fail(fe.Code, "body_too_large")
		case fiber.StatusRequestHeaderFieldsTooLarge:
			return Fail(fe.Code, "headers_too_large")
		case fiber.StatusBadRequest:
			return Fail(fe.Code, "bad_request")
		case fiber.StatusRequestTimeout:
			return Fail(fe.Code, "timeout")
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return Fail(fe.Code, "bad_request")
		}
	}
	if storage.IsUnavailable(err) {
		p := Fail(fiber.StatusServiceUnavailable, "database_unavailable")
		p.RetryAfter = 5
		return p
	}
	return Fail(fiber.StatusInternalServerError, "internal")
}
