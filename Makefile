# Portico — see README.md. Every target works on a fresh machine with Go.
GO        ?= go
BIN       := bin/portico
PKG       := ./host/cmd/portico
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/portico-dev/portico/host/cli.Version=$(VERSION)
export CGO_ENABLED ?= 0

.PHONY: run build test lint plugins bench bench-load bench-cluster fuzz clean

## run: build and start the portal with the demo tenant on http://localhost:8080, the
## example token plugin (plugins/exampleapp) on http://localhost:8090, the fake ERP
## the finance plugin reads (plugins/fakeerp) on http://localhost:8091 and the loyalty
## app, the demo's "Pontos" (plugins/loyalty, its own database data/loyalty.db), on
## http://localhost:8092; Ctrl-C stops all four
run: build plugins
	@mkdir -p data
	$(GO) build -trimpath -o bin/exampleapp ./plugins/exampleapp
	$(GO) build -trimpath -o bin/fakeerp ./plugins/fakeerp
	$(GO) build -trimpath -o bin/loyalty ./plugins/loyalty
	@EXAMPLEAPP_ADDR=localhost:8090 EXAMPLEAPP_PORTAL_ORIGIN=http://localhost:8080 \
	  EXAMPLEAPP_CREDENTIALS_FILE=data/exampleapp.json ./bin/exampleapp & app=$$!; \
	  FAKEERP_ADDR=localhost:8091 ./bin/fakeerp & erp=$$!; \
	  LOYALTY_ADDR=localhost:8092 LOYALTY_PORTAL_ORIGIN=http://localhost:8080 LOYALTY_DEMO=true \
	  LOYALTY_DATABASE_URL=$${LOYALTY_DATABASE_URL-sqlite://data/loyalty.db} \
	  LOYALTY_CREDENTIALS_FILE=data/loyalty.json ./bin/loyalty & loyalty=$$!; \
	  trap 'kill $$app $$erp $$loyalty 2>/dev/null; wait $$app $$erp $$loyalty 2>/dev/null' EXIT INT TERM; \
	  PORTICO_DEMO=true PORTICO_DRAIN_DELAY=$${PORTICO_DRAIN_DELAY-0} PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS=$${PORTICO_ALLOW_PRIVATE_PLUGIN_HOSTS-127.0.0.0/8,::1} ./$(BIN) serve

## build: compile bin/portico (cgo-free)
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) $(PKG)

## test: the whole suite (PostgreSQL and Chromium tests skip with a reason when absent, fail under CI=true)
# Every package runs under -race; no test is selected by name or tag. What
# made the tests that run Go guests too slow for -race was wazero's
# compiler, ~10x slower when race-instrumented (10 s or more per 3.6 MB
# guest). The native code it caches is the same for race and non-race
# binaries, so the first step (internal/testguest/warm, without -race)
# builds each test guest once (internal/testguest: keyed by the sha256 of
# its sources and the Go version, shared by all packages and runs) and
# compiles it into the wazero cache the tests share; the -race run then
# loads it. Both caches live in the user's cache directory
# ($XDG_CACHE_HOME); PORTICO_TEST_CACHE moves the guest builds.
#
# SQLite (github.com/ncruces/go-sqlite3) is Go translated from its C by
# wasm2go; -race would instrument every memory access of that translation
# (half the CPU of a SQLite-backed server test), so that one package is
# compiled without it (NORACE_GCFLAGS), as a cgo SQLite's C would be: our
# code around it stays instrumented. golang.org/x/crypto (argon2id and
# its blake2b: every login hashes 19 MiB) is compiled without it too: it
# is pure computation over its own buffers, shares no memory with our
# goroutines and synchronises nothing of ours, so instrumenting it finds
# nothing and made each login ~3x slower (a login-heavy test 9.7 s -> 3.4 s).
# (wazero is not excluded: its atomics order our accesses, and without
# instrumentation the detector reports races that are not there.) The two
# longest packages are named first so that they start first and the
# others fill the second core.
#
# -trimpath keeps the checkout's directory out of the build: a fresh
# checkout elsewhere (CI's) reuses the build cache instead of compiling
# every package of the module again, twice (~1 min on two cores). Test
# helpers therefore find their files with internal/testsrc, not
# runtime.Caller. -p 3: with two test binaries running, a third slot
# compiles and links the next ones (the run used 1.2 of 2 cores with -p 2);
# the suite's PostgreSQL connections peaked at 64 of the server's 100.
NORACE_GCFLAGS := -gcflags='github.com/ncruces/go-sqlite3-wasm/v6=-race=false' -gcflags='golang.org/x/crypto/...=-race=false'
test: lint plugins
	PORTICO_TEST_WARM=1 $(GO) test -trimpath -count=1 ./internal/testguest/warm
	CGO_ENABLED=1 $(GO) test -trimpath -race $(NORACE_GCFLAGS) -p 3 -count=1 -timeout 15m ./host/server ./host/cli ./...
	# sdk/ is a module of its own (standard library only): ./... stops at its go.mod.
	cd sdk && CGO_ENABLED=1 $(GO) test -trimpath -race -count=1 ./...
	# bench/ too: the unit tests of the load and cluster scripts (not their runs,
	# nor the runtime comparison at its root, which builds Extism guests).
	cd bench && CGO_ENABLED=1 $(GO) test -trimpath -race -count=1 ./load/... ./cluster/...

