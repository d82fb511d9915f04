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
		// Hostnames are not editable here; keep them out of validation.
		hosts := t.Hostnames
		t.Hostnames = nil
		err := t.Validate(s.demo)
		t.Hostnames = hosts
		return err
	})
}
