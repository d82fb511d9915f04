// Command fakeerp serves the fake ERP (package erp) for the finance
// plugin's demo: `make run` starts it on localhost:8091. It listens on
// loopback only, since its /_control/ endpoints have no authentication.
//
//	FAKEERP_ADDR       listen address (localhost:8091)
//	FAKEERP_SUBDOMAIN  first path segment of the API (exemplo)
//	FAKEERP_USER       API user (portico)
//	FAKEERP_PASSWORD   API password (erp-demo-senha)
//	FAKEERP_RATE       requests per minute and credential (600)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err := run(); err != nil {
		slog.Error("fakeerp", "err", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	addr := env("FAKEERP_ADDR", "localhost:8091")
	rate, err := strconv.Atoi(env("FAKEERP_RATE", strconv.Itoa(erp.DefaultRatePerMinute)))
	if err != nil || rate < 1 {
		return fmt.Errorf("FAKEERP_RATE must be a positive integer")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		ln.Close()
		return fmt.Errorf("FAKEERP_ADDR %s is not a loopback address: the control endpoints have no authentication", addr)
	}
	s := erp.New(erp.Config{Subdomain: env("FAKEERP_SUBDOMAIN", erp.DemoSubdomain), User: env("FAKEERP_USER", erp.DemoUser),
		Password: env("FAKEERP_PASSWORD", erp.DemoPassword), RatePerMinute: rate})
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	slog.Info("fake ERP listening", "url", "http://"+ln.Addr().String()+s.BasePath())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
