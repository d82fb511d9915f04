package model

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-dev/portico/sdk/abi"
)

// Role is what a user may do in a tenant's portal.
type Role string

// The roles a user can hold. One person may hold several.
const (
	RoleCliente Role = abi.RoleCliente // a buyer of a unit or a subscriber
	RoleSindico Role = abi.RoleSindico // a condominium manager
	RoleGestor  Role = abi.RoleGestor  // the company's staff
)

// AllRoles lists every role in display order.
var AllRoles = []Role{RoleCliente, RoleSindico, RoleGestor}

// ParseRole returns the role named s, accepting the accented "síndico".
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "cliente":
		return RoleCliente, nil
	case "sindico", "síndico":
		return RoleSindico, nil
	case "gestor":
		return RoleGestor, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

// IsPortalRole reports whether r browses the customer portal menu.
func (r Role) IsPortalRole() bool { return r == RoleCliente || r == RoleSindico }

// Roles is a set of roles stored as a comma-separated text column.
type Roles []Role

// Has reports whether r is in the set.
func (rs Roles) Has(r Role) bool { return slices.Contains(rs, r) }

// Normalize returns the set sorted in AllRoles order without duplicates.
func (rs Roles) Normalize() Roles {
	out := Roles{}
	for _, r := range AllRoles {
		if rs.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Value implements driver.Valuer.
func (rs Roles) Value() (driver.Value, error) {
	parts := make([]string, 0, len(rs))
	for _, r := range rs.Normalize() {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, ","), nil
}

// Scan implements sql.Scanner. Unknown role names are dropped rather than
// granted, so a corrupted column can only remove rights.
func (rs *Roles) Scan(src any) error {
	s, err := scanText(src)
	if err != nil {
		return fmt.Errorf("scan roles: %w", err)
	}
	out := Roles{}
	for _, part := range strings.Split(s, ",") {
		if r, err := ParseRole(part); err == nil {
			out = append(out, r)
		}
	}
	*rs = out.Normalize()
	return nil
}

// StringList is a list of strings stored as a JSON array in a text column.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		l = StringList{}
	}
	b, err := json.Marshal([]string(l))
	if err != nil {
		return nil, fmt.Errorf("encode string list: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	s, err := scanText(src)
	if err != nil {
		return fmt.Errorf("scan string list: %w", err)
	}
	if s == "" {
		*l = StringList{}
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return fmt.Errorf("scan string list: %w", err)
	}
	*l = out
	return nil
}

func scanText(src any) (string, error) {
	switch v := src.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("unsupported type %T", src)
}
