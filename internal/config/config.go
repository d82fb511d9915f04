// Package config reads Portico's configuration from environment variables
// once, at start-up, into a typed struct.
//
// Every variable is named PORTICO_*; README.md lists them. A bad value stops
// the start with an error that names the variable.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/portico-dev/portico/internal/mail"
	"github.com/portico-dev/portico/internal/secret"
)

// Config is the whole process configuration.
type Config struct {
	// Addr is the listen address (PORTICO_ADDR, default localhost:8080).
	Addr string
	// DatabaseURL selects the database (PORTICO_DATABASE_URL): sqlite://PATH
	// (default sqlite://data/portico.db) or postgres://….
	DatabaseURL string
	// DataDir holds the SQLite file and generated keys (PORTICO_DATA_DIR,
	// default ./data).
	DataDir string
	// Demo seeds the demo tenant into an empty database and allows http://
	// plugin URLs on localhost (PORTICO_DEMO, default false).
	Demo bool
	// LogFormat is text or json (PORTICO_LOG_FORMAT, default text).
	LogFormat string
	// LogLevel is debug, info, warn or error (PORTICO_LOG_LEVEL, default info).
	LogLevel string
	// TrustedProxies lists the IPs or CIDRs whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed (PORTICO_TRUSTED_PROXIES,
	// comma-separated, default none).
	TrustedProxies []string
	// PrivatePluginNetworks lists the private addresses a wasm plugin may
	// be allowed to reach (PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS: IPs or CIDRs,
	// comma-separated, default none). It is the operator's half of the
	// rule: a plugin reaches an address in this list only when a gestor has
	// also turned on the plugin's "allow private network" setting, and only
	// at an origin in the plugin's allowed hosts. Every other non-public
	// address stays refused.
	PrivatePluginNetworks []netip.Prefix
	// TenantPluginNetworks are the entries of the same variable written
	// "SLUG=IP-or-CIDR": private addresses only the plugins of the tenant
	// with that slug may be allowed, on an installation that serves
	// several companies whose ERPs must stay out of each other's reach.
	// See PluginNetworksFor.
	TenantPluginNetworks map[string][]netip.Prefix
	// SecretKey encrypts plugin secrets at rest (PORTICO_SECRET_KEY: 32
	// random bytes, base64). Required outside the demo; the demo generates
	// one into DataDir/secret.key once.
	SecretKey []byte
	// SMTP is where Portico sends its own mail (password reset links),
	// from PORTICO_SMTP_URL (see mail.ParseURL); nil sends none, and the
	// login page then offers no self-service reset.
	SMTP *mail.Config
	// PortalSessionRate bounds the portal sessions one API key may create
	// per minute, on each node (PORTICO_PORTAL_SESSION_RATE, default 600;
	// bursts of a sixth of it). Over it: 429 with Retry-After.
	PortalSessionRate int
	// MetricsAddr is a separate listen address (host:port) that serves
	// only GET /metrics (PORTICO_METRICS_ADDR, default none). With it, the
	// main address serves no metrics. docs/metrics.md explains the choice.
	MetricsAddr string
	// MetricsToken, when set, is required as "Authorization: Bearer …"
	// wherever /metrics is served (PORTICO_METRICS_TOKEN, default none;
	// MinMetricsToken to MaxMetricsToken characters of
	// [A-Za-z0-9-._~+/=]). Without MetricsAddr it turns /metrics on at the
	// main address; with neither, /metrics answers 404.
	MetricsToken string
	// Pprof serves Go's profiles (net/http/pprof) under /debug/pprof/ on
	// the metrics listener, behind the metrics token (PORTICO_PPROF,
	// default false). It needs PORTICO_METRICS_ADDR, so the profiles are
	// never served on the public address, and PORTICO_METRICS_TOKEN, so
	// they are never served to anyone who can reach the listener. A CPU profile
	// costs the process a few per cent while it runs; the load script
	// (bench/load, -profile) uses it.
	Pprof bool
	// DrainDelay is how long `serve`, told to stop, keeps serving while
	// /readyz answers 503 "draining", so that load balancers stop sending
	// traffic before the listener closes (PORTICO_DRAIN_DELAY, a duration
	// such as 5s or a number of seconds, 0 to MaxDrainDelay, default
	// DefaultDrainDelay).
	DrainDelay time.Duration
	// NodeName is how this process is named to gestores in the plugin
	// health page, beside its random ID (PORTICO_NODE_NAME, default none:
	// the ID alone, so that no machine name reaches a tenant unless the
	// operator chooses one; at most MaxNodeName printable characters).
	NodeName string
	// WasmMemoryMB bounds the sum of the memory limits of the live wasm
	// instances of this process, idle or running (PORTICO_WASM_MEMORY_MB,
	// MinWasmMemoryMB to MaxWasmMemoryMB; 0, the default, is the
	// runtime's: sandbox.DefaultMaxInstanceMemoryMB, 4096).
	WasmMemoryMB int
	// WasmTenantShare is the share, in per cent, of this process's wasm
	// execution slots and instance memory that one company's plugins may
	// hold (PORTICO_WASM_TENANT_SHARE, 1 to 100; 0, the default, is the
	// runtime's: sandbox.DefaultTenantSharePercent, 50). Below 100 no
	// company's plugins can take the whole runtime from the others; an
	// installation that serves one company sets 100.
	WasmTenantShare int
	// WasmCacheMB bounds the files of this node's wasm compilation cache
	// (PORTICO_WASM_CACHE_MB, MinWasmCacheMB to MaxWasmCacheMB; 0, the
	// default, is the runtime's: sandbox.DefaultCacheMaxBytes, 2 GiB).
	// Past it the least recently used files go until half is left; a node
	// whose published modules compile to more than half of it recompiles
	// some at every trim, so raise it for many large plugins.
	WasmCacheMB int
	// MaxConnections bounds the client connections this process holds
	// open at once, idle keep-alives included (PORTICO_MAX_CONNECTIONS,
	// MinMaxConnections to MaxMaxConnections, default
	// DefaultMaxConnections): an idle connection costs ~14 KiB, so without
	// a bound one client opening connections holds memory without end.
	// Past it a new connection is answered 503 and closed. Per-address
	// connection limits are the reverse proxy's (docs/operations.md).
	MaxConnections int
}

