package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.DatabaseURL != "sqlite://data/portico.db" || c.DataDir != "./data" || c.Demo || c.LogFormat != "text" ||
		c.PortalSessionRate != DefaultPortalSessionRate || c.MetricsAddr != "" || c.MetricsToken != "" || c.DrainDelay != DefaultDrainDelay ||
		c.WasmMemoryMB != 0 || c.WasmTenantShare != 0 || c.WasmCacheMB != 0 || c.MaxConnections != DefaultMaxConnections {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestWasmBudgets(t *testing.T) {
	c, err := Load(env(map[string]string{"PORTICO_WASM_MEMORY_MB": " 8192 ", "PORTICO_WASM_TENANT_SHARE": "100 %", "PORTICO_WASM_CACHE_MB": "10240"}))
	if err != nil || c.WasmMemoryMB != 8192 || c.WasmTenantShare != 100 || c.WasmCacheMB != 10240 {
		t.Fatalf("%d MiB, %d %%, cache %d MiB, %v", c.WasmMemoryMB, c.WasmTenantShare, c.WasmCacheMB, err)
	}
}

func TestMaxConnections(t *testing.T) {
	c, err := Load(env(map[string]string{"PORTICO_MAX_CONNECTIONS": " 500 "}))
	if err != nil || c.MaxConnections != 500 {
		t.Fatalf("%d, %v", c.MaxConnections, err)
	}
}

func TestDataDirMovesDefaultDatabase(t *testing.T) {
	c, err := Load(env(map[string]string{"PORTICO_DATA_DIR": "/var/lib/portico"}))
	if err != nil || c.DatabaseURL != "sqlite:///var/lib/portico/portico.db" {
		t.Fatalf("%+v, %v", c, err)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PORTICO_ADDR": "8080"}, "PORTICO_ADDR"},
		{map[string]string{"PORTICO_ADDR": "localhost:99999"}, "PORTICO_ADDR"},
		{map[string]string{"PORTICO_DATABASE_URL": "mysql://x"}, "PORTICO_DATABASE_URL"},
		{map[string]string{"PORTICO_DATABASE_URL": "sqlite://"}, "PORTICO_DATABASE_URL"},
		{map[string]string{"PORTICO_DEMO": "sim"}, "PORTICO_DEMO"},
		{map[string]string{"PORTICO_LOG_FORMAT": "xml"}, "PORTICO_LOG_FORMAT"},
		{map[string]string{"PORTICO_LOG_LEVEL": "loud"}, "PORTICO_LOG_LEVEL"},
		{map[string]string{"PORTICO_TRUSTED_PROXIES": "10.0.0.0/8, nope"}, "PORTICO_TRUSTED_PROXIES"},
		{map[string]string{"PORTICO_SECRET_KEY": "c2hvcnQ="}, "PORTICO_SECRET_KEY"},
		{map[string]string{"PORTICO_SECRET_KEY": "%%%"}, "PORTICO_SECRET_KEY"},
		{map[string]string{"PORTICO_PORTAL_SESSION_RATE": "0"}, "PORTICO_PORTAL_SESSION_RATE"},
		{map[string]string{"PORTICO_PORTAL_SESSION_RATE": "muitas"}, "PORTICO_PORTAL_SESSION_RATE"},
		{map[string]string{"PORTICO_WASM_MEMORY_MB": "256"}, "PORTICO_WASM_MEMORY_MB"},
		{map[string]string{"PORTICO_WASM_MEMORY_MB": "4G"}, "PORTICO_WASM_MEMORY_MB"},
		{map[string]string{"PORTICO_WASM_MEMORY_MB": "2097152"}, "PORTICO_WASM_MEMORY_MB"},
		{map[string]string{"PORTICO_WASM_CACHE_MB": "100"}, "PORTICO_WASM_CACHE_MB"},
		{map[string]string{"PORTICO_WASM_CACHE_MB": "2G"}, "PORTICO_WASM_CACHE_MB"},
		{map[string]string{"PORTICO_WASM_TENANT_SHARE": "0"}, "PORTICO_WASM_TENANT_SHARE"},
		{map[string]string{"PORTICO_MAX_CONNECTIONS": "0"}, "PORTICO_MAX_CONNECTIONS"},
		{map[string]string{"PORTICO_MAX_CONNECTIONS": "muitas"}, "PORTICO_MAX_CONNECTIONS"},
		{map[string]string{"PORTICO_WASM_TENANT_SHARE": "101"}, "PORTICO_WASM_TENANT_SHARE"},
		{map[string]string{"PORTICO_WASM_TENANT_SHARE": "metade"}, "PORTICO_WASM_TENANT_SHARE"},
		{map[string]string{"PORTICO_METRICS_ADDR": "9100"}, "PORTICO_METRICS_ADDR"},
		{map[string]string{"PORTICO_METRICS_ADDR": "127.0.0.1:99999"}, "PORTICO_METRICS_ADDR"},
		{map[string]string{"PORTICO_METRICS_ADDR": "localhost:8080"}, "PORTICO_METRICS_ADDR"},
		{map[string]string{"PORTICO_METRICS_TOKEN": "curto"}, "PORTICO_METRICS_TOKEN"},
		{map[string]string{"PORTICO_PPROF": "sim"}, "PORTICO_PPROF"},
		{map[string]string{"PORTICO_PPROF": "true"}, "PORTICO_PPROF"},                                                   // without PORTICO_METRICS_ADDR
		{map[string]string{"PORTICO_PPROF": "true", "PORTICO_METRICS_ADDR": "127.0.0.1:9100"}, "PORTICO_METRICS_TOKEN"}, // without a token
		{map[string]string{"PORTICO_DRAIN_DELAY": "-1s"}, "PORTICO_DRAIN_DELAY"},
		{map[string]string{"PORTICO_DRAIN_DELAY": "61"}, "PORTICO_DRAIN_DELAY"},
		{map[string]string{"PORTICO_DRAIN_DELAY": "cinco"}, "PORTICO_DRAIN_DELAY"},
		{map[string]string{"PORTICO_NODE_NAME": "web\x01"}, "PORTICO_NODE_NAME"},
		{map[string]string{"PORTICO_NODE_NAME": strings.Repeat("n", 65)}, "PORTICO_NODE_NAME"},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v does not name %s", tt.env, err, tt.want)
		}
	}
}

