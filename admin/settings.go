package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/portico-dev/portico/host/runner"
	"github.com/portico-dev/portico/internal/clip"
	"github.com/portico-dev/portico/internal/model"
	"github.com/portico-dev/portico/internal/storage"
	"github.com/portico-dev/portico/sdk/abi"
)

// Settings is what the admin shows of a wasm plugin's declared settings
// (abi.KindSettings): the fields its active version describes, in the
// gestor's language, with what is wrong with the stored configuration.
// The admin page and the admin API both build it here.
type Settings struct {
	// Described is true when the active version answered a settings call;
	// false for a plugin without an active version, one built before
	// settings existed, or one whose call failed (Failed). (The admin API
	// answers 422 plugin_not_wasm for an iframe plugin.)
	Described bool `json:"described"`
	// Failed is true when the settings call failed: the plugin trapped,
	// timed out or answered something the host refuses. Reason is the
	// run failure's reason (runner.ReasonOf: timeout, trap, malformed…);
	// the server's log has the details. Settings calls count in no health
	// figure (sandbox.Plugin.Unrecorded).
	Failed bool   `json:"failed"`
	Reason string `json:"reason,omitempty"`
	// Detail is the failure's technical detail in English, for the
	// plugin's developer (what abi.CheckSettings refused, a panic's
	// message), at most maxSettingsDetail bytes.
	Detail string `json:"detail,omitempty"`
	// MissingGrants are the grants the declared fields need and the
	// plugin lacks: "config" for configuration keys (without it the
	// plugin receives none of them, and cannot check them either) and
	// "secrets" for secrets.
	MissingGrants []string `json:"missing_grants"`
	// Fields are the declared configuration keys and secrets, in the
	// plugin's order.
	Fields []abi.Setting `json:"fields"`
	// Missing are the keys of required fields that are not set.
	Missing []string `json:"missing"`
	// Problems are the plugin's own findings about the stored
	// configuration.
	Problems []abi.Problem `json:"problems"`
}

// Field returns the declared field key and whether there is one.
func (s *Settings) Field(key string) (abi.Setting, bool) {
	for _, f := range s.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return abi.Setting{}, false
}

// PluginSettings asks the active version of p for its settings, in
// locale, with config as the configuration to check and secrets as the
// stored secrets (nil: each read from the store; the admin page passes
// what it has already read), and checks the stored
// configuration and secrets against them. run may be nil (no wasm
// runtime): nothing is described. Only a database failure is an error; a
// failed plugin call is Settings.Failed.
func PluginSettings(ctx context.Context, run *runner.Runner, store *storage.Store, t *model.Tenant, locale string, p *model.Plugin, config map[string]string, secrets []model.SecretMeta) (*Settings, error) {
	out := &Settings{Fields: []abi.Setting{}, Missing: []string{}, Problems: []abi.Problem{}, MissingGrants: []string{}}
	if run == nil || p.Type != model.PluginWasm || p.ActiveVersion == "" {
		return out, nil
	}
	if config == nil {
		stored, err := store.PluginConfig(ctx, t.ID, p.ID)
		if err != nil {
			return nil, fmt.Errorf("plugin settings: %w", err)
		}
		config = make(map[string]string, len(stored))
		for _, v := range stored {
			config[v.Key] = v.Value
		}
	}
	s, err := run.Settings(ctx, t, locale, p, config)
	if err != nil {
		if runner.ReasonOf(err) == runner.ReasonUnavailable {
			return nil, fmt.Errorf("plugin settings: %w", err)
		}
		out.Failed, out.Reason = true, runner.ReasonOf(err)
		var re *runner.Error
		if errors.As(err, &re) {
			out.Detail = clip.Marked(re.Detail, maxSettingsDetail)
		}
		return out, nil
	}
	if s == nil {
		return out, nil
	}
	if secrets == nil {
		if secrets, err = store.Secrets(ctx, t.ID, p.ID); err != nil {
			return nil, fmt.Errorf("plugin settings: %w", err)
		}
	}
	set := make(map[string]bool, len(secrets))
	for _, m := range secrets {
		set[m.Name] = true
	}
	out.Described, out.Fields = true, s.Fields
	for _, f := range abi.Missing(s, config, set) {
		out.Missing = append(out.Missing, f.Key)
	}
	if s.Problems != nil {
		out.Problems = s.Problems
	}
	for _, f := range s.Fields {
		grant := model.GrantConfig
		if f.Type == abi.SettingSecret {
			grant = model.GrantSecrets
		}
		if !p.HasGrant(grant) && !slices.Contains(out.MissingGrants, grant) {
			out.MissingGrants = append(out.MissingGrants, grant)
		}
	}
	return out, nil
}

// maxSettingsDetail bounds Settings.Detail.
const maxSettingsDetail = 1000
