package abi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// KindSettings asks a plugin to describe its settings: the configuration
// keys and secrets it reads, labelled for the gestor's form in the
// caller's language (User.Locale), and what is wrong with the
// configuration in Input.Config. The call concerns no one's data: its
// User has the gestor role, the language and the tenant, and no ID or
// profile field. The admin's plugin page asks for them
// (docs/design-runtime.md, "Settings"); the call runs without grants, so
// the plugin cannot reach the network, its key-value store or its
// secrets while it answers. The answer is Output.Settings, checked with
// CheckSettings; an Output.Error (a plugin built before this kind
// existed answers "unknown kind") means the plugin describes nothing.
const KindSettings = "settings"

// Setting types. Text, number and boolean are configuration values (the
// host's configuration types "string", "number" and "boolean"); a secret
// is set on the plugin's secrets and never passes through Input.Config.
const (
	SettingText    = "text"
	SettingNumber  = "number"
	SettingBoolean = "boolean"
	SettingSecret  = "secret"
)

// Limits of a plugin's settings answer.
const (
	MaxSettings        = 100 // fields, as many as a plugin may hold configuration keys
	MaxSettingKey      = 64  // bytes of a key or secret name
	MaxSettingLabel    = 120 // characters of a field's label
	MaxSettingHelp     = 400 // characters of a field's help
	MaxSettingDefault  = 200 // characters of a field's default
	MaxSettingProblems = 100 // problems reported at once
	MaxProblemText     = 300 // characters of one problem
	// SettingsTimeoutMS bounds a settings call, below the plugin's own
	// timeout when that is longer: the call does no I/O, and an admin
	// page waits for it.
	SettingsTimeoutMS = 1000
)

// Settings describes a plugin's configuration for the gestor's form.
type Settings struct {
	// Fields lists what the plugin reads, in the order the form shows
	// them.
	Fields []Setting `json:"fields"`
	// Problems lists what is wrong with the configuration the call
	// carried, in the caller's language: the plugin's own checks (a
	// value out of range, a URL it cannot use). Missing required fields
	// are the host's to report (Missing), not the plugin's.
	Problems []Problem `json:"problems,omitempty"`
}

// Setting is one configuration key or secret a plugin reads.
type Setting struct {
	Key  string `json:"key"`
	Type string `json:"type"` // SettingText, SettingNumber, SettingBoolean or SettingSecret
	// Label names the field for the gestor; Help explains it (one
	// paragraph, no markup).
	Label string `json:"label"`
	Help  string `json:"help,omitempty"`
	// Default is the value the plugin uses when the key is not set; the
	// form shows it as a placeholder. It must parse as Type; a secret has
	// none.
	Default string `json:"default,omitempty"`
	// Required says the plugin cannot work while the key is not set
	// (and has no Default).
	Required bool `json:"required,omitempty"`
}

// Problem is one thing wrong with the configuration: the key it is about
// ("" for the configuration as a whole) and what is wrong, in words.
type Problem struct {
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

var settingKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidSettingKey reports whether s may be a configuration key or a secret
// name: a lower-case letter, then lower-case letters, digits and
// underscores, at most MaxSettingKey bytes. The host's configuration and
// secrets use the same rule.
func ValidSettingKey(s string) bool { return settingKeyRe.MatchString(s) }

// ConfigType returns the host's configuration type of a non-secret setting
// type ("string", "number" or "boolean"), and false for a secret or an
// unknown type.
func ConfigType(settingType string) (string, bool) {
	switch settingType {
	case SettingText:
		return "string", true
	case SettingNumber:
		return "number", true
	case SettingBoolean:
		return "boolean", true
	}
	return "", false
}

// CheckSettings checks a plugin's settings answer against the limits
// above: known types, keys that are valid and declared once, labels and
// help within their lengths and free of control characters, defaults that
// parse as their type, and problems about declared keys. The SDK checks
// its answer with it before returning it and the host checks what it
// receives, so a plugin's test fails where the admin page would.
func CheckSettings(s *Settings) error {
	if s == nil {
		return fmt.Errorf("settings: missing")
	}
	if len(s.Fields) > MaxSettings {
		return fmt.Errorf("settings: %d fields, at most %d", len(s.Fields), MaxSettings)
	}
	if len(s.Problems) > MaxSettingProblems {
		return fmt.Errorf("settings: %d problems, at most %d", len(s.Problems), MaxSettingProblems)
	}
	seen := make(map[string]bool, len(s.Fields))
	for i, f := range s.Fields {
		at := fmt.Sprintf("settings: fields[%d]", i)
		if !ValidSettingKey(f.Key) {
			return fmt.Errorf("%s: key %q is not lower-case letters, digits and underscores starting with a letter (at most %d)", at, f.Key, MaxSettingKey)
		}
		if seen[f.Key] {
			return fmt.Errorf("%s: key %q is declared twice", at, f.Key)
		}
		seen[f.Key] = true
		if err := settingText(f.Label, MaxSettingLabel, false); err != nil || f.Label == "" {
			if err == nil {
				err = fmt.Errorf("is empty")
			}
			return fmt.Errorf("%s (%s): label %w", at, f.Key, err)
		}
		if err := settingText(f.Help, MaxSettingHelp, false); err != nil {
			return fmt.Errorf("%s (%s): help %w", at, f.Key, err)
		}
		if err := settingText(f.Default, MaxSettingDefault, false); err != nil {
			return fmt.Errorf("%s (%s): default %w", at, f.Key, err)
		}
		switch f.Type {
		case SettingText:
		case SettingNumber:
			if f.Default != "" {
				if _, err := strconv.ParseFloat(f.Default, 64); err != nil {
					return fmt.Errorf("%s (%s): default %q is not a number", at, f.Key, f.Default)
				}
			}
		case SettingBoolean:
			if f.Default != "" {
				if _, err := strconv.ParseBool(f.Default); err != nil {
					return fmt.Errorf("%s (%s): default %q is not true or false", at, f.Key, f.Default)
				}
			}
		case SettingSecret:
			if f.Default != "" {
				return fmt.Errorf("%s (%s): a secret has no default", at, f.Key)
			}
		default:
			return fmt.Errorf("%s (%s): type %q is not one of text, number, boolean, secret", at, f.Key, f.Type)
		}
	}
	for i, p := range s.Problems {
		at := fmt.Sprintf("settings: problems[%d]", i)
		if p.Key != "" && !seen[p.Key] {
			return fmt.Errorf("%s: key %q is not a declared field", at, p.Key)
		}
		if err := settingText(p.Message, MaxProblemText, false); err != nil || p.Message == "" {
			if err == nil {
				err = fmt.Errorf("is empty")
			}
			return fmt.Errorf("%s: message %w", at, err)
		}
	}
	return nil
}

func settingText(s string, max int, multiline bool) error {
	if err := CheckText(s, multiline); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("has %d characters, at most %d", n, max)
	}
	return nil
}

// Missing returns the required fields of s that are not set: a
// configuration key absent from config or blank, a secret absent from
// secrets (the names of the plugin's stored secrets). A field with a
// Default is never missing. The host reports them beside the plugin's own
// Problems.
func Missing(s *Settings, config map[string]string, secrets map[string]bool) []Setting {
	var out []Setting
	for _, f := range s.Fields {
		if !f.Required || f.Default != "" {
			continue
		}
		if f.Type == SettingSecret {
			if !secrets[f.Key] {
				out = append(out, f)
			}
		} else if strings.TrimSpace(config[f.Key]) == "" {
			out = append(out, f)
		}
	}
	return out
}
