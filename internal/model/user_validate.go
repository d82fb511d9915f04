package model

import (
	"strings"

	"github.com/portico-dev/portico/sdk/abi"
)

// MaxNameLength bounds a person's name.
const MaxNameLength = 120

// Validate normalises and checks a user's e-mail, name, document, phone,
// roles and locale. It returns a *ValidationError listing every failure.
func (u *User) Validate() error {
	v := &ValidationError{}
	if e, err := NormalizeEmail(u.Email); err != nil {
		v.Add("email", "invalid_email")
	} else {
		u.Email = e
	}
	u.Name = CheckField(v, "name", u.Name, MaxNameLength, true, false)
	if strings.TrimSpace(u.Document) != "" {
		if d, err := NormalizeDocument(u.Document); err != nil {
			v.Add("document", "invalid_document")
		} else {
			u.Document = d
		}
	} else {
		u.Document = ""
	}
	if strings.TrimSpace(u.Phone) != "" {
		if p, err := NormalizePhone(u.Phone); err != nil {
			v.Add("phone", "invalid_phone")
		} else {
			u.Phone = p
		}
	} else {
		u.Phone = ""
	}
	u.Roles = u.Roles.Normalize()
	if len(u.Roles) == 0 {
		v.Add("roles", "required")
	}
	if u.Locale != "" && !ValidLocale(u.Locale) {
		v.Add("locale", "invalid_choice")
	}
	return v.Err()
}

// Validate checks a tenant's slug, names, locale, colour and origins, and
// normalises its hostnames and origins.
func (t *Tenant) Validate(allowInsecureLocal bool) error {
	v := &ValidationError{}
	if !ValidSlug(t.Slug) {
		v.Add("slug", "invalid_slug")
	}
	t.Name = CheckField(v, "name", t.Name, MaxTenantNameLength, true, false)
	t.BrandName = CheckField(v, "brand_name", t.BrandName, MaxTenantNameLength, false, false)
	if t.BrandName == "" {
		t.BrandName = t.Name
	}
	if t.DefaultLocale == "" {
		t.DefaultLocale = SupportedLocales[0]
	}
	if !ValidLocale(t.DefaultLocale) {
		v.Add("default_locale", "invalid_choice")
	}
	if t.PrimaryColor == "" {
		t.PrimaryColor = "#1f5fa8"
	}
	if !ValidColor(t.PrimaryColor) {
		v.Add("primary_color", "invalid_color")
	}
	if t.PortalSessionMinutes == 0 {
		t.PortalSessionMinutes = DefaultPortalSessionMinutes
	}
	if t.PortalSessionMinutes < 5 || t.PortalSessionMinutes > 24*60 {
		v.Add("portal_session_minutes", "out_of_range")
	}
	if t.PortalLinkMinutes == 0 {
		t.PortalLinkMinutes = DefaultPortalLinkMinutes
	}
	if t.PortalLinkMinutes < MinPortalLinkMinutes || t.PortalLinkMinutes > MaxPortalLinkMinutes {
		v.Add("portal_link_minutes", "out_of_range")
	}
	if t.TimeZone == "" {
		t.TimeZone = DefaultTimeZone
	}
	if !ValidTimeZone(t.TimeZone) {
		v.Add("time_zone", "invalid_choice")
	}
	if len(t.LogoURL) > MaxURLLength {
		v.Add("logo_url", "too_long")
	} else if !ValidText(t.LogoURL, false) {
		v.Add("logo_url", "invalid_url")
	} else if t.LogoURL != "" && !strings.HasPrefix(t.LogoURL, "/") {
		if _, err := OriginOf(t.LogoURL, allowInsecureLocal); err != nil {
			v.Add("logo_url", "invalid_url")
		}
	} else if strings.HasPrefix(t.LogoURL, "//") {
		v.Add("logo_url", "invalid_url")
	}
	if len(t.AllowedOrigins) > MaxAllowedOrigins {
		v.Add("allowed_origins", "too_many")
	}
	hosts := make([]string, 0, len(t.Hostnames))
	for _, h := range t.Hostnames {
		n, ok := NormalizeHost(h)
		if !ok {
			v.Add("hostnames", "invalid_host")
			continue
		}
		hosts = append(hosts, n)
	}
	t.Hostnames = hosts
	origins := make(StringList, 0, len(t.AllowedOrigins))
	for _, o := range t.AllowedOrigins {
		n, err := NormalizeOrigin(o, allowInsecureLocal)
		if err != nil {
			v.Add("allowed_origins", OriginProblem(err))
			continue
		}
		origins = append(origins, n)
	}
	t.AllowedOrigins = origins
	t.DefaultReturnURL = strings.TrimSpace(t.DefaultReturnURL)
	if t.DefaultReturnURL != "" {
		if u, err := CheckReturnURL(t.DefaultReturnURL, t.AllowedOrigins, allowInsecureLocal); err != nil {
			v.Add("default_return_url", "invalid_return_url")
		} else {
			t.DefaultReturnURL = u
		}
	}
	return v.Err()
}

// Tenant setting bounds.
const (
	MaxTenantNameLength         = 120
	DefaultPortalSessionMinutes = 60
	MaxAllowedOrigins           = 20
)

// NormalizeHost lower-cases a Host header value and strips its port. It
// accepts DNS names and IP literals only (abi.NormalizeHost, the host rule
// of the origin rule).
func NormalizeHost(h string) (string, bool) { return abi.NormalizeHost(h) }
