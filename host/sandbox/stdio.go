package sandbox

import (
	"context"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// What one call of a guest writes or changes in its WASI state belongs to
// that call only (an instance serves many users one after the other):
//
//   - stderr, where a Go panic prints its message, is captured per call:
//     the buffer is reset when a call starts (Engine.run) and read when it
//     fails (Engine.classify), so a failing call's detail never carries
//     what an earlier, successful call of another user wrote.
//   - the standard file descriptors cannot be closed or renumbered: wazero
//     has no API to reopen them, and a guest that closed fd 2 in one call
//     would have lost the next user's panic message. fd_close and
//     fd_renumber are replaced: on fds 0–2 they fail with EPERM and change
//     nothing. A guest has no other descriptors (no filesystem, preopen or
//     socket is configured), so on any other fd they fail with EBADF, as
//     wazero's own would.
//
// stdout is discarded and stdin is empty; neither keeps state.

// Bytes of a call's stderr kept: the first stderrHead (where a panic
// message is when the guest wrote little before panicking) and the last
// stderrTail (where it is when the guest logged a lot first: a Go panic's
// message and its single-goroutine trace fit in them).
const (
	stderrHead = 512
	stderrTail = 1536
)

// stderrBuffer keeps the first stderrHead and the last stderrTail bytes
// written to a guest's stderr since the last reset.
type stderrBuffer struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int // bytes written between head and tail that were not kept
}

func (w *stderrBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	if room := stderrHead - len(w.head); room > 0 {
		k := min(room, len(p))
		w.head = append(w.head, p[:k]...)
		p = p[k:]
	}
	if len(p) >= stderrTail {
		w.dropped += len(w.tail) + len(p) - stderrTail
		w.tail = append(w.tail[:0], p[len(p)-stderrTail:]...)
		return n, nil
	}
	if over := len(w.tail) + len(p) - stderrTail; over > 0 {
		w.dropped += over
		w.tail = append(w.tail[:0], w.tail[over:]...)
	}
	w.tail = append(w.tail, p...)
	return n, nil
}

// take returns what was kept since the last reset, with a marker where
// bytes were dropped, and resets the buffer.
func (w *stderrBuffer) take() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := string(w.head)
	if w.dropped > 0 {
		s += fmt.Sprintf("… [%d bytes] …", w.dropped)
	}
	s += string(w.tail)
	w.head, w.tail, w.dropped = w.head[:0], w.tail[:0], 0
	return s
}

// reset forgets what was written.
func (w *stderrBuffer) reset() { _ = w.take() }

// WASI errno values (wasi_snapshot_preview1).
const (
	wasiEBADF = 8
	wasiEPERM = 63
)

// instantiateWASI instantiates WASI preview 1 in rt with fd_close and
// fd_renumber replaced so that no call can close or renumber the standard
// descriptors (see above).
func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	errno := func(fds ...uint64) uint64 {
		for _, fd := range fds {
			if uint32(fd) <= 2 {
				return wasiEPERM
			}
		}
		return wasiEBADF
	}
	_, err := b.
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = errno(stack[0])
	}), []api.ValueType{i32}, []api.ValueType{i32}).WithParameterNames("fd").Export("fd_close").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = errno(stack[0], stack[1])
	}), []api.ValueType{i32, i32}, []api.ValueType{i32}).WithParameterNames("fd", "to").Export("fd_renumber").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("instantiate wasi: %w", err)
	}
	return nil
}
