# runtara-build: `make demo` and `make test` set everything up first (`make setup`).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/workspace

.PHONY: setup toolchain venv rust-deps bytecode demo test lint rust-check fmt clean

setup: toolchain venv rust-deps bytecode

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
	@$(MAKE) -s bytecode

# PYTHONDONTWRITEBYTECODE is set on these machines, so imports would recompile the package on
# every run; precompiled bytecode (read even then) keeps the no-op build fast.
bytecode:
	@$(BIN)/python -m compileall -q runtara_build rules >/dev/null

# The main job on the example workspace: validate everything, then build //acme/orders (a
# parent with a versioned child and a second child) and run it with the embedded store.
demo: setup
	cd $(EXAMPLE) && ../../$(BIN)/runtara-build check '//...'
	cd $(EXAMPLE) && ../../$(BIN)/runtara-build run //acme/orders -- \
		--input acme/orders/input.json --store runtara-out/demo-state.db

lint: setup
	$(BIN)/ruff check runtara_build rules tests bench
	$(BIN)/ruff format --check runtara_build rules tests bench
	$(BIN)/mypy

# The runtime crate: formatting, clippy and its unit tests (Debian's 1.96 toolchain, musl).
RUST_ENV := PATH=/usr/bin:$$PATH RUSTC=/usr/bin/rustc CC_x86_64_unknown_linux_musl=musl-gcc \
	CARGO_TARGET_DIR=$(CURDIR)/cache/cargo-check
rust-check: setup
	cd runtime && cargo fmt --check
	cd runtime && $(RUST_ENV) /usr/bin/cargo clippy -q --locked --target x86_64-unknown-linux-musl --all-targets -- -D warnings
	cd runtime && $(RUST_ENV) /usr/bin/cargo test -q --locked --target x86_64-unknown-linux-musl

test: setup lint rust-check
	$(BIN)/pytest

fmt: venv
	$(BIN)/ruff format runtara_build rules tests bench
	$(BIN)/ruff check --fix runtara_build rules tests bench

clean:
	rm -rf runtara-out $(EXAMPLE)/runtara-out
