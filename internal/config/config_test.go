package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.DatabaseURL != "sqlite://data/portico.db" || c.DataDir != "./data" || c.Demo || c.LogFormat != "text" {
		t.Fatalf("defaults: %+v", c)
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
