# igmedia: build, test and run locally. The logic lives in scripts/; this file only orders it.
#
#   make deps      install missing system packages (root) and the Python test requirements
#   make build     debug build
#   make release   release build
#   make test      deps, build, Swift tests, a short fuzz run, then every pytest suite (end-to-end
#                  through nginx)
#   make fuzz      the libFuzzer harnesses, FUZZ_SECONDS (default 60) each (scripts/fuzz)
#   make e2e       build, then only the pytest suites (PYTEST_ARGS=... passes options)
#   make run       the whole stack on http://127.0.0.1:$(HTTP_PORT) (Ctrl-C stops it)
#   make bench     release build, then the loopback benchmark (scripts/bench; BENCH_ARGS=--smoke)
#   make monitoring  promtool checks of monitoring/ (alert rules and their unit tests, the dashboard)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Prerequisites run in the order written (deps before build before tests), even with -j.
.NOTPARALLEL:

HTTP_PORT ?= 8080
PYTEST_ARGS ?=
BENCH_ARGS ?=
FUZZ_SECONDS ?= 60
# End-to-end suites: Tests/e2e and any other Tests/<name>/tests written in Python.
PYTEST_DIRS := $(wildcard Tests/e2e Tests/*/tests)

.PHONY: deps build release test swift-test fuzz fuzz-smoke e2e run bench clean monitoring

deps:
	scripts/install-deps

# Each build leaves the git commit next to the binary (igmedia_build_info reads it).
build:
	swift build
	@git rev-parse --short=12 HEAD > "$$(swift build --show-bin-path)/igmedia-fcgi.commit" 2>/dev/null || true

release:
	swift build -c release
	@git rev-parse --short=12 HEAD > "$$(swift build -c release --show-bin-path)/igmedia-fcgi.commit" 2>/dev/null || true

test: deps build swift-test fuzz-smoke monitoring e2e

monitoring:
	cd monitoring && promtool check rules igmedia-alerts.yml && promtool test rules igmedia-alerts.test.yml
	python3 -c 'import json, sys; d = json.load(open("monitoring/igmedia-dashboard.json")); assert d["panels"], "no panels"'

swift-test: build
	swift test

# The harnesses build apart, with sanitizers, into .build-fuzz.
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz

fuzz-smoke:
	FUZZ_SECONDS=5 scripts/fuzz

# Every suite runs even when one fails. pytest exits 5 when a directory holds no tests yet:
# not a failure.
e2e: build
	@export IGMEDIA_BIN="$$(swift build --show-bin-path)/igmedia-fcgi"; \
	failed=0; \
	for dir in $(PYTEST_DIRS); do \
		echo "== pytest $$dir"; \
		status=0; \
		python3 -m pytest -q $(PYTEST_ARGS) "$$dir" || status=$$?; \
		if [[ $$status -eq 5 ]]; then echo "(no tests in $$dir)"; \
		elif [[ $$status -ne 0 ]]; then failed=1; fi; \
	done; \
	exit $$failed

run: deps release
	IGMEDIA_BIN="$$(swift build -c release --show-bin-path)/igmedia-fcgi" \
		HTTP_PORT=$(HTTP_PORT) scripts/run-local

bench: deps release
	IGMEDIA_BIN="$$(swift build -c release --show-bin-path)/igmedia-fcgi" scripts/bench $(BENCH_ARGS)

clean:
	rm -rf .build .build-fuzz .run
