// Command multi is the sandbox's test guest: a raw implementation of ABI v1
// (no SDK) whose behaviour is chosen by the action name, including hostile
// ones (loops, memory bombs, traps, panics, floods, bad output).
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o multi.wasm .
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	mrand "math/rand"
	mrandv2 "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/portico-dev/portico/sdk/abi"
)

// abiVersion is overridden with -ldflags "-X main.abiVersion=2" to build a
// guest of another ABI version.
var abiVersion = "1"

func main() {}

var (
	inBuf  []byte
	outBuf []byte
	// leaked is package-level state a careless plugin keeps across calls.
	leaked string
	// hoard keeps allocations alive for the memory bomb.
	hoard [][]byte
)

//go:wasmimport portico host_call
func hostCall(ptr unsafe.Pointer, n int32) int32

//go:wasmimport portico host_result
func hostResult(ptr unsafe.Pointer)

//go:wasmexport portico_abi_version
func version() int32 {
	v, _ := strconv.Atoi(abiVersion)
	return int32(v)
}

//go:wasmexport portico_alloc
func alloc(size int32) int32 {
	inBuf = make([]byte, size+1)
	return int32(uintptr(unsafe.Pointer(&inBuf[0])))
}

var noop = []byte(`{"view":{"blocks":[]}}`)

