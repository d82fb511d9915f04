package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/plugins/fakeerp/erp"
)

// TestProcess builds the command and runs it as `make run` does: it serves
// the API on a loopback address, stops cleanly on SIGTERM, and refuses to
// listen on an address that is not loopback (its control endpoints have no
// authentication).
func TestProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fakeerp")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "FAKEERP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	req, _ := http.NewRequest("GET", "http://"+addr+"/"+erp.DemoSubdomain+"/public/api/v1/customers?cpf="+erp.DemoClienteCPF, nil)
	req.SetBasicAuth(erp.DemoUser, erp.DemoPassword)
	var res *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		if res, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fake ERP never answered: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("customers = %d, want 200", res.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fake ERP did not stop on SIGTERM")
	}

	refuse := exec.Command(bin)
	refuse.Env = append(os.Environ(), "FAKEERP_ADDR=0.0.0.0:0")
	out, err := refuse.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a loopback address") {
		t.Errorf("listening on 0.0.0.0: %v\n%s", err, out)
	}
}
