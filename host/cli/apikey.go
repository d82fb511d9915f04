package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/portico-dev/portico/admin/service"
	"github.com/portico-dev/portico/internal/config"
	"github.com/portico-dev/portico/internal/model"
)

// apikeyMain runs `portico apikey create --tenant SLUG --name NAME --scopes
// admin,portal_sessions`: it creates a key and prints it alone on stdout
// (so scripts can capture it), with a note on stderr. Usage errors, an
// unknown tenant and a bad scope exit 2; a database failure exits 1.
func apikeyMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			apikeyUsage(stdout)
			return 0
		}
		apikeyUsage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("portico apikey create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "the tenant's slug (required)")
	name := fs.String("name", "", "a name that tells people what the key is for (required)")
	scopes := fs.String("scopes", "", "comma-separated scopes: "+scopeNames()+" (required)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portico apikey create: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case strings.TrimSpace(*tenant) == "":
		return fail("--tenant is required")
	case strings.TrimSpace(*name) == "":
		return fail("--name is required")
	}
	sc, err := model.ParseScopes(*scopes)
	if err != nil {
		return fail("--scopes: %v (known scopes: %s)", err, scopeNames())
	}
	cfg, err := config.Load(nil)
	if err != nil {
		fmt.Fprintf(stderr, "portico: %v\n", err)
		return 2
	}
	log := NewLogger(cfg, stderr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "portico apikey create: %v\n", err)
		return 1
	}
	defer store.Close()
	if err := store.Ready(ctx); err != nil {
		fmt.Fprintf(stderr, "portico apikey create: %v (run `portico migrate` first)\n", err)
		return 1
	}
	t, err := store.TenantBySlug(ctx, strings.TrimSpace(*tenant))
	if errors.Is(err, model.ErrNotFound) {
		return fail("no tenant with slug %q", strings.TrimSpace(*tenant))
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico apikey create: %v\n", err)
		return 1
	}
	// Keys are created through the admin service, like the admin's own, so
	// validation and audit are the same; it needs no secret box (keys are
	// hashed, not encrypted) and nothing of the HTTP edge.
	svc := service.New(service.Deps{Store: store, Log: log, Demo: cfg.Demo})
	k, key, err := svc.NewAPIKey(ctx, t.ID, *name, sc, model.SystemActor("portico apikey create"))
	if v, ok := model.AsValidation(err); ok {
		var parts []string
		for _, f := range v.Fields {
			parts = append(parts, "--"+f.Field+": "+strings.ReplaceAll(f.Code, "_", " "))
		}
		return fail("%s", strings.Join(parts, "; "))
	}
	if err != nil {
		fmt.Fprintf(stderr, "portico apikey create: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, key)
	fmt.Fprintf(stderr, "API key %q (%s…) created for tenant %s with scopes %s.\nStore it now: it is shown only this once.\n",
		k.Name, k.Prefix, t.Slug, strings.Join(k.Scopes, ","))
	return 0
}

func scopeNames() string {
	names := make([]string, len(model.AllScopes))
	for i, s := range model.AllScopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func apikeyUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: portico apikey create --tenant SLUG --name NAME --scopes "+strings.ReplaceAll(scopeNames(), ", ", ","))
	fmt.Fprintln(w, "\nprints the new key on stdout, once; only its hash is stored")
}