func TestPasswordNotPrinted(t *testing.T) {
	_, err := Load(env(map[string]string{"PORTICO_DATABASE_URL": "mysql://root:hunter2@db/x"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestValidValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORTICO_ADDR": ":9000", "PORTICO_DATABASE_URL": "postgres://u@db:5432/portico", "PORTICO_DEMO": "true",
		"PORTICO_LOG_FORMAT": "JSON", "PORTICO_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo || c.LogFormat != "json" || len(c.TrustedProxies) != 2 {
		t.Fatalf("%+v", c)
	}
	if d, _, _ := ParseDatabaseURL(c.DatabaseURL); d != DriverPostgres {
		t.Fatalf("driver %q", d)
	}
}

// TestPrivatePluginNetworks reads the operator's list of private addresses
// plugins may be allowed to reach: none by default, IPs and canonical CIDRs,
// and a refusal naming the variable for anything else.
func TestPrivatePluginNetworks(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || len(c.PrivatePluginNetworks) != 0 {
		t.Fatalf("default: %v %v, want none", c.PrivatePluginNetworks, err)
	}
	c, err = Load(env(map[string]string{"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS": " 127.0.0.1, ::1 ,10.20.0.0/16,fd00:1::/64"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.PrivatePluginNetworks); got != "[127.0.0.1/32 ::1/128 10.20.0.0/16 fd00:1::/64]" {
		t.Errorf("parsed %s", got)
	}
	for _, bad := range []string{
		"erp.internal", "10.20.0.1/16", "0.0.0.0/0", "::/0", "0.0.0.0", "255.255.255.255", "224.0.0.0/8",
		"fe80::1%eth0", "::ffff:127.0.0.1", "10.0.0.0/33", "10.0.0.1:8080", "127.0.0.1/8",
		"169.254.169.254", "169.254.0.0/16", "169.254.170.2", "fd00::/8", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200",
		"100.64.0.0/10", "alfa=169.254.169.254",
	} {
		_, err := Load(env(map[string]string{"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS": bad}))
		if err == nil || !strings.Contains(err.Error(), "PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS") {
			t.Errorf("%q: %v, want an error naming the variable", bad, err)
		}
	}
	if _, err := ParsePrivateNetworks(strings.Repeat("10.0.0.1,", MaxPrivateNetworks+1)); err == nil {
		t.Errorf("%d entries accepted", MaxPrivateNetworks+1)
	}

	// Entries of one tenant: its plugins get them besides everyone's; the
	// other tenants' plugins do not.
	c, err = Load(env(map[string]string{"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS": "127.0.0.1, alfa=10.1.0.0/16, beta = 10.2.0.5 ,alfa=fd00:a::/64"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		slug, want string
		available  bool
	}{
		{"alfa", "[10.1.0.0/16 fd00:a::/64]", true},
		{"beta", "[10.2.0.5/32]", true},
		{"gama", "[]", true}, // none of its own: everyone's entries only
	} {
		if got := fmt.Sprint(c.PluginNetworksFor(tt.slug)); got != tt.want || c.PrivateNetworkAvailable(tt.slug) != tt.available {
			t.Errorf("%s: %s, available %v; want %s", tt.slug, got, c.PrivateNetworkAvailable(tt.slug), tt.want)
		}
	}
	if got := fmt.Sprint(c.PrivatePluginNetworks); got != "[127.0.0.1/32]" {
		t.Errorf("everyone's entries: %s", got)
	}
	c, err = Load(env(map[string]string{"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS": "alfa=10.1.0.0/16"}))
	if err != nil || c.PrivateNetworkAvailable("beta") || !c.PrivateNetworkAvailable("alfa") || c.PluginNetworksFor("beta") != nil {
		t.Errorf("one tenant's entry: %v, beta available %v", err, c.PrivateNetworkAvailable("beta"))
	}
	for _, bad := range []string{"Alfa=10.0.0.1", "=10.0.0.1", "alfa=", "alfa=erp.local", "alfa=0.0.0.0/0", "a b=10.0.0.1", "alfa=10.0.0.1=x"} {
		if _, err := Load(env(map[string]string{"PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS": bad})); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParsePrivateNetworks("alfa=10.0.0.1"); err == nil {
		t.Error("--allow-private accepted a tenant's entry")
	}
}

func FuzzParsePrivateNetworks(f *testing.F) {
	for _, s := range []string{"", "127.0.0.1", "10.0.0.0/8, ::1", "0.0.0.0/0", "a,b", "fe80::1%x", "::ffff:1.2.3.4/128"} {
		f.Add(s)
	}
	f.Add("alfa=10.0.0.0/8, ::1")
	f.Add("a=b=c")
	f.Fuzz(func(t *testing.T, v string) {
		nets, byTenant, err := ParsePluginNetworks(v)
		if err != nil {
			return
		}
		all := slices.Clone(nets)
		for slug, ps := range byTenant {
			if !tenantSlug(slug) {
				t.Fatalf("accepted the slug %q from %q", slug, v)
			}
			all = append(all, ps...)
		}
		if len(all) > MaxPrivateNetworks {
			t.Fatalf("%d entries", len(all))
		}
		for _, p := range all {
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
				t.Fatalf("accepted %s from %q", p, v)
			}
			for _, n := range neverServers {
				if p.Overlaps(n) {
					t.Fatalf("accepted %s, which contains %s", p, n)
				}
			}
		}
	})
}

// TestSMTPURL: no mail by default; a good PORTICO_SMTP_URL is parsed; a
// bad one is refused naming the variable, without echoing the password.
func TestSMTPURL(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.SMTP != nil {
		t.Fatalf("default: %+v %v, want no SMTP", c.SMTP, err)
	}
	c, err = Load(env(map[string]string{"PORTICO_SMTP_URL": "smtp://u:segredo@mail.example.com?from=portal@example.com"}))
	if err != nil || c.SMTP == nil || c.SMTP.Host != "mail.example.com" || c.SMTP.Port != 587 {
		t.Fatalf("parsed %+v, %v", c.SMTP, err)
	}
	_, err = Load(env(map[string]string{"PORTICO_SMTP_URL": "smtp://u:segredo@mail.example.com?from=portal@example.com&tls=none"}))
	if err == nil || !strings.Contains(err.Error(), "PORTICO_SMTP_URL") || strings.Contains(err.Error(), "segredo") {
		t.Errorf("password in clear to a remote host: %v", err)
	}
}

// TestMetricsAndDrain reads the metrics listener, its token and the drain
// delay: good values are taken, bad ones refused naming the variable, and a
// bad token is never repeated in the message.
func TestMetricsAndDrain(t *testing.T) {
	token := strings.Repeat("ab12", 16)
	c, err := Load(env(map[string]string{"PORTICO_METRICS_ADDR": "127.0.0.1:9100", "PORTICO_METRICS_TOKEN": token, "PORTICO_DRAIN_DELAY": "1500ms", "PORTICO_PPROF": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "127.0.0.1:9100" || c.MetricsToken != token || c.DrainDelay != 1500*time.Millisecond || !c.Pprof {
		t.Fatalf("parsed %q %q %v pprof %v", c.MetricsAddr, c.MetricsToken, c.DrainDelay, c.Pprof)
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"0", 0}, {"7", 7 * time.Second}, {"0s", 0}, {"2m", -1}, {"60s", MaxDrainDelay}, {"1e3", -1}, {" 5 ", -1}} {
		d, err := ParseDrainDelay(tt.in)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("ParseDrainDelay(%q) = %v, want an error", tt.in, d)
			}
			continue
		}
		if err != nil || d != tt.want {
			t.Errorf("ParseDrainDelay(%q) = %v, %v; want %v", tt.in, d, err, tt.want)
		}
	}
	secret := strings.Repeat("s", MinMetricsToken-1)
	for _, bad := range []string{secret, secret + "\u00e7", secret + " x", strings.Repeat("x", MaxMetricsToken+1), secret + "\""} {
		_, err := Load(env(map[string]string{"PORTICO_METRICS_TOKEN": bad}))
		if err == nil || !strings.Contains(err.Error(), "PORTICO_METRICS_TOKEN") || strings.Contains(err.Error(), secret) {
			t.Errorf("token %q: %v, want an error naming the variable without the token", bad, err)
		}
	}
	if err := CheckMetricsToken("abcdefghijklmnopqrstuvwxyzABCDEF-._~+/=0123456789"); err != nil {
		t.Errorf("the bearer alphabet refused: %v", err)
	}
}

func FuzzParseDrainDelay(f *testing.F) {
	for _, s := range []string{"", "0", "5", "5s", "1500ms", "-1s", "61", "1h", "9223372036854775807", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := ParseDrainDelay(v)
		if err == nil && (d < 0 || d > MaxDrainDelay) {
			t.Fatalf("%q gave %v", v, d)
		}
	})
}

// TestREADMEListsEveryVariable: every PORTICO_* variable Load reads has a
// row in the README's table, so an operator finds each one in one place.
func TestREADMEListsEveryVariable(t *testing.T) {
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`getenv\("(PORTICO_[A-Z_]+)"\)`).FindAllStringSubmatch(string(src), -1)
	if len(vars) < 10 {
		t.Fatalf("found %d variables read in config.go", len(vars))
	}
	for _, v := range vars {
		if !strings.Contains(string(readme), "| `"+v[1]+"` |") {
			t.Errorf("README.md has no row for %s", v[1])
		}
	}
}
