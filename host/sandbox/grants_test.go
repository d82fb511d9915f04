package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/portico-dev/portico/sdk/abi"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestGrants checks that each host function works only with its grant and
// that the refusal names the missing grant.
func TestGrants(t *testing.T) {
	svc := newMemServices()
	svc.secrets[[3]string{"t1", "g", "token"}] = "s3cr3t"
	e := newEngine(t, Options{Services: svc})
	ops := []struct {
		grant string
		req   abi.HostRequest
	}{
		{GrantKV, abi.HostRequest{Op: abi.OpKVSet, Key: "k", Value: []byte("v")}},
		{GrantKV, abi.HostRequest{Op: abi.OpKVGet, Key: "k"}},
		{GrantKV, abi.HostRequest{Op: abi.OpKVDelete, Key: "k"}},
		{GrantSecrets, abi.HostRequest{Op: abi.OpSecretGet, Name: "token"}},
		{GrantLog, abi.HostRequest{Op: abi.OpLog, Message: "hello"}},
		{GrantHTTP, abi.HostRequest{Op: abi.OpHTTP, URL: "https://erp.invalid/"}},
	}
	none := testPlugin("t1", "g")
	all := none
	all.Grants = []string{GrantKV, GrantSecrets, GrantLog, GrantConfig}
	for _, op := range ops {
		r := hostReq(t, e, none, op.req)
		if r.Error == nil || r.Error.Code != abi.ErrGrantMissing || !strings.Contains(r.Error.Message, `"`+op.grant+`"`) {
			t.Errorf("%s without grant: %+v", op.req.Op, r.Error)
		}
		if op.grant == GrantHTTP {
			continue
		}
		if r := hostReq(t, e, all, op.req); r.Error != nil {
			t.Errorf("%s with grant: %+v", op.req.Op, r.Error)
		}
	}
	if r := hostReq(t, e, all, abi.HostRequest{Op: abi.OpSecretGet, Name: "token"}); string(r.Value) != "s3cr3t" || !r.Found {
		t.Errorf("secret: %+v", r)
	}
	if r := hostReq(t, e, all, abi.HostRequest{Op: abi.OpSecretGet, Name: "absent"}); r.Error == nil || r.Error.Code != abi.ErrNotFound {
		t.Errorf("absent secret: %+v", r)
	}
	if r := hostReq(t, e, all, abi.HostRequest{Op: "fs.read"}); r.Error == nil || r.Error.Code != abi.ErrInvalid {
		t.Errorf("unknown op: %+v", r)
	}

	// Config reaches the guest only with the config grant.
	for _, p := range []Plugin{none, all} {
		in := &abi.Input{Kind: abi.KindAction, Action: "echo", Config: map[string]string{"erp_url": "https://x"}}
		out, err := e.Call(context.Background(), p, loadGuest, in)
		if err != nil {
			t.Fatal(err)
		}
		var got abi.Input
		if err := json.Unmarshal([]byte(text(t, out)), &got); err != nil {
			t.Fatal(err)
		}
		if want := len(p.Grants) > 0; (got.Config != nil) != want || got.ABI != abi.Version {
			t.Errorf("grants %v: config %v, abi %d", p.Grants, got.Config, got.ABI)
		}
	}
}

