// Package openapicheck holds the one rule by which Portico's tests hold an
// HTTP API to its OpenAPI 3.1 document, for every API that has one (the
// public API in host/api, the admin API in admin/api, the loyalty app's
// point-of-sale API): the document is loaded and validated (its examples
// too), and each real exchange is checked — the request when it is meant
// to be valid, the answer's status (an undocumented one fails), its
// declared headers, its body (every object is closed), and, for an error,
// that its `error.code` is one the document's examples list for that
// operation and status. It uses github.com/getkin/kin-openapi.
package openapicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func init() {
	// A module upload's raw body (the admin API) is bytes, as
	// application/octet-stream is to the checker.
	openapi3filter.RegisterBodyDecoder("application/wasm", openapi3filter.FileBodyDecoder)
}

// Spec is a loaded, validated document with a router over its operations.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

// Load parses an OpenAPI 3.1.0 document and validates it, examples
// included.
func Load(data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load the document: %w", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation(), openapi3.EnableMultiError()); err != nil {
		return nil, fmt.Errorf("the document is not valid OpenAPI 3.1: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &Spec{Doc: doc, router: router}, nil
}

// Operations lists "METHOD /path" of every operation of the document,
// sorted.
func (s *Spec) Operations() []string {
	var out []string
	for path, item := range s.Doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Exchange is one real request and its answer.
type Exchange struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Status       int
	ResHeader    http.Header
	ResBody      []byte
}

func (e *Exchange) String() string {
	return fmt.Sprintf("%s %s → %d %.300s", e.Method, e.Path, e.Status, e.ResBody)
}

// WithBody returns a copy of e whose JSON answer was changed by edit, for
// the tests that prove a wrong answer fails Check; an answer that is not a
// JSON object fails t.
func (e *Exchange) WithBody(t testing.TB, edit func(body map[string]any)) *Exchange {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(e.ResBody, &body); err != nil {
		t.Fatalf("%s: %v", e, err)
	}
	edit(body)
	out := *e
	out.ResHeader = e.ResHeader.Clone()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("%s: %v", e, err)
	}
	out.ResBody = b
	return &out
}

// WithStatus returns a copy of e answered with status, for the tests that
// prove a wrong answer fails Check.
func (e *Exchange) WithStatus(status int) *Exchange {
	out := *e
	out.ResHeader = e.ResHeader.Clone()
	out.Status = status
	return &out
}

// WithHeader returns a copy of e whose answer's header name is value (""
// removes it), for the tests that prove a wrong answer fails Check.
func (e *Exchange) WithHeader(name, value string) *Exchange {
	out := *e
	out.ResHeader = e.ResHeader.Clone()
	if value == "" {
		out.ResHeader.Del(name)
	} else {
		out.ResHeader.Set(name, value)
	}
	return &out
}

// ErrorCode returns error.code of the answer, or "".
func (e *Exchange) ErrorCode() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(e.ResBody, &b)
	return b.Error.Code
}

// ErrNoOperation is an exchange whose method and path no operation of the
// document matches.
var ErrNoOperation = errors.New("no operation in the document")

// Check holds exchange e to the document (see the package comment); the
// request is checked only when validRequest (a request that breaks the
// document on purpose is not).
func (s *Spec) Check(e *Exchange, validRequest bool) error {
	ctx := context.Background()
	req, err := http.NewRequest(e.Method, "http://api.test"+e.Path, bytes.NewReader(e.Body))
	if err != nil {
		return err
	}
	req.Header = e.Header.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %v", e.Method, e.Path, ErrNoOperation, err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc, // the server checks credentials; here only shapes
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if validRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the request does not match the document: %w", err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: e.Status, Header: e.ResHeader, Options: opts}
	out.SetBodyBytes(e.ResBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("the answer does not match the document: %w", err)
	}
	if e.Status < 400 {
		return nil
	}
	code := e.ErrorCode()
	res := route.Operation.Responses.Status(e.Status)
	if res == nil || res.Value == nil {
		return fmt.Errorf("%d of %s %s: not documented", e.Status, e.Method, route.Path)
	}
	mt := res.Value.Content.Get("application/json")
	if mt == nil {
		return fmt.Errorf("%d of %s %s: no JSON body documented", e.Status, e.Method, route.Path)
	}
	var listed []string
	for _, ex := range mt.Examples {
		if v, ok := ex.Value.Value.(map[string]any); ok {
			if eb, ok := v["error"].(map[string]any); ok {
				listed = append(listed, fmt.Sprint(eb["code"]))
			}
		}
	}
	if !slices.Contains(listed, code) {
		return fmt.Errorf("%d %q of %s %s is not documented (documented: %v)", e.Status, code, e.Method, route.Path, listed)
	}
	return nil
}

// RequireRefused fails t for each named exchange that passes Check: the
// tests' proof that the check is not a formality (an undocumented field,
// status or error code, a missing header each fail it).
func (s *Spec) RequireRefused(t testing.TB, wrong map[string]*Exchange) {
	t.Helper()
	for name, e := range wrong {
		err := s.Check(e, true)
		if err == nil {
			t.Errorf("%s passed the check: %s", name, e)
			continue
		}
		t.Logf("%s: %.200s", name, strings.ReplaceAll(err.Error(), "\n", " "))
	}
}

// Operation returns "METHOD /template" of the document's operation that
// answers e, as Check routes it, or "" when none does.
func (s *Spec) Operation(e *Exchange) string {
	req, err := http.NewRequest(e.Method, "http://api.test"+e.Path, nil)
	if err != nil {
		return ""
	}
	route, _, err := s.router.FindRoute(req)
	if err != nil {
		return ""
	}
	return e.Method + " " + route.Path
}

// LogCoverage logs the operations and statuses the exchanges reached, for
// a failed test's log.
func (s *Spec) LogCoverage(t testing.TB, all []*Exchange) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range all {
		seen[fmt.Sprintf("%s %d", s.Operation(e), e.Status)] = true
	}
	t.Logf("exchanges checked: %v", slices.Sorted(maps.Keys(seen)))
}
