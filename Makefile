# enforcement-auditor: targets a newcomer guesses. Everything installs what it needs
# through the Go module proxy; test binaries are cached outside the checkout.
SHELL := /bin/bash
GO ?= go
BIN ?= bin/enforcement-auditor
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/llm-platform/enforcement-auditor/auditor/version.Version=$(VERSION) \
	-X github.com/llm-platform/enforcement-auditor/auditor/version.Revision=$(REVISION)
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test/integration -e /test/deploy)
FUZZTIME ?= 10s
STATICCHECK_VERSION ?= v0.7.0


.PHONY: all build scan release test test-pyyaml test-kyverno test-docs test-unit test-integration test-binaries test-deploy lint fuzz bench bench-live bench-scan verify verify-generated generate image-binary clean

all: build

## build: the static binary, exactly as the Dockerfile builds it
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/enforcement-auditor

## scan: the main job without a cluster: audit the bundled example platform
scan:
	$(GO) run ./cmd/enforcement-auditor scan -f examples/platform

## test: everything: lint, generated files, unit tests (race), fuzz, deploy/alerts/dashboards, integration on a real apiserver
test: lint verify-generated test-unit fuzz test-deploy test-integration

test-unit: test-pyyaml
	$(GO) test -race -count=1 $(UNIT_PKGS)

## test-kyverno: the port of Kyverno's pattern engine and operators against Kyverno's own packages (tools/kyverno; ~3.5 min on a cold module cache, so not part of test)
test-kyverno:
	cd tools/kyverno && $(GO) test -count=1 ./...

## test-docs: the README's and the --help examples run, their shown output compared (also in test-unit)
test-docs:
	$(GO) test -count=1 -run 'Readme|HelpExamples|PreCommitHook|ActionScans|NoClusterMessages' ./cmd/enforcement-auditor/

## test-pyyaml: PyYAML for the LiteLLM reader's differential test (Debian's python3-yaml, installed only when missing)
test-pyyaml:
	@python3 -c 'import yaml' 2>/dev/null || { sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get install -y python3-yaml || { $$sudo apt-get update && $$sudo apt-get install -y python3-yaml; }; }

## test-binaries: build kube-apiserver and etcd from Go modules (cached; ~10 minutes the first time)
test-binaries:
	@hack/test-binaries.sh >/dev/null

test-integration: test-binaries
	KUBEBUILDER_ASSETS=$$(hack/test-binaries.sh) TOOLS_BIN=$$(hack/tools.sh) $(GO) test -count=1 -timeout 40m ./test/integration/...

## lint: gofmt, go vet, the one-way package graph (hack/importcheck), staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run ./hack/importcheck
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## fuzz: run every fuzz target for FUZZTIME (corpus kept in testdata/fuzz)
fuzz:
	@hack/fuzz.sh $(FUZZTIME)

## bench: the Go benchmarks of docs/benchmarks.md (one core, 6 runs; compare with benchstat)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -count 6 -timeout 60m ./test/bench/

## bench-live: the live harness on a real kube-apiserver (BENCH_LIVE_PODS="10000 100000" for more; BENCH_LIVE_BINDINGS=5000 to measure again with RBAC bindings)
bench-live: test-binaries
	hack/bench-live.sh

## bench-scan: `scan -f` CPU and peak RSS on 1k/10k/100k synthetic objects against the YAML parser's floor (BENCH_SCAN_SETS, BENCH_SCAN_RUNS)
bench-scan:
	hack/bench-scan.sh

## generate: the README's rule catalogue, the RBAC table of docs/operate.md, dashboards and the PrometheusRule from their sources
generate:
	$(GO) run ./hack/catalogue README.md
	$(GO) run ./hack/rbactable docs/operate.md
	hack/generate.sh

## verify-generated: fail when a generated file is out of date
verify-generated:
	hack/verify-generated.sh
	@cp README.md /tmp/enforcement-auditor-README.md && $(GO) run ./hack/catalogue /tmp/enforcement-auditor-README.md && \
	  diff -u README.md /tmp/enforcement-auditor-README.md || { echo "README catalogue out of date: run make generate"; exit 1; }
	@tmp=$$(mktemp) && cp docs/operate.md $$tmp && $(GO) run ./hack/rbactable $$tmp && \
	  { diff -u docs/operate.md $$tmp || { rm -f $$tmp; echo "docs/operate.md RBAC table out of date: run make generate"; exit 1; }; } && rm -f $$tmp

## test-deploy: promtool rule tests, kustomize renders every variant, deploy/dashboard tests (tools built from Go modules, cached)
test-deploy:
	@set -e; bin=$$(hack/tools.sh); $$bin/promtool check rules deploy/alerts/rules.yaml; \
	$$bin/promtool test rules deploy/alerts/tests.yaml; \
	for v in $$(grep -v '^#' deploy/variants.txt); do $$bin/kustomize build $$v >/dev/null; done; \
	TOOLS_BIN=$$bin $(GO) test -count=1 ./test/deploy/...

## image-binary: the linux binary the Dockerfile builds (no Docker engine needed)
image-binary:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(or $(GOARCH),amd64) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/linux_$(or $(GOARCH),amd64)/enforcement-auditor ./cmd/enforcement-auditor

## verify: go.mod tidy and generated files up to date
verify: verify-generated
	$(GO) mod tidy -diff
	cd tools/kube && $(GO) mod tidy -diff
	cd tools/kustomize && $(GO) mod tidy -diff
	cd tools/dashboards && $(GO) mod tidy -diff
	cd tools/helm && $(GO) mod tidy -diff
	cd tools/sbom && $(GO) mod tidy -diff
	cd tools/kyverno && $(GO) mod tidy -diff

## release: binaries for linux/darwin amd64/arm64, checksums, CycloneDX SBOM, krew manifest, packaged chart (dist/<version>/)
release:
	hack/release.sh

clean:
	rm -rf bin dist
