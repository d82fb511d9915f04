package model

import (
	"errors"
	"slices"
	"strings"

	"github.com/portico-dev/portico/sdk/abi"
)

// Field length limits for plugin registrations.
const (
	MaxPluginNameLength  = 80
	MaxPluginTitleLength = 40
	MaxURLLength         = 2048
)

// Wasm limits: defaults and the ceilings a gestor may set (the plugin
// contract's bounds, abi.*TimeoutMS and abi.*MemoryMB).
const (
	DefaultTimeoutMS = abi.DefaultTimeoutMS
	MinTimeoutMS     = abi.MinTimeoutMS
	MaxTimeoutMS     = abi.MaxTimeoutMS
	DefaultMemoryMB  = abi.DefaultMemoryMB
	MinMemoryMB      = abi.MinMemoryMB
	MaxMemoryMB      = abi.MaxMemoryMB
	MaxAllowedHosts  = abi.MaxAllowedHosts
)

// Launch token lifetimes: the default and the range a gestor may set.
const (
	DefaultTokenTTLSeconds = 60
	MinTokenTTLSeconds     = 10
	MaxTokenTTLSeconds     = 300
)

// reservedSlugs are path words of the admin UI and API (/admin/plugins/new,
// /api/v1/admin/plugins/order) that a plugin slug must not shadow.
var reservedSlugs = map[string]bool{"new": true, "order": true}

// PluginRules carries what validation needs from outside the model.
type PluginRules struct {
	// IconExists reports whether an icon name is in the shipped icon set.
	IconExists func(string) bool
	// AllowInsecureLocal permits http:// URLs on localhost (demo and dev).
	AllowInsecureLocal bool
}

// Validate checks every field of a plugin registration and normalises the
// ones with a canonical form (trimmed text, frame size). It returns a
// *ValidationError listing every field that failed.
func (p *Plugin) Validate(rules PluginRules) error {
	v := &ValidationError{}
	p.Slug = strings.TrimSpace(p.Slug)
	p.Name = CheckField(v, "name", p.Name, MaxPluginNameLength, true, false)
	p.Title = CheckField(v, "title", p.Title, MaxPluginTitleLength, true, false)
	p.Titles = checkTitles(v, p.Titles)
	p.URL = strings.TrimSpace(p.URL)
	if !ValidSlug(p.Slug) {
		v.Add("slug", "invalid_slug")
	} else if reservedSlugs[p.Slug] {
		v.Add("slug", "reserved_slug")
	}
	switch p.Type {
	case PluginIframe:
		if p.URL == "" {
			v.Add("url", "required")
		} else if len(p.URL) > MaxURLLength {
			v.Add("url", "too_long")
		} else if n, err := NormalizeURL(p.URL, rules.AllowInsecureLocal); err != nil {
			v.Add("url", "invalid_url")
		} else {
			p.URL = n
		}
	case PluginWasm:
		if p.URL != "" {
			v.Add("url", "not_allowed")
		}
	default:
		v.Add("type", "invalid_choice")
	}
	if rules.IconExists == nil || !rules.IconExists(p.Icon) {
		v.Add("icon", "invalid_choice")
	}
	switch p.VisibleTo {
	case VisibleCliente, VisibleSindico, VisibleAmbos:
	default:
		v.Add("visible_to", "invalid_choice")
	}
	switch p.AuthType {
	case AuthToken, AuthNone:
	default:
		v.Add("auth_type", "invalid_choice")
	}
	if w, h, err := ResolveSize(p.Size, p.Width, p.Height); err != nil {
		v.Add("size", "invalid_size")
	} else {
		p.Width, p.Height = w, h
	}
	if p.Position < 0 || p.Position > 1_000_000 {
		v.Add("position", "out_of_range")
	}
	if p.TimeoutMS == 0 {
		p.TimeoutMS = DefaultTimeoutMS
	}
	if p.TimeoutMS < MinTimeoutMS || p.TimeoutMS > MaxTimeoutMS {
		v.Add("timeout_ms", "out_of_range")
	}
	if p.MemoryMB == 0 {
		p.MemoryMB = DefaultMemoryMB
	}
	if p.MemoryMB < MinMemoryMB || p.MemoryMB > MaxMemoryMB {
		v.Add("memory_mb", "out_of_range")
	}
	// The plugin contract's rule, which the SDK's test harness applies too.
	hosts, problems := abi.CheckAllowedHosts(p.AllowedHosts, rules.AllowInsecureLocal)
	for _, err := range problems {
		if errors.Is(err, abi.ErrTooManyAllowedHosts) {
			v.Add("allowed_hosts", "too_many")
		} else {
			v.Add("allowed_hosts", OriginProblem(err))
		}
	}
	p.AllowedHosts = hosts
	if p.TokenTTLSeconds == 0 {
		p.TokenTTLSeconds = DefaultTokenTTLSeconds
	}
	if p.TokenTTLSeconds < MinTokenTTLSeconds || p.TokenTTLSeconds > MaxTokenTTLSeconds {
		v.Add("token_ttl_seconds", "out_of_range")
	}
	switch p.LaunchMethod {
	case "":
		p.LaunchMethod = LaunchPost
	case LaunchPost, LaunchGet:
	default:
		v.Add("launch_method", "invalid_choice")
	}
	if g, ok := cleanChoices(p.Grants, AllGrants); ok {
		p.Grants = g
	} else {
		v.Add("grants", "invalid_choice")
	}
	if f, ok := cleanChoices(p.UserFields, AllUserFields); ok {
		p.UserFields = f
	} else {
		v.Add("user_fields", "invalid_choice")
	}
	return v.Err()
}

// cleanChoices returns in's values in the order of all, without repeats, and
// false when in holds a value outside all.
func cleanChoices(in StringList, all []string) (StringList, bool) {
	out := make(StringList, 0, len(in))
	for _, c := range all {
		if slices.Contains(in, c) {
			out = append(out, c)
		}
	}
	for _, c := range in {
		if !slices.Contains(all, c) {
			return out, false
		}
	}
	return out, true
}

// OriginProblem is the validation code of an origin NormalizeOrigin
// refused: what is wrong with it, so the gestor knows what to change.
func OriginProblem(err error) string {
	switch {
	case errors.Is(err, abi.ErrOriginScheme):
		return "origin_not_https"
	case errors.Is(err, abi.ErrOriginNotBare):
		return "origin_not_bare"
	}
	return "invalid_origin"
}
