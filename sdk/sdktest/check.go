package sdktest

import "github.com/portico-dev/portico/sdk/abi"

// CheckView lists the ways v breaks the rules Portico applies before it
// shows a view (nil when it breaks none). It is abi.CheckView, the host's
// own check, with the plugin's allowed hosts and, when actions is non-nil,
// buttons naming an action in actions; each problem is "path: reason".
// The limits are abi's (abi.MaxBlocks and the others).
func CheckView(v *abi.View, allowedHosts, actions []string) []string {
	return problems(abi.CheckView(v, abi.Policy{AllowedHosts: allowedHosts, Actions: actions}))
}

func problems(ps []*abi.ViewError) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path+": "+p.Reason)
	}
	return out
}
