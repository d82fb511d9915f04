package sandbox

import (
	"time"

	"github.com/portico-dev/portico/sdk/abi"
)

// Limits bound one plugin's calls. Zero fields take the documented
// defaults; values above a ceiling are lowered to the ceiling.
type Limits struct {
	Timeout  time.Duration // per call: default 2 s, ceiling 10 s
	MemoryMB int           // linear memory: default 64 MiB, ceiling 256 MiB
	// MaxInputBytes bounds the JSON input (default 256 KiB, ceiling 1 MiB);
	// MaxOutputBytes the JSON output (default 1 MiB, ceiling 8 MiB).
	MaxInputBytes, MaxOutputBytes int
	// MaxLogLines and MaxLogBytes bound the log host function per call
	// (default 100 lines / 16 KiB, ceilings 1,000 / 256 KiB).
	MaxLogLines, MaxLogBytes int
	// MaxHostCalls bounds host function calls per call (default 200,
	// ceiling 5,000).
	MaxHostCalls int
	// MaxConcurrent bounds calls in flight per (tenant, plugin) (default
	// 16, ceiling 32); others wait up to QueueWait (default 1 s, never more
	// than Timeout) and then fail with ReasonBusy. Each call in flight holds
	// an instance; it holds an execution slot (the CPU bound) only while
	// its guest code runs, not while a host call waits on the ERP or the
	// database, so this is mostly how many such waits one plugin may have.
	MaxConcurrent int
	QueueWait     time.Duration
}

// Defaults and ceilings of Limits. The defaults and the timeout and memory
// ceilings are the plugin contract's (sdk/abi); the other ceilings are the
// operator's.
const (
	DefaultTimeout        = abi.DefaultTimeoutMS * time.Millisecond
	MaxTimeout            = abi.MaxTimeoutMS * time.Millisecond
	DefaultMemoryMB       = abi.DefaultMemoryMB
	MaxMemoryMB           = abi.MaxMemoryMB
	DefaultMaxInputBytes  = abi.DefaultMaxInputBytes
	MaxInputBytesCeiling  = 1 << 20
	DefaultMaxOutputBytes = abi.DefaultMaxOutputBytes
	MaxOutputBytesCeiling = 8 << 20
	DefaultMaxLogLines    = abi.DefaultMaxLogLines
	MaxLogLinesCeiling    = 1000
	DefaultMaxLogBytes    = abi.DefaultMaxLogBytes
	MaxLogBytesCeiling    = 256 << 10
	DefaultMaxHostCalls   = abi.DefaultMaxHostCalls
	MaxHostCallsCeiling   = 5000
	DefaultMaxConcurrent  = 16
	MaxConcurrentCeiling  = 32
	DefaultQueueWait      = time.Second
)

// Instance recycling: an instance is replaced after RecycleAfterCalls
// calls, or when a call left its linear memory more than RecycleGrowth
// bytes above the snapshot (memory cannot shrink).
const (
	RecycleAfterCalls = 10_000
	RecycleGrowth     = 16 << 20
)

// HTTP host function limits (the plugin contract's, sdk/abi).
const (
	MaxHTTPRequestBody  = abi.MaxHTTPRequestBody
	MaxHTTPResponseBody = abi.MaxHTTPResponseBody
	MaxHTTPHeaders      = abi.MaxHTTPHeaders
	MaxHTTPRedirects    = abi.MaxHTTPRedirects
	// MaxHostRequestBytes bounds the JSON of one host request (an HTTP body
	// of MaxHTTPRequestBody in base64 plus headers).
	MaxHostRequestBytes = MaxHTTPRequestBody*4/3 + 64<<10
	MaxSecretName       = abi.MaxSecretName
)

func clamp[T int | time.Duration](v, def, ceiling T) T {
	if v <= 0 {
		return def
	}
	return min(v, ceiling)
}

// normalize returns l with defaults and ceilings applied.
func (l Limits) normalize() Limits {
	l.Timeout = clamp(l.Timeout, DefaultTimeout, MaxTimeout)
	l.MemoryMB = clamp(l.MemoryMB, DefaultMemoryMB, MaxMemoryMB)
	l.MaxInputBytes = clamp(l.MaxInputBytes, DefaultMaxInputBytes, MaxInputBytesCeiling)
	l.MaxOutputBytes = clamp(l.MaxOutputBytes, DefaultMaxOutputBytes, MaxOutputBytesCeiling)
	l.MaxLogLines = clamp(l.MaxLogLines, DefaultMaxLogLines, MaxLogLinesCeiling)
	l.MaxLogBytes = clamp(l.MaxLogBytes, DefaultMaxLogBytes, MaxLogBytesCeiling)
	l.MaxHostCalls = clamp(l.MaxHostCalls, DefaultMaxHostCalls, MaxHostCallsCeiling)
	l.MaxConcurrent = clamp(l.MaxConcurrent, DefaultMaxConcurrent, MaxConcurrentCeiling)
	l.QueueWait = clamp(l.QueueWait, DefaultQueueWait, l.Timeout)
	return l
}
