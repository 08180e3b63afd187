# runtara-build: `make demo` and `make test` set everything up first (`make setup`).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/workspace

.PHONY: setup toolchain venv rust-deps demo test lint fmt clean

setup: toolchain venv rust-deps

toolchain:
	@bash scripts/setup-toolchain.sh

# The runtime crate's dependencies, fetched once (offline afterwards); the crate itself is
# built by runtara-build on first use, into the cache, keyed by its sources and the toolchain.
rust-deps: $(VENV)/.cargo-fetched
$(VENV)/.cargo-fetched: runtime/Cargo.lock | venv
	@cd runtime && PATH=/usr/bin:$$PATH RUSTC=/usr/bin/rustc /usr/bin/cargo fetch --locked -q
	@touch $@

# Reinstall only when the dependency list changes; `pip install -e` keeps the code live.
venv: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: setup
	cd $(EXAMPLE) && ../../$(BIN)/runtara-build check '//...'

lint: setup
	$(BIN)/ruff check runtara_build rules tests bench
	$(BIN)/ruff format --check runtara_build rules tests bench
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest

fmt: venv
	$(BIN)/ruff format runtara_build rules tests bench
	$(BIN)/ruff check --fix runtara_build rules tests bench

clean:
	rm -rf runtara-out $(EXAMPLE)/runtara-out
