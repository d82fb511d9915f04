package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// authenticate returns the shop whose token the request carries.
func (s *server) authenticate(r *http.Request) (*store.Shop, *apiError) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return nil, &apiError{status: http.StatusUnauthorized, code: "missing_token"}
	}
	bad := &apiError{status: http.StatusUnauthorized, code: "invalid_token"}
	if len(vals) > 1 {
		return nil, bad
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !validShopToken(tok) {
		return nil, bad
	}
	shop, err := s.st.ShopByToken(r.Context(), store.HashShopToken(tok))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, bad
	case err != nil:
		if r.Context().Err() == nil {
			s.log.Error("loyalty api: authenticate", "err", err)
		}
		return nil, errInternal
	}
	return shop, nil
}

// validShopToken checks a token's shape before any query: the lyt_
// prefix and 20 to 100 base64url characters (a token is 43 today).
func validShopToken(t string) bool {
	rest, ok := strings.CutPrefix(t, store.ShopTokenPrefix)
	if !ok || len(rest) < 20 || len(rest) > 100 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// idempotencyKey returns the request's Idempotency-Key ("" when it has
// none): 1 to 255 visible ASCII characters, in one header.
func idempotencyKey(r *http.Request) (string, *apiError) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return "", nil
	}
	bad := &apiError{status: http.StatusBadRequest, code: "invalid_idempotency_key"}
	if len(vals) > 1 {
		return "", bad
	}
	k := vals[0]
	if len(k) == 0 || len(k) > store.MaxIdempotencyKey {
		return "", bad
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", bad
		}
	}
	return k, nil
}

// readBody reads a JSON request body of at most MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"}
	}
	if r.ContentLength > MaxBody {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "body_too_large"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "body_too_large"}
		}
		return nil, &apiError{status: http.StatusBadRequest, code: "invalid_json"}
	}
	return body, nil
}

// decode reads body, one JSON object and nothing after it, into v (a
// pointer to a struct), refusing unknown fields.
func decode(body []byte, v any) *apiError {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return &apiError{status: http.StatusBadRequest, code: "invalid_json"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return &apiError{status: http.StatusBadRequest, code: "invalid_json",
				fields: []fieldError{{name: typeErr.Field, reason: "wrong_type"}}}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			if name == "" || len(name) > 64 {
				name = "?"
			}
			return &apiError{status: http.StatusBadRequest, code: "unknown_field", args: []any{name},
				fields: []fieldError{{name: name, reason: "unknown_field"}}}
		}
		return &apiError{status: http.StatusBadRequest, code: "invalid_json"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &apiError{status: http.StatusBadRequest, code: "invalid_json"}
	}
	return nil
}

// customerRef is the {id} of a customer's path: its id, or its loyalty
// code (what the QR encodes), which a POS may use straight from a scan.
type customerRef struct {
	id, code string
}

var errCustomerNotFound = &apiError{status: http.StatusNotFound, code: "customer_not_found"}

// parseRef validates a path's {id} without a query: a customer id (a
// UUID, canonical form) or a loyalty code ("PT-" and 8 characters of
// Crockford's base32, read as store.NormalizeCode reads a typed one).
// Anything else is not found.
func parseRef(r *http.Request) (customerRef, *apiError) {
	v := r.PathValue("id")
	if len(v) > 40 {
		return customerRef{}, errCustomerNotFound
	}
	if validID(strings.ToLower(v)) {
		return customerRef{id: strings.ToLower(v)}, nil
	}
	if c := store.NormalizeCode(v); store.ValidCode(c) {
		return customerRef{code: c}, nil
	}
	return customerRef{}, errCustomerNotFound
}

// validID reports whether s is a lower-case canonical UUID, as
// store.NewID makes them.
func validID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// resolve returns the customer id ref names: the id itself (no query:
// the movement finds out whether it exists), or the code's customer.
func (s *server) resolve(ctx context.Context, ref customerRef) (string, error) {
	if ref.id != "" {
		return ref.id, nil
	}
	c, err := s.st.CustomerBy(ctx, "code", ref.code)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}
