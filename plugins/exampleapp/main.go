// Command exampleapp is Portico's example iframe plugin as its own process:
// it reads its configuration from the environment (see app.ConfigFromEnv),
// serves until SIGINT or SIGTERM, then lets requests in flight finish.
//
//	EXAMPLEAPP_CLIENT_ID=pc_… EXAMPLEAPP_CLIENT_SECRET=pcs_… \
//	EXAMPLEAPP_PORTAL_ORIGIN=http://localhost:8080 go run ./plugins/exampleapp
//
// Register it in Portico as an iframe plugin with token authentication and
// the URL http://localhost:8090/launch (`make run` does all of this).
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

	"github.com/portico-dev/portico/plugins/exampleapp/app"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := app.ConfigFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "exampleapp:", err)
		os.Exit(2)
	}
	cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "exampleapp:", err)
		os.Exit(1)
	}
	srv := &http.Server{Addr: cfg.Addr, Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("exampleapp listening", "url", "http://"+cfg.Addr+"/launch", "portal", cfg.PortalOrigin)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("exampleapp failed", "err", err)
		os.Exit(1)
	}
	log.Info("exampleapp stopped")
}
