# enforcement-auditor: targets a newcomer guesses. Everything installs what it needs
# through the Go module proxy; test binaries are cached outside the checkout.
SHELL := /bin/bash
GO ?= go
BIN ?= bin/enforcement-auditor
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/llm-platform/enforcement-auditor/auditor/version.Version=$(VERSION) \
	-X github.com/llm-platform/enforcement-auditor/auditor/version.Revision=$(REVISION)
UNIT_PKGS = $(shell $(GO) list ./... | grep -v /test/integration)
FUZZTIME ?= 10s

.PHONY: all build scan test test-unit test-integration test-binaries lint fuzz bench verify generate clean

all: build

## build: the static binary, exactly as the Dockerfile builds it
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/enforcement-auditor

## scan: the main job without a cluster: audit the bundled example platform
scan:
	$(GO) run ./cmd/enforcement-auditor scan -f examples/platform

## test: everything: lint, unit tests (race), fuzz smoke, integration tests on a real apiserver
test: lint test-unit fuzz test-integration

test-unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

## test-binaries: build kube-apiserver and etcd from Go modules (cached; ~10 minutes the first time)
test-binaries:
	@hack/test-binaries.sh >/dev/null

test-integration: test-binaries
	KUBEBUILDER_ASSETS=$$(hack/test-binaries.sh) $(GO) test -count=1 -timeout 30m ./test/integration/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: run every fuzz target for FUZZTIME (corpus kept in testdata/fuzz)
fuzz:
	@hack/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./rules/... ./auditor/...

## generate: the README's rule catalogue from the rules' metadata
generate:
	$(GO) run ./hack/catalogue README.md

## verify: go.mod tidy and generated files up to date
verify:
	$(GO) mod tidy -diff
	cd tools/kube && $(GO) mod tidy -diff

clean:
	rm -rf bin dist
