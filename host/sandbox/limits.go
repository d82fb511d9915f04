package sandbox

import "time"

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
	// 4, ceiling 32); others wait up to QueueWait (default 1 s, never more
	// than Timeout) and then fail with ReasonBusy.
	MaxConcurrent int
	QueueWait     time.Duration
}

// Defaults and ceilings of Limits.
const (
	DefaultTimeout        = 2 * time.Second
	MaxTimeout            = 10 * time.Second
	DefaultMemoryMB       = 64
	MaxMemoryMB           = 256
	DefaultMaxInputBytes  = 256 << 10
	MaxInputBytesCeiling  = 1 << 20
	DefaultMaxOutputBytes = 1 << 20
	MaxOutputBytesCeiling = 8 << 20
	DefaultMaxLogLines    = 100
	MaxLogLinesCeiling    = 1000
	DefaultMaxLogBytes    = 16 << 10
	MaxLogBytesCeiling    = 256 << 10
	DefaultMaxHostCalls   = 200
	MaxHostCallsCeiling   = 5000
	DefaultMaxConcurrent  = 4
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

// HTTP host function limits.
const (
	MaxHTTPRequestBody  = 1 << 20
	MaxHTTPResponseBody = 1 << 20
	MaxHTTPHeaders      = 50
	MaxHTTPRedirects    = 5
	// MaxHostRequestBytes bounds the JSON of one host request (an HTTP body
	// of MaxHTTPRequestBody in base64 plus headers).
	MaxHostRequestBytes = MaxHTTPRequestBody*4/3 + 64<<10
	MaxSecretName       = 128
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
