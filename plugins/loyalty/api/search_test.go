package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestSearchExactFirst: GET /api/v1/customers?q= answers the customer
// whose e-mail, CPF, phone or code is exactly q first, before customers
// whose e-mail or name merely contains it — even when those fill the
// limit and sort before it by name — as the document promises.
func TestSearchExactFirst(t *testing.T) {
	forEachDriver(t, func(t *testing.T, e *env) {
		for i := range 6 {
			e.createCustomer(t, map[string]any{"name": fmt.Sprintf("Aaron %d", i), "email": fmt.Sprintf("%dcarla@x.test", i)})
		}
		carla := e.createCustomer(t, map[string]any{"name": "Zélia Carla", "email": "carla@x.test", "document": "529.982.247-25", "phone": "(11) 98765-4321"})
		for _, q := range []string{"carla@x.test", "52998224725", "11 98765-4321", carla.Code} {
			x := e.expect(t, http.StatusOK, "", true, "GET", "/api/v1/customers?limit=3&q="+url.QueryEscape(q), nil)
			var list struct {
				Data []customerOut `json:"data"`
			}
			x.decode(t, &list)
			if len(list.Data) == 0 || list.Data[0].ID != carla.ID {
				t.Errorf("q=%s: %s, want %s first", q, x.ResBody, carla.ID)
			}
		}
	})
}
