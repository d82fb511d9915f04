package warm

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/portico-dev/portico/host/sandbox"
	"github.com/portico-dev/portico/internal/testguest"
)

// guests lists the guests the tests build through testguest, as paths
// from this directory.
var guests = []string{
	"../../../host/sandbox/testdata/guests/multi",
	"../../../host/sandbox/testdata/guests/heavy",
	"../../../host/cli/testdata/guest",
	"../../../plugins/hello",
	"../../../plugins/financeiro",
}

// TestWarm builds every guest and compiles it as calls run it
// (instrumented, globals exported) into testguest.WazeroDir. It only runs
// when PORTICO_TEST_WARM is set (make test sets it, without -race).
func TestWarm(t *testing.T) {
	if os.Getenv("PORTICO_TEST_WARM") == "" {
		t.Skip("set PORTICO_TEST_WARM=1 to warm the guest caches (make test does)")
	}
	ctx := context.Background()
	e, err := sandbox.New(ctx, sandbox.Options{CacheDir: testguest.WazeroDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	for _, g := range guests {
		wasm, err := testguest.Build(g)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Check(ctx, wasm); err != nil {
			t.Fatalf("check %s: %v", g, err)
		}
	}
	// host/cli's memory test runs its guest in a plain runtime.
	r, closeRuntime, err := testguest.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRuntime()
	wasm, err := testguest.Build("../../../host/cli/testdata/guest")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CompileModule(ctx, wasm); err != nil {
		t.Fatalf("compile the host/cli guest in a plain runtime: %v", err)
	}
	// admin's version guests: two of them are refused by Check after
	// compiling, as admin's tests expect.
	for _, name := range []string{"valid", "wrongabi", "noexports"} {
		wasm, err := testguest.Build("../../../admin/admintest/testdata/versions/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var me *sandbox.ModuleError
		if _, err := e.Check(ctx, wasm); err != nil && (!errors.As(err, &me) || me.Code == "compile" || me.Code == "compile_timeout") {
			t.Fatalf("compile admin guest %s: %v", name, err)
		}
	}
}
