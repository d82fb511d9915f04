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
	// SecretKey encrypts plugin secrets at rest (PORTICO_SECRET_KEY: 32
	// random bytes, base64). Required outside the demo; the demo generates
	// one into DataDir/secret.key once.
	SecretKey []byte
}

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
	return errors.Join(errs...)
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
