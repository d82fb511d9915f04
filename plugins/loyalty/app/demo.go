package app

import (
	"context"
	"fmt"
	"time"

	"github.com/portico-dev/portico/plugins/loyalty/store"
)

// The demo customers: Portico's demo accounts (internal/demo.Accounts) as
// the programme would know them from the shop's counter, before they ever
// open the plugin. A launch then links the portal user to the record by
// e-mail (or CPF).
const (
	DemoEmail    = "cliente@demo.portico.test"
	DemoName     = "Carla Cliente"
	DemoDocument = "52998224725" // 529.982.247-25, the fake ERP's demo cliente
	DemoShop     = "Loja Centro"
)

// demoCustomers are seeded besides Carla: a second portal account, and a
// customer the point-of-sale API created who has no portal login.
var demoCustomers = []store.Customer{
	{Name: "Antônio Ambos", Email: "ambos@demo.portico.test", Document: "11144477735"},
	{Name: "Beatriz Balcão", Email: "beatriz@example.com", Phone: "5511987650000"},
}

// SeedDemo fills an empty programme (no customer yet) with the demo: a
// store, Carla Cliente with a few movements (two purchases, a redemption,
// and a welcome bonus that expires in 20 days, so "about to expire" shows),
// and two more customers. It reports whether it seeded; a programme with
// any customer is never touched.
func SeedDemo(ctx context.Context, st *store.Store) (bool, error) {
	fail := func(err error) (bool, error) { return false, fmt.Errorf("seed the loyalty demo: %w", err) }
	n, err := st.CountCustomers(ctx)
	if err != nil {
		return fail(err)
	}
	if n > 0 {
		return false, nil
	}
	// The store's token is never shown: a gestor creates their own on the
	// stores page to try the API.
	_, hash := store.NewShopToken()
	if _, err := st.CreateShop(ctx, DemoShop, hash, "demo"); err != nil {
		return fail(err)
	}
	carla := &store.Customer{Name: DemoName, Email: DemoEmail, Document: DemoDocument}
	if err := st.CreateCustomer(ctx, carla); err != nil {
		return fail(err)
	}
	for i := range demoCustomers {
		c := demoCustomers[i]
		if err := st.CreateCustomer(ctx, &c); err != nil {
			return fail(err)
		}
	}
	actor := DemoShop + " (PDV)"
	bonusUntil := st.Now().Add(20 * 24 * time.Hour)
	steps := []struct {
		kind string
		m    store.Movement
	}{
		{store.KindEarn, store.Movement{Points: 120, AmountCents: 120000, Receipt: "NF 1001", Store: DemoShop, Actor: actor}},
		{store.KindEarn, store.Movement{Points: 35, AmountCents: 35690, Receipt: "NF 1002", Store: DemoShop, Actor: actor}},
		{store.KindRedeem, store.Movement{Points: 50, Reason: "Troca por vale-presente", Store: DemoShop, Actor: actor}},
		{store.KindAdjust, store.Movement{Points: 10, Reason: "Bônus de boas-vindas", Actor: "Gabriela Gestora <gestor@demo.portico.test>", ExpiresAt: &bonusUntil}},
	}
	for _, s := range steps {
		s.m.CustomerID = carla.ID
		var err error
		if s.kind == store.KindRedeem {
			_, err = st.Spend(ctx, s.kind, s.m)
		} else {
			_, err = st.Earn(ctx, s.kind, s.m)
		}
		if err != nil {
			return fail(err)
		}
	}
	return true, nil
}
