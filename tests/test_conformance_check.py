"""`check` on the shared conformance suite, in file mode and as a workspace (DSL §11.2, §11.3).

Every `invalid` case must report at least its codes (exit 1) both ways: the harness's exact
file-mode command, and a workspace built from the case (children as packages of the same
tenant). Every other case must check without errors both ways.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runtara_build.check import Request, check
from tests.shared import shared_dir, shared_dir_or_none
from tests.support.binaries import without_runtara

SCRIPT = Path(sys.executable).with_name("runtara-build")
TENANT = "conf"


def _cases(invalid: bool) -> list[str]:
    root = shared_dir_or_none()
    if root is None:
        return ["(shared suite missing)"]
    found = []
    for case in sorted((root / "conformance").glob("[0-9]*")):
        expected = json.loads((case / "expected.json").read_text())
        if ("invalid" in expected) == invalid:
            found.append(case.name)
    return found


def _case(name: str) -> tuple[Path, list[str]]:
    case = shared_dir() / "conformance" / name
    if not case.is_dir():
        pytest.fail(f"conformance case {name} is missing")
    return case, json.loads((case / "expected.json").read_text()).get("invalid", [])


def _workspace(case: Path, root: Path) -> Path:
    """WORKSPACE, //conf/scenario, and one package per child (same tenant)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "WORKSPACE").write_text("")
    package = root / TENANT / "scenario"
    package.mkdir(parents=True)
    shutil.copy(case / "scenario.json", package / "scenario.json")
    for child in sorted((case / "children").glob("*.json")):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", child.stem)
        assert name != "scenario", "a child named 'scenario' would shadow the root package"
        (root / TENANT / name).mkdir()
        shutil.copy(child, root / TENANT / name / "scenario.json")
        if name != child.stem:
            (root / TENANT / name / "BUILD.toml").write_text(
                f"scenario_id = {json.dumps(child.stem)}\n"
            )
    return root


def _codes(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    env = without_runtara()
    result = subprocess.run(
        [str(SCRIPT), "check", *args, "--output=json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, {
        d["code"] for d in json.loads(result.stdout) if d["severity"] == "error"
    }


@pytest.mark.shared
@pytest.mark.parametrize("name", _cases(invalid=True))
def test_invalid_case_in_file_mode(name: str, tmp_path: Path) -> None:
    case, expected = _case(name)
    code, found = _codes(
        [str(case / "scenario.json"), "--children", str(case / "children")], tmp_path
    )
    assert code == 1
    assert set(expected) <= found, f"{name}: expected {expected}, got {sorted(found)}"


@pytest.mark.shared
@pytest.mark.parametrize("name", _cases(invalid=True))
def test_invalid_case_in_a_workspace(name: str, tmp_path: Path) -> None:
    case, expected = _case(name)
    code, found = _codes([f"//{TENANT}/scenario"], _workspace(case, tmp_path))
    assert code == 1
    assert set(expected) <= found, f"{name}: expected {expected}, got {sorted(found)}"


@pytest.mark.shared
@pytest.mark.parametrize("name", _cases(invalid=False))
def test_valid_case_checks_clean_both_ways(name: str, tmp_path: Path) -> None:
    case, _ = _case(name)
    file_mode = Request((str(case / "scenario.json"),), str(case / "children"))
    result = check(file_mode, cwd=tmp_path)
    assert result.ok, [d for d in result.diagnostics if d.is_error]
    workspace = _workspace(case, tmp_path / "ws")
    result = check(Request((f"//{TENANT}/...",)), cwd=workspace)
    assert result.ok, [d for d in result.diagnostics if d.is_error]
    assert result.documents == 1 + len(list((case / "children").glob("*.json")))
