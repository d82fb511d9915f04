package model

import (
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// ConfigType is the type of a plugin configuration value.
type ConfigType string

// Configuration value types.
const (
	ConfigString  ConfigType = "string"
	ConfigNumber  ConfigType = "number"
	ConfigBoolean ConfigType = "boolean"
)

// ConfigValue is one typed key/value of a plugin's configuration.
type ConfigValue struct {
	TenantID  string     `json:"-" gorm:"primaryKey"`
	PluginID  string     `json:"-" gorm:"primaryKey"`
	Key       string     `json:"key" gorm:"primaryKey"`
	Type      ConfigType `json:"type"`
	Value     string     `json:"value"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// TableName maps ConfigValue onto plugin_config.
func (ConfigValue) TableName() string { return "plugin_config" }

// Limits of plugin configuration and secrets.
const (
	MaxConfigKeys       = 100
	MaxConfigValueLen   = 4096
	MaxSecretValueLen   = 8192
	MaxSecretsPerPlugin = 50
)

// ValidKey reports whether s is a configuration key or secret name:
// lower-case letters, digits and underscores, starting with a letter, at
// most 64 characters. It is the rule a plugin's declared settings follow
// (abi.ValidSettingKey).
func ValidKey(s string) bool { return abi.ValidSettingKey(s) }

// Validate checks the key, the type and that the value parses as its type,
// and normalises numbers and booleans.
func (c *ConfigValue) Validate() error {
	v := &ValidationError{}
	if !ValidKey(c.Key) {
		v.Add("key", "invalid_key")
	}
	if len(c.Value) > MaxConfigValueLen {
		v.Add("value", "too_long")
	} else if CheckText(c.Value, true) != nil {
		v.Add("value", TextCodeInvalid)
	}
	switch c.Type {
	case ConfigString:
	case ConfigNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(c.Value), 64)
		if err != nil {
			v.Add("value", "not_a_number")
		} else {
			c.Value = strconv.FormatFloat(f, 'f', -1, 64)
		}
	case ConfigBoolean:
		b, err := strconv.ParseBool(strings.TrimSpace(c.Value))
		if err != nil {
			v.Add("value", "not_a_boolean")
		} else {
			c.Value = strconv.FormatBool(b)
		}
	default:
		v.Add("type", "invalid_choice")
	}
	return v.Err()
}

// SecretMeta describes a stored secret without its value.
type SecretMeta struct {
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}
