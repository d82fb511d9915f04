package service

import (
	"context"
	"strings"

	"github.com/portico-dev/portico/internal/model"
)

// TenantInput is a partial update of tenant settings.
type TenantInput struct {
	Name                 *string   `json:"name"`
	BrandName            *string   `json:"brand_name"`
	LogoURL              *string   `json:"logo_url"`
	PrimaryColor         *string   `json:"primary_color"`
	DefaultLocale        *string   `json:"default_locale"`
	AllowedOrigins       *[]string `json:"allowed_origins"`
	PortalSessionMinutes *int      `json:"portal_session_minutes"`
	PortalLinkMinutes    *int      `json:"portal_link_minutes"`
	PortalLinkEmailLogin *bool     `json:"portal_link_email_login"`
	DefaultReturnURL     *string   `json:"default_return_url"`
	TimeZone             *string   `json:"time_zone"`
	Version              *int64    `json:"version"`
}

// UpdateTenant applies a partial update of the tenant's settings.
func (s *Service) UpdateTenant(ctx context.Context, tenantID string, a model.Actor, in TenantInput) (*model.Tenant, error) {
	if in.Version == nil {
		return nil, ErrVersionNeeded
	}
	return s.store.UpdateTenant(ctx, tenantID, *in.Version, a, func(t *model.Tenant) error {
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = strings.TrimSpace(*src)
			}
		}
		set(&t.Name, in.Name)
		set(&t.BrandName, in.BrandName)
		set(&t.LogoURL, in.LogoURL)
		set(&t.PrimaryColor, in.PrimaryColor)
		set(&t.DefaultLocale, in.DefaultLocale)
		if in.AllowedOrigins != nil {
			t.AllowedOrigins = model.StringList(*in.AllowedOrigins)
		}
		if in.PortalSessionMinutes != nil {
			t.PortalSessionMinutes = *in.PortalSessionMinutes
		}
		if in.PortalLinkMinutes != nil {
			t.PortalLinkMinutes = *in.PortalLinkMinutes
		}
		if in.PortalLinkEmailLogin != nil {
			t.PortalLinkEmailLogin = *in.PortalLinkEmailLogin
		}
		set(&t.DefaultReturnURL, in.DefaultReturnURL)
		set(&t.TimeZone, in.TimeZone)
		// Hostnames are not editable here; keep them out of validation.
		hosts := t.Hostnames
		t.Hostnames = nil
		err := t.Validate(s.demo)
		t.Hostnames = hosts
		return refuseBlankDefaults(err, in)
	})
}

// refuseBlankDefaults adds to Validate's verdict the minutes the caller
// set to 0, and an empty time zone, colour or language. Validate reads 0
// and "" as "the default", which suits a tenant being created; in an
// update, they are values the gestor sent and are refused like any other
// (they would otherwise be stored as the default in silence: a company's
// colour or language changed by a blank field).
func refuseBlankDefaults(err error, in TenantInput) error {
	v, ok := model.AsValidation(err)
	if err != nil && !ok {
		return err
	}
	if v == nil {
		v = &model.ValidationError{}
	}
	for _, f := range []struct {
		value *int
		name  string
	}{{in.PortalSessionMinutes, "portal_session_minutes"}, {in.PortalLinkMinutes, "portal_link_minutes"}} {
		if f.value != nil && *f.value == 0 && !v.Has(f.name) {
			v.Add(f.name, "out_of_range")
		}
	}
	for _, f := range []struct {
		value      *string
		name, code string
	}{{in.TimeZone, "time_zone", "invalid_choice"}, {in.DefaultLocale, "default_locale", "invalid_choice"}, {in.PrimaryColor, "primary_color", "required"}} {
		if f.value != nil && strings.TrimSpace(*f.value) == "" && !v.Has(f.name) {
			v.Add(f.name, f.code)
		}
	}
	return v.Err()
}
