// Command loyalty is the loyalty-points app (docs/loyalty.md): its own
// process and database, the point-of-sale API under /api/, and the pages
// Portico frames as the "Pontos" iframe plugin. It reads its configuration
// from the environment (see app.ConfigFromEnv), serves until SIGINT or
// SIGTERM, then lets requests and running CSV imports finish.
//
//	LOYALTY_CLIENT_ID=pc_… LOYALTY_CLIENT_SECRET=pcs_… \
//	LOYALTY_PORTAL_ORIGIN=http://localhost:8080 go run ./plugins/loyalty
//
// Register it in Portico as an iframe plugin with token authentication,
// the URL http://localhost:8092/launch and "show in the manager panel"
// (`make run` does all of this).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-dev/portico/internal/sqldb"
	"github.com/portico-dev/portico/plugins/loyalty/app"
)

func main() {
	sqldb.RestrictFileModes() // its database and journals: the owner's only
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := app.ConfigFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loyalty:", err)
		os.Exit(2)
	}
	cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loyalty:", err)
		os.Exit(1)
	}
	jobs := make(chan struct{})
	go func() {
		defer close(jobs)
		a.RunJobs(ctx)
	}()
	srv := &http.Server{Addr: cfg.Addr, Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:  30 * time.Second, // the import route extends its own (web.UploadReadTimeout)
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			// An upload still streaming past the grace: cut it, so that no
			// handler is left using the store that closes below.
			log.Warn("loyalty shutdown: requests cut", "err", err)
			_ = srv.Close()
		}
		<-jobs
		// The imports get a grace of their own, not what the requests left.
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		if err := a.Close(cctx); err != nil {
			log.Error("loyalty shutdown", "err", err)
		}
	}()
	log.Info("loyalty listening", "url", "http://"+cfg.Addr+"/launch", "portal", cfg.PortalOrigin, "database", a.Store.Driver(), "demo", cfg.Demo)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("loyalty failed", "err", err)
		stop()
		<-done
		os.Exit(1)
	}
	<-done
	log.Info("loyalty stopped")
}
