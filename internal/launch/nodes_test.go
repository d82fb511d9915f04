package launch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
	"github.com/portico-dev/portico/internal/testdb"
)

// TestRotationReachesOtherNodes: a signing key rotated through one node is
// published by another at once, not after the key cache's TTL (the
// rotation is announced as a tenant change, which every node's launch
// service hears).
func TestRotationReachesOtherNodes(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t, "postgres")
	stA, stB := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
	testdb.Listen(t, stA)
	testdb.Listen(t, stB)
	tn := &model.Tenant{Slug: "acme", Name: "Acme", Hostnames: []string{"portal.acme.test"}}
	testdb.Must(t, tn.Validate(false), "validate tenant")
	testdb.Must(t, stA.CreateTenant(ctx, tn, model.SystemActor("test")), "create tenant")
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	testdb.Must(t, err, "box")
	a := launch.NewService(stA, box, launch.Options{Logger: testdb.Logger(t)})
	b := launch.NewService(stB, box, launch.Options{Logger: testdb.Logger(t)})
	_, err = b.JWKS(ctx, tn.ID) // B caches the tenant's first key
	testdb.Must(t, err, "jwks on B")
	ki, err := a.Rotate(ctx, tn.ID, model.Actor{Type: "system", Label: "test"})
	testdb.Must(t, err, "rotate on A")
	deadline := time.Now().Add(time.Second)
	for {
		set, err := b.JWKS(ctx, tn.ID)
		testdb.Must(t, err, "jwks on B")
		if strings.Contains(string(set), `"`+ki.KID+`"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B does not publish the key rotated on A after 1 s (its cache lives %v)", launch.KeyCacheTTL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
