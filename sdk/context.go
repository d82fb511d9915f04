package sdk

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/internal/bridge"
)

// User is the person a call is for; see abi.User. ID, Role, Locale and
// Tenant are always set, Name, Email, Document and Phone only when the
// plugin is granted them (empty otherwise).
type User = abi.User

// Roles a user may have.
const (
	RoleCliente = "cliente"
	RoleSindico = "sindico"
	RoleGestor  = "gestor"
)

// Context is one call's input and the host functions. It is valid only
// during the handler call that received it.
type Context struct {
	in   *abi.Input
	form url.Values
	t    bridge.Transport
	log  *Logger
}

func newContext(in *abi.Input, t bridge.Transport) *Context {
	form := url.Values{}
	for k, v := range in.Form {
		form[k] = v
	}
	c := &Context{in: in, form: form, t: t}
	c.log = &Logger{c: c}
	return c
}

// User returns the person the call is for.
func (c *Context) User() User { return c.in.User }

// Locale returns the user's language: "pt-BR", "es" or "en".
func (c *Context) Locale() string { return c.in.User.Locale }

// Tr returns the text for the user's language: ptBR for "pt-BR" (and any
// language Portico adds later), es for "es", en for "en".
func (c *Context) Tr(ptBR, es, en string) string {
	switch c.in.User.Locale {
	case "es":
		return es
	case "en":
		return en
	}
	return ptBR
}

// RoleName returns the user's role (User().Role) in their language, in
// the words the portal uses ("Cliente", "Síndico", "Gestor"; "Customer",
// "Building manager", "Manager" in English): show this, never the code.
func (c *Context) RoleName() string { return abi.RoleName(c.in.User.Role, c.in.User.Locale) }

// Plugin returns the slug and title of the plugin being called.
func (c *Context) Plugin() abi.PluginInfo { return c.in.Plugin }

// RequestID returns the host's identifier of this call, for log correlation.
func (c *Context) RequestID() string { return c.in.RequestID }

// IsAction reports whether the call is an action (a form button was
// pressed) rather than a render.
func (c *Context) IsAction() bool { return c.in.Kind == abi.KindAction }

// IsCard reports whether the call asks for the home card.
func (c *Context) IsCard() bool { return c.in.Kind == abi.KindCard }

// Action returns the name of the action being run, or "" for a render.
func (c *Context) Action() string { return c.in.Action }

// Config returns the configuration value for key, or "" when it is not set
// or the plugin lacks the "config" grant. Numbers and booleans are in their
// JSON spelling ("12", "true").
func (c *Context) Config(key string) string { return c.in.Config[key] }

// LookupConfig is Config that also reports whether key is set.
func (c *Context) LookupConfig(key string) (string, bool) {
	v, ok := c.in.Config[key]
	return v, ok
}

// ConfigInt returns the configuration value for key as an int, or def when
// it is absent or not an integer.
func (c *Context) ConfigInt(key string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(c.in.Config[key]))
	if err != nil {
		return def
	}
	return n
}

// ConfigBool returns the configuration value for key as a bool ("true",
// "1", "on", "yes" are true), or def when it is absent.
func (c *Context) ConfigBool(key string, def bool) bool {
	v, ok := c.in.Config[key]
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "on", "yes":
		return true
	}
	return false
}

// Form returns the submitted form values of an action (empty for a render).
// Every value is text as the browser sent it: treat it as hostile input.
func (c *Context) Form() url.Values { return c.form }

// FormValue returns the first value of the form field name, or "".
func (c *Context) FormValue(name string) string { return c.form.Get(name) }

// Checked reports whether the checkbox name was checked (submitted as "on").
func (c *Context) Checked(name string) bool { return c.form.Get(name) == "on" }

// FormInt returns the form field name as an int; ok is false when the field
// is empty or not an integer.
func (c *Context) FormInt(name string) (n int, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(c.form.Get(name)))
	return n, err == nil
}
