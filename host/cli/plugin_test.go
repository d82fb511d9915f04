package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/sdk/abi"
)

// pluginHome returns a new directory holding hello.wasm (plugins/hello)
// and guest.wasm (testdata/guest), built for wasip1 as plugins/Makefile
// does, and makes it the home and cache directory ($HOME,
// $XDG_CACHE_HOME) of the commands and servers the test runs, so they
// write nothing into the user's own. The guests are built, through
// internal/testguest's cache, before the environment moves: otherwise
// testguest would look for its caches in the empty new directory and
// rebuild and recompile every guest under -race (about 10 s each). The
// wazero caches of `portico plugin` (portico/wasm) and of a test server
// (portico/wasm-cache) are links to the one the tests share.
func pluginHome(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, pkg := range map[string]string{
		"hello": "github.com/portico-dev/portico/plugins/hello",
		"guest": "./testdata/guest",
	} {
		wasm, err := testguest.Build(pkg)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".wasm"), wasm, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	shared := testguest.WazeroDir()
	if err := os.MkdirAll(filepath.Join(dir, "cache", "portico"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wasm", "wasm-cache"} {
		if err := os.Symlink(shared, filepath.Join(dir, "cache", "portico", name)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", dir)
	return dir
}

// TestPlugin builds the guests once and runs `portico plugin` on them
// through the real runtime.
func TestPlugin(t *testing.T) {
	dir := pluginHome(t)
	t.Run("check", func(t *testing.T) { testPluginCheck(t, dir) })
	t.Run("run hello", func(t *testing.T) { testPluginRunHello(t, dir) })
	t.Run("run failures", func(t *testing.T) { testPluginRunFailures(t, dir) })
	t.Run("guest memory stays flat", func(t *testing.T) { testGuestMemoryFlat(t, dir) })
}

// testGuestMemoryFlat calls one instance (no snapshot restore, unlike
// host/sandbox) many times with 1 MiB of garbage per call: the SDK's export
// must let the Go collector run between calls. Without its
// runtime.Gosched() memory stayed at 8 MiB for ~450 calls, then grew by
// ~1 MiB per call (786 MiB after 1,200 calls; an out-of-memory abort near
// 4 GiB); with it, it stays near 10 MiB (6,000 calls measured).
func testGuestMemoryFlat(t *testing.T, dir string) {
	ctx := context.Background()
	wasm, err := os.ReadFile(filepath.Join(dir, "guest.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	// A plain runtime: host/sandbox would restore the memory snapshot
	// after each call and hide any growth. (Compiling the guest takes ~11 s
	// under -race on a loaded 2-core machine, hence the shared cache that
	// TestWarm fills; the calls take ~1.5 s.)
	r, closeRuntime, err := testguest.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRuntime()
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	_, err = r.NewHostModuleBuilder(abi.ImportModule).
		NewFunctionBuilder().WithFunc(func(context.Context, api.Module, uint32, uint32) int32 { return -1 }).Export(abi.ImportCall).
		NewFunctionBuilder().WithFunc(func(context.Context, api.Module, uint32) {}).Export(abi.ImportResult).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions(abi.ExportInitialize))
	if err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"abi":1,"kind":"render","config":{"mode":"alloc"},"user":{"id":"u","role":"cliente","locale":"en","tenant":"t"}}`)
	const calls, limit = 800, 64 << 20
	for i := range calls {
		res, err := mod.ExportedFunction(abi.ExportAlloc).Call(ctx, uint64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		ptr := uint32(res[0])
		mod.Memory().Write(ptr, in)
		res, err = mod.ExportedFunction(abi.ExportHandle).Call(ctx, uint64(ptr), uint64(len(in)))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		out, ok := mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
		if !ok || !bytes.HasPrefix(out, []byte(`{"view":`)) {
			t.Fatalf("call %d: output %q", i, out)
		}
	}
	t.Logf("linear memory after %d calls: %d MiB", calls, mod.Memory().Size()>>20)
	if size := mod.Memory().Size(); size > limit {
		t.Errorf("linear memory is %d MiB after %d calls of 1 MiB garbage each, want at most %d MiB", size>>20, calls, limit>>20)
	}
}

// runCLI runs the built command (buildBinary) with args, as a plugin
// author does, and returns its exit code and output. A separate process
// rather than cli.Main in the test: the command's work is wazero's
// decoding and Portico's checks of a 3 MB guest, ~6x slower in this
// race-instrumented binary (2 s a run against 0.3 s), while the code it
// runs is race-tested where it lives (host/sandbox, host/runner).
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(buildBinary(t), args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		code = exit.ExitCode()
	default:
		t.Fatalf("run portico %s: %v\n%s", strings.Join(args, " "), err, e.String())
	}
	return code, o.String(), e.String()
}

func testPluginCheck(t *testing.T, dir string) {
	hello := filepath.Join(dir, "hello.wasm")
	notWasm := filepath.Join(t.TempDir(), "x.wasm")
	if err := os.WriteFile(notWasm, []byte("not a wasm module"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.wasm")
	if err := os.WriteFile(big, make([]byte, 16<<20+100), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"hello", []string{"check", hello}, 0, "ABI version  1", ""},
		{"flag after file", []string{"check", hello, "--json"}, 0, `"abi_version": 1`, ""},
		{"imports listed", []string{"check", hello}, 0, "portico.host_call", ""},
		{"not wasm", []string{"check", notWasm}, 1, "", "refused (not_wasm)"},
		{"not wasm, json", []string{"check", "--json", notWasm}, 1, `"ok": false,`, ""},
		{"not wasm, json code", []string{"check", "--json", notWasm}, 1, `"code": "not_wasm"`, ""},
		{"too large", []string{"check", big}, 1, "", "refused (too_large): the module has 16.0 MiB (16777316 bytes); the limit is 16 MiB"},
		{"too large, json", []string{"check", "--json", big}, 1, `"message": "the module has 16.0 MiB (16777316 bytes); the limit is 16 MiB"`, ""},
		{"missing file", []string{"check", filepath.Join(dir, "nope.wasm")}, 2, "", "no such file"},
		{"no file", []string{"check"}, 2, "", "want exactly one FILE.wasm"},
		{"two files", []string{"check", hello, hello}, 2, "", "want exactly one FILE.wasm"},
		{"unknown flag", []string{"check", "--nope", hello}, 2, "", "flag provided but not defined"},
		{"unknown subcommand", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"no subcommand", nil, 2, "", "usage:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"plugin"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
		})
	}
	// Go's wasip1 guests import fd_write twice; the listing names it once.
	if _, out, _ := runCLI(t, "plugin", "check", hello); strings.Count(out, "wasi_snapshot_preview1.fd_write") != 1 {
		t.Errorf("fd_write is not listed exactly once among the imports:\n%s", out)
	}
}

func testPluginRunHello(t *testing.T, dir string) {
	hello := filepath.Join(dir, "hello.wasm")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"render", []string{"--name", "Ana", "--locale", "en"}, 0,
			[]string{"# Hello, Ana!", "This is your visit #1.", "Role     | Customer", "[copy] Your greeting, to copy: Hello, Ana!", "[button] Send -> greet"}, []string{"local-user"}},
		{"kv preloaded", []string{"--kv", "visits:local-user=41"}, 0, []string{"visita nº 42."}, nil},
		{"no grants", []string{"--grants", "", "--config", "greeting=Oi"}, 0,
			[]string{"# Olá!", "[info] Sem acesso ao armazenamento"}, []string{"Oi"}},
		{"config", []string{"--config", "greeting=Bem-vindo", "--as", "gestor"}, 0, []string{"# Bem-vindo!", "Perfil  | Gestor"}, nil},
		{"action round trip", []string{"--action", "greet", "--form", "name=Zé", "--form", "color=orange", "--form", "news=on", "--locale", "es"}, 0,
			[]string{"[success] Hola, Zé!", "Color preferido: Naranja", "Novedades: Sí", `name (text, required) "Nombre" = "Zé"`}, nil},
		{"action bad input", []string{"--action", "greet", "--form", "color=red"}, 0, []string{"[error] Informe o seu nome."}, nil},
		{"unknown action", []string{"--action", "nope"}, 3, []string{`error shown to the user: Esta ação não está mais disponível`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"plugin", "run", hello}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", w, out, errOut)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("stdout has %q:\n%s", n, out)
				}
			}
		})
	}
	t.Run("json is the output", func(t *testing.T) {
		_, out, _ := runCLI(t, "plugin", "run", hello, "--json", "--action", "greet", "--form", "name=A", "--form", "color=blue")
		var o abi.Output
		if err := json.Unmarshal([]byte(out), &o); err != nil || o.View == nil || o.View.Blocks[0].Tone != abi.ToneSuccess {
			t.Errorf("output %s: %v", out, err)
		}
	})
	t.Run("settings", func(t *testing.T) {
		code, out, errOut := runCLI(t, "plugin", "run", hello, "--settings", "--locale", "en")
		if code != 0 || !strings.Contains(out, "greeting (text, default Hello): Greeting") || strings.Contains(out, "problem:") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		code, out, _ = runCLI(t, "plugin", "run", hello, "--settings", "--config", "greeting=Olá\nde novo", "--json")
		var got struct {
			Fields   []abi.Setting `json:"fields"`
			Problems []abi.Problem `json:"problems"`
		}
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got.Fields) != 1 ||
			len(got.Problems) != 1 || got.Problems[0].Key != "greeting" {
			t.Errorf("exit %d, %v:\n%s", code, err, out)
		}
	})
	t.Run("plugin log goes to stderr", func(t *testing.T) {
		_, _, errOut := runCLI(t, "plugin", "run", hello, "--action", "greet", "--form", "name=A", "--form", "color=blue")
		if !strings.Contains(errOut, `plugin log info: greeted color="blue"`) {
			t.Errorf("stderr:\n%s", errOut)
		}
	})
}

func testPluginRunFailures(t *testing.T, dir string) {
	guest := filepath.Join(dir, "guest.wasm")
	t.Setenv("PORTICO_TEST_ERP_TOKEN", "abc")
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "from erp") }))
	defer erp.Close()
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"ok", nil, 0, "ok", ""},
		// --timeout also bounds the module's initialisation, which took
		// more than 300 ms once under -race on CI's busy cores: 1.5 s
		// leaves it room and still ends the loop soon.
		{"timeout", []string{"--config", "mode=loop", "--timeout", "1500ms"}, 1, "", "the call failed (timeout): did not finish within 1.5s"},
		{"trap", []string{"--config", "mode=panic"}, 1, "", "the call failed (trap)"},
		{"polite error", []string{"--config", "mode=error"}, 3, "error shown to the user: polite failure", ""},
		{"error log line", []string{"--config", "mode=logerror"}, 0, "logged", `plugin log error: erp down attempt="1"`},
		{"http to a local ERP without --allow-private", []string{"--config", "mode=http", "--config", "url=" + erp.URL + "/x", "--allow-host", erp.URL}, 3, "not_allowed", ""},
		{"http to a local ERP with --allow-private", []string{"--config", "mode=http", "--config", "url=" + erp.URL + "/x", "--allow-host", erp.URL, "--allow-private", "127.0.0.1"}, 0, "from erp", ""},
		{"http to a local ERP outside --allow-private", []string{"--config", "mode=http", "--config", "url=" + erp.URL + "/x", "--allow-host", erp.URL, "--allow-private", "10.0.0.0/8"}, 3, "not_allowed", ""},
		{"bad --allow-private", []string{"--allow-private", "erp.local"}, 2, "", "--allow-private"},
		{"--allow-private with everything", []string{"--allow-private", "0.0.0.0/0"}, 2, "", "--allow-private"},
		{"http not allowed", []string{"--config", "mode=http", "--config", "url=" + erp.URL + "/x"}, 3, "not_allowed", ""},
		{"secret", []string{"--config", "mode=secret", "--secret", "token=abc"}, 0, "len ***", ""},
		{"secret missing", []string{"--config", "mode=secret"}, 3, "not_found", ""},
		{"secret from the environment", []string{"--config", "mode=secret", "--secret-env", "token=PORTICO_TEST_ERP_TOKEN"}, 0, "len ***", ""},
		{"secret from an unset variable", []string{"--config", "mode=secret", "--secret-env", "token=PORTICO_TEST_UNSET"}, 2, "", "PORTICO_TEST_UNSET is not set"},
		{"bad role", []string{"--as", "admin"}, 2, "", `--as "admin"`},
		{"bad locale", []string{"--locale", "fr"}, 2, "", `--locale "fr"`},
		{"bad grant", []string{"--grants", "kv,root"}, 2, "", `unknown grant "root"`},
		{"bad origin", []string{"--allow-host", "erp.example.com"}, 2, "", "--allow-host"},
		{"origin with path", []string{"--allow-host", "https://erp.example.com/api"}, 2, "", "--allow-host"},
		{"bad pair", []string{"--config", "novalue"}, 2, "", "want KEY=VALUE"},
		{"form without action", []string{"--form", "a=b"}, 2, "", "--form needs --action"},
		{"home card", []string{"--card"}, 0, "card ok", ""},
		{"home card of a page's size", []string{"--card", "--config", "mode=bigcard"}, 1, "", "a card has at most 3"},
		{"card and action", []string{"--card", "--action", "x"}, 2, "", "--card and --action exclude each other"},
		{"settings of a plugin without a settings handler", []string{"--settings"}, 0, "no settings declared", ""},
		{"settings and card", []string{"--settings", "--card"}, 2, "", "--settings excludes --card and --action"},
		{"timeout too long", []string{"--timeout", "1h"}, 2, "", "--timeout"},
		{"memory too large", []string{"--memory", "100000"}, 2, "", "--memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"plugin", "run", guest}, tc.args...)...)
			if tc.name == "error log line" && strings.Count(errOut, "erp down") != 1 {
				t.Errorf("the plugin's log line is printed %d times, want once:\n%s", strings.Count(errOut, "erp down"), errOut)
			}
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
		})
	}
}

// hostileModule hand-assembles a module with every export of the plugin ABI
// whose _initialize runs init (ending with 0x0b); with start, _initialize
// is also the module's start function.
func hostileModule(init []byte, start bool) []byte {
	uleb := func(b []byte, n int) []byte {
		for {
			c := byte(n & 0x7f)
			if n >>= 7; n == 0 {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	sec := func(m []byte, id byte, payload []byte) []byte {
		return append(uleb(append(m, id), len(payload)), payload...)
	}
	name := func(b []byte, s string) []byte { return append(uleb(b, len(s)), s...) }
	exports := []byte{5}
	for i, n := range []string{abi.ExportInitialize, abi.ExportVersion, abi.ExportAlloc, abi.ExportHandle} {
		exports = append(name(exports, n), 0x00, byte(i))
	}
	exports = append(name(exports, "memory"), 0x02, 0x00)
	code := []byte{4}
	for _, b := range [][]byte{append([]byte{0x00}, init...), {0x00, 0x41, 0x01, 0x0b}, {0x00, 0x41, 0x00, 0x0b}, {0x00, 0x42, 0x00, 0x0b}} {
		code = append(uleb(code, len(b)), b...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = sec(m, 1, []byte{4, 0x60, 0, 0, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e})
	m = sec(m, 3, []byte{4, 0, 1, 2, 3})
	m = sec(m, 5, []byte{1, 0, 1})
	m = sec(m, 7, exports)
	if start {
		m = sec(m, 8, []byte{0})
	}
	return sec(m, 10, code)
}

// TestPluginCheckHostileModules runs `portico plugin check` on modules that
// used to hold it forever (a looping start function ran 11 minutes and
// ignored SIGTERM; 200,000 nested blocks were still compiling after two):
// each is refused with its code, and the command returns.
func TestPluginCheckHostileModules(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", dir)
	deep := append(bytes.Repeat([]byte{0x02, 0x40}, 200_000), bytes.Repeat([]byte{0x0b}, 200_001)...)
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"looping start function", hostileModule([]byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}, true), "refused (start_section)"},
		{"200k nested blocks", hostileModule(deep, false), "refused (too_complex)"},
		{"looping _initialize", hostileModule([]byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}, false), "refused (init_timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".wasm")
			if err := os.WriteFile(file, tc.wasm, 0o600); err != nil {
				t.Fatal(err)
			}
			type result struct {
				code     int
				out, err string
			}
			done := make(chan result, 1)
			go func() {
				code, out, errOut := runCLI(t, "plugin", "check", file)
				done <- result{code, out, errOut}
			}()
			select {
			case r := <-done:
				if r.code != 1 || !strings.Contains(r.err, tc.want) {
					t.Errorf("exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", r.code, tc.want, r.out, r.err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("portico plugin check did not return within two minutes")
			}
		})
	}
}
