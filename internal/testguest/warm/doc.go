// Package warm has one test, TestWarm, which `make test` runs without the
// race detector before every package runs under -race: it builds the test
// guests (internal/testguest) and compiles them into the shared wazero
// compilation cache. wazero's compiler is about ten times slower when
// race-instrumented (10 s or more per 3.6 MB guest), while the native code
// it caches is the same for race and non-race binaries: the cache key is
// the module, wazero's version and the CPU features. It is a test, not a
// command, because wazero names its cache directory after its version as
// the binary's build information reports it, which a test binary reports
// as "dev" and a `go run` binary as the module version: only a test binary
// warms the directory the tests read.
package warm
