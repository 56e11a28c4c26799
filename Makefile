# Targets for building, testing and linting electrons. `make` lists them.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
S3_ENV := .cache/services/s3.env
BENCH_OUT := .cache/bench/bench.txt

.PHONY: help build run services test lint bench

help: ## list targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

build: ## build every binary into bin/
	$(GO) build -o bin/ ./cmd/...

run: ## run the server in dev mode
	$(GO) run ./cmd/electrons dev

services: ## start PostgreSQL, NATS JetStream and versitygw (S3) for tests
	scripts/services.sh

test: services ## run all tests with the race detector against the real services
	set -a; source $(S3_ENV); set +a; $(GO) test -race -timeout 9m ./...

lint: ## gofmt, go vet, staticcheck
	@out="$$(gofmt -l .)"; if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The load benchmarks of cmd/electrons run each load once per -count (see docs/BENCHMARKS.md);
# the other packages' micro-benchmarks run for a short fixed time.
bench: services ## run benchmarks, output in .cache/bench/bench.txt
	@mkdir -p $(dir $(BENCH_OUT))
	set -a; source $(S3_ENV); set +a; { \
		$(GO) test -run '^$$' -bench . -benchtime 1x -count 3 -timeout 20m ./cmd/electrons/ && \
		$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms -count 3 $$($(GO) list ./... | grep -v '/cmd/electrons$$'); \
	} | tee $(BENCH_OUT)
