"""Golden files: compare generated text with a checked-in file, or rewrite it on request.

`--update-goldens` is the only way a golden changes (refused under CI by conftest); an update
run reports the test as skipped, so it can never pass for a green run.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parents[1] / "cases"


def case_dirs(kind: str) -> list[Path]:
    return sorted(p for p in (CASES / kind).iterdir() if p.is_dir())


def compare(actual: str, golden: Path, update: bool, rerun: str) -> None:
    if update:
        golden.write_text(actual)
        pytest.skip(f"golden updated: {golden.name}")
    expected = golden.read_text() if golden.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                str(golden),
                "generated",
            )
        )
        pytest.fail(f"{golden} differs:\n{diff[:6000]}\nrun: {rerun}", pytrace=False)
