"""Running the real `runtara-build` and built binaries from tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "runtara-build"
#: The project's own cache for tests: the runtime rlib is built here once per run.
TEST_CACHE = REPO / "cache" / "test"


def without_runtara() -> dict[str, str]:
    """The caller's environment without RUNTARA_* variables, except RUNTARA_BUILD_SERVER:
    conftest turns the build server off for the suite, and only tests/test_server.py on."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("RUNTARA_") or k == "RUNTARA_BUILD_SERVER"}  # fmt: skip


def build_env(cache: Path) -> dict[str, str]:
    """The caller's environment without RUNTARA_*, with file mode's cache pointed at `cache`."""
    env = without_runtara()
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def runtara_build(
    args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
