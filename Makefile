# Tern build and test entry points. `make run` starts a server for
# localhost with no setup; `make test` installs the test peers and runs
# every test.

GO ?= go
FUZZTIME ?= 60s
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X tern/modules/version.Version=$(VERSION)

.PHONY: run build test deps fuzz bench clean

run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/ternd

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ternd ./cmd/ternd
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ternctl ./cmd/ternctl

deps:
	./scripts/deps.sh

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Runs each fuzz target for FUZZTIME.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./stream/
	$(GO) test -run='^$$' -fuzz='^FuzzReaderDifferential$$' -fuzztime=$(FUZZTIME) ./stream/
	$(GO) test -run='^$$' -fuzz='^FuzzJID$$' -fuzztime=$(FUZZTIME) ./c2s/
	$(GO) test -run='^$$' -fuzz='^FuzzParseAddress$$' -fuzztime=$(FUZZTIME) ./c2s/
	$(GO) test -run='^$$' -fuzz='^FuzzStep$$' -fuzztime=$(FUZZTIME) ./c2s/sasl/
	$(GO) test -run='^$$' -fuzz='^FuzzParseSimple$$' -fuzztime=$(FUZZTIME) ./stanza/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./stream/ ./router/ ./c2s/...

clean:
	rm -rf bin
