// Package admintest holds what the admin's API and UI tests share: wasm
// modules built from source or written by hand for the version tests, raw
// requests that Announce a body, and a digest of everything of a tenant
// the admin can change.
package admintest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/host/server/servertest"
	"github.com/portico-dev/portico/internal/testdb"
	"github.com/portico-dev/portico/internal/testguest"
	"github.com/portico-dev/portico/internal/testsrc"
)

// Wasm modules for the version tests, built from source once per test
// binary (admin/admintest/testdata/versions) or written by hand.

// Modules are the guests Guests builds.
type Modules struct {
	Valid, WrongABI, NoExports []byte
}

var (
	modulesOnce sync.Once
	modules     Modules
	modulesErr  error
)

// Guests builds the test Guests with GOOS=wasip1 GOARCH=wasm, once.
func Guests(t testing.TB) Modules {
	t.Helper()
	modulesOnce.Do(func() {
		names := []string{"valid", "wrongabi", "noexports"}
		out := make([][]byte, len(names))
		for i, name := range names {
			// testguest builds each guest once per source and Go version,
			// shared with internal/testguest/warm, which compiles it into
			// the wazero cache before the -race run.
			b, err := testguest.Build(filepath.Join(sourceDir(), "testdata", "versions", name))
			if err != nil {
				modulesErr = fmt.Errorf("build guest %s: %w", name, err)
				return
			}
			out[i] = b
		}
		modules = Modules{Valid: out[0], WrongABI: out[1], NoExports: out[2]}
	})
	if modulesErr != nil {
		t.Fatal(modulesErr)
	}
	return modules
}

// WasmHeader is the magic number and version 1 of a binary module: on its
// own, a valid empty module.
var WasmHeader = []byte("\x00asm\x01\x00\x00\x00")

// HandModule is a module written by hand, not by Go: one function
// () -> i32 returning 42, exported as "foo". It compiles, and exports
// nothing of the plugin ABI.
var HandModule = append(append([]byte{}, WasmHeader...),
	0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type section: (func (result i32))
	0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
	0x07, 0x07, 0x01, 0x03, 'f', 'o', 'o', 0x00, 0x00, // export "foo" = func 0
	0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b, // code: i32.const 42; end
)

// HandABI is a module written by hand (no Go, no WASI) that has every
// export of the plugin ABI with the right signatures and whose
// portico_abi_version returns version: it compiles in microseconds, so the
// size-limit tests can pad it to many megabytes without paying a Go
// module's compile each time.
func HandABI(version int32) []byte { return HostileABI(version, []byte{0x0b}, false) }

// HostileABI is HandABI with init as the code of _initialize (ending with
// 0x0b) and, with start, _initialize also declared as the module's start
// function: the shapes of the hostile modules the upload must refuse.
func HostileABI(version int32, init []byte, start bool) []byte {
	uleb := func(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }
	vec := func(items ...[]byte) []byte {
		out := uleb(len(items))
		for _, it := range items {
			out = append(out, it...)
		}
		return out
	}
	sec := func(id byte, content []byte) []byte {
		return append(append([]byte{id}, uleb(len(content))...), content...)
	}
	name := func(s string) []byte { return append(uleb(len(s)), s...) }
	export := func(n string, kind, idx byte) []byte { return append(name(n), kind, idx) }
	body := func(code ...byte) []byte { return append(uleb(len(code)+1), append([]byte{0x00}, code...)...) }
	sleb := func(v int32) []byte { // signed LEB128
		var out []byte
		for {
			b := byte(v & 0x7f)
			v >>= 7
			if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
				return append(out, b)
			}
			out = append(out, b|0x80)
		}
	}
	m := append([]byte{}, WasmHeader...)
	m = append(m, sec(0x01, vec(
		[]byte{0x60, 0x00, 0x00},                        // () -> ()
		[]byte{0x60, 0x00, 0x01, 0x7f},                  // () -> i32
		[]byte{0x60, 0x01, 0x7f, 0x01, 0x7f},            // (i32) -> i32
		[]byte{0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e}))...) // (i32, i32) -> i64
	m = append(m, sec(0x03, vec([]byte{0}, []byte{1}, []byte{2}, []byte{3}))...)
	m = append(m, sec(0x05, vec([]byte{0x00, 0x01}))...) // one memory of 1 page
	m = append(m, sec(0x07, vec(export("_initialize", 0, 0), export("portico_abi_version", 0, 1),
		export("portico_alloc", 0, 2), export("portico_handle", 0, 3), export("memory", 2, 0)))...)
	if start {
		m = append(m, sec(0x08, []byte{0})...)
	}
	m = append(m, sec(0x0a, vec(
		body(init...),
		body(append(append([]byte{0x41}, sleb(version)...), 0x0b)...), // i32.const version
		body(0x41, 0x80, 0x08, 0x0b),                                  // i32.const 1024
		body(0x42, 0x00, 0x0b)))...)                                   // i64.const 0
	return m
}