// Bounds of PORTICO_MAX_CONNECTIONS.
const (
	DefaultMaxConnections = 10_000
	MinMaxConnections     = 1
	MaxMaxConnections     = 1_000_000
)

// Bounds of PORTICO_WASM_MEMORY_MB.
const (
	MinWasmMemoryMB = 512 // two instances of the largest memory limit a gestor may set (256 MiB)
	MaxWasmMemoryMB = 1 << 20
)

// Bounds of PORTICO_WASM_CACHE_MB.
const (
	MinWasmCacheMB = 256 // a dozen compiled Go guests
	MaxWasmCacheMB = 1 << 20
)

// MaxNodeName bounds PORTICO_NODE_NAME.
const MaxNodeName = 64

// DefaultPortalSessionRate is PortalSessionRate's default.
const DefaultPortalSessionRate = 600

// Bounds of the metrics token and the drain delay.
const (
	MinMetricsToken   = 32
	MaxMetricsToken   = 512
	DefaultDrainDelay = 5 * time.Second
	MaxDrainDelay     = 60 * time.Second
)

// Getenv is the lookup Load uses; tests pass a map-backed one.
type Getenv func(string) string

// Load reads the configuration from getenv (os.Getenv when nil), applies
// defaults and validates it.
func Load(getenv Getenv) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{
		Addr:        orDefault(getenv("PORTICO_ADDR"), "localhost:8080"),
		DataDir:     orDefault(getenv("PORTICO_DATA_DIR"), "./data"),
		DatabaseURL: getenv("PORTICO_DATABASE_URL"),
		LogFormat:   strings.ToLower(orDefault(getenv("PORTICO_LOG_FORMAT"), "text")),
		LogLevel:    strings.ToLower(orDefault(getenv("PORTICO_LOG_LEVEL"), "info")),
	}
	var errs []error
	if v := strings.TrimSpace(getenv("PORTICO_DEMO")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_DEMO: %q is not a boolean (use true or false)", v))
		}
		c.Demo = b
	}
	if v := strings.TrimSpace(getenv("PORTICO_SECRET_KEY")); v != "" {
		k, err := secret.ParseKey(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_SECRET_KEY: %w (generate one with: openssl rand -base64 32)", err))
		}
		c.SecretKey = k
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.ToSlash(filepath.Join(c.DataDir, "portico.db"))
	}
	for _, p := range strings.Split(getenv("PORTICO_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	nets, byTenant, err := ParsePluginNetworks(getenv("PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS: %w", err))
	}
	c.PrivatePluginNetworks, c.TenantPluginNetworks = nets, byTenant
	c.PortalSessionRate = DefaultPortalSessionRate
	if v := strings.TrimSpace(getenv("PORTICO_PORTAL_SESSION_RATE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("PORTICO_PORTAL_SESSION_RATE: %q is not a number of sessions per minute from 1 to 1000000", v))
		} else {
			c.PortalSessionRate = n
		}
	}
	if v := strings.TrimSpace(getenv("PORTICO_WASM_MEMORY_MB")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinWasmMemoryMB || n > MaxWasmMemoryMB {
			errs = append(errs, fmt.Errorf("PORTICO_WASM_MEMORY_MB: %q is not a number of MiB from %d to %d", v, MinWasmMemoryMB, MaxWasmMemoryMB))
		} else {
			c.WasmMemoryMB = n
		}
	}
	if v := strings.TrimSpace(getenv("PORTICO_WASM_CACHE_MB")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinWasmCacheMB || n > MaxWasmCacheMB {
			errs = append(errs, fmt.Errorf("PORTICO_WASM_CACHE_MB: %q is not a number of MiB from %d to %d", v, MinWasmCacheMB, MaxWasmCacheMB))
		} else {
			c.WasmCacheMB = n
		}
	}
	if v := strings.TrimSpace(getenv("PORTICO_WASM_TENANT_SHARE")); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "%")))
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("PORTICO_WASM_TENANT_SHARE: %q is not a percentage from 1 to 100", v))
		} else {
			c.WasmTenantShare = n
		}
	}
	c.MaxConnections = DefaultMaxConnections
	if v := strings.TrimSpace(getenv("PORTICO_MAX_CONNECTIONS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinMaxConnections || n > MaxMaxConnections {
			errs = append(errs, fmt.Errorf("PORTICO_MAX_CONNECTIONS: %q is not a number of connections from %d to %d", v, MinMaxConnections, MaxMaxConnections))
		} else {
			c.MaxConnections = n
		}
	}
	c.MetricsAddr = strings.TrimSpace(getenv("PORTICO_METRICS_ADDR"))
	c.MetricsToken = strings.TrimSpace(getenv("PORTICO_METRICS_TOKEN"))
	if v := strings.TrimSpace(getenv("PORTICO_PPROF")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_PPROF: %q is not a boolean (use true or false)", v))
		}
		c.Pprof = b
	}
	c.NodeName = strings.TrimSpace(getenv("PORTICO_NODE_NAME"))
	c.DrainDelay = DefaultDrainDelay
	if v := strings.TrimSpace(getenv("PORTICO_DRAIN_DELAY")); v != "" {
		d, err := ParseDrainDelay(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_DRAIN_DELAY: %w", err))
		} else {
			c.DrainDelay = d
		}
	}
	if v := strings.TrimSpace(getenv("PORTICO_SMTP_URL")); v != "" {
		sc, err := mail.ParseURL(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_SMTP_URL: %w", err))
		}
		c.SMTP = sc
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// Validate checks every field and reports each bad one by its variable name.
func (c *Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("PORTICO_ADDR: %q is not host:port", c.Addr))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("PORTICO_ADDR: port %q is not a number from 0 to 65535", port))
	}
	if _, _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
		errs = append(errs, fmt.Errorf("PORTICO_DATABASE_URL: %w", err))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("PORTICO_DATA_DIR: must not be empty"))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("PORTICO_LOG_FORMAT: %q is neither text nor json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("PORTICO_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_TRUSTED_PROXIES: %q is neither an IP nor a CIDR", p))
		}
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_METRICS_ADDR: %q is not host:port (e.g. 127.0.0.1:9100)", c.MetricsAddr))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("PORTICO_METRICS_ADDR: port %q is not a number from 0 to 65535", port))
		} else if c.MetricsAddr == c.Addr && n != 0 {
			errs = append(errs, errors.New("PORTICO_METRICS_ADDR: must differ from PORTICO_ADDR (leave it unset to serve /metrics on the main address with PORTICO_METRICS_TOKEN)"))
		}
	}
	if c.Pprof && c.MetricsAddr == "" {
		errs = append(errs, errors.New("PORTICO_PPROF: needs PORTICO_METRICS_ADDR (the profiles are served only on the metrics listener, never on the public address)"))
	}
	if c.Pprof && c.MetricsToken == "" {
		errs = append(errs, errors.New("PORTICO_PPROF: needs PORTICO_METRICS_TOKEN (the profiles show the process's command line, goroutines and memory: never without a token)"))
	}
	if c.MetricsToken != "" {
		if err := CheckMetricsToken(c.MetricsToken); err != nil {
			errs = append(errs, fmt.Errorf("PORTICO_METRICS_TOKEN: %w", err))
		}
	}
	if len(c.NodeName) > MaxNodeName || strings.ContainsFunc(c.NodeName, func(r rune) bool { return !unicode.IsPrint(r) }) {
		errs = append(errs, fmt.Errorf("PORTICO_NODE_NAME: %q is not a name of at most %d printable characters", c.NodeName, MaxNodeName))
	}
	if c.DrainDelay < 0 || c.DrainDelay > MaxDrainDelay {
		errs = append(errs, fmt.Errorf("PORTICO_DRAIN_DELAY: %v is not from 0 to %v", c.DrainDelay, MaxDrainDelay))
	}
	return errors.Join(errs...)
}

