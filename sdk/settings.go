package sdk

import "github.com/portico-dev/portico/sdk/abi"

// SettingsPage describes a plugin's settings for the gestor: the
// configuration keys and secrets it reads (Fields, in the order the admin's
// form shows them) and what is wrong with the configuration it was called
// with (Problems). See abi.Settings.
type SettingsPage = abi.Settings

// Setting is one configuration key or secret: its key, type
// (abi.SettingText, SettingNumber, SettingBoolean or SettingSecret), label
// and help in the gestor's language, default and whether it is required.
type Setting = abi.Setting

// Problem is one thing wrong with the configuration, in the gestor's
// language, about one key ("" for the whole configuration).
type Problem = abi.Problem

// SettingsHandler answers a settings call (abi.KindSettings). It runs
// without grants: it reads c.Config and c.Locale, and must not call the
// network, the key-value store or secrets. Write labels, help and problems
// with c.Tr. A plugin whose render path checks its configuration should
// report the same problems from the same function, so the admin page and
// the customer's page agree.
type SettingsHandler func(c *Context) *SettingsPage

// Settings registers h as the mux's settings handler. The admin's plugin
// page then shows a labelled form for the declared keys instead of a bare
// key/value table, says which required ones are not set, and lists the
// plugin's problems with the configuration as the gestor saves it. A
// plugin without one still works; its configuration is edited as plain
// keys.
func (m *Mux) Settings(h SettingsHandler) {
	if h == nil {
		panic("sdk: nil settings handler")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settings != nil {
		panic("sdk: settings handler registered twice")
	}
	m.settings = h
}

// Settings registers h on DefaultMux.
func Settings(h SettingsHandler) { DefaultMux.Settings(h) }

// describe answers a settings call. A plugin without a settings handler
// declares no fields. The answer goes out as the handler made it: the
// host checks it with abi.CheckSettings and reports a refusal on the
// admin's page (malformed), and the test harness fails the test.
func (m *Mux) describe(c *Context) *abi.Output {
	m.mu.RLock()
	h := m.settings
	m.mu.RUnlock()
	s := &abi.Settings{}
	if h != nil {
		if got := h(c); got != nil {
			s = got
		}
	}
	if s.Fields == nil {
		s.Fields = []abi.Setting{}
	}
	return &abi.Output{Settings: s}
}
