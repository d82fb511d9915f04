package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPI: the document is served without a token, is valid OpenAPI
// 3.1 (examples included), describes exactly the API's routes, and the
// check of real answers against it is not a formality: doctored answers
// fail it.
func TestOpenAPI(t *testing.T) {
	e := start(t, "sqlite")
	doc := e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/openapi.json", nil, "Authorization", "")
	if doc.ResHeader.Get("Content-Type") != "application/json" || doc.ResHeader.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("the document's headers: %v", doc.ResHeader)
	}
	s := loadSpec(t, e)
	var documented []string
	for path, item := range s.Doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(documented)
	want := []string{
		"GET /api/v1/customers",
		"GET /api/v1/customers/{id}",
		"GET /api/v1/openapi.json",
		"POST /api/v1/customers",
		"POST /api/v1/customers/{id}/points",
		"POST /api/v1/customers/{id}/redemptions",
	}
	if !slices.Equal(documented, want) {
		t.Errorf("the document describes\n%s\nwant\n%s", strings.Join(documented, "\n"), strings.Join(want, "\n"))
	}
	if bs := s.Doc.Components.SecuritySchemes["bearerAuth"]; bs == nil || bs.Value.Scheme != "bearer" {
		t.Errorf("no bearer security scheme")
	}

	c := e.createCustomer(t, map[string]any{"name": "Carla", "email": "carla@x.test"})
	earned := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 12345}, "Idempotency-Key", "k-openapi")
	replayed := e.expect(t, http.StatusCreated, "", true, "POST", pointsPath(c.ID), map[string]any{"amount_cents": 12345}, "Idempotency-Key", "k-openapi")
	account := e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers/"+c.ID, nil)
	list := e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers?q=carla", nil)
	insufficient := e.expect(t, http.StatusUnprocessableEntity, "insufficient_balance", true, "POST", redemptionsPath(c.ID), map[string]any{"points": 1000})
	unauthorized := e.expect(t, http.StatusUnauthorized, "missing_token", true, "GET", "/api/v1/customers/"+c.ID, nil, "Authorization", "")

	wrongStatus := *earned
	wrongStatus.Status = http.StatusOK
	teapot := *insufficient
	teapot.Status = http.StatusTeapot
	noChallenge := *unauthorized
	noChallenge.ResHeader = unauthorized.ResHeader.Clone()
	noChallenge.ResHeader.Del("WWW-Authenticate")
	cached := *account
	cached.ResHeader = account.ResHeader.Clone()
	cached.ResHeader.Set("Cache-Control", "max-age=60")
	badReplay := *replayed
	badReplay.ResHeader = replayed.ResHeader.Clone()
	badReplay.ResHeader.Set("Idempotent-Replayed", "yes")
	for name, x := range map[string]*exchange{
		"an undocumented field":          earned.with(t, func(b map[string]any) { b["token"] = "x" }),
		"an undocumented nested field":   account.with(t, func(b map[string]any) { b["customer"].(map[string]any)["subject"] = "s" }),
		"a kind outside the enum":        earned.with(t, func(b map[string]any) { b["movement"].(map[string]any)["kind"] = "gift" }),
		"a negative balance":             earned.with(t, func(b map[string]any) { b["balance"] = -1 }),
		"a missing field":                account.with(t, func(b map[string]any) { delete(b, "expiring") }),
		"a missing cursor":               account.with(t, func(b map[string]any) { delete(b["history"].(map[string]any), "next_before") }),
		"a wrong type":                   list.with(t, func(b map[string]any) { b["data"] = "none" }),
		"a malformed code":               list.with(t, func(b map[string]any) { b["data"].([]any)[0].(map[string]any)["code"] = "X-1" }),
		"a field in the error":           insufficient.with(t, func(b map[string]any) { b["error"].(map[string]any)["detail"] = "x" }),
		"an error code of another route": insufficient.with(t, func(b map[string]any) { b["error"].(map[string]any)["code"] = "customer_exists" }),
		"an undocumented status":         &wrongStatus,
		"a status the operation lacks":   &teapot,
		"a 401 without WWW-Authenticate": &noChallenge,
		"a cacheable answer":             &cached,
		"a malformed replay header":      &badReplay,
	} {
		err := s.check(x, true)
		if err == nil {
			t.Errorf("%s passed the check: %s", name, x)
			continue
		}
		t.Logf("%s: %.160s", name, strings.ReplaceAll(err.Error(), "\n", " "))
	}
}
