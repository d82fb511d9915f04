package erp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

var day = time.Date(2026, 12, 4, 10, 0, 0, 0, erp.Zone)

func start(t *testing.T, cfg erp.Config) (*erp.Server, string) {
	t.Helper()
	if cfg.User == "" {
		cfg.User, cfg.Password = erp.DemoUser, erp.DemoPassword
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return day }
	}
	s := erp.New(cfg)
	ts := httptest.NewServer(s) // 127.0.0.1
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func call(t *testing.T, method, url, user, password, key, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

func TestAPI(t *testing.T) {
	s, url := start(t, erp.Config{})
	base := url + s.BasePath()
	get := func(path string) (int, []byte) {
		st, _, b := call(t, "GET", base+path, erp.DemoUser, erp.DemoPassword, "", "")
		return st, b
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"customers?cpf=529.982.247-25", 200, `"id":101`},
		{"customers?cpf=00000000000", 200, `"count":0`},
		{"customers?cpf=123", 400, "cpf must have 11 digits"},
		{"accounts-receivable/receivable-bills?customerId=101", 200, `"count":2`},
		{"accounts-receivable/receivable-bills?customerId=x", 400, "customerId must be a positive integer"},
		{"accounts-receivable/receivable-bills/5001/installments?limit=5&offset=10", 200, `{"count":12,"offset":10,"limit":5}`},
		{"accounts-receivable/receivable-bills/5001/installments?limit=201", 400, "limit must be between 1 and 200"},
		{"accounts-receivable/receivable-bills/5001/installments?offset=-1", 400, "offset"},
		{"accounts-receivable/receivable-bills/9/installments", 404, "receivable bill not found"},
		{"current-debit-balance?customerId=101", 200, `"balanceDue":16301.50,"overdueBalance":3350.50`},
		{"nothing", 404, "not found"},
	} {
		st, b := get(tc.path)
		if st != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s = %d %s; want %d with %q", tc.path, st, b, tc.status, tc.want)
		}
	}
	var page erp.Page[erp.Installment]
	_, b := get("accounts-receivable/receivable-bills/5001/installments?limit=5&offset=10")
	if err := json.Unmarshal(b, &page); err != nil || len(page.Results) != 2 || page.Results[0].Number != "11/12" || page.Results[0].Original != 125000 {
		t.Errorf("page = %+v, %v; want installments 11 and 12 of R$ 1.250,00", page, err)
	}
	if st, h, _ := call(t, "GET", base+"customers", erp.DemoUser, "wrong", "", ""); st != 401 || h.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong password = %d, want 401 with a challenge", st)
	}
	if st, _, _ := call(t, "GET", base+"customers", "", "", "", ""); st != 401 {
		t.Errorf("no credentials = %d, want 401", st)
	}
}

func TestRateLimit(t *testing.T) {
	s, url := start(t, erp.Config{RatePerMinute: 3})
	for i := range 4 {
		st, h, _ := call(t, "GET", url+s.BasePath()+"customers", erp.DemoUser, erp.DemoPassword, "", "")
		if i < 3 && st != 200 {
			t.Fatalf("request %d = %d", i, st)
		}
		if i == 3 && (st != 429 || h.Get("Retry-After") != "60") {
			t.Errorf("request over the limit = %d, Retry-After %q; want 429 and 60 s to the next minute", st, h.Get("Retry-After"))
		}
	}
}

func TestRegisterIsIdempotent(t *testing.T) {
	s, url := start(t, erp.Config{})
	path := url + s.BasePath() + "accounts-receivable/receivable-bills/5001/installments/5/payment-slips"
	body := `{"dueDate":"2026-12-07","amount":1286.25,"fineAmount":25.00,"interestAmount":11.25}`
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, b := call(t, "POST", path, erp.DemoUser, erp.DemoPassword, "portico-abc12345", body)
			if st != 200 && st != 201 {
				t.Errorf("register = %d %s", st, b)
			}
			var p erp.PaymentSlip
			_ = json.Unmarshal(b, &p)
			ids[i] = p.URLReport
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("registrations differ: %v", ids)
		}
	}
	if st := s.Stats(); st.Registrations != 1 || st.Replays != 7 {
		t.Errorf("stats = %+v, want 1 registration and 7 replays", st)
	}
	for _, tc := range []struct {
		name, key, body, path string
		status                int
	}{
		{"same key, other amount", "portico-abc12345", strings.Replace(body, "1286.25", "1300.00", 1), path, 409},
		{"no key", "", body, path, 400},
		{"three decimals", "portico-other123", strings.Replace(body, "1286.25", "1286.255", 1), path, 400},
		{"unknown field", "portico-other123", `{"dueDate":"2026-12-07","amount":1,"x":1}`, path, 400},
		{"past date", "portico-other123", strings.Replace(body, "2026-12-07", "2026-12-01", 1), path, 422},
		{"paid installment", "portico-other123", body, strings.Replace(path, "/5/", "/1/", 1), 422},
		{"unknown installment", "portico-other123", body, strings.Replace(path, "/5/", "/77/", 1), 404},
	} {
		if st, _, b := call(t, "POST", tc.path, erp.DemoUser, erp.DemoPassword, tc.key, tc.body); st != tc.status {
			t.Errorf("%s = %d %s, want %d", tc.name, st, b, tc.status)
		}
	}
}