// TestKV checks scoping by tenant and plugin and the key, value and quota
// limits.
func TestKV(t *testing.T) {
	svc := newMemServices()
	e := newEngine(t, Options{Services: svc})
	a := testPlugin("tenantA", "kv")
	a.Grants = []string{GrantKV}
	b := a
	b.TenantID = "tenantB"
	other := a
	other.PluginID = "kv2"
	if r := hostReq(t, e, a, abi.HostRequest{Op: abi.OpKVSet, Key: "saldo", Value: []byte("100")}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := hostReq(t, e, a, abi.HostRequest{Op: abi.OpKVGet, Key: "saldo"}); !r.Found || string(r.Value) != "100" {
		t.Fatalf("own value: %+v", r)
	}
	for _, p := range []Plugin{b, other} {
		if r := hostReq(t, e, p, abi.HostRequest{Op: abi.OpKVGet, Key: "saldo"}); r.Found || r.Error != nil {
			t.Errorf("%s/%s sees %+v", p.TenantID, p.PluginID, r)
		}
	}
	tests := []struct {
		name string
		req  abi.HostRequest
		code string
	}{
		{"key at limit", abi.HostRequest{Op: abi.OpKVSet, Key: strings.Repeat("k", MaxKVKey)}, ""},
		{"key above limit", abi.HostRequest{Op: abi.OpKVSet, Key: strings.Repeat("k", MaxKVKey+1)}, abi.ErrLimit},
		{"empty key", abi.HostRequest{Op: abi.OpKVGet}, abi.ErrInvalid},
		{"value at limit", abi.HostRequest{Op: abi.OpKVSet, Key: "big", Value: bytes.Repeat([]byte("v"), MaxKVValue)}, ""},
		{"value above limit", abi.HostRequest{Op: abi.OpKVSet, Key: "big", Value: bytes.Repeat([]byte("v"), MaxKVValue+1)}, abi.ErrLimit},
		{"quota", abi.HostRequest{Op: abi.OpKVSet, Key: "fourth"}, abi.ErrLimit},
		{"delete", abi.HostRequest{Op: abi.OpKVDelete, Key: "big"}, ""},
		{"after delete", abi.HostRequest{Op: abi.OpKVSet, Key: "fourth"}, ""},
	}
	for _, tt := range tests {
		r := hostReq(t, e, a, tt.req)
		if got := codeOf(r); got != tt.code {
			t.Errorf("%s: code %q, want %q (%+v)", tt.name, got, tt.code, r.Error)
		}
	}
	svc.fail = true
	if r := hostReq(t, e, a, abi.HostRequest{Op: abi.OpKVGet, Key: "x"}); codeOf(r) != abi.ErrUpstream || strings.Contains(r.Error.Message, "database") {
		t.Errorf("store failure: %+v", r.Error)
	}
}

func codeOf(r *abi.HostResponse) string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

// TestLog checks the log host function: lines reach the plugin's health and
// the host's log with the tenant and plugin, within the per-call limits.
func TestLog(t *testing.T) {
	var buf syncBuffer
	e := newEngine(t, Options{Log: slog.New(slog.NewTextHandler(&buf, nil))})
	p := testPlugin("t1", "logger")
	p.Grants = []string{GrantLog}
	p.Limits.MaxLogLines = 3
	p.Limits.MaxLogBytes = 60
	line := func(msg string, repeat string) string {
		b, _ := json.Marshal(abi.HostRequest{Op: abi.OpLog, Level: "warn", Message: msg, Attrs: map[string]string{"k": "v"}})
		out, err := call(e, p, "host", "req", string(b), "repeat", repeat)
		if err != nil {
			t.Fatal(err)
		}
		var r abi.HostResponse
		_ = json.Unmarshal([]byte(text(t, out)), &r)
		return codeOf(&r)
	}
	if c := line("boleto emitido", "3"); c != "" { // at the line limit
		t.Errorf("3 lines: %q", c)
	}
	if c := line("x", "4"); c != abi.ErrLimit { // above
		t.Errorf("4 lines: %q", c)
	}
	if c := line(strings.Repeat("b", 58), "1"); c != "" { // 58 + "k" + "v" = 60 bytes: at the limit
		t.Errorf("60 bytes: %q", c)
	}
	if c := line(strings.Repeat("b", 59), "1"); c != abi.ErrLimit {
		t.Errorf("61 bytes: %q", c)
	}
	h := e.Health("t1", "logger")
	if len(h.Logs) != 3+3+1 || h.Logs[len(h.Logs)-1].Message != "boleto emitido" || h.Logs[0].Level != "warn" {
		t.Errorf("health logs: %d %+v", len(h.Logs), h.Logs)
	}
	out := buf.String()
	for _, want := range []string{"tenant_id=t1", "plugin_id=logger", "boleto emitido", "attrs.k=v"} {
		if !strings.Contains(out, want) {
			t.Errorf("host log lacks %q:\n%s", want, out)
		}
	}
}