// CheckMetricsToken checks a value of PORTICO_METRICS_TOKEN: MinMetricsToken
// to MaxMetricsToken characters of the bearer-token alphabet
// ([A-Za-z0-9-._~+/=]). The error never repeats the token.
func CheckMetricsToken(v string) error {
	if len(v) < MinMetricsToken || len(v) > MaxMetricsToken {
		return fmt.Errorf("has %d characters; use %d to %d (generate one with: openssl rand -hex 32)", len(v), MinMetricsToken, MaxMetricsToken)
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-._~+/=", b) >= 0) {
			return fmt.Errorf("character %d is not one of A-Z a-z 0-9 - . _ ~ + / = (generate one with: openssl rand -hex 32)", i+1)
		}
	}
	return nil
}

// ParseDrainDelay reads a value of PORTICO_DRAIN_DELAY: a Go duration
// ("5s", "1500ms", "0") or a whole number of seconds ("5"), from 0 to
// MaxDrainDelay.
func ParseDrainDelay(v string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > int(MaxDrainDelay/time.Second) {
			return 0, fmt.Errorf("%q is not from 0 to %v", v, MaxDrainDelay)
		}
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 5s or 500ms", v)
	}
	if d < 0 || d > MaxDrainDelay {
		return 0, fmt.Errorf("%q is not from 0 to %v", v, MaxDrainDelay)
	}
	return d, nil
}

