//go:build !linux

package sandbox

import "errors"

// cowSupported reports whether copy-on-write memories are available.
const cowSupported = false

func reserveMemory(int) ([]byte, error) { return nil, errors.New("no copy-on-write memory on this OS") }

func unmapMemory([]byte) {}

func releasePages([]byte) error { return errors.New("no mapped memory on this OS") }

func (m *linearMemory) freeze(int) error { return errors.New("no copy-on-write memory on this OS") }

func (m *linearMemory) rewindCOW(int) bool { return false }
