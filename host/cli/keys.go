package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/launch"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/secret"
)

// keysMain runs `portico keys rotate --tenant SLUG` (schedule a new launch
// signing key, published at once, signing after launch.PublishAhead) and
// `portico keys list --tenant SLUG`. Usage errors, an unknown tenant and a
// missing PORTICO_SECRET_KEY exit 2; a database failure exits 1.
func keysMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			keysUsage(stdout)
			return 0
		}
		keysUsage(stderr)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("portico keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "the tenant's slug (required)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portico keys "+sub+": "+format+"\n", a...)
		return 2
	}
	slug := strings.TrimSpace(*tenant)
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case slug == "":
		return fail("--tenant is required")
	}
	cfg, err := config.Load(nil)
	if err != nil {
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return 2
	}
	var box *secret.Box
	if sub == "rotate" {
		key := cfg.SecretKey
		if key == nil && cfg.Demo {
			if key, err = secret.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "secret.key")); err != nil {
				fmt.Fprintf(stderr, "portico keys rotate: %v\n", err)
				return 1
			}
		}
		if key == nil {
			return fail("PORTICO_SECRET_KEY is required: signing keys are stored sealed with it (use the same value as the server)")
		}
		if box, err = secret.New(key); err != nil {
			return fail("PORTICO_SECRET_KEY: %v", err)
		}
	}
	log := NewLogger(cfg, stderr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "portico keys %s: %v\n", sub, err)
		return 1
	}
	defer store.Close()
	if err := store.Ready(ctx); err != nil {
		fmt.Fprintf(stderr, "portico keys %s: %v (run `portico migrate` first)\n", sub, err)
		return 1
	}
	t, err := store.TenantBySlug(ctx, slug)
	if errors.Is(err, model.ErrNotFound) {
		return fail("no tenant with slug %q", slug)
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico keys %s: %v\n", sub, err)
		return 1
	}
	svc := launch.NewService(store, box, launch.Options{Logger: log})
	if sub == "rotate" {
		k, err := svc.Rotate(ctx, t.ID, model.SystemActor("portico keys rotate"))
		if err != nil {
			fmt.Fprintf(stderr, "portico keys rotate: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, k.KID)
		fmt.Fprintf(stderr, "New signing key %s for tenant %s: published now, signs from %s; the key it replaces stays valid until %s after that.\n",
			k.KID, t.Slug, k.ActivatesAt.Format(time.RFC3339), launch.RetireAfter)
		return 0
	}
	keys, err := svc.Keys(ctx, t.ID)
	if err != nil {
		fmt.Fprintf(stderr, "portico keys list: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "KID\tSTATE\tACTIVATES\tRETIRES\n")
	for _, k := range keys {
		retires := "-"
		if k.RetiresAt != nil {
			retires = k.RetiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", k.KID, k.State, k.ActivatesAt.Format(time.RFC3339), retires)
	}
	return 0
}

func keysUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: portico keys rotate --tenant SLUG")
	fmt.Fprintln(w, "       portico keys list --tenant SLUG")
	fmt.Fprintln(w, "\nrotate schedules a new launch-token signing key: published in the JWKS at once,")
	fmt.Fprintf(w, "signing after %s; the replaced key is accepted for %s more.\n", launch.PublishAhead, launch.RetireAfter)
	fmt.Fprintln(w, "list prints kid, state, activation and retirement of each key (tab-separated).")
}