// MaxPrivateNetworks bounds the entries of
// PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS (each outbound dial scans the list).
const MaxPrivateNetworks = 64

// neverServers are addresses no plugin may reach even when the operator
// lists a range that contains them (such a range is refused): the
// unspecified address (which connects to the local host), broadcast,
// multicast, and the cloud credential endpoints: IPv4 link-local as a
// whole (instance metadata at 169.254.169.254 on AWS, GCP, Azure and
// OpenStack; AWS ECS and EKS task credentials at 169.254.170.2 and .23; no
// ERP lives there), AWS's IPv6 ones (fd00:ec2::/32) and Alibaba Cloud's
// metadata (100.100.100.200).
var neverServers = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/32"), netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("224.0.0.0/4"), netip.MustParsePrefix("::/128"), netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00:ec2::/32"), netip.MustParsePrefix("100.100.100.200/32"),
}

// ParsePrivateNetworks reads a list of private addresses, as `portico
// plugin run --allow-private` takes it: comma-separated IP addresses or
// CIDR prefixes (an address is its own /32 or /128), e.g. "127.0.0.1/32,
// 10.20.0.0/16". Host names are not accepted: the rule is applied to the
// address dialled, after resolution. A prefix must be in its canonical form
// (no host bits set), carry no IPv6 zone and not contain the unspecified,
// broadcast, multicast or cloud credential addresses (neverServers). The
// empty string is the empty list.
func ParsePrivateNetworks(v string) ([]netip.Prefix, error) {
	all, byTenant, err := ParsePluginNetworks(v)
	if err == nil && len(byTenant) > 0 {
		err = errors.New(`"SLUG=" entries name a tenant, which this list has no use for`)
	}
	if err != nil {
		return nil, err
	}
	return all, nil
}

