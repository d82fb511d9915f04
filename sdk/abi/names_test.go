package abi

import "testing"

func TestRoleName(t *testing.T) {
	for _, tc := range []struct{ role, locale, want string }{
		{RoleCliente, "pt-BR", "Cliente"},
		{RoleSindico, "es", "Síndico"},
		{RoleCliente, "en", "Customer"},
		{RoleSindico, "en", "Building manager"},
		{RoleGestor, "en", "Manager"},
		{RoleGestor, "fr", "Gestor"}, // an unknown locale reads as the default
		{"visitante", "en", "visitante"},
	} {
		if got := RoleName(tc.role, tc.locale); got != tc.want {
			t.Errorf("RoleName(%q, %q) = %q, want %q", tc.role, tc.locale, got, tc.want)
		}
	}
	for _, r := range Roles {
		for _, l := range Locales {
			if RoleName(r, l) == r {
				t.Errorf("role %s has no name in %s", r, l)
			}
		}
	}
}
