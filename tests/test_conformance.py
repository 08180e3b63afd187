"""The shared conformance suite, run exactly as ../shared/conformance/README.md says.

Each case is built with the real CLI in file mode, `runtara-build build C/scenario.json
--children C/children -o T/wf`, from an empty directory with no RUNTARA_* variables, and
the binary is run and compared; then the replay check runs it twice more under one
instance id and requires the same result and no new checkpoint row.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.shared import REPO, shared_dir, shared_dir_or_none
from tests.support.binaries import build_env, runtara_build

SHARED = shared_dir_or_none()
CASES = sorted(p.name for p in (SHARED / "conformance").iterdir() if p.is_dir()) if SHARED else []
#: Cases whose agents the runtime does not provide yet (the agents issue brings them).
NEEDS_LATER = {
    "052-wait-for-signal-timeout": "WaitForSignal durability is the durability issue's",
}

pytestmark = [pytest.mark.rustc, pytest.mark.slow, pytest.mark.shared]


def json_equal(a: Any, b: Any) -> bool:
    """README 'JSON equality': member order ignored, numbers by value, bools not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(json_equal, a, b))
    return type(a) is type(b) and a == b


def contains(pattern: Any, actual: Any) -> bool:
    """README 'error containment'."""
    if isinstance(pattern, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(v, actual[k]) for k, v in pattern.items()
        )
    return json_equal(pattern, actual)


def _run(binary: Path, case: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [str(binary)]
    if (case / "input.json").exists():
        argv += ["--input", str(case / "input.json")]
    argv += ["--store", str(tmp / "state.db"), *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTARA_")}
    return subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=30)


def _outcome(proc: subprocess.CompletedProcess[str], expected: dict[str, Any]) -> None:
    assert proc.returncode == expected["exit"], proc.stderr[-2000:]
    if expected["exit"] == 0:
        assert proc.stdout.endswith("\n") and proc.stdout.count("\n") == 1, proc.stdout
        output = json.loads(proc.stdout)
        assert json_equal(output, expected["output"]), (output, expected["output"])
    else:
        assert proc.stdout == ""
        last = [line for line in proc.stderr.splitlines() if line.strip()][-1]
        error = json.loads(last)
        assert contains(expected["error"], error), (error, expected["error"])


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0])


@pytest.mark.parametrize("name", CASES)
def test_conformance_case(name: str, tmp_path: Path, runtime_cache: Path) -> None:
    if name in NEEDS_LATER:
        pytest.xfail(NEEDS_LATER[name])
    case = shared_dir() / "conformance" / name
    expected = json.loads((case / "expected.json").read_text())
    build = runtara_build(
        ["build", str(case / "scenario.json"), "--children", str(case / "children"),
         "-o", str(tmp_path / "wf")],
        cwd=tmp_path,
        env=build_env(runtime_cache),
    )  # fmt: skip
    if "invalid" in expected:
        assert build.returncode == 1, build.stderr
        for code in expected["invalid"]:
            assert f"error[{code}]" in build.stderr, (code, build.stderr)
        return
    assert build.returncode == 0, build.stderr[-4000:]
    assert build.stdout.splitlines()[-1] == str(tmp_path / "wf")
    _outcome(_run(tmp_path / "wf", case, tmp_path), expected)

    # Replay: the same instance twice; identical outcome, and no new checkpoint row.
    replay = tmp_path / "replay"
    replay.mkdir()
    first = _run(tmp_path / "wf", case, replay, "--instance-id", f"conf-{name[:3]}")
    _outcome(first, expected)
    rows = _rows(replay / "state.db")
    second = _run(tmp_path / "wf", case, replay, "--instance-id", f"conf-{name[:3]}")
    _outcome(second, expected)
    assert second.stdout == first.stdout
    if expected["exit"] == 0:
        assert _rows(replay / "state.db") == rows


def test_repo_is_not_the_shared_dir() -> None:
    assert SHARED is None or REPO not in SHARED.resolve().parents
