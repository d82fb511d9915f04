package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// TestMessagesComplete: every error code and field reason has a message
// in the three languages with the same arguments, and the error codes the
// OpenAPI document lists are exactly the codes of the table.
func TestMessagesComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[a-z]`)
	for _, table := range []map[string]map[string]string{messages, fieldMessages} {
		for code, byLang := range table {
			if len(byLang) != len(langs) {
				t.Errorf("%s: %d languages", code, len(byLang))
			}
			want := verbs.FindAllString(byLang[langPT], -1)
			for _, l := range langs {
				if byLang[l] == "" {
					t.Errorf("%s: no %s message", code, l)
				}
				if got := verbs.FindAllString(byLang[l], -1); !slices.Equal(got, want) {
					t.Errorf("%s/%s: arguments %v, pt-BR has %v", code, l, got, want)
				}
			}
		}
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	testdb.Must(t, json.Unmarshal(openAPIDocument, &doc), "parse the document")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`"code": "([a-z_]+)"`).FindAllSubmatch(openAPIDocument, -1) {
		documented[string(m[1])] = true
	}
	for code := range messages {
		// not_found and method_not_allowed have no operation; the
		// document's description names them.
		if !documented[code] && code != "not_found" && code != "method_not_allowed" {
			t.Errorf("error code %s is not in the OpenAPI document", code)
		}
		if (code == "not_found" || code == "method_not_allowed") && !strings.Contains(string(openAPIDocument), " "+code+"`") {
			t.Errorf("error code %s is not mentioned in the OpenAPI document", code)
		}
	}
	for code := range documented {
		if messages[code] == nil {
			t.Errorf("the document lists %s, which the API never answers", code)
		}
	}
}

func TestLangOf(t *testing.T) {
	for header, want := range map[string]string{
		"":                         langPT,
		"pt-BR":                    langPT,
		"pt-PT,pt;q=0.9":           langPT,
		"es-MX":                    langES,
		"en-US,en;q=0.9":           langEN,
		"fr-FR, es;q=0.5":          langES,
		"de":                       langPT,
		"en;q=0.2, es;q=0.8":       langES,
		"garbage;;;q=x":            langPT,
		strings.Repeat("x-", 2000): langPT,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", header)
		if got := langOf(r); got != want {
			t.Errorf("Accept-Language %.40q: %s, want %s", header, got, want)
		}
	}
}

// shopServer returns a server over a fresh SQLite store with one shop,
// and that shop's token.
func shopServer(t *testing.T) (*server, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.URL(t, "sqlite"), store.Options{Logger: testdb.Logger(t)})
	testdb.Must(t, err, "open")
	t.Cleanup(func() { _ = st.Close() })
	tok, hash := store.NewShopToken()
	_, err = st.CreateShop(ctx, "Loja", hash, "test")
	testdb.Must(t, err, "shop")
	return &server{st: st, log: testdb.Logger(t)}, tok
}

// TestFailedWorkReleasesTheKey: a mutation whose work panics or answers
// 5xx releases its Idempotency-Key (nothing is recorded), so the retry
// runs again; a 4xx is recorded.
func TestFailedWorkReleasesTheKey(t *testing.T) {
	s, tok := shopServer(t)

	var calls atomic.Int64
	h := s.mutation(func(r *http.Request, body []byte) (run, *apiError) {
		return func(ctx context.Context, shop *store.Shop, sourceKey string) answer {
			switch calls.Add(1) {
			case 1:
				panic("boom")
			case 2:
				return errAnswer(errInternal)
			case 3:
				return errAnswer(&apiError{status: http.StatusUnprocessableEntity, code: "insufficient_balance"})
			}
			if !strings.HasPrefix(sourceKey, "api:") {
				t.Errorf("source key %q", sourceKey)
			}
			return answer{http.StatusCreated, map[string]any{"ok": true}}
		}, nil
	})
	post := func(k string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Idempotency-Key", k)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := post("k1"); w.Code != 500 || !strings.Contains(w.Body.String(), `"internal"`) {
		t.Fatalf("panic: %d %s", w.Code, w.Body)
	}
	if w := post("k1"); w.Code != 500 {
		t.Fatalf("the retry after a panic did not run again: %d %s", w.Code, w.Body)
	}
	if w := post("k1"); w.Code != 422 || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry after a 500 did not run again: %d %s", w.Code, w.Body)
	}
	if w := post("k1"); w.Code != 422 || w.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the 422 was not recorded: %d %s", w.Code, w.Body)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d runs", calls.Load())
	}
	if w := post("k2"); w.Code != 201 {
		t.Fatalf("another key: %d %s", w.Code, w.Body)
	}
}

// TestTimedOutWorkReleasesTheKey: a mutation whose work runs out of time
// (a 500 at mutationTimeout) still releases its Idempotency-Key — the
// release does not use the work's spent context — so the retry runs at
// once instead of finding the key in flight.
func TestTimedOutWorkReleasesTheKey(t *testing.T) {
	s, tok := shopServer(t)
	s.timeout = 100 * time.Millisecond

	var calls atomic.Int64
	h := s.mutation(func(r *http.Request, body []byte) (run, *apiError) {
		return func(ctx context.Context, shop *store.Shop, sourceKey string) answer {
			if calls.Add(1) == 1 {
				<-ctx.Done() // a database that does not answer in time
				return s.internal(r, "earn", ctx.Err())
			}
			return answer{http.StatusCreated, map[string]any{"ok": true}}
		}, nil
	})
	post := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Idempotency-Key", "slow")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := post(); w.Code != 500 {
		t.Fatalf("timed out: %d %s", w.Code, w.Body)
	}
	if w := post(); w.Code != 201 || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry after a timed-out 500: %d %s, want it to run (201)", w.Code, w.Body)
	}
	if w := post(); w.Code != 201 || w.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the answer was not recorded: %d %s", w.Code, w.Body)
	}
}
