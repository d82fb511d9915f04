// Command reference is the load script's limit for the portal's HTTP
// rows: a minimal Fiber v2 server that answers every GET with the same
// static 1 KB JSON document, so that a figure of Portico's is set against
// what Fiber itself does on the same core, with the same load generator,
// in the same run.
//
//	reference -addr 127.0.0.1:0
//
// It prints "listening http://ADDR" once it accepts connections and stops
// on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gofiber/fiber/v2"
)

// BodySize is the size of the static document, in bytes.
const BodySize = 1024

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (host:port; port 0 picks a free one)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	body := staticJSON(BodySize)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/*", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = app.Shutdown()
	}()
	fmt.Printf("listening http://%s\n", ln.Addr())
	if err := app.Listener(ln); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// staticJSON returns a JSON object of exactly size bytes (at least 64): a
// few menu-like entries, padded with a filler string.
func staticJSON(size int) []byte {
	type item struct {
		Slug  string `json:"slug"`
		Title string `json:"title"`
		URL   string `json:"url"`
	}
	doc := struct {
		Items []item `json:"items"`
		Pad   string `json:"pad"`
	}{}
	for _, s := range []string{"financeiro", "documentos", "chamados", "pontos", "exemplo", "ola"} {
		doc.Items = append(doc.Items, item{Slug: s, Title: strings.ToUpper(s[:1]) + s[1:], URL: "/p/" + s})
	}
	b, _ := json.Marshal(doc)
	for len(b) > size && len(doc.Items) > 0 {
		doc.Items = doc.Items[:len(doc.Items)-1]
		b, _ = json.Marshal(doc)
	}
	if n := size - len(b); n > 0 {
		doc.Pad = strings.Repeat("x", n)
		b, _ = json.Marshal(doc)
	}
	return b
}
