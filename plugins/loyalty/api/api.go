// Package api is the loyalty programme's point-of-sale REST API: stores
// and POS systems, each with its own token (lyt_…, created by a gestor),
// create and find customers, give points (directly or from a purchase
// amount), redeem them and read a customer's balance and history.
//
// The routes, under /api/v1/ (the app mounts New at "/api/"):
//
//	POST /api/v1/customers                     create a customer
//	GET  /api/v1/customers?q=                  search customers
//	GET  /api/v1/customers/{id}                balance, expiring points, history
//	POST /api/v1/customers/{id}/points         earn (points or amount_cents)
//	POST /api/v1/customers/{id}/redemptions    redeem
//	GET  /api/v1/openapi.json                  the OpenAPI 3.1 document (no auth)
//
// Every mutation takes an Idempotency-Key: the first request with a key
// runs and its answer is kept (48 h); a retry gets that answer again with
// Idempotent-Replayed: true and never moves points twice. The ledger
// also carries the key as the movement's source key (and a customer
// created under a key carries it too), so even a retry after an ambiguous
// failure — or one that takes over a key its first request left in
// flight (staleAfter) — cannot apply a movement, or create a customer,
// twice. Errors are
// {"error":{"code","message"}} with the message in the request's language
// (pt-BR, es or en by Accept-Language). docs/loyalty-api.md is the
// integrator's guide; openapi.json the contract, which the tests check
// against real answers.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// Options configure New.
type Options struct {
	Store *store.Store
	Log   *slog.Logger
}

// Limits of a request.
const (
	// MaxBody bounds a request body.
	MaxBody = 16 << 10
	// mutationTimeout bounds the work of one mutation. A mutation does not
	// stop when its client goes away: it runs to the end and records its
	// answer, which the client's retry then gets.
	mutationTimeout = 30 * time.Second
	// recordTimeout bounds the recording of a mutation's answer, or the
	// release of its Idempotency-Key, which get a context of their own: the
	// work's may have run out.
	recordTimeout = 5 * time.Second
	// takeoverMargin is how much longer than its mutation and record
	// timeouts a key may stay in flight before a retry takes it over: its
	// first request can no longer be running then (see staleAfter).
	takeoverMargin = 25 * time.Second
	// ExpiringWindow is how far ahead GET /customers/{id} looks for
	// points about to expire.
	ExpiringWindow = 30 * 24 * time.Hour
)

type server struct {
	st  *store.Store
	log *slog.Logger
	// timeout is mutationTimeout (tests shorten it).
	timeout time.Duration
}

func (s *server) mutationTimeout() time.Duration {
	if s.timeout > 0 {
		return s.timeout
	}
	return mutationTimeout
}

// staleAfter is how long after its claim an Idempotency-Key still in
// flight was left by a request that is no longer running — its process
// died, or it could neither record its answer nor release the key — so
// that a retry of the same request takes it over and runs it again
// (store.BeginIdempotent). The work is bounded by mutationTimeout and the
// record by recordTimeout; the margin covers clocks and scheduling.
func (s *server) staleAfter() time.Duration {
	return s.mutationTimeout() + recordTimeout + takeoverMargin
}