// Padded returns module grown to exactly size bytes with a custom section
// (which runtimes skip), so a valid module can be made as large as a test
// needs; a different size gives a different SHA-256.
func Padded(t testing.TB, module []byte, size int) []byte {
	t.Helper()
	const name = "portico-test-padding"
	for payload := size - len(module) - 1 - len(name) - 1; payload >= 0; payload-- {
		content := 1 + len(name) + payload
		lenBytes := binary.AppendUvarint(nil, uint64(content))
		if len(module)+1+len(lenBytes)+content != size {
			continue
		}
		out := make([]byte, 0, size)
		out = append(out, module...)
		out = append(out, 0x00)
		out = append(out, lenBytes...)
		out = append(out, byte(len(name)))
		out = append(out, name...)
		out = append(out, make([]byte, payload)...)
		return out
	}
	t.Fatalf("cannot pad a %d-byte module to %d bytes", len(module), size)
	return nil
}

// MultipartBody is a form with a "module" file per element of files and
// the given fields; it returns the body and its content type.
func MultipartBody(t testing.TB, fields map[string]string, files ...[]byte) (string, string) {
	t.Helper()
	return MultipartFiles(t, fields, "module", "plugin-%d.wasm", files...)
}

// MultipartFiles is a form with the given fields and one file field named
// field per element of files, each named by the pattern (fmt, with its
// index); it returns the body and its content type.
func MultipartFiles(t testing.TB, fields map[string]string, field, pattern string, files ...[]byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		testdb.Must(t, w.WriteField(k, v), "write field")
	}
	for i, f := range files {
		fw, err := w.CreateFormFile(field, fmt.Sprintf(pattern, i))
		testdb.Must(t, err, "create form file")
		_, err = fw.Write(f)
		testdb.Must(t, err, "write form file")
	}
	testdb.Must(t, w.Close(), "close multipart")
	return b.String(), w.FormDataContentType()
}

// Announce sends only the headers of a request whose body would be n bytes
// and returns the answer the server gives before the body, as a client
// honouring an early response would.
func Announce(t testing.TB, p *servertest.Portal, method, path string, n int, header ...string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", p.Addr)
	testdb.Must(t, err, "dial")
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nAccept-Language: en\r\n", method, path, p.Addr, n)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&req, "%s: %s\r\n", header[i], header[i+1])
	}
	req.WriteString("\r\n")
	_, err = conn.Write(req.Bytes())
	testdb.Must(t, err, "write headers")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	testdb.Must(t, err, "read response")
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

var (
	// LoopForever is code that loops forever (loop br 0 end end).
	LoopForever = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}
	// LoopIfGrowFails grows the memory by 100 MiB and loops forever when
	// that fails: it initialises at 256 MiB and hangs at the plugin's
	// default 64 MiB.
	LoopIfGrowFails = []byte{0x41, 0xc0, 0x0c, 0x40, 0x00, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x0b}
)

// NestedBlocks returns code of depth nested empty blocks, ending the
// function.
func NestedBlocks(depth int) []byte {
	b := bytes.Repeat([]byte{0x02, 0x40}, depth)
	return append(b, bytes.Repeat([]byte{0x0b}, depth+1)...)
}

// sourceDir is this package's directory, where testdata is.
func sourceDir() string {
	d, err := testsrc.Dir("github.com/portico-dev/portico/admin/admintest")
	if err != nil {
		panic(err) // a test helper inside the module: go list cannot fail
	}
	return d
}
