package app

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/plugins/launchkit"
)

// TestHomeShowsFields: a field the gestor did not grant, one granted but
// empty, and a CPF, each as a person reads it; the session's end in
// minutes, not a clock time in UTC.
func TestHomeShowsFields(t *testing.T) {
	pages, err := parsePages("http://portal.test")
	if err != nil {
		t.Fatal(err)
	}
	name, doc, phone := "Carla Cliente", "52998224725", ""
	s := &Session{ID: "s1", User: launchkit.User{Name: &name, Document: &doc, Phone: &phone, Role: "cliente", Locale: "pt-BR", Tenant: "demo"}}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "home.html", homePage{Lang: "pt-BR", S: s, Expires: time.Now().Add(30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"529.982.247-25", "não informado", "não liberado para este aplicativo", "termina em até 30 min"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(text, "UTC") {
		t.Error("the page gives a clock time in UTC")
	}
}