func TestFaultsAndControl(t *testing.T) {
	s, url := start(t, erp.Config{})
	api := url + s.BasePath() + "customers"
	setFault := func(body string) int {
		st, _, _ := call(t, "POST", url+"/_control/fault", "", "", "", body)
		return st
	}
	for _, tc := range []struct {
		fault  string
		status int
		check  func(h http.Header, b []byte) bool
	}{
		{`{"mode":"error"}`, 500, func(_ http.Header, b []byte) bool { return strings.Contains(string(b), "Exception") }},
		{`{"mode":"malformed"}`, 200, func(_ http.Header, b []byte) bool { return !json.Valid(b) }},
		{`{"mode":"huge"}`, 200, func(_ http.Header, b []byte) bool { return len(b) > 2<<20 }},
		{`{"mode":"ratelimit","retry_after":90}`, 429, func(h http.Header, _ []byte) bool { return h.Get("Retry-After") == "90" }},
		{`{"mode":"unauthorized"}`, 401, func(http.Header, []byte) bool { return true }},
		{`{"mode":"slow","delay_ms":20}`, 200, func(http.Header, []byte) bool { return true }},
		{`{"mode":""}`, 200, func(http.Header, []byte) bool { return true }},
	} {
		if st := setFault(tc.fault); st != 200 {
			t.Fatalf("set %s = %d", tc.fault, st)
		}
		st, h, b := call(t, "GET", api, erp.DemoUser, erp.DemoPassword, "", "")
		if st != tc.status || !tc.check(h, b) {
			t.Errorf("with %s: %d (%d bytes), want %d", tc.fault, st, len(b), tc.status)
		}
	}
	// A fault of one endpoint leaves the others alone.
	setFault(`{"mode":"error","endpoint":"installments"}`)
	if st, _, _ := call(t, "GET", api, erp.DemoUser, erp.DemoPassword, "", ""); st != 200 {
		t.Errorf("customers with a fault of the installments = %d, want 200", st)
	}
	if st, _, _ := call(t, "GET", url+s.BasePath()+"accounts-receivable/receivable-bills/5001/installments", erp.DemoUser, erp.DemoPassword, "", ""); st != 500 {
		t.Errorf("installments with their fault = %d, want 500", st)
	}
	for _, bad := range []string{`{"mode":"explode"}`, `{"mode":"slow","delay_ms":-1}`, `{"mode":"slow","x":1}`, `nope`, `{"mode":"error","endpoint":"bills"}`} {
		if st := setFault(bad); st != 400 {
			t.Errorf("fault %s = %d, want 400", bad, st)
		}
	}
	// A hang ends when the client gives up.
	setFault(`{"mode":"hang"}`)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest("GET", api, nil)
	req.SetBasicAuth(erp.DemoUser, erp.DemoPassword)
	if _, err := client.Do(req); err == nil {
		t.Error("a hanging request answered")
	}
	// Also a POST with a body, whose client giving up the server only
	// notices once the body is read: the handler must end with it.
	before := time.Now()
	post, _ := http.NewRequest("POST", url+s.BasePath()+"accounts-receivable/receivable-bills/5001/installments/5/payment-slips", strings.NewReader(`{"dueDate":"2026-12-07"}`))
	post.SetBasicAuth(erp.DemoUser, erp.DemoPassword)
	if _, err := client.Do(post); err == nil {
		t.Error("a hanging POST answered")
	}
	setFault(`{"mode":""}`)
	for s.Stats().Hanging > 0 {
		if time.Since(before) > 5*time.Second {
			t.Fatalf("%d hanging requests outlived their clients", s.Stats().Hanging)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Rotating the password.
	if st, _, _ := call(t, "POST", url+"/_control/password", "", "", "", `{"password":"nova"}`); st != 204 {
		t.Fatalf("rotate = %d", st)
	}
	if st, _, _ := call(t, "GET", api, erp.DemoUser, erp.DemoPassword, "", ""); st != 401 {
		t.Errorf("old password after rotation = %d, want 401", st)
	}
	if st, _, _ := call(t, "GET", api, erp.DemoUser, "nova", "", ""); st != 200 {
		t.Errorf("new password = %d, want 200", st)
	}
	if st, _, b := call(t, "GET", url+"/_control/stats", "", "", "", ""); st != 200 || !strings.Contains(string(b), `"requests"`) {
		t.Errorf("stats = %d %s", st, b)
	}
}

func TestAmountJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want erp.Amount
		ok   bool
	}{{"1250", 125000, true}, {"1250.5", 125050, true}, {"0.01", 1, true}, {"1.234", 0, false}, {"1e3", 0, false}, {"", 0, false}, {`"1"`, 0, false}} {
		var a erp.Amount
		err := a.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && a != tc.want) {
			t.Errorf("Amount(%q) = %d, %v; want %d, ok %v", tc.in, a, err, tc.want, tc.ok)
		}
	}
	if b, _ := erp.Amount(125005).MarshalJSON(); string(b) != "1250.05" {
		t.Errorf("marshal = %s", b)
	}
}