//go:wasmexport portico_handle
func handle(ptr, n int32) int64 {
	in := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
	if strings.Contains(string(in[:min(len(in), 64)]), `"action":"noop"`) {
		return ret(noop)
	}
	var input abi.Input
	if err := json.Unmarshal(in, &input); err != nil {
		return reply(&abi.Output{Error: "bad input: " + err.Error()})
	}
	arg := func(k string) string {
		if v := input.Form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if input.Kind == abi.KindSettings {
		return settings(&input)
	}
	switch input.Action {
	case "", "render":
		return reply(render(&input))
	case "echo":
		b, _ := json.Marshal(input)
		return reply(text(string(b)))
	case "leak":
		prev := leaked
		leaked = input.User.ID + ":" + arg("secret")
		return reply(text(prev))
	case "marker":
		// A marker in a package variable and in a big heap buffer (which
		// grows the memory beyond its post-initialisation size).
		leaked = "MARKER-" + arg("m")
		size, _ := strconv.Atoi(arg("kb"))
		b := make([]byte, size<<10)
		for i := 0; i+len(leaked) <= len(b); i += len(leaked) {
			copy(b[i:], leaked)
		}
		hoard = append(hoard, b)
		return reply(text("ok"))
	case "rand":
		var b [16]byte
		_, _ = rand.Read(b[:])
		return reply(text(hex.EncodeToString(b[:]) + " " + time.Now().UTC().Format(time.RFC3339)))
	case "mathrand":
		// math/rand v1's and v2's top-level functions draw from the Go
		// runtime's generator, which the host refreshes before each call.
		return reply(text(strconv.FormatInt(mrand.Int63(), 16) + " " + strconv.FormatUint(mrandv2.Uint64(), 16)))
	case "loop":
		for {
		}
	case "membomb":
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	case "bigalloc":
		size, _ := strconv.Atoi(arg("mb"))
		b := make([]byte, size<<20)
		for i := range b {
			b[i] = 1
		}
		hoard = append(hoard, b)
		return reply(text("ok"))
	case "trap":
		// An out-of-bounds load is a genuine wasm trap.
		p := (*byte)(unsafe.Pointer(uintptr(0xFFFFFFF0)))
		return int64(*p)
	case "panic":
		panic("boom")
	case "recurse":
		return int64(recurse(1 << 40))
	case "huge":
		size, _ := strconv.Atoi(arg("bytes"))
		return reply(text(strings.Repeat("x", size)))
	case "malformed":
		return ret([]byte(`{"view": not json`))
	case "empty":
		return ret([]byte(`{}`))
	case "badptr":
		return int64(0x7FFFFFF0)<<32 | 64
	case "flood":
		req, _ := json.Marshal(abi.HostRequest{Op: abi.OpLog, Message: "x"})
		for {
			hostCall(unsafe.Pointer(&req[0]), int32(len(req)))
		}
	case "calls":
		count, _ := strconv.Atoi(arg("n"))
		refused := 0
		req, _ := json.Marshal(abi.HostRequest{Op: abi.OpKVGet, Key: "k"})
		for range count {
			if r := hostCall(unsafe.Pointer(&req[0]), int32(len(req))); r < 0 {
				refused++
			} else {
				drainN(r)
			}
		}
		return reply(text("refused=" + strconv.Itoa(refused)))
	case "host":
		// Form "req" holds a HostRequest in JSON; the HostResponse is
		// returned as the text of the view.
		raw := []byte(arg("req"))
		if len(raw) == 0 {
			raw = []byte{' '}
		}
		var last []byte
		for range max(1, atoi(arg("repeat"))) {
			r := hostCall(unsafe.Pointer(&raw[0]), int32(len(raw)))
			if r < 0 {
				return reply(text("refused"))
			}
			last = drainN(r)
		}
		return reply(text(string(last)))
	case "stderr":
		// Writes "text" to stderr, "repeat" times, and succeeds.
		for range max(1, atoi(arg("repeat"))) {
			_, _ = os.Stderr.WriteString(arg("text"))
		}
		return reply(text("written"))
	case "closefd":
		// Closes (or, with "to", renumbers onto "to") the descriptor "fd"
		// and reports the error, if any.
		fd, to := atoi(arg("fd")), arg("to")
		var err error
		if to != "" {
			err = renumber(fd, atoi(to))
		} else {
			err = syscall.Close(fd)
		}
		if err != nil {
			return reply(text("refused: " + err.Error()))
		}
		return reply(text("closed"))
	case "sleep":
		d, _ := time.ParseDuration(arg("d"))
		time.Sleep(d)
		return reply(text("slept"))
	}
	return reply(&abi.Output{Error: "unknown action " + input.Action})
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// settings answers a settings call as the configuration key "settings"
// says: "" one declared field (with the user it was asked for in its
// help), "loop" never, "host" after trying a KV read (its error code is
// the answer's problem), "bad" an answer CheckSettings refuses, "view" a
// view instead of settings, "error" a polite error.
func settings(in *abi.Input) int64 {
	ok := &abi.Settings{Fields: []abi.Setting{{Key: "modo", Type: abi.SettingText, Label: "Modo",
		Help: "role=" + in.User.Role + " id=" + in.User.ID + " locale=" + in.User.Locale}}}
	switch in.Config["settings"] {
	case "loop":
		for {
		}
	case "host":
		req := []byte(`{"op":"kv.get","key":"k"}`)
		msg := "refused"
		if r := hostCall(unsafe.Pointer(&req[0]), int32(len(req))); r >= 0 {
			var resp abi.HostResponse
			_ = json.Unmarshal(drainN(r), &resp)
			msg = "answered"
			if resp.Error != nil {
				msg = resp.Error.Code
			}
		}
		ok.Problems = []abi.Problem{{Key: "modo", Message: msg}}
	case "bad":
		ok.Fields[0].Label = ""
	case "view":
		return reply(text("a view"))
	case "error":
		return reply(&abi.Output{Error: "no settings here"})
	}
	return reply(&abi.Output{Settings: ok})
}

func drainN(n int32) []byte {
	b := make([]byte, n+1)
	hostResult(unsafe.Pointer(&b[0]))
	return b[:n]
}

//go:noinline
func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + int(pad[n%64])
}

func text(s string) *abi.Output {
	return &abi.Output{View: &abi.View{Blocks: []abi.Block{{Type: abi.BlockText, Text: s}}}}
}

func render(in *abi.Input) *abi.Output {
	rows := make([][]string, 50)
	for i := range rows {
		rows[i] = []string{
			strconv.Itoa(i + 1),
			"Boleto " + strconv.Itoa(2026_000+i),
			time.Date(2026, time.Month(i%12+1), i%28+1, 0, 0, 0, 0, time.UTC).Format("02/01/2006"),
			"R$ " + strconv.FormatFloat(float64(i)*137.5+89.9, 'f', 2, 64),
			[]string{"pago", "aberto", "vencido"}[i%3],
		}
	}
	return &abi.Output{View: &abi.View{
		Title: in.Plugin.Title,
		Blocks: []abi.Block{
			{Type: abi.BlockHeading, Level: 1, Text: "Olá, " + in.User.Name},
			{Type: abi.BlockKV, Items: []abi.KV{{Label: "Usuário", Value: in.User.ID}, {Label: "Papel", Value: in.User.Role}}},
			{Type: abi.BlockTable, Columns: []string{"#", "Documento", "Vencimento", "Valor", "Situação"}, Rows: rows},
		},
	}}
}

func reply(out *abi.Output) int64 {
	b, err := json.Marshal(out)
	if err != nil {
		b = []byte(`{"error":"marshal"}`)
	}
	return ret(b)
}

func ret(b []byte) int64 {
	outBuf = b
	if len(b) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(&b[0])))<<32 | int64(len(b))
}

//go:wasmimport wasi_snapshot_preview1 fd_renumber
func fdRenumber(from, to int32) int32

// renumber moves descriptor from onto to (WASI fd_renumber).
func renumber(from, to int) error {
	if e := fdRenumber(int32(from), int32(to)); e != 0 {
		return syscall.Errno(e)
	}
	return nil
}
