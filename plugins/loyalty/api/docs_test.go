package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamples runs the curl examples of docs/loyalty-api.md, in
// order, against a real server and checks each answer's status, error
// code, balance and (for curl -i) headers against the answer the page
// shows after it. $CUSTOMER, $CODE and $NEXT are taken from the answers,
// as an integrator would.
func TestDocsExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	page, err := os.ReadFile("../../../docs/loyalty-api.md")
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	blocks := regexp.MustCompile("(?s)```(sh|http)\n(.*?)```").FindAllStringSubmatch(string(page), -1)
	e := start(t, "sqlite")
	env := map[string]string{"LOYALTY": e.srv.URL, "TOKEN": e.token}
	dir := t.TempDir()
	statusRe := regexp.MustCompile(`^HTTP/1\.1 (\d{3})`)
	codeRe := regexp.MustCompile(`"code":"([a-z_]+)"`)
	balanceRe := regexp.MustCompile(`"balance":(\d+)`)
	ran := 0
	for i, b := range blocks {
		if b[1] != "sh" || !strings.Contains(b[2], "curl ") {
			continue
		}
		if i+1 >= len(blocks) || blocks[i+1][1] != "http" {
			t.Fatalf("example %q has no answer after it", b[2])
		}
		want := blocks[i+1][2]
		m := statusRe.FindStringSubmatch(want)
		if m == nil {
			t.Fatalf("the answer after %q has no status line", b[2])
		}
		// The wrapper prints the status on a last line of its own.
		cmd := exec.Command("bash", "-c", `curl() { command curl -w '\n%{http_code}' "$@"; }; set -e; `+b[2])
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s\n%v: %s", b[2], err, out)
		}
		text := strings.TrimRight(string(out), "\n")
		cut := strings.LastIndexByte(text, '\n')
		status, body := text[cut+1:], text[:max(cut, 0)]
		ran++
		if status != m[1] {
			t.Errorf("%s\n→ %s %s; the page shows %s", b[2], status, body, m[1])
			continue
		}
		if w := codeRe.FindStringSubmatch(want); w != nil {
			if g := codeRe.FindStringSubmatch(body); g == nil || g[1] != w[1] {
				t.Errorf("%s\n→ %s; the page shows error %s", b[2], body, w[1])
			}
		}
		if w := balanceRe.FindStringSubmatch(want); w != nil {
			if g := balanceRe.FindStringSubmatch(body); g == nil || g[1] != w[1] {
				t.Errorf("%s\n→ %s; the page shows balance %s", b[2], body, w[1])
			}
		}
		if strings.Contains(b[2], " -i ") {
			for _, line := range strings.Split(want, "\n")[1:] {
				if strings.TrimSpace(line) == "" {
					break
				}
				if !strings.Contains(strings.ToLower(body), strings.ToLower(strings.TrimSpace(line))) {
					t.Errorf("%s\n→ no header %q in %s", b[2], line, body)
				}
			}
		}
		// The values later examples use.
		payload := body
		if i := strings.Index(payload, "\r\n\r\n"); i >= 0 {
			payload = payload[i+4:]
		}
		var c struct {
			Object, ID, Code string
			History          struct {
				NextBefore *string `json:"next_before"`
			}
		}
		if json.Unmarshal([]byte(payload), &c) == nil {
			if c.Object == "customer" && env["CUSTOMER"] == "" {
				env["CUSTOMER"], env["CODE"] = c.ID, c.Code
			}
			if c.History.NextBefore != nil && env["NEXT"] == "" {
				env["NEXT"] = *c.History.NextBefore
			}
		}
	}
	t.Logf("%d examples ran", ran)
	if ran < 10 {
		t.Errorf("only %d examples ran", ran)
	}
}
