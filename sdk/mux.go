package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/portico-dev/portico/sdk/abi"
	"github.com/portico-dev/portico/sdk/internal/bridge"
)

// A Handler answers one call: it returns the view to show, or an error whose
// text is shown to the user instead.
type Handler func(c *Context) (*View, error)

// Mux holds a plugin's handlers: one for render and one per action name.
// Most plugins use DefaultMux through the package-level Render and Action.
// A Mux is safe for concurrent use.
type Mux struct {
	mu       sync.RWMutex
	render   Handler
	card     Handler
	settings SettingsHandler
	actions  map[string]Handler
}

// DefaultMux is the Mux the wasm exports serve and sdktest uses by default.
var DefaultMux = NewMux()

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{actions: map[string]Handler{}} }

// Render registers the handler that draws the plugin's page. It panics if h
// is nil or a render handler is already registered.
func (m *Mux) Render(h Handler) {
	if h == nil {
		panic("sdk: nil render handler")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.render != nil {
		panic("sdk: render handler registered twice")
	}
	m.render = h
}

// Card registers the handler of the plugin's home card: a short view (at
// most abi.MaxCardBlocks text, alert or key-value blocks) the portal shows
// on the plugin's tile on the home page, when the gestor turned the card
// on. The portal waits for it only briefly and shows the tile without it
// when it is slow or fails, so a card does one quick thing. It panics if h
// is nil or a card handler is already registered.
func (m *Mux) Card(h Handler) {
	if h == nil {
		panic("sdk: nil card handler")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.card != nil {
		panic("sdk: card handler registered twice")
	}
	m.card = h
}

// MaxActionName is the longest action name Action accepts, in bytes.
const MaxActionName = 64

// Action registers the handler for the action called name, which form
// buttons name (see Form.Button). A name is an ASCII letter followed by up
// to 63 letters, digits, '_', '-' and '.'. It panics on a bad name, a nil handler or a name
// registered twice.
func (m *Mux) Action(name string, h Handler) {
	if !validActionName(name) {
		panic(fmt.Sprintf("sdk: invalid action name %q", name))
	}
	if h == nil {
		panic("sdk: nil handler for action " + name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.actions[name]; dup {
		panic("sdk: action " + name + " registered twice")
	}
	m.actions[name] = h
}

// Render registers the render handler on DefaultMux.
func Render(h Handler) { DefaultMux.Render(h) }

// Card registers the home card handler on DefaultMux.
func Card(h Handler) { DefaultMux.Card(h) }

// Action registers an action handler on DefaultMux.
func Action(name string, h Handler) { DefaultMux.Action(name, h) }

func validActionName(s string) bool {
	if s == "" || len(s) > MaxActionName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func (m *Mux) handler(in *abi.Input) (Handler, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	switch in.Kind {
	case abi.KindRender:
		if m.render == nil {
			// A plugin's bug, the same for every call: the call fails
			// (inside wasm the panic traps the instance), rather than
			// showing people a developer's message.
			panic(NoRenderHandler)
		}
		return m.render, nil
	case abi.KindAction:
		h, ok := m.actions[in.Action]
		if !ok {
			// Anyone can post any action name (a page left open across
			// an upgrade that renamed it, or a hand-made request): the
			// person is told politely, in their language, and the call
			// counts as an answer, not as the plugin's failure.
			return nil, errors.New(unknownAction(in.User.Locale))
		}
		return h, nil
	case abi.KindCard:
		if m.card == nil {
			return nil, fmt.Errorf("this plugin has no home card (no card handler)")
		}
		return m.card, nil
	}
	return nil, fmt.Errorf("unknown kind of call %q", in.Kind)
}

// NoRenderHandler is the panic of a render call to a plugin that
// registered no render handler: a call fails with it. Handlers are
// registered in an init function; a plugin's main never runs (the module
// is a reactor, built with -buildmode=c-shared).
const NoRenderHandler = "sdk: no render handler is registered: call sdk.Render (and sdk.Action, sdk.Card, sdk.Settings) in an init function; a plugin's main never runs"

// unknownAction is the answer to an action the plugin did not register,
// in the person's language.
func unknownAction(locale string) string {
	switch locale {
	case "es":
		return "Esta acción ya no está disponible. Recargue la página e inténtelo de nuevo."
	case "en":
		return "This action is no longer available. Reload the page and try again."
	}
	return "Esta ação não está mais disponível. Recarregue a página e tente de novo."
}

// DecodeInput parses the JSON input the host passed to portico_handle and
// checks its ABI version and kind. It is what the wasm export does before
// calling a handler.
func DecodeInput(data []byte) (*abi.Input, error) {
	var in abi.Input
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("decode input: %w", err)
	}
	if in.ABI != abi.Version {
		return nil, fmt.Errorf("decode input: ABI version %d, this SDK speaks %d", in.ABI, abi.Version)
	}
	switch in.Kind {
	case abi.KindRender, abi.KindCard, abi.KindSettings:
	case abi.KindAction:
		if in.Action == "" {
			return nil, fmt.Errorf("decode input: action call without an action name")
		}
	default:
		return nil, fmt.Errorf("decode input: unknown kind %q", in.Kind)
	}
	return &in, nil
}

// serve decodes input, runs the matching handler and encodes its output.
// Handler panics propagate: inside wasm they trap the instance, which the
// host reports as a failed call.
func (m *Mux) serve(input []byte, t bridge.Transport) []byte {
	out := m.run(input, t)
	b, err := json.Marshal(out)
	if err != nil { // only possible through a bug: every field is a plain type
		b, _ = json.Marshal(abi.Output{Error: "plugin output could not be encoded"})
	}
	return b
}

func (m *Mux) run(input []byte, t bridge.Transport) *abi.Output {
	in, err := DecodeInput(input)
	if err != nil {
		return &abi.Output{Error: err.Error()}
	}
	if in.Kind == abi.KindSettings {
		return m.describe(newContext(in, t))
	}
	h, err := m.handler(in)
	if err != nil {
		return &abi.Output{Error: err.Error()}
	}
	c := newContext(in, t)
	v, err := h(c)
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "the plugin failed"
		}
		return &abi.Output{Error: msg}
	}
	if v == nil {
		return &abi.Output{Error: "the plugin returned no view"}
	}
	av := v.view
	if av.Blocks == nil {
		av.Blocks = []abi.Block{}
	}
	return &abi.Output{View: &av}
}

func (m *Mux) actionNames() ([]string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.actions))
	for n := range m.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, m.render != nil
}

func init() {
	bridge.Serve = func(mux any, input []byte, t bridge.Transport) []byte {
		return mux.(*Mux).serve(input, t)
	}
	bridge.Actions = func(mux any) ([]string, bool) { return mux.(*Mux).actionNames() }
}