## lint: go vet (the root module and the sdk module) and gofmt
lint:
	$(GO) vet -trimpath ./...
	cd sdk && $(GO) vet -trimpath ./...
	cd bench && $(GO) vet -trimpath ./load/... ./cluster/...
	# The finance plugin's libraries must keep building for its wasm guest.
	GOOS=wasip1 GOARCH=wasm $(GO) vet -trimpath ./plugins/financeiro/...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	# Portal pages (host/portal/*.templ): formatted, and the committed *_templ.go
	# what `go tool templ generate -path host/portal` makes of them (generated
	# again in a scratch directory and compared, so the tree is not touched).
	$(GO) tool templ fmt -fail -log-level error host/portal
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp host/portal/*.templ "$$tmp"/ && \
	  $(GO) tool templ generate -path "$$tmp" -log-level error && \
	  for f in "$$tmp"/*_templ.go; do \
	    cmp -s "$$f" "host/portal/$$(basename "$$f")" || { echo "host/portal/$$(basename "$$f") is stale: run go tool templ generate -path host/portal"; exit 1; }; \
	  done

## plugins: build the first-party wasm plugins into bin/plugins (see plugins/Makefile)
plugins:
	$(MAKE) -C plugins

## bench: benchmarks reported in docs/benchmarks.md
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s -benchmem ./internal/... ./host/...

## bench-load: the load script (bench/load/README.md): builds and starts Portico (SQLite and a fresh
## PostgreSQL database) and a static Fiber reference pinned to core 0, wrk (and, while it runs, the local
## PostgreSQL server) on core 1, runs the rounds
## interleaved and prints each ratio (~13 min; BENCHLOAD_FLAGS=-quick for a short validation run;
## installs wrk with apt-get when missing). Not part of `make test`
BENCHLOAD_FLAGS ?=
bench-load:
	cd bench && $(GO) run ./load/cmd/benchload -root .. $(BENCHLOAD_FLAGS)

## bench-cluster: the multi-node proof (bench/cluster/README.md): three nodes on a fresh PostgreSQL database
## behind nginx on loopback, a bounded mixed load; scale, exactly-once, invalidation, rolling-restart (~4 min;
## BENCHCLUSTER_ARGS='-quick all' for a short validation run; pg-restart only with -pg-restart, since it
## restarts this machine's PostgreSQL). Installs nginx with apt-get when missing. Not part of `make test`
BENCHCLUSTER_ARGS ?= all
bench-cluster:
	cd bench && $(GO) run ./cluster -root .. $(BENCHCLUSTER_ARGS)

## fuzz: run every fuzz target for FUZZTIME each (default 20s); `make test` runs their seed corpora
FUZZTIME ?= 20s
# Every package with a fuzz target (found by grep, so new ones are never forgotten).
# Each runs from its own directory, so the sdk module's targets run too.
FUZZPKGS := $(shell grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
fuzz:
	@for p in $(FUZZPKGS); do \
	  for t in $$(cd $$p && $(GO) test -list 'Fuzz.*' . | grep ^Fuzz); do \
	    (cd $$p && $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) .) || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