// ParsePluginNetworks reads PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS: the entries
// of ParsePrivateNetworks, each either for every tenant (all) or, written
// "SLUG=IP-or-CIDR", for the tenant with that slug only (byTenant, nil when
// there are none). At most MaxPrivateNetworks entries in all.
func ParsePluginNetworks(v string) (all []netip.Prefix, byTenant map[string][]netip.Prefix, err error) {
	var errs []error
	n := 0
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		slug, entry, scoped := strings.Cut(s, "=")
		if !scoped {
			entry = s
		} else if slug, entry = strings.TrimSpace(slug), strings.TrimSpace(entry); !tenantSlug(slug) {
			errs = append(errs, fmt.Errorf("%q does not start with a tenant's slug (lower-case letters, digits and hyphens) before =", s))
			continue
		}
		p, err := parsePrivatePrefix(entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
		if !scoped {
			all = append(all, p)
			continue
		}
		if byTenant == nil {
			byTenant = map[string][]netip.Prefix{}
		}
		byTenant[slug] = append(byTenant[slug], p)
	}
	if n > MaxPrivateNetworks {
		errs = append(errs, fmt.Errorf("%d entries exceed the limit of %d", n, MaxPrivateNetworks))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return all, byTenant, nil
}

// tenantSlug reports whether s has the shape of a tenant's slug
// (model.ValidSlug's: 1 to 48 lower-case letters, digits and hyphens).
func tenantSlug(s string) bool {
	if len(s) == 0 || len(s) > 48 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// parsePrivatePrefix reads one entry of ParsePrivateNetworks.
func parsePrivatePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("%q is neither an IP nor a CIDR (host names are not accepted)", s)
		}
		if p != p.Masked() {
			return p, fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("%q is neither an IP nor a CIDR (host names are not accepted)", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return p, fmt.Errorf("%q is an IPv4-mapped address; write the IPv4 address", s)
	}
	for _, n := range neverServers {
		if p.Overlaps(n) {
			return p, fmt.Errorf("%q contains %s, which no plugin may reach", s, n)
		}
	}
	return p, nil
}

// PluginNetworksFor returns the private addresses open to the plugins of
// the tenant with slug besides every tenant's (PrivatePluginNetworks, which
// the engine holds): the tenant's own entries, nil when it has none.
func (c *Config) PluginNetworksFor(slug string) []netip.Prefix {
	return c.TenantPluginNetworks[slug]
}

// PrivateNetworkAvailable reports whether any private address is open to
// the plugins of the tenant with slug (so that their "allow private
// network" setting has an effect).
func (c *Config) PrivateNetworkAvailable(slug string) bool {
	return len(c.PrivatePluginNetworks) > 0 || len(c.TenantPluginNetworks[slug]) > 0
}

// Database drivers understood by ParseDatabaseURL.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// ParseDatabaseURL splits a database URL into its driver and the DSN that
// driver takes: a file path for sqlite://, the URL itself for postgres://.
func ParseDatabaseURL(u string) (driver, dsn string, err error) {
	switch {
	case strings.HasPrefix(u, "sqlite://"):
		path := strings.TrimPrefix(u, "sqlite://")
		if path == "" {
			return "", "", errors.New("sqlite:// needs a file path, e.g. sqlite://data/portico.db")
		}
		if strings.ContainsAny(path, "?#") {
			return "", "", errors.New("sqlite:// takes a plain file path without options")
		}
		return DriverSQLite, path, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return DriverPostgres, u, nil
	}
	return "", "", fmt.Errorf("%q must start with sqlite:// or postgres://", redact(u))
}

// redact hides a password in a database URL before it is printed.
func redact(u string) string {
	if at := strings.LastIndexByte(u, '@'); at > 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "…" + u[at:]
		}
	}
	return u
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}