// New returns the API's handler. It serves full paths starting with
// /api/v1/; anything else under the prefix it is mounted on is a JSON 404.
func New(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &server{st: o.Store, log: o.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	mux.Handle("POST /api/v1/customers", s.mutation(s.createCustomer))
	mux.Handle("GET /api/v1/customers", s.query(s.searchCustomers))
	mux.Handle("GET /api/v1/customers/{id}", s.query(s.showCustomer))
	mux.Handle("POST /api/v1/customers/{id}/points", s.mutation(s.earn))
	mux.Handle("POST /api/v1/customers/{id}/redemptions", s.mutation(s.redeem))
	// The same paths with another method: a JSON 405 with Allow (the
	// method-specific patterns above are more specific, so they win).
	for path, allow := range map[string]string{
		"/api/v1/openapi.json":               "GET, HEAD",
		"/api/v1/customers":                  "GET, HEAD, POST",
		"/api/v1/customers/{id}":             "GET, HEAD",
		"/api/v1/customers/{id}/points":      "POST",
		"/api/v1/customers/{id}/redemptions": "POST",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.fail(w, r, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed"})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &apiError{status: http.StatusNotFound, code: "not_found"})
	})
	return s.recoverer(mux)
}

// recoverer turns a panic outside a mutation (which handles its own) into
// a 500.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("loyalty api: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.fail(w, r, errInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// apiError is an answer with an error.
type apiError struct {
	status int
	code   string
	args   []any // of the code's message
	// fields name what was refused, for validation_failed,
	// invalid_parameter, unknown_field and invalid_json.
	fields []fieldError
}

type fieldError struct {
	name, reason string
	args         []any
}

var errInternal = &apiError{status: http.StatusInternalServerError, code: "internal"}

func (e *apiError) Error() string { return e.code }

// invalid returns a validation_failed (422) or, for a query parameter,
// an invalid_parameter (400) error.
func invalid(status int, fields []fieldError) *apiError {
	code := "validation_failed"
	if status == http.StatusBadRequest {
		code = "invalid_parameter"
	}
	return &apiError{status: status, code: code, fields: fields}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// render returns the error's body in lang.
func (e *apiError) render(lang string) errorBody {
	d := errorDetail{Code: e.code}
	if len(e.fields) > 0 {
		d.Fields = make(map[string]string, len(e.fields))
		var parts []string
		for _, f := range e.fields {
			m := fieldMessage(lang, f.reason, f.args...)
			if _, dup := d.Fields[f.name]; !dup {
				d.Fields[f.name] = m
				parts = append(parts, f.name+": "+m)
			}
		}
		sort.Strings(parts)
		switch e.code {
		case "validation_failed", "invalid_parameter":
			d.Message = message(lang, e.code, strings.Join(parts, "; ")+".")
		default:
			d.Message = message(lang, e.code, e.args...)
		}
	} else {
		d.Message = message(lang, e.code, e.args...)
	}
	return d.wrap()
}

func (d errorDetail) wrap() errorBody { return errorBody{Error: d} }

// encode marshals an answer's body: an *apiError in lang, anything else
// as it is.
func encode(lang string, v any) ([]byte, error) {
	if e, ok := v.(*apiError); ok {
		v = e.render(lang)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// write sends a JSON answer.
func write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fail sends an error in the request's language.
func (s *server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	body, err := encode(langOf(r), e)
	if err != nil { // cannot happen: an error body is strings
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}` + "\n")
	}
	if e.status == http.StatusUnauthorized {
		challenge := `Bearer realm="loyalty"`
		if e.code == "invalid_token" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	write(w, e.status, body)
}

// answer is what a handler returns: a status and a body (an *apiError is
// rendered in the request's language).
type answer struct {
	status int
	body   any
}

func errAnswer(e *apiError) answer { return answer{status: e.status, body: e} }

// internal logs err and returns a 500.
func (s *server) internal(r *http.Request, what string, err error) answer {
	s.log.Error("loyalty api: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	return errAnswer(errInternal)
}

// query wraps a read: authentication, then the handler.
func (s *server) query(h func(r *http.Request, shop *store.Shop) answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shop, aerr := s.authenticate(r)
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		a := h(r, shop)
		body, err := encode(langOf(r), a.body)
		if err != nil {
			s.log.Error("loyalty api: encode", "path", r.URL.Path, "err", err)
			s.fail(w, r, errInternal)
			return
		}
		write(w, a.status, body)
	})
}

// run applies a validated mutation. sourceKey ("" without an
// Idempotency-Key) goes onto the ledger entry, so the database itself
// refuses to apply the movement twice.
type run func(ctx context.Context, shop *store.Shop, sourceKey string) answer

// prepare validates a mutation's path and body, touching no database,
// and returns the work to do.
type prepare func(r *http.Request, body []byte) (run, *apiError)

// mutation wraps a mutation: authentication, the Idempotency-Key, the
// body, validation, then the work, whose answer is recorded under the
// key. A request refused before its work starts (authentication, a
// malformed key, body, id or field) is not recorded: fixing it and
// sending it again with the same key runs it.
func (s *server) mutation(p prepare) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shop, aerr := s.authenticate(r)
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		key, aerr := idempotencyKey(r)
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		body, aerr := readBody(w, r)
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		work, aerr := p(r, body)
		if aerr != nil {
			s.fail(w, r, aerr)
			return
		}
		// The work and its record run to the end even if the client goes
		// away, so a retry finds the answer.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.mutationTimeout())
		defer cancel()
		lang := langOf(r)
		if key == "" {
			a := s.safely(r, func() answer { return work(ctx, shop, "") })
			b, err := encode(lang, a.body)
			if err != nil {
				s.log.Error("loyalty api: encode", "path", r.URL.Path, "err", err)
				s.fail(w, r, errInternal)
				return
			}
			write(w, a.status, b)
			return
		}
		hash := store.RequestHash(r.Method, r.URL.Path, body)
		claim, stored, err := s.st.BeginIdempotent(ctx, shop.ID, key, hash, s.staleAfter())
		switch {
		case errors.Is(err, store.ErrKeyInFlight):
			w.Header().Set("Retry-After", "1")
			s.fail(w, r, &apiError{status: http.StatusConflict, code: "idempotency_key_in_flight"})
			return
		case errors.Is(err, store.ErrKeyReused):
			s.fail(w, r, &apiError{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused"})
			return
		case err != nil:
			s.log.Error("loyalty api: claim idempotency key", "path", r.URL.Path, "err", err)
			s.fail(w, r, errInternal)
			return
		case stored != nil:
			w.Header().Set("Idempotent-Replayed", "true")
			write(w, stored.Status, []byte(stored.Body))
			return
		}
		// The key is ours: record the answer, or release the key when the
		// work failed (5xx or panic) so a retry runs it again.
		a := s.safely(r, func() answer { return work(ctx, shop, sourceKey(shop, key, hash)) })
		b, err := encode(lang, a.body)
		if err != nil {
			s.log.Error("loyalty api: encode", "path", r.URL.Path, "err", err)
			a, b = errAnswer(errInternal), nil
		}
		// Record or release with a context of its own: the work's may have
		// run out (a 500 after mutationTimeout), which must not leave the key
		// in flight.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout)
		defer rcancel()
		if a.status >= 500 {
			if err := s.st.AbandonIdempotent(rctx, claim); err != nil {
				// The key stays in flight until a retry takes it over
				// (staleAfter); that retry runs the request again, and the
				// source keys keep it from moving points twice.
				s.log.Error("loyalty api: release idempotency key", "path", r.URL.Path, "err", err)
			}
			s.fail(w, r, errInternal)
			return
		}
		if err := s.st.FinishIdempotent(rctx, claim, a.status, string(b)); err != nil {
			// The work is done and the answer goes out. Retries find the key
			// in flight (409) until one takes it over (staleAfter) and runs
			// again: the source key gives it this movement, never a second.
			s.log.Error("loyalty api: record idempotent answer", "path", r.URL.Path, "err", err)
		}
		write(w, a.status, b)
	})
}

// safely runs f, turning a panic into a 500 answer.
func (s *server) safely(r *http.Request, f func() answer) (a answer) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("loyalty api: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			a = errAnswer(errInternal)
		}
	}()
	return f()
}

// sourceKey is the ledger's source key of a movement made under an
// Idempotency-Key: the shop, the request's fingerprint and the key. The
// fingerprint keeps a key reused after its 48 hours for another request
// from colliding with the old movement.
func sourceKey(shop *store.Shop, key, hash string) string {
	return fmt.Sprintf("api:%s:%s:%s", shop.ID, hash[:32], key)
}
