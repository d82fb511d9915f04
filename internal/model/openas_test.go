package model

import "testing"

func TestOpenAs(t *testing.T) {
	all := &User{Roles: Roles{RoleCliente, RoleSindico, RoleGestor}}
	cli := &User{Roles: Roles{RoleCliente}}
	gestor := &User{Roles: Roles{RoleGestor}}
	portal := func(v Visibility) *Plugin {
		return &Plugin{Active: true, ShowInPortal: true, VisibleTo: v}
	}
	panel := &Plugin{Active: true, ShowInManager: true, VisibleTo: VisibleSindico}
	both := &Plugin{Active: true, ShowInPortal: true, ShowInManager: true, VisibleTo: VisibleCliente}
	for _, tc := range []struct {
		name   string
		p      *Plugin
		u      *User
		active Role
		want   Role
	}{
		{"active role's menu", portal(VisibleAmbos), all, RoleSindico, RoleSindico},
		{"other portal role", portal(VisibleCliente), all, RoleSindico, RoleCliente},
		{"manager panel", panel, gestor, "", RoleGestor},
		{"panel before another portal role", both, all, RoleSindico, RoleGestor},
		{"active menu before the panel", both, all, RoleCliente, RoleCliente},
		{"not visible", portal(VisibleSindico), cli, RoleCliente, ""},
		{"inactive", &Plugin{ShowInPortal: true, VisibleTo: VisibleAmbos}, all, RoleCliente, ""},
		{"wasm without an active version", &Plugin{Type: PluginWasm, Active: true, ShowInPortal: true, ShowInManager: true, VisibleTo: VisibleAmbos}, all, RoleCliente, ""},
		{"wasm with an active version", &Plugin{Type: PluginWasm, ActiveVersion: "v1", Active: true, ShowInPortal: true, VisibleTo: VisibleAmbos}, all, RoleCliente, RoleCliente},
	} {
		if got := tc.p.OpenAs(tc.u, tc.active); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
