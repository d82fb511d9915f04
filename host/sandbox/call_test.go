package sandbox

import (
	"testing"
)

func TestCallRender(t *testing.T) {
	e := newEngine(t, Options{})
	p := testPlugin("t1", "a")
	for i := range 3 {
		out, err := call(e, p, "render")
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if out.View == nil || len(out.View.Blocks) != 3 || len(out.View.Blocks[2].Rows) != 50 {
			t.Fatalf("call %d: unexpected view %+v", i, out.View)
		}
		if out.View.Title != "Plugin a" {
			t.Fatalf("title %q", out.View.Title)
		}
	}
	if h := e.Health("t1", "a"); h.Calls != 3 || h.Errors != 0 {
		t.Fatalf("health %+v", h)
	}
}
