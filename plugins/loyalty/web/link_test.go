package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/plugins/launchkit"
	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// TestLaunchLinkRace: two portal users who each match the same unlinked
// record (one by e-mail, the other by CPF) launch at the same moment. At
// most one of them gets a session on it — the one whose subject the
// record now has; the other is told of the conflict. Repeated over
// several records, since a race is a matter of timing.
func TestLaunchLinkRace(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		docs := []string{"52998224725", "11144477735", "39053344705", "15350946056", "71428793860",
			"87748248800", "45317828791", "74682489000", "29375235017", "93541134780"}
		for i, doc := range docs {
			email := fmt.Sprintf("titular%d@example.com", i)
			c := &store.Customer{Name: "Titular", Email: email, Document: doc}
			testdb.Must(t, h.st.CreateCustomer(ctx, c), "create")
			users := []launchkit.User{
				cliente(fmt.Sprintf("sub-a-%d", i), "Ana", email, ""),
				cliente(fmt.Sprintf("sub-b-%d", i), "Bruno", fmt.Sprintf("bruno%d@example.com", i), doc),
			}
			res := make([]response, len(users))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for j, u := range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[j] = h.launchRaw(u)
				}()
			}
			close(start)
			wg.Wait()
			got, err := h.st.Customer(ctx, c.ID)
			testdb.Must(t, err, "customer")
			var winners []string
			for j, r := range res {
				loc := r.Header.Get("Location")
				switch {
				case r.Status == http.StatusSeeOther && strings.HasPrefix(loc, "/s/"):
					// The session is on this record only if its user owns it.
					s := h.h.Sessions().Get(strings.TrimSuffix(strings.TrimPrefix(loc, "/s/"), "/"))
					if s != nil && s.CustomerID == c.ID {
						winners = append(winners, users[j].ID)
					}
				case r.Status == http.StatusConflict && strings.Contains(r.Body, `data-code="conflict"`):
				default:
					t.Errorf("record %d, %s: %d %.300s", i, users[j].ID, r.Status, text(r.Body))
				}
			}
			if len(winners) > 1 {
				t.Fatalf("record %d: both %v got a session on customer %s (its subject is now %v)", i, winners, c.ID, *got.Subject)
			}
			if len(winners) == 1 && (got.Subject == nil || *got.Subject != winners[0]) {
				t.Fatalf("record %d: %s got the session, the record's subject is %v", i, winners[0], got.Subject)
			}
		}
	})
}

// TestLaunchByEmailWithAnotherDocument: a record made at a counter with
// Carla's CPF and, by mistake, Ana's e-mail. Ana's launch (her own CPF)
// is refused with the conflict page, in her language, and changes nothing;
// Carla's launch (her CPF) then finds the record and its points.
func TestLaunchByEmailWithAnotherDocument(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		h := newHarness(t, driver, options{})
		ctx := context.Background()
		c := &store.Customer{Name: "Carla Cliente", Email: "ana@example.com", Document: "52998224725"}
		testdb.Must(t, h.st.CreateCustomer(ctx, c), "create")
		_, err := h.st.Earn(ctx, store.KindEarn, store.Movement{CustomerID: c.ID, Points: 500, Actor: "api:Loja"})
		testdb.Must(t, err, "earn")

		for _, tc := range []struct{ locale, want string }{
			{"pt-BR", "Já existe outro cadastro no programa de pontos"},
			{"es", "Ya existe otro registro en el programa de puntos"},
			{"en", "Another loyalty record already has your e-mail or document"},
		} {
			ana := cliente("sub-ana", "Ana Andrade", "ana@example.com", "111.444.777-35")
			ana.Locale = tc.locale
			r := h.launchRaw(ana)
			mustContain(t, "Ana's launch ("+tc.locale+")", r, http.StatusConflict, `data-code="conflict"`, tc.want)
		}
		got, err := h.st.Customer(ctx, c.ID)
		testdb.Must(t, err, "customer")
		if got.Subject != nil || got.Name != "Carla Cliente" || got.Document != "52998224725" || got.Email != "ana@example.com" {
			t.Fatalf("after Ana's refused launch: %+v", got)
		}
		if _, err := h.st.CustomerBy(ctx, "subject", "sub-ana"); err == nil {
			t.Error("Ana's refused launch created a customer")
		}

		base := h.launch(cliente("sub-carla", "Carla Cliente", "carla@example.com", "529.982.247-25"))
		page := h.get(base + "/")
		mustContain(t, "Carla's page", page, http.StatusOK, "500 pontos", c.Code)
		if got, _ := h.st.Customer(ctx, c.ID); got.Subject == nil || *got.Subject != "sub-carla" || got.Document != "52998224725" {
			t.Errorf("Carla's record after her launch: %+v", got)
		}

		// A record found by e-mail without a document, or a portal without
		// the CPF, still links by e-mail.
		d := &store.Customer{Name: "Daniel", Email: "daniel@example.com", Document: "39053344705"}
		testdb.Must(t, h.st.CreateCustomer(ctx, d), "create")
		dan := cliente("sub-daniel", "Daniel Dias", "daniel@example.com", "")
		dan.Document = nil
		h.launch(dan)
		if got, _ := h.st.Customer(ctx, d.ID); got.Subject == nil || *got.Subject != "sub-daniel" || got.Document != "39053344705" {
			t.Errorf("Daniel's record (portal without CPF): %+v", got)
		}
	})
}
