# slawatch — see README.md. `make run` runs the daemon on the embedded default config (state under
# ./.slawatch); `make test` runs every test against a real journald.
SWIFT ?= swift
PREFIX ?= /usr
BIN := .build/debug/slawatch

.PHONY: run test build deps journald format lint clean

deps:
	@scripts/ensure-deps.sh

journald:
	@scripts/start-journald.sh

build: deps
	$(SWIFT) build

run: build
	$(BIN) daemon

test: deps journald
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

clean:
	rm -rf .build .slawatch
