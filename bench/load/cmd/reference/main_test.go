package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStaticJSON(t *testing.T) {
	for _, size := range []int{64, 100, 1000, BodySize, 4096} {
		b := staticJSON(size)
		if len(b) != size || !json.Valid(b) {
			t.Errorf("staticJSON(%d): %d bytes, valid %v: %s", size, len(b), json.Valid(b), b)
		}
	}
}

// TestServe runs the command and fetches the document over real HTTP.
func TestServe(t *testing.T) {
	if os.Getenv("REFERENCE_CHILD") == "1" {
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestServe$")
	cmd.Env = append(os.Environ(), "REFERENCE_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("the server did not stop on SIGTERM")
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the address: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url + "/any/path")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(body) != BodySize || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, %d bytes, type %q, err %v", res.StatusCode, len(body), res.Header.Get("Content-Type"), err)
	}
}
