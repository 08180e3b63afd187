"""Shared fixtures and options: --update-goldens, the `rustc` marker policy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Every CLI the suite starts runs in its own process, as in CI, and leaves no build server
# behind; tests/test_server.py turns the server on for itself. Export =1 to run all through it.
os.environ.setdefault("RUNTARA_BUILD_SERVER", "0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite golden files instead of comparing"
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--update-goldens") and os.environ.get("CI"):
        raise pytest.UsageError("--update-goldens is refused under CI")


def _toolchain_missing() -> str | None:
    if not Path("/usr/bin/rustc").exists():
        return "/usr/bin/rustc is missing (run `make setup`)"
    if not list(Path("/usr/lib/rustlib/x86_64-unknown-linux-musl/lib").glob("libstd-*.rlib")):
        return "the musl std is not built (run `make setup`)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _toolchain_missing()
    if missing is None or os.environ.get("CI"):
        return  # under CI a missing toolchain fails the tests that need it, loudly
    skip = pytest.mark.skip(reason=f"rustc tests skipped: {missing}")
    for item in items:
        if "rustc" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def runtime_cache() -> Path:
    """An XDG cache holding the runtime rlib, built once per run in the project's cache."""
    from runtara_build.runtime_lib import ensure_runtime
    from runtara_build.toolchain.detect import detect
    from tests.support.binaries import TEST_CACHE

    ensure_runtime(TEST_CACHE / "runtara-build", detect())
    return TEST_CACHE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying whether the shared suites ran, and if not, why (DEVELOPERS guide)."""
    path = Path(os.environ.get("RUNTARA_SHARED_DIR", REPO.parent / "shared"))
    if path.is_dir():
        terminalreporter.write_line(f"shared suites: {path}")
        return
    verdict = "a failure under CI" if os.environ.get("CI") else "skipped"
    terminalreporter.write_line(
        f"shared suites: {verdict}: not found at {path} (set RUNTARA_SHARED_DIR)"
    )
