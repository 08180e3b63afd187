"""Build and run one conformance-format case, exactly as ../shared/conformance/README.md says.

A case is a directory `NNN-slug/{scenario.json, input.json?, children/?, expected.json}`. It is
built with the real CLI in file mode, `runtara-build build C/scenario.json --children
C/children -o T/wf`, from an empty directory with no RUNTARA_* variables; the binary is run
and compared; then the replay check runs it twice more under one instance id and requires the
same result and no new checkpoint row. Used by the shared suite (tests/test_conformance.py)
and by the project's own cases (tests/cases/e2e, tests/test_binaries.py).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from tests.support.binaries import build_env, runtara_build, without_runtara


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


def run_binary(
    binary: Path, case: Path, tmp: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [str(binary)]
    if (case / "input.json").exists():
        argv += ["--input", str(case / "input.json")]
    argv += ["--store", str(tmp / "state.db"), *extra]
    env = without_runtara()
    return subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=30)


def check_outcome(proc: subprocess.CompletedProcess[str], expected: dict[str, Any]) -> None:
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


def checkpoint_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0])


def check_case(case: Path, tmp: Path, cache: Path, instance_id: str) -> None:
    """Build `case` in `tmp` (empty) against the runtime in `cache`, run it, check replay."""
    expected = json.loads((case / "expected.json").read_text())
    build = runtara_build(
        ["build", str(case / "scenario.json"), "--children", str(case / "children"),
         "-o", str(tmp / "wf")],
        cwd=tmp,
        env=build_env(cache),
    )  # fmt: skip
    if "invalid" in expected:
        assert build.returncode == 1, build.stderr
        for code in expected["invalid"]:
            assert f"error[{code}]" in build.stderr, (code, build.stderr)
        return
    assert build.returncode == 0, build.stderr[-4000:]
    assert build.stdout.splitlines()[-1] == str(tmp / "wf")
    check_outcome(run_binary(tmp / "wf", case, tmp), expected)

    # Replay: the same instance twice; identical outcome, and no new checkpoint row.
    replay = tmp / "replay"
    replay.mkdir()
    first = run_binary(tmp / "wf", case, replay, "--instance-id", instance_id)
    check_outcome(first, expected)
    rows = checkpoint_rows(replay / "state.db")
    second = run_binary(tmp / "wf", case, replay, "--instance-id", instance_id)
    check_outcome(second, expected)
    assert second.stdout == first.stdout
    if expected["exit"] == 0:
        assert checkpoint_rows(replay / "state.db") == rows
