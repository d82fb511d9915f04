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
